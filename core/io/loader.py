"""``load_recording``: detect the file format, read it, validate it, fingerprint it."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.errors import AsaError, RecordingError
from core.io.matlab import hdf5_offset, read_mat_v5, read_mat_v73
from core.io.npz import ZIP_MAGICS, read_npz
from core.io.nwb import NwbContent, read_nwb
from core.io.validate import build_recording, normalise_units
from core.recording import Recording

FORMAT_NAMES = {"npz": ".npz", "mat5": "MATLAB v5", "mat73": "MATLAB v7.3 (HDF5)", "nwb": "NWB"}
SUPPORTED = "an ASA .npz, a MATLAB .mat (v5 or v7.3) or an .nwb file"
_HEAD_BYTES = 1024


@dataclass
class LoadResult:
    """A validated recording and the repairs or assumptions made while loading it (plain sentences)."""

    recording: Recording
    warnings: list[str] = field(default_factory=list)
    format: str = ""  # "npz", "mat5", "mat73" or "nwb"


def file_sha256(path: str | os.PathLike[str] | IO[bytes], chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (a path, or an open binary file read from its start), read in chunks."""
    if not isinstance(path, str | os.PathLike):
        path.seek(0)
        digest = hashlib.sha256()
        while block := path.read(chunk_bytes):
            digest.update(block)
        return digest.hexdigest()
    with open(path, "rb") as fh:
        return file_sha256(fh, chunk_bytes)


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str:
    for test, words in _NOT_REGULAR:
        if test(mode):
            return words
    return "not a regular file"


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading, refused at once unless it (or what its symlinks point to) is a regular
    file: a FIFO, a device or a socket would block or never end. The type is checked with ``os.stat``
    before opening and again with ``fstat`` on the descriptor, which is opened non-blocking (a FIFO swapped
    in between cannot block either)."""
    name = path.name or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise RecordingError(f"{path}: file not found") from None
    except OSError as exc:
        raise RecordingError(f"{name}: cannot be opened ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise RecordingError(f"{path}: is a folder; choose {SUPPORTED}")
    if not stat.S_ISREG(st.st_mode):
        raise RecordingError(
            f"{name}: is {_kind_of(st.st_mode)}, not a regular file; only saved files are read — choose "
            f"{SUPPORTED}"
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise RecordingError(f"{name}: cannot be opened ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RecordingError(f"{name}: changed into a non-regular file while opening; choose {SUPPORTED}")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _is_nwb_hdf5(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            # links.exists looks at the names only: ``"general" in f`` would follow an external link
            links = f.id.links
            return "nwb_version" in f.attrs or (links.exists(b"general") and links.exists(b"acquisition"))
    except Exception:  # unreadable: the MATLAB v7.3 reader reports it
        return False


def detect_format(path: Path, head: bytes) -> str:
    """Format key ("npz", "mat5", "mat73" or "nwb") from magic bytes, then extension; else RecordingError."""
    ext = path.suffix.lower()
    if head.startswith(ZIP_MAGICS):
        return "npz"
    if hdf5_offset(head) is not None:
        if ext == ".nwb":
            return "nwb"
        if ext == ".mat":
            return "mat73"
        return "nwb" if _is_nwb_hdf5(path) else "mat73"
    if head.startswith(b"MATLAB 5.0 MAT-file"):
        return "mat5"
    if head.startswith(b"\x93NUMPY"):
        raise RecordingError(
            f"{path.name}: this is a single .npy array; save all fields together with "
            "np.savez(path, spike=..., t=..., x=..., y=..., hd=...)"
        )
    if ext == ".mat":
        return "mat5"  # MATLAB v4 files have no text header; scipy decides
    if ext in (".npz", ".nwb"):
        kind = "a zip archive" if ext == ".npz" else "an HDF5 file"
        raise RecordingError(
            f"{path.name}: not a valid {ext} file (it is not {kind}); it may be truncated or corrupt — "
            "export it again"
        )
    raise RecordingError(f"{path.name}: unrecognised file type; expected {SUPPORTED}")


def _read(fmt: str, path: Path, fh: IO[bytes], position_unit: str, hd_unit: str) -> NwbContent:
    """Raw fields of the file, with the warnings, units and metadata its reader determined."""
    if fmt == "nwb":
        return read_nwb(path, position_unit, hd_unit)
    if fmt == "npz":  # npz and MATLAB v5 read the descriptor already checked to be a regular file
        fields = read_npz(fh, name=path.name or str(path))
    elif fmt == "mat5":
        fields = read_mat_v5(path, fh)
    else:
        fields = read_mat_v73(path)
    return NwbContent(fields=fields, position_unit=position_unit, hd_unit=hd_unit)


def _describe_exc(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."


def load_recording(
    path: str | os.PathLike[str], position_unit: str = "auto", hd_unit: str = "auto"
) -> LoadResult:
    """Load and validate a recording from an ``.npz``, MATLAB ``.mat`` (v5/v7.3) or ``.nwb`` file.

    Args:
        path: the file; it must be a regular file (a FIFO, device or socket is refused at once).
        position_unit: "auto" (m, cm or mm detected from the arena size and the speed, converted to cm with
            a warning), "cm", "m" or "mm".
        hd_unit: "auto" (rad assumed; degrees detected and converted with a warning; an ambiguous small
            range warns), "rad" or "deg".

    Returns:
        ``LoadResult`` with the recording (times in s, positions in cm, head direction in rad wrapped to
        [0, 2π)), its ``source`` and ``sha256`` set, and the list of warnings.

    Raises:
        RecordingError: the file cannot be used; the message names the file, the field and what to do.
        ConfigError: an unknown unit option.
    """
    pos_u, hd_u = normalise_units(position_unit, hd_unit)
    path = Path(path)
    with open_regular(path) as fh:
        return _load_open(path, fh, pos_u, hd_u)


def _load_open(path: Path, fh: IO[bytes], pos_u: str, hd_u: str) -> LoadResult:
    name = path.name or str(path)
    try:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise RecordingError(f"{name}: cannot be opened ({exc.strerror or exc})") from exc
    if size == 0:
        raise RecordingError(
            f"{name}: the file is empty (0 bytes); it was not saved completely — export it again"
        )
    fmt = "?"
    try:
        fmt = detect_format(path, head)
        content = _read(fmt, path, fh, pos_u, hd_u)
        recording, more = build_recording(
            content.fields,
            name=name,
            position_unit=content.position_unit,
            hd_unit=content.hd_unit,
            metadata={**content.metadata, "format": fmt},
        )
        recording.source = str(path)
        recording.sha256 = file_sha256(fh)
    except AsaError:
        raise
    except Exception as exc:  # any reader failure on a bad file becomes one clear message
        kind = FORMAT_NAMES.get(fmt, "")
        raise RecordingError(
            f"{name}: cannot read this {kind + ' ' if kind else ''}file ({_describe_exc(exc)}); it may be "
            "truncated or corrupt — export it again"
        ) from exc
    return LoadResult(recording=recording, warnings=content.warnings + more, format=fmt)
