"""Read and write the ASA ``.npz`` layout without ever running ``pickle.load`` on the file.

Numeric members are read by ``np.load(allow_pickle=False)``. Members holding Python objects (a dict or list
of per-unit spike trains) are read from the zip by hand: the ``.npy`` header is parsed with
``numpy.lib.format`` and the pickle payload goes through ``SafeUnpickler``, which admits only plain data.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from core.errors import RecordingError
from core.io.safe_pickle import ForbiddenPickleError, safe_load
from core.recording import Recording

ZIP_MAGICS: tuple[bytes, ...] = (b"PK\x03\x04", b"PK\x05\x06")


def _read_header(fp: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npy_format.read_magic(fp)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(fp)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(fp)
    reader = getattr(npy_format, "_read_array_header", None)  # version 3.0 (utf-8 header)
    if reader is None:
        raise ValueError(f"unsupported .npy format version {version}")
    return reader(fp, version)


def _read_object_member(zf: zipfile.ZipFile, member: str, key: str, name: str) -> Any:
    """Unpickle one object-dtype ``.npy`` member with the restricted unpickler."""
    with zf.open(member) as fp:
        shape, _fortran, dtype = _read_header(fp)
        if not dtype.hasobject:
            raise ValueError(f"member {member} is not an object array")
        try:
            obj = safe_load(fp)
        except ForbiddenPickleError as exc:
            raise RecordingError(
                f"{name}: field '{key}' refused: the file contains a pickled object of type '{exc.qualname}' "
                "which could execute code; only arrays, numbers, strings, lists and dicts are accepted. "
                "Re-save the data as plain arrays (np.savez with numeric arrays or dicts of arrays)"
            ) from None
    if isinstance(obj, np.ndarray) and obj.shape != tuple(shape):
        raise ValueError(f"member {member}: pickled array has shape {obj.shape}, header says {shape}")
    return obj


def read_npz(path: Path) -> dict[str, Any]:
    """All members of an ``.npz`` file as field name → array (object members safely unpickled).

    Raises ``RecordingError`` for anything unreadable or a refused pickle; may raise OSError, ValueError,
    zipfile.BadZipFile or EOFError, which the caller wraps.
    """
    name = path.name
    fields: dict[str, Any] = {}
    with np.load(path, allow_pickle=False) as npz, zipfile.ZipFile(path) as zf:
        members = {m[:-4] if m.endswith(".npy") else m: m for m in zf.namelist()}
        for key in npz.files:
            try:
                fields[key] = npz[key]
            except ValueError as exc:
                if "allow_pickle" not in str(exc):
                    raise
                fields[key] = _read_object_member(zf, members.get(key, key + ".npy"), key, name)
    return fields


def _object_vector(items: list[np.ndarray]) -> np.ndarray:
    """1-D object array of ``items`` (never a 2-D array, even when all items have the same length)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def recording_to_fields(recording: Recording) -> dict[str, np.ndarray]:
    """The ASA layout of a recording: ``spike``, ``t`` and optional ``x``, ``y``, ``hd``, ``unit_ids``."""
    n = recording.n_units
    fields: dict[str, np.ndarray] = {"t": np.asarray(recording.t, dtype=np.float64)}
    if recording.rates is not None:
        fields["spike"] = np.asarray(recording.rates, dtype=np.float64)
    else:
        fields["spike"] = _object_vector([np.asarray(s, dtype=np.float64) for s in recording.spike_times])
    for key in ("x", "y", "hd"):
        value = getattr(recording, key)
        if value is not None:
            fields[key] = np.asarray(value, dtype=np.float64)
    ids = list(recording.unit_ids)
    if ids != list(range(n)):
        if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in ids):
            fields["unit_ids"] = np.asarray(ids, dtype=np.int64)
        else:
            fields["unit_ids"] = np.asarray([str(i) for i in ids], dtype=np.str_)
    return fields


def save_recording_npz(recording: Recording, path: str | os.PathLike[str]) -> Path:
    """Write ``recording`` in the ASA ``.npz`` layout (compressed; atomic replace). Returns the path written.

    Times are in s, positions in cm, head direction in rad. Spike trains are stored as an object array of
    per-unit float64 arrays, or the (T, N) matrix for a dense recording; non-default unit ids go to
    ``unit_ids`` (int64 or unicode array).
    """
    path = Path(path)
    fields = recording_to_fields(recording)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **fields)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
