"""Read ASA fields from MATLAB files: v5/v7 through scipy.io, v7.3 (HDF5) through h5py — bounded.

Only the variables the recording needs (``spike``, ``t``, ``x``, ``y``, ``hd``, ``unit_ids`` and their
exact aliases, see ``core.io.fields``) are read; every other variable is listed by name (so validation can
report it as ignored) and never touched, so an unreadable extra variable cannot refuse a valid file.

Before anything is allocated, declared sizes are checked against the memory budget and the bytes the file
really holds (``core.io.limits``):

* v5/v7: the file's elements are walked without scipy — each needed variable's header, and for cells and
  structs every nested header, is parsed from the (streamed) decompressed bytes, counting arrays and
  declared bytes — and scipy then reads only those elements, through a view of the file that holds
  nothing else.
* v7.3: links are checked before they are followed (external and user-defined links refused, soft links
  resolved by hand with a hop limit); datasets with external storage, virtual datasets and datasets never
  written are refused; every hard-linked object is read once (a DAG is shared, a cycle refused); the
  number of object references followed and the nesting depth are bounded.

Cell arrays become object arrays, structs become dicts (a struct whose fields are units is a valid
``spike``). In v7.3 files MATLAB writes arrays column-major, so datasets tagged with ``MATLAB_class`` are
transposed back to MATLAB's orientation; any remaining time/unit orientation question is settled in
validation by matching ``len(t)``.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np

from core.errors import RecordingError
from core.io.fields import resolve_fields
from core.io.limits import check_allocation, format_bytes

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_DEPTH = 16  # nesting of cells/structs followed
MAX_ARRAYS = 250_000  # arrays (cell elements, struct fields, object references) in one variable
MAX_VARIABLES = 10_000  # top-level variables in one file
MAX_SOFT_HOPS = 16  # soft links followed to resolve one name (HDF5's own limit)
OBJECT_BYTES = 256  # memory counted per array object a reader creates (numpy header, object slot, copy)
MAX_NAME_BYTES = 4096  # a variable or class name
MAX_FIELD_NAMES_BYTES = 1 << 20  # all field names of one struct


class ReaderFields(dict):
    """Fields read from a file (a plain ``dict`` to callers) plus the reader's ``warnings``."""

    def __init__(self, *args: Any, warnings: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = list(warnings)


class NotRead:
    """Stands for a variable the recording does not need: listed by name, never read."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<not read: {self.what}>"


def needed_names(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that validation will use (the same choice as ``resolve_fields``)."""
    fields, _ = resolve_fields({n: n for n in names})
    return list(fields.values())


def hdf5_offset(head: bytes) -> int | None:
    """Offset of the HDF5 signature in the first bytes of a file (0 or 512 for MATLAB v7.3), else None."""
    for off in (0, 512):
        if head[off : off + len(HDF5_MAGIC)] == HDF5_MAGIC:
            return off
    return None


def _shape_text(shape: Iterable[int]) -> str:
    dims = list(shape)
    return " × ".join(f"{d:,}" for d in dims) if dims else "scalar"


# ---------------------------------------------------------------------------------------------------- v5

# MATLAB v5 data types (tags) and array classes
_MI_INT8, _MI_INT32, _MI_UINT32, _MI_MATRIX, _MI_COMPRESSED, _MI_UTF8 = 1, 5, 6, 14, 15, 16
_MX_CELL, _MX_STRUCT, _MX_OBJECT, _MX_CHAR, _MX_SPARSE, _MX_FUNCTION, _MX_OPAQUE = 1, 2, 3, 4, 5, 16, 17
_MX_NUMERIC = {6: 8, 7: 4, 8: 1, 9: 1, 10: 2, 11: 2, 12: 4, 13: 4, 14: 8, 15: 8}  # class → bytes per value
_MX_NAMES = {
    1: "cell",
    2: "struct",
    3: "object",
    4: "char",
    5: "sparse",
    6: "double",
    7: "single",
    8: "int8",
    9: "uint8",
    10: "int16",
    11: "uint16",
    12: "int32",
    13: "uint32",
    14: "int64",
    15: "uint64",
    16: "function handle",
    17: "MATLAB object",
}
_MAX_DIMS = 32
_CHUNK = 1 << 16


class _Malformed(Exception):
    """The bytes do not follow the MAT-file layout (or end early)."""


class _Source:
    """The bytes of one MATLAB element, read strictly in order up to ``limit``."""

    pos = 0
    limit = 0

    def read(self, n: int) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def skip(self, n: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _claim(self, n: int) -> None:
        if n < 0 or self.pos + n > self.limit:
            raise _Malformed(f"an element runs past the end of its variable (byte {self.pos + n})")


class _FileSource(_Source):
    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        self.fh, self.start, self.limit, self.pos = fh, start, length, 0

    def read(self, n: int) -> bytes:
        self._claim(n)
        self.fh.seek(self.start + self.pos)
        data = self.fh.read(n)
        if len(data) < n:
            raise _Malformed("the file ends inside the variable")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        self._claim(n)
        self.pos += n


class _ZlibSource(_Source):
    """Decompressed bytes of a miCOMPRESSED element, streamed (never more than a chunk held)."""

    def __init__(self, fh: BinaryIO, start: int, length: int, limit: int) -> None:
        self.fh, self.next_in, self.end_in = fh, start, start + length
        self.z = zlib.decompressobj()
        self.buf, self.off, self.pos, self.limit = b"", 0, 0, limit

    def _fill(self, need: int) -> None:
        have = len(self.buf) - self.off
        if have >= need:
            return
        parts = [self.buf[self.off :]]
        while have < need:
            data = self.z.unconsumed_tail
            if not data:
                if self.z.eof or self.next_in >= self.end_in:
                    raise _Malformed("the compressed data end inside the variable")
                self.fh.seek(self.next_in)
                data = self.fh.read(min(_CHUNK, self.end_in - self.next_in))
                if not data:
                    raise _Malformed("the file ends inside a compressed variable")
                self.next_in += len(data)
            try:
                out = self.z.decompress(data, max(_CHUNK, need - have))
            except zlib.error as exc:
                raise _Malformed(f"corrupt compressed data ({exc})") from None
            parts.append(out)
            have += len(out)
        self.buf, self.off = b"".join(parts), 0

    def read(self, n: int) -> bytes:
        self._claim(n)
        self._fill(n)
        data = self.buf[self.off : self.off + n]
        self.off += n
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        self._claim(n)
        while n:
            k = min(n, _CHUNK)
            self._fill(k)
            self.off += k
            self.pos += k
            n -= k


@dataclass
class _Header:
    cls: int
    flags: int
    nzmax: int
    dims: tuple[int, ...] | None
    name: str


@dataclass
class _Entry:
    """One top-level element of a v5 file: where it lies, and its name (or why it cannot be read)."""

    start: int
    end: int
    name: str | None
    header: _Header | None = None
    problem: str = ""


class _V5:
    """Reads element structure (never data) with the same parse as scipy's reader."""

    def __init__(self, order: str) -> None:
        self.order = order

    def u32s(self, data: bytes) -> tuple[int, ...]:
        return struct.unpack(f"{self.order}{len(data) // 4}I", data[: len(data) // 4 * 4])

    def element(
        self, src: _Source, max_bytes: int | None, skip: bool = True
    ) -> tuple[int, bytes | None, int]:
        """(data type, data or None when skipped, byte count) of the next element; padding skipped.

        With ``max_bytes`` None the data are skipped, or with ``skip`` False only checked to fit in the
        variable (the last element of a top-level array: nothing after it is parsed, nothing inflated).
        """
        raw = src.read(8)
        first, second = self.u32s(raw)
        if first >> 16:  # small data element: type, count and ≤ 4 data bytes in 8 bytes
            nbytes = first >> 16
            if nbytes > 4:
                raise _Malformed("a small data element claims more than 4 bytes")
            return first & 0xFFFF, raw[4 : 4 + nbytes], nbytes
        mdtype, nbytes = first, second
        if max_bytes is None:
            if skip:
                src.skip(nbytes + (-nbytes) % 8)
            else:
                src._claim(nbytes)
            return mdtype, None, nbytes
        if nbytes > max_bytes:
            raise _Malformed(f"an element claims {nbytes:,} bytes where at most {max_bytes:,} are expected")
        data = src.read(nbytes)
        src.skip((-nbytes) % 8)
        return mdtype, data, nbytes

    def text(self, src: _Source, max_bytes: int = MAX_NAME_BYTES) -> str:
        mdtype, data, _ = self.element(src, max_bytes)
        assert data is not None
        if mdtype not in (_MI_INT8, _MI_UTF8) or (mdtype == _MI_UTF8 and max(data, default=0) > 127):
            raise _Malformed("a name is not stored as 8-bit characters")
        return data.decode("latin1")

    def header(self, src: _Source) -> _Header:
        src.read(8)  # the array-flags tag (scipy discards it too)
        flags, nzmax = self.u32s(src.read(8))
        cls = flags & 0xFF
        if cls == _MX_OPAQUE:
            return _Header(cls, flags, nzmax, None, self.text(src))
        mdtype, data, nbytes = self.element(src, 4 * _MAX_DIMS)
        if mdtype not in (_MI_INT32, _MI_UINT32) or data is None:
            raise _Malformed("the dimensions are not stored as 32-bit integers")
        dims = struct.unpack(f"{self.order}{nbytes // 4}i", data[: nbytes // 4 * 4])
        if any(d < 0 for d in dims):
            raise _Malformed(f"negative dimensions {dims}")
        return _Header(cls, flags, nzmax, tuple(dims), self.text(src))


class _Budget:
    """Declared bytes and arrays of one variable, checked as they are counted."""

    def __init__(self, what: str, stored: int) -> None:
        self.what, self.stored = what, stored
        self.bytes = 0
        self.arrays = 0

    def add(self, n_bytes: int = 0, arrays: int = 0) -> None:
        self.bytes += n_bytes
        self.arrays += arrays
        if self.arrays > MAX_ARRAYS:
            raise RecordingError(
                f"{self.what} holds more than {MAX_ARRAYS:,} arrays (cell elements, struct fields or object "
                "references); a recording needs far fewer — the file is corrupt or hostile"
            )
        check_allocation(self.what, self.bytes + self.arrays * OBJECT_BYTES, self.stored)


def _v5_body(v5: _V5, src: _Source, hdr: _Header, depth: int, budget: _Budget, where: str) -> None:
    """Walk one array's contents (nested headers parsed, data skipped), counting what scipy would build."""
    if depth > MAX_DEPTH:
        raise RecordingError(f"{budget.what}: cells/structs nested more than {MAX_DEPTH} deep")
    cls = hdr.cls
    if cls in (_MX_OPAQUE, _MX_FUNCTION):
        raise RecordingError(
            f"{budget.what}: {where} is a {_MX_NAMES[cls]}, not numbers; save it as a numeric array "
            "(or a cell/struct of numeric arrays)"
        )
    assert hdr.dims is not None
    count = math.prod(hdr.dims)
    is_complex = bool(hdr.flags >> 11 & 1)
    if cls in _MX_NUMERIC or cls == _MX_CHAR:
        item = 4 if cls == _MX_CHAR else _MX_NUMERIC[cls]
        budget.add(count * item * (2 if is_complex else 1))
        v5.element(src, None, skip=depth > 0 or is_complex)
        if is_complex:
            v5.element(src, None, skip=depth > 0)
    elif cls == _MX_SPARSE:
        if len(hdr.dims) != 2:
            raise _Malformed("a sparse matrix without two dimensions")
        budget.add(count * 8 * (2 if is_complex else 1) + hdr.nzmax * 16)  # validation makes it dense
        parts = 4 if is_complex else 3  # row indices, column starts, real, imaginary
        for i in range(parts):
            v5.element(src, None, skip=depth > 0 or i < parts - 1)
    elif cls == _MX_CELL:
        budget.add(count * 8, arrays=count)
        for i in range(count):
            _v5_child(v5, src, depth + 1, budget, f"{where}{{{i + 1}}}")
    elif cls in (_MX_STRUCT, _MX_OBJECT):
        if cls == _MX_OBJECT:
            v5.text(src)  # class name
        mdtype, data, _ = v5.element(src, 8)
        if mdtype not in (_MI_INT32, _MI_UINT32) or not data or len(data) < 4:
            raise _Malformed("a struct without its field-name length")
        name_len = struct.unpack(f"{v5.order}i", data[:4])[0]
        _, names, nbytes = v5.element(src, MAX_FIELD_NAMES_BYTES)
        n_fields = nbytes // name_len if name_len > 0 else 0
        budget.add(count * 8, arrays=count + count * n_fields)
        for i in range(count * n_fields):
            _v5_child(v5, src, depth + 1, budget, f"{where}(field {i % n_fields + 1})")
    else:
        raise _Malformed(f"unknown array class {cls}")


def _v5_child(v5: _V5, src: _Source, depth: int, budget: _Budget, where: str) -> None:
    mdtype, nbytes = v5.u32s(src.read(8))
    if mdtype != _MI_MATRIX:
        raise _Malformed(f"{where} is not an array (data type {mdtype})")
    if nbytes == 0:  # an empty matrix
        return
    _v5_body(v5, src, v5.header(src), depth, budget, where)


def _v5_open(v5: _V5, fh: BinaryIO, entry_start: int, file_size: int) -> tuple[_Source, int, int, bool]:
    """(source positioned at the array header, declared array bytes, stored bytes, compressed?)."""
    fh.seek(entry_start)
    tag = fh.read(8)
    if len(tag) < 8:
        raise _Malformed("the file ends inside a variable's tag")
    mdtype, nbytes = v5.u32s(tag)
    stored = min(nbytes, max(file_size - entry_start - 8, 0))
    if mdtype == _MI_COMPRESSED:
        src: _Source = _ZlibSource(fh, entry_start + 8, stored, limit=8)
        inner, size = v5.u32s(src.read(8))
        if inner != _MI_MATRIX:
            raise _Malformed(f"a compressed element holds data type {inner}, not an array")
        src.limit = 8 + size
        return src, size, stored, True
    if mdtype == _MI_MATRIX:
        if nbytes > stored:
            raise _Malformed(f"a variable claims {nbytes:,} bytes but the file ends after {stored:,}")
        return _FileSource(fh, entry_start + 8, nbytes), nbytes, stored, False
    raise _Malformed(f"an element of data type {mdtype} where a variable was expected")


def _v5_entries(v5: _V5, fh: BinaryIO, file_size: int, fname: str) -> list[_Entry]:
    """Top-level elements: position and name of each (a name that cannot be read leaves a problem)."""
    entries: list[_Entry] = []
    pos = 128
    while pos + 8 <= file_size:
        if len(entries) >= MAX_VARIABLES:
            raise RecordingError(f"{fname}: more than {MAX_VARIABLES:,} variables; not a recording")
        fh.seek(pos)
        _, nbytes = v5.u32s(fh.read(8))
        end = pos + 8 + nbytes
        entry = _Entry(start=pos, end=min(end, file_size), name=None)
        if nbytes == 0:  # zeros (padding or damage): nothing after this is a variable
            entry.problem = f"{file_size - pos:,} trailing bytes that are not a variable"
            entries.append(entry)
            break
        try:
            src, _, _, _ = _v5_open(v5, fh, pos, file_size)
            entry.header = v5.header(src)
            entry.name = entry.header.name
        except _Malformed as exc:
            entry.problem = str(exc)
        if end > file_size and not entry.problem:
            entry.problem = "the file ends inside it"
        if entry.problem and entry.name:
            entry.problem = f"'{entry.name}': {entry.problem}"
        entries.append(entry)
        pos = end
    return entries


class _Spliced(io.RawIOBase):
    """A read-only file made of chosen byte ranges of another file, back to back."""

    def __init__(self, fh: BinaryIO, segments: list[tuple[int, int]]) -> None:
        super().__init__()
        self.fh = fh
        self.segments: list[tuple[int, int, int]] = []  # (virtual start, file start, length)
        at = 0
        for start, length in segments:
            self.segments.append((at, start, length))
            at += length
        self.size, self.at = at, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.at, io.SEEK_END: self.size}[whence]
        self.at = max(base + offset, 0)
        return self.at

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        for vstart, fstart, length in self.segments:
            if done == len(view):
                break
            if self.at >= vstart + length or self.at < vstart:
                continue
            off = self.at - vstart
            take = min(length - off, len(view) - done)
            self.fh.seek(fstart + off)
            got = self.fh.readinto(view[done : done + take])
            done += got
            self.at += got
            if got < take:
                break
        return done


def _from_scipy(value: Any, depth: int = 0) -> Any:
    """scipy.io.loadmat values → plain numpy/dicts: mat_struct → dict, cells → object arrays."""
    from scipy.io.matlab import mat_struct

    if depth > MAX_DEPTH:
        return value
    if isinstance(value, mat_struct):
        return {f: _from_scipy(getattr(value, f), depth + 1) for f in value._fieldnames}
    if isinstance(value, np.ndarray) and value.dtype == object:
        out = np.empty(value.shape, dtype=object)
        for idx, item in np.ndenumerate(value):
            out[idx] = _from_scipy(item, depth + 1)
        return out
    return value


_LOADMAT = {"squeeze_me": True, "struct_as_record": False, "chars_as_strings": True}


def _require_core(fname: str, names: list[str], problems: list[str]) -> None:
    """A file whose required variables are missing *and* which has unreadable ones: say so together."""
    fields, _ = resolve_fields({n: n for n in names})
    missing = [r for r in ("spike", "t") if r not in fields]
    if missing and problems:
        raise RecordingError(
            f"{fname}: required variable '{missing[0]}' not found, and {len(problems)} variable(s) could "
            f"not be read ({problems[0]}); the file may be truncated or corrupt — export it again"
        )


def read_mat_v5(path: Path, fh: BinaryIO | None = None) -> ReaderFields:
    """Variables of a MATLAB v4/v5/v7 file that the recording needs; the others listed as ``NotRead``.

    ``fh``: the file already open in binary mode (any position; it is read from its start), so that a
    caller that has checked the descriptor reads that same file; without it ``path`` is opened.
    """
    if fh is None:
        with open(path, "rb") as own:
            return read_mat_v5(path, own)
    fname = path.name
    size = fh.seek(0, io.SEEK_END)
    fh.seek(0)
    if 0 in fh.read(4):  # scipy's rule: a v4 file has a zero byte among its first four
        fh.seek(0)
        return _read_mat_v4(fh, fname, size)
    out = ReaderFields()
    fh.seek(0)
    head = fh.read(128)
    order = {b"IM": "<", b"MI": ">"}.get(head[126:128])
    if len(head) < 128 or order is None:
        raise RecordingError(f"{fname}: the MATLAB header is damaged (no byte-order mark); export it again")
    v5 = _V5(order)
    entries = _v5_entries(v5, fh, size, fname)
    named = [e for e in entries if e.name and not e.problem]
    problems = [f"at byte {e.start:,}: {e.problem}" for e in entries if e.problem]
    names = list(dict.fromkeys(e.name for e in named if e.name))
    _require_core(fname, names, problems)
    needed = needed_names(names)
    chosen: list[_Entry] = []
    total = 0
    for name in needed:
        entry = next(e for e in named if e.name == name)
        total += _v5_check(v5, fh, entry, size, f"{fname}: variable '{name}'")
        check_allocation(f"{fname}: the variables the recording needs", total, size)
        chosen.append(entry)
        if sum(e.name == name for e in named) > 1:
            out.warnings.append(f"variable '{name}' appears more than once in {fname}; the first was used")
    raw: dict[str, Any] = {}
    if needed:
        view = _Spliced(fh, [(0, 128)] + [(e.start, e.end - e.start) for e in chosen])
        raw = _loadmat(view, needed)
    for e in named:  # in file order, so that validation picks the same names
        assert e.name is not None and e.header is not None
        if e.name in out:
            continue
        if e.name in needed:
            if e.name in raw:
                out[e.name] = _from_scipy(raw[e.name])
        else:
            out[e.name] = NotRead(f"MATLAB variable of class {_MX_NAMES.get(e.header.cls, '?')}")
    if problems:
        out.warnings.append(
            f"skipped {len(problems)} unreadable variable(s) that the recording does not need ({problems[0]})"
        )
    return out


def _loadmat(file: Any, names: list[str]) -> dict[str, Any]:
    import warnings

    import scipy.io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scipy.io.loadmat(file, variable_names=list(names), **_LOADMAT)


def _v5_check(v5: _V5, fh: BinaryIO, entry: _Entry, size: int, what: str) -> int:
    """Walk a needed variable's structure within the limits; the bytes reading it will allocate."""
    try:
        src, declared, stored, compressed = _v5_open(v5, fh, entry.start, size)
        check_allocation(f"{what} ({'decompressed' if compressed else 'stored'})", declared, stored)
        hdr = v5.header(src)
        budget = _Budget(what, stored)
        budget.add(arrays=1)
        _v5_body(v5, src, hdr, 0, budget, hdr.name)
    except _Malformed as exc:
        raise RecordingError(
            f"{what} cannot be read ({exc}); the file is corrupt — export it again"
        ) from None
    return budget.bytes + budget.arrays * OBJECT_BYTES


def _read_mat_v4(fh: BinaryIO, fname: str, size: int) -> ReaderFields:
    """MATLAB v4 (uncompressed): declared sizes checked against the file from the headers alone."""
    import scipy.io

    listed = scipy.io.whosmat(fh)
    if len(listed) > MAX_VARIABLES:
        raise RecordingError(f"{fname}: more than {MAX_VARIABLES:,} variables; not a recording")
    names = [n for n, _, _ in listed]
    needed = needed_names(names)
    total = 0
    for name, shape, cls in listed:
        if name in needed:
            n_bytes = math.prod(shape) * (4 if cls == "char" else 8)
            check_allocation(f"{fname}: variable '{name}' ({_shape_text(shape)} {cls})", n_bytes, size)
            total += n_bytes
    check_allocation(f"{fname}: the variables the recording needs", total, size)
    fh.seek(0)
    raw = _loadmat(fh, needed) if needed else {}
    out = ReaderFields()
    for name, _, cls in listed:  # in file order, so that validation picks the same names
        if name in out:
            continue
        if name not in needed:
            out[name] = NotRead(f"MATLAB v4 variable of class {cls}")
        elif name in raw:
            out[name] = _from_scipy(raw[name])
    return out


# -------------------------------------------------------------------------------------------------- v7.3


def _decode_attr(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _decode_attr(value.reshape(-1)[0])
    return str(value)


def _link_name(raw: bytes) -> str:
    """An HDF5 link name as text; bytes that are not UTF-8 shown as \\x escapes (always printable)."""
    return raw.decode("utf-8", "backslashreplace")


def _small_attr(obj: Any, name: str, max_bytes: int = 4096) -> Any:
    """An attribute's value when it exists and is small, else None (never a large read)."""
    import h5py

    try:
        aid = h5py.h5a.open(obj.id, name.encode())
    except KeyError:
        return None
    try:
        if aid.get_storage_size() > max_bytes:
            return None
        if aid.dtype.kind == "S" and aid.dtype.itemsize:  # fixed-length text, as MATLAB writes it
            value = np.empty(aid.shape or (), dtype=aid.dtype)
            aid.read(value)
            return value
        return obj.attrs[name]
    except (KeyError, OSError, RuntimeError, ValueError, TypeError):
        return None


def _matlab_chars(data: np.ndarray) -> str:
    """MATLAB char data (UTF-16 code units) as text; values that are not code units become U+FFFD."""
    codes = np.asarray(data).reshape(-1, order="F")
    if codes.dtype.kind not in "iu":
        codes = codes.astype(np.float64)
        codes = np.where(np.isfinite(codes), codes, -1).astype(np.int64)
    codes = codes.astype(np.int64)
    codes[(codes < 0) | (codes > 0xFFFF)] = 0xFFFD
    return codes.astype("<u2").tobytes().decode("utf-16-le", "replace")


def check_h5_dataset(ds: Any, what: str, file_bytes: int) -> int:
    """Refuse an HDF5 dataset that cannot be read safely; return the bytes reading it allocates.

    Refused: a virtual dataset, external storage (data in another file or a device), a dataset declared
    but never written (HDF5 would return fill values for its whole shape), storage larger than the file,
    and a declared size beyond the budget or far beyond the bytes stored (``check_allocation``).
    """
    import h5py

    dcpl = ds.id.get_create_plist()
    layout = dcpl.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise RecordingError(
            f"{what} is a virtual dataset (its data live in other files); virtual datasets are not "
            "followed — save the data into this file"
        )
    if dcpl.get_external_count():
        where = _link_name(dcpl.get_external(0)[0])
        raise RecordingError(
            f"{what} keeps its data outside the HDF5 file (external storage in {where!r}); "
            "external storage is not read — save the data into this file"
        )
    shape = ds.shape
    count = 0 if shape is None else math.prod(shape)
    item = ds.dtype.itemsize
    declared = count * item
    if declared == 0:
        return 0
    storage = ds.id.get_storage_size()
    desc = f"{what} ({_shape_text(shape)} {ds.dtype})"
    if storage == 0:
        raise RecordingError(
            f"{desc} was declared but never written: the file holds no data for it (HDF5 would return "
            f"{format_bytes(declared)} of fill values); export it again"
        )
    if storage > file_bytes:
        raise RecordingError(
            f"{desc} claims {format_bytes(storage)} of storage in a file of {format_bytes(file_bytes)}; "
            "the file is corrupt or truncated — export it again"
        )
    n_bytes = declared
    if layout == h5py.h5d.CHUNKED:  # a chunk is decompressed whole, however little of it is read
        n_bytes = max(n_bytes, math.prod(dcpl.get_chunk()) * item)
    check_allocation(desc, n_bytes, storage)
    return n_bytes


class _H5Reader:
    """Reads the needed variables of one open v7.3 file: links checked, objects read once, bounded."""

    def __init__(self, f: Any, fname: str, file_bytes: int) -> None:
        self.f, self.fname, self.file_bytes = f, fname, file_bytes
        self.memo: dict[int, Any] = {}
        self.active: set[int] = set()
        self.total = 0
        self.refs = 0

    def fail(self, message: str) -> NoReturn:
        raise RecordingError(f"{self.fname}: {message}")

    # -- links

    def link(self, group: Any, raw: bytes, what: str, hops: int = 0) -> Any:
        """The object a link of ``group`` names, refusing links to other files and soft-link loops."""
        import h5py

        try:
            info = group.id.links.get_info(raw)
        except KeyError:
            self.fail(f"{what} is missing")
        if info.type == h5py.h5l.TYPE_HARD:
            return group[raw]
        if info.type == h5py.h5l.TYPE_SOFT:
            return self.path(group, group.id.links.get_val(raw), what, hops + 1)
        if info.type == h5py.h5l.TYPE_EXTERNAL:
            target_file, target = (_link_name(v) for v in group.id.links.get_val(raw))
            self.fail(
                f"{what} is an external link to '{target_file}:{target}'; links to other files are not "
                "followed (the data would come from another file) — save the data into this file"
            )
        self.fail(
            f"{what} is a user-defined HDF5 link (type {info.type}); only links within the file are read"
        )

    def path(self, start: Any, path: bytes, what: str, hops: int) -> Any:
        """Resolve a soft link's target path one link at a time."""
        import h5py

        if hops > MAX_SOFT_HOPS:
            self.fail(
                f"{what} is a soft link that does not resolve (a loop of more than {MAX_SOFT_HOPS} links)"
            )
        cur = self.f if path.startswith(b"/") else start
        for part in path.split(b"/"):
            if part in (b"", b"."):
                continue
            if not isinstance(cur, h5py.Group) or not cur.id.links.exists(part):
                self.fail(f"{what} is a soft link to '{_link_name(path)}', which does not exist")
            cur = self.link(cur, part, what, hops)
        return cur

    # -- objects

    def read(self, obj: Any, what: str, depth: int) -> Any:
        import h5py

        if depth > MAX_DEPTH:
            self.fail(f"{what}: cells/structs nested more than {MAX_DEPTH} deep")
        addr = h5py.h5o.get_info(obj.id).addr
        if addr in self.memo:
            return self.memo[addr]
        if addr in self.active:
            self.fail(f"{what} contains itself (a cycle of hard links); the file is corrupt or hostile")
        self.active.add(addr)
        try:
            value = (
                self.group(obj, what, depth)
                if isinstance(obj, h5py.Group)
                else self.dataset(obj, what, depth)
            )
        finally:
            self.active.discard(addr)
        self.memo[addr] = value
        return value

    def group(self, g: Any, what: str, depth: int) -> dict[str, Any]:
        names = [raw for raw in g.id if not raw.startswith(b"#")]
        self.count_arrays(len(names), what)
        return {
            _link_name(raw): self.read(
                self.link(g, raw, f"{what}.{_link_name(raw)}"), f"{what}.{_link_name(raw)}", depth + 1
            )
            for raw in names
        }

    def count_arrays(self, n: int, what: str) -> None:
        self.refs += n
        if self.refs > MAX_ARRAYS:
            self.fail(
                f"{what}: more than {MAX_ARRAYS:,} arrays (cell elements, struct fields or object "
                "references) in the variables read; a recording needs far fewer — "
                "the file is corrupt or hostile"
            )

    def dataset(self, ds: Any, what: str, depth: int) -> Any:
        import h5py

        n_bytes = check_h5_dataset(ds, f"{self.fname}: {what}", self.file_bytes)
        ref_kind = h5py.check_dtype(ref=ds.dtype)
        if ref_kind is not None:
            if ref_kind is not h5py.Reference:
                self.fail(f"{what} holds region references, which a MATLAB file never has")
            self.count_arrays(ds.size or 0, what)
            n_bytes += (ds.size or 0) * OBJECT_BYTES
        self.total += n_bytes
        check_allocation(f"{self.fname}: the variables the recording needs", self.total, self.file_bytes)
        attr = _small_attr(ds, "MATLAB_class")
        mclass = _decode_attr(attr) if attr is not None else None
        empty = _small_attr(ds, "MATLAB_empty") if mclass is not None else None
        if empty is not None and int(np.asarray(empty).reshape(-1)[0]):
            return np.empty(0, dtype=np.float64)
        data = ds[()]
        if isinstance(data, bytes):
            return data.decode("utf-8", "replace")
        data = np.asarray(data)
        if mclass is not None and data.ndim >= 2:
            data = data.T  # back to MATLAB's (row, column) order
        if ref_kind is not None:
            out = np.empty(data.shape, dtype=object)
            for idx, ref in np.ndenumerate(data):
                out[idx] = self.deref(ref, f"{what}{{{', '.join(str(i + 1) for i in idx)}}}", depth + 1)
            return out
        if mclass == "char":
            return _matlab_chars(data)
        if mclass == "logical":
            return data.astype(bool)
        if data.dtype.kind == "S":
            return data.astype(str)
        if data.dtype.kind == "O":  # variable-length strings written by h5py
            return np.asarray(
                [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in data.ravel()]
            )
        if data.dtype.names and {"real", "imag"} <= set(data.dtype.names):
            return data["real"] + 1j * data["imag"]
        return data

    def deref(self, ref: Any, what: str, depth: int) -> Any:
        if not ref:
            return np.empty(0)
        try:
            obj = self.f[ref]
        except (KeyError, ValueError, OSError, RuntimeError):
            self.fail(f"{what} is an object reference that points nowhere; the file is corrupt")
        return self.read(obj, what, depth)


def read_mat_v73(path: Path) -> ReaderFields:
    """Needed top-level variables of a MATLAB v7.3 (HDF5) file (also plain HDF5 files with ASA names)."""
    import h5py

    fname = path.name
    size = path.stat().st_size
    out = ReaderFields()
    with h5py.File(path, "r") as f:
        raw_names = []
        for raw in f.id:
            raw_names.append(raw)
            if len(raw_names) > MAX_VARIABLES:
                raise RecordingError(f"{fname}: more than {MAX_VARIABLES:,} variables; not a recording")
        decoded: list[tuple[str, bytes, bool]] = []  # (name, raw name, UTF-8?)
        for raw in raw_names:
            try:
                decoded.append((raw.decode("utf-8"), raw, True))
            except UnicodeDecodeError:
                decoded.append((_link_name(raw), raw, False))
        needed = needed_names(name for name, _, ok in decoded if ok)
        reader = _H5Reader(f, fname, size)
        for name, raw, ok in decoded:  # in file order, so that validation picks the same names
            if name in out or name.startswith("#"):
                continue
            if ok and name in needed:
                what = f"variable '{name}'"
                out[name] = reader.read(reader.link(f, raw, what), what, 0)
            else:
                out[name] = NotRead("HDF5 object" if ok else "HDF5 link whose name is not UTF-8")
    return out
