"""Loading and saving recordings: ASA ``.npz``, MATLAB ``.mat`` (v5 and v7.3) and ``.nwb``.

``load_recording(path)`` returns a ``LoadResult`` (the validated ``Recording`` plus warnings) or raises one
``core.errors.RecordingError`` that names the file, the field and what to do. Pickled content is only ever
read through a restricted unpickler that admits plain data.
"""

from core.io.loader import LoadResult, file_sha256, load_recording
from core.io.npz import save_recording_npz

__all__ = ["LoadResult", "file_sha256", "load_recording", "save_recording_npz"]
