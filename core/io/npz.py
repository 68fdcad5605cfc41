"""Read and write the ASA ``.npz`` layout, reading no more than what the file honestly holds.

An ``.npz`` is a zip of ``.npy`` members. The reader never calls ``np.load`` or ``pickle.load`` on it:

* only the members the recording needs are read (the ASA field names and their exact aliases,
  ``core.io.fields.LAYOUT_NAMES``); the others are listed by name (as ``core.io.matlab.NotRead``) so that
  the validator can report them, but never decompressed;
* before a member is read, its declared size is checked against the memory budget and against what the
  file can hold (``core.io.limits.check_allocation``), and so is the array its ``.npy`` header declares
  (shape × item size, as float64 since every field is converted to it);
* a member is decompressed in bounded chunks up to the size its header declares and no further (zipfile
  stops at the declared size and checks the CRC there, so a header that lies ends in a refusal);
* numeric members are rebuilt from their bytes with ``np.frombuffer``; members holding Python objects (a
  dict or list of per-unit spike trains) go through ``core.io.safe_pickle``, which admits only plain data
  and bounds the work, the nesting and the expanded size.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from core.errors import RecordingError
from core.io.fields import is_layout_name
from core.io.limits import check_allocation, format_bytes, memory_budget_bytes
from core.io.matlab import NotRead
from core.io.safe_pickle import ForbiddenPickleError, UnsafePickleError, safe_loads
from core.recording import Recording

ZIP_MAGICS: tuple[bytes, ...] = (b"PK\x03\x04", b"PK\x05\x06")
MAX_ZIP_MEMBERS = 10_000  # an ASA file has 2–6 members
MAX_NPY_HEADER_BYTES = 10_000  # numpy's own limit for a .npy header (real ones are ~128 bytes)
CHUNK_BYTES = 1 << 20  # decompression step
_NPY_MAGIC = b"\x93NUMPY"


def _read_exact(fp: IO[bytes], n: int, what: str) -> bytes:
    """Exactly ``n`` bytes from ``fp`` (bounded chunks), else a ValueError naming ``what``."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        chunk = fp.read(min(CHUNK_BYTES, n - got))
        if not chunk:
            raise ValueError(f"{what} ends after {got} of {n} bytes (truncated)")
        view[got : got + len(chunk)] = chunk
        got += len(chunk)
    return buf


def _drain(fp: IO[bytes]) -> None:
    """Read to the end of the member in bounded chunks (zipfile checks the CRC there)."""
    while fp.read(CHUNK_BYTES):
        pass


def _read_header(fp: IO[bytes], member: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header bytes)`` of a ``.npy`` stream, the header length bounded."""
    magic = bytes(_read_exact(fp, 8, f"member {member}"))
    if not magic.startswith(_NPY_MAGIC):
        raise ValueError(f"member {member} is not a .npy array")
    major, minor = magic[6], magic[7]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise ValueError(f"member {member}: unsupported .npy format version {major}.{minor}")
    size_bytes = bytes(_read_exact(fp, 2 if major == 1 else 4, f"member {member}"))
    length = int.from_bytes(size_bytes, "little")
    if length > MAX_NPY_HEADER_BYTES:
        raise ValueError(f"member {member}: .npy header of {length} bytes (at most {MAX_NPY_HEADER_BYTES})")
    header = bytes(_read_exact(fp, length, f"member {member}"))
    if major == 3:  # utf-8 header; numpy 2 parses it as version 2 once re-encoded
        header = header.decode("utf-8").encode("latin1")
        magic, major = magic[:6] + b"\x02\x00", 2
    buf = io.BytesIO(magic + size_bytes + header)
    npy_format.read_magic(buf)
    reader = npy_format.read_array_header_1_0 if major == 1 else npy_format.read_array_header_2_0
    shape, fortran, dtype = reader(buf)
    return tuple(int(d) for d in shape), bool(fortran), dtype, len(magic) + len(size_bytes) + len(header)


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _refused_pickle(name: str, key: str, exc: Exception) -> RecordingError:
    if isinstance(exc, ForbiddenPickleError):
        return RecordingError(
            f"{name}: field '{key}' refused: the file contains a pickled object of type '{exc.qualname}' "
            "which could execute code; only arrays, numbers, strings, lists and dicts are accepted. "
            "Re-save the data as plain arrays (np.savez with numeric arrays or dicts of arrays)"
        )
    reason = exc.reason if isinstance(exc, UnsafePickleError) else str(exc)
    return RecordingError(
        f"{name}: field '{key}' refused: its pickled content holds {reason}; the file is damaged or hostile. "
        "Re-save the data as plain arrays (np.savez with numeric arrays or dicts of arrays)"
    )


class _Budget:
    """Bytes already spent on the members of one file, against the reading budget."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.limit = memory_budget_bytes()
        self.spent = 0

    def spend(self, n: int, what: str) -> None:
        if self.spent + n > self.limit:
            raise RecordingError(
                f"{self.name}: {what} would bring the memory needed to {format_bytes(self.spent + n)}, more "
                f"than the reading budget of {format_bytes(self.limit)}; the file is corrupt, hostile or too "
                "large — save a smaller recording"
            )
        self.spent += n


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, budget: _Budget) -> Any:
    """One ``.npy`` member as an array (or the plain data of a pickled object array)."""
    name, member = budget.name, info.filename
    check_allocation(f"{name}: member '{member}'", info.file_size, info.compress_size)
    with zf.open(info) as fp:
        shape, fortran, dtype, header_bytes = _read_header(fp, member)
        body = info.file_size - header_bytes
        if dtype.hasobject:
            if body < 0:
                raise ValueError(f"member {member} is shorter than its header")
            budget.spend(body, f"field '{key}' (pickled, {format_bytes(body)})")
            payload = _read_exact(fp, body, f"member {member}")
            _drain(fp)
            try:
                obj = safe_loads(payload, array_budget=budget.limit - budget.spent)
            except (ForbiddenPickleError, UnsafePickleError) as exc:
                raise _refused_pickle(name, key, exc) from None
            if isinstance(obj, np.ndarray) and obj.shape != shape:
                raise ValueError(f"member {member}: pickled array has shape {obj.shape}, header says {shape}")
            return obj
        count = _count(shape)
        data_bytes = count * dtype.itemsize
        described = f"{' × '.join(map(str, shape)) or 'scalar'} {dtype}"
        check_allocation(f"{name}: field '{key}' ({described}, as float64)", count * max(dtype.itemsize, 8))
        if data_bytes > body:
            raise RecordingError(
                f"{name}: field '{key}' declares {described} ({format_bytes(data_bytes)}) but its member "
                f"holds only {format_bytes(max(body, 0))}; the file is corrupt or hostile — export it again"
            )
        budget.spend(count * max(dtype.itemsize, 8), f"field '{key}' ({described})")
        if dtype.itemsize == 0:
            _drain(fp)
            return np.zeros(shape, dtype=dtype)
        raw = _read_exact(fp, data_bytes, f"member {member}")
        _drain(fp)
    flat = np.frombuffer(raw, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C")


def _member_count(fh: IO[bytes]) -> int | None:
    """Entries the zip's end record declares (before the central directory is parsed), or None."""
    try:
        end = zipfile._EndRecData(fh)  # noqa: SLF001 (the stdlib's own end-record parser)
    except (AttributeError, OSError):
        return None
    return None if not end else int(end[zipfile._ECD_ENTRIES_TOTAL])  # noqa: SLF001


def read_npz(
    source: Path | IO[bytes], wanted: Callable[[str], bool] = is_layout_name, name: str | None = None
) -> dict[str, Any]:
    """Members of an ``.npz`` file as field name → array; members ``wanted`` rejects map to ``NotRead``.

    ``source`` is a path or an open binary file; ``name`` names it in messages (default: the file name).
    Raises ``RecordingError`` for a refused pickle or a size beyond the budget or the file; may raise
    OSError, ValueError, zipfile.BadZipFile or EOFError for a damaged file, which the caller wraps.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with open(path, "rb") as fh:
            return read_npz(fh, wanted, name or path.name)
    name = name or Path(str(getattr(source, "name", "file.npz"))).name
    declared = _member_count(source)
    if declared is not None and declared > MAX_ZIP_MEMBERS:
        raise RecordingError(
            f"{name}: the archive declares {declared:,} members (at most {MAX_ZIP_MEMBERS:,}); an ASA .npz "
            "holds a handful of arrays — the file is corrupt or hostile"
        )
    source.seek(0)
    budget = _Budget(name)
    fields: dict[str, Any] = {}
    with zipfile.ZipFile(source) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise RecordingError(
                f"{name}: the archive holds {len(infos):,} members (at most {MAX_ZIP_MEMBERS:,})"
            )
        for info in infos:
            if info.is_dir():
                continue
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if key in fields:
                continue
            fields[key] = (
                _read_member(zf, info, key, budget)
                if wanted(key)
                else NotRead(f".npz member '{info.filename}'")
            )
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
