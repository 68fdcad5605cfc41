"""Hostile ``.npz`` files, pickles inside them, non-regular files and implausible recordings, generated here
in a few seconds (nothing committed; the largest file is a 4.5 MB deflate bomb).

Each file has the structure of a real attack, kept small on disk: object arrays forged from raw bytes (the
file would choose the pointers), a dict key nested a million deep (C stack), zip members and ``.npy``
headers that claim a terabyte, deflate bombs (in a needed and in an unknown member), a pickle claiming a
21 GB string, a "billion laughs" of 2^33 shared leaves, a FIFO and a device named ``.npz``, a time base of
30 years and 20 million units. Valid files in awkward units (mm, m, degrees over a small range) and with
extra members must still load, with the warning that says what was converted.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from hostile import HostileCase

T = np.arange(500) * 0.02  # 0 … 9.98 s at 50 Hz
BUDGET = r"reading budget|\d+× larger"  # either limit of core.io.limits.check_allocation
TIB = 2**40


def _trains(n: int = 5) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(21)
    return {i: np.sort(rng.uniform(0.1, 9.9, 30 + 5 * i)) for i in range(n)}


def _tracking(t: np.ndarray = T) -> dict[str, np.ndarray]:
    phase = 2 * np.pi * t / 5
    return {
        "x": 50 + 40 * np.cos(phase),
        "y": 50 + 40 * np.sin(phase),
        "hd": np.mod(phase + np.pi / 2, 2 * np.pi),
    }


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(descr: str, shape: tuple[int, ...], version: int = 1) -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    (npy_format.write_array_header_1_0 if version == 1 else npy_format.write_array_header_2_0)(buf, header)
    return buf.getvalue()


def _object_npy(pickle_bytes: bytes) -> bytes:
    """A .npy member that claims a 0-d object array and carries ``pickle_bytes`` as its payload."""
    return _npy_header("|O", ()) + pickle_bytes


def _valid_members(**over: bytes | None) -> dict[str, bytes]:
    spike = np.empty(5, dtype=object)
    for i, train in _trains().items():
        spike[i] = train
    members = {
        "t.npy": _npy(T),
        "spike.npy": _npy(spike),
        **{f"{k}.npy": _npy(v) for k, v in _tracking().items()},
    }
    members.update({k: v for k, v in over.items() if v is not None})
    return {k: v for k, v in members.items() if over.get(k, b"") is not None}


# ---------------------------------------------------------------------------------- a small zip writer


class _Member:
    """One zip member: the bytes stored, how, and what the central directory declares."""

    def __init__(
        self,
        name: str,
        data: bytes,
        deflate: bool = False,
        declared: int | None = None,
        crc: int | None = None,
    ) -> None:
        self.name = name.encode()
        self.size = len(data) if declared is None else declared
        self.crc = zlib.crc32(data) if crc is None else crc
        self.method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        if deflate:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.stored = c.compress(data) + c.flush()
        else:
            self.stored = data

    @classmethod
    def zeros_bomb(cls, name: str, head: bytes, mib: int) -> _Member:
        """A deflate member of ``head`` + ``mib`` MiB of zeros, ~1 KB per MiB (deflate's best ratio)."""
        c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
        block = c.compress(bytes(1 << 20)) + c.flush(
            zlib.Z_FULL_FLUSH
        )  # the same bytes after each full flush
        out = cls(
            name, b"", deflate=True, declared=len(head) + mib * (1 << 20), crc=0
        )  # never read to its CRC
        out.stored = first + block * mib + c.flush()
        return out


def _write_zip(path: Path, members: list[_Member], declare_entries: int | None = None) -> Path:
    local, central = io.BytesIO(), io.BytesIO()
    for m in members:
        offset = local.tell()
        small = min(m.size, 0xFFFFFFFF)
        local.write(
            struct.pack(
                "<4s5H3I2H", b"PK\x03\x04", 45, 0, m.method, 0, 0x21, m.crc, len(m.stored), 0, len(m.name), 0
            )
        )
        local.write(m.name + m.stored)
        extra = struct.pack("<2HQ", 1, 8, m.size) if small == 0xFFFFFFFF else b""
        central.write(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                45,
                45,
                0,
                m.method,
                0,
                0x21,
                m.crc,
                len(m.stored),
                small,
                len(m.name),
                len(extra),
                0,
                0,
                0,
                0,
                offset,
            )  # fmt: skip
        )
        central.write(m.name + extra)
    n = len(members) if declare_entries is None else declare_entries
    cd = central.getvalue()
    end = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), len(cd), local.tell(), 0
    )
    path.write_bytes(local.getvalue() + cd + end)
    return path


def _npz(path: Path, members: dict[str, bytes], *extra: _Member) -> Path:
    return _write_zip(path, [_Member(k, v, deflate=True) for k, v in members.items()] + list(extra))


# ------------------------------------------------------------------------------ a small pickle assembler

PROTO3, STOP, MARK, TUPLE, REDUCE, BUILD = b"\x80\x03", b".", b"(", b"t", b"R", b"b"
TUPLE1, TUPLE2, TUPLE3, NONE, NEWFALSE, NEWTRUE = b"\x85", b"\x86", b"\x87", b"N", b"\x89", b"\x88"
EMPTY_DICT, EMPTY_LIST, SETITEM, APPEND, DUP, LIST = b"}", b"]", b"s", b"a", b"2", b"l"
CORE = "numpy._core.multiarray"


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _int(i: int) -> bytes:
    return b"J" + struct.pack("<i", i)


def _text(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _bytes(b: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(b)) + b


def _float(v: float) -> bytes:
    return b"G" + struct.pack(">d", v)


def _tuple(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def _dtype(code: str, order: str = "<", elsize: int = -1, flags: int = 0) -> bytes:
    state = _tuple(_int(3), _text(order), NONE, NONE, NONE, _int(elsize), _int(-1), _int(flags))
    return _global("numpy", "dtype") + _text(code) + NEWFALSE + NEWTRUE + TUPLE3 + REDUCE + state + BUILD


def _array(shape: tuple[int, ...], dtype: bytes, data: bytes) -> bytes:
    """numpy's own pickle of an array: ``_reconstruct(ndarray, (0,), b'b')`` then BUILD with its state."""
    stub = _global(CORE, "_reconstruct") + _global("numpy", "ndarray") + _int(0) + TUPLE1 + b"C\x01b" + TUPLE3
    return stub + REDUCE + _tuple(_int(1), _tuple(*map(_int, shape)), dtype, NEWFALSE, data) + BUILD


def _pickle_member(payload: bytes) -> bytes:
    return _object_npy(PROTO3 + payload + STOP)


# ----------------------------------------------------------------------------------------------- cases


def _pickle_cases(folder: Path) -> list[HostileCase]:
    pointer = b"\x41" * 8  # 0x4141414141414141: an address the file chose
    forged = {
        # an object dtype whose state drops its object flags, so numpy takes the array's raw bytes as
        # PyObject pointers (0x4141…) and dereferences them: a segfault with the C unpickler
        "pickle-forged-object-array": (
            _array((1,), _dtype("O8", "|", flags=0), _bytes(pointer)),
            r"array type '\|O' whose stored layout is not the one numpy writes",
        ),
        "pickle-forged-object-array-in-dict": (
            EMPTY_DICT + _int(0) + _array((2,), _dtype("O8", "|", flags=0), _bytes(pointer * 2)) + SETITEM,
            r"stored layout is not the one numpy writes",
        ),
        # a genuine object dtype given raw bytes instead of a list of objects
        "pickle-object-array-from-raw-bytes": (
            _array((1,), _dtype("O8", "|", flags=63), _bytes(pointer)),
            r"object array made from raw bytes",
        ),
        # a float dtype whose state claims it holds objects (flags 63) and a wrong item size
        "pickle-forged-dtype-state": (
            _array((1,), _dtype("f8", "<", elsize=4096, flags=63), _bytes(pointer)),
            r"stored layout is not the one numpy writes",
        ),
        # an object scalar from raw bytes
        "pickle-forged-object-scalar": (
            _global(CORE, "scalar") + _dtype("O8", "|", flags=63) + _bytes(pointer) + TUPLE2 + REDUCE,
            r"numpy scalar that is not a plain number",
        ),
        # protocol-5 style: _frombuffer with an object dtype
        "pickle-forged-frombuffer-object": (
            _global("numpy._core.numeric", "_frombuffer")
            + _tuple(_bytes(pointer), _dtype("O8", "|", flags=63), _tuple(_int(1)), _text("C"))
            + REDUCE,
            r"raw bytes with a type that is not plain data",
        ),
        # numpy.ndarray called directly: a shape of 10^12 doubles (or a buffer with chosen strides)
        "pickle-ndarray-called-directly": (
            _global("numpy", "ndarray")
            + _tuple(_tuple(_int(1_000_000), _int(1_000_000)), _text("f8"))
            + REDUCE,
            r"pickled object of type 'numpy.ndarray'",
        ),
        # an array whose shape claims far more than its bytes
        "pickle-array-shape-claims-more-than-its-bytes": (
            _array((1 << 30, 1 << 10), _dtype("f8"), _bytes(bytes(64))),
            r"given 64 bytes instead of",
        ),
        # C stack: a dict key nested a million deep (hashing it recurses in C)
        "pickle-dict-key-nested-a-million-deep": (
            EMPTY_DICT + _int(0) + TUPLE1 * 1_000_000 + NONE + SETITEM,
            r"nested more than 64 deep",
        ),
        # lists nested a million deep (anything recursive over the result would overflow)
        "pickle-lists-nested-a-million-deep": (
            EMPTY_LIST * 1_000_000 + APPEND * 999_999,
            r"nested more than 64 deep",
        ),
        # "billion laughs": 33 levels of (x, x) share one leaf 2^33 times
        "pickle-billion-laughs-2-pow-33-leaves": (
            _float(0.5) + (DUP + TUPLE2) * 33,
            r"shared references that expand to more than the reading budget",
        ),
        # one 100 KB array referenced 200,000 times: 20 GB once converted
        "pickle-shared-array-fan-out": (
            _array((12_800,), _dtype("f8"), _bytes(bytes(102_400)))
            + b"q\x01"
            + b"0"  # POP
            + MARK
            + b"h\x01" * 200_000
            + LIST,
            r"shared references that expand to more than the reading budget",
        ),
        # a BINBYTES8 claiming 21 GB in a pickle of a few bytes
        "pickle-bytes-claims-21-gb": (
            b"\x8e" + struct.pack("<Q", 21 * 10**9) + bytes(64),
            r"21,000,000,000-byte",
        ),
        # six million empty lists: work and memory grow with the opcodes
        "pickle-six-million-lists": (EMPTY_LIST * 6_000_000, r"more than 20,000,000 pickled objects"),
        # a cycle: a list that contains itself
        "pickle-list-contains-itself": (EMPTY_LIST + b"q\x01" + b"h\x01" + APPEND, r"contains itself"),
        # an integer of a million bytes
        "pickle-long-of-a-million-bytes": (
            b"\x8b" + struct.pack("<i", 1_000_000) + bytes(1_000_000),
            r"integer of",
        ),
    }
    cases = []
    for name, (payload, match) in forged.items():
        path = _npz(folder / f"{name}.npz", _valid_members(**{"spike.npy": _pickle_member(payload)}))
        cases.append(HostileCase(name, path, "refuse", match))
    return cases


def _zip_cases(folder: Path) -> list[HostileCase]:
    cases = []
    valid = _valid_members()

    def case(name: str, path: Path, expect: str = "refuse", match: str = BUDGET) -> None:
        cases.append(HostileCase(name, path, expect, match))

    # the central directory claims 1 TiB for the spike member (its bytes are a few hundred)
    small = dict(valid)
    spike = small.pop("spike.npy")
    case(
        "npz-member-claims-1-tib",
        _npz(folder / "claims.npz", small, _Member("spike.npy", spike, deflate=True, declared=TIB)),
    )
    # an honest deflate bomb: 4.25 GiB of zeros in 4.5 MB, as the spike member a recording needs
    head = _npy_header("<f8", ((4352 << 20) // 8,))
    case(
        "npz-deflate-bomb-needed-member",
        _npz(folder / "bomb.npz", small, _Member.zeros_bomb("spike.npy", head, 4352)),
    )
    # the same bomb in a member the loader does not need: the recording loads, the member is never inflated
    case(
        "npz-deflate-bomb-unknown-member",
        _npz(folder / "bomb_unknown.npz", valid, _Member.zeros_bomb("notes.npy", head, 4352)),
        "load",
        r"ignored fields .*'notes'",
    )
    case(
        "npz-unknown-member-claims-1-tib",
        _npz(
            folder / "claims_unknown.npz", valid, _Member("notes.npy", b"x" * 100, deflate=True, declared=TIB)
        ),
        "load",
        r"ignored fields .*'notes'",
    )
    # a member whose header understates: it declares 4 KiB, its stream inflates to 100 MiB
    lie_head = _npy_header("<f8", ((100 << 20) // 8,))
    lie = _Member.zeros_bomb("spike.npy", lie_head, 100)
    lie.size, lie.crc = 4096, zlib.crc32(lie_head + bytes(4096 - len(lie_head)))  # a CRC that matches the lie
    case("npz-member-understates-its-size", _npz(folder / "understates.npz", small, lie), match=r"holds only")
    # .npy headers that claim a terabyte: shape × item size, a zero-size item, a 4 GiB header
    case(
        "npz-npy-shape-claims-1-tib",
        _npz(folder / "shape.npz", {**valid, "spike.npy": _npy_header("<f8", (TIB // 8,))}),
    )
    case(
        "npz-npy-zero-itemsize-1e15-items",
        _npz(folder / "v0.npz", {**valid, "t.npy": _npy_header("|V0", (10**15,))}),
    )
    head4 = b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{"
    case(
        "npz-npy-header-claims-4-gib",
        _npz(folder / "header.npz", {**valid, "t.npy": head4}),
        match=r"header of",
    )
    # the end record declares 60,000 members (the central directory holds a few)
    case(
        "npz-declares-60000-members",
        _write_zip(folder / "members.npz", [_Member(k, v) for k, v in valid.items()], declare_entries=60_000),
        match=r"declares 60,000 members",
    )
    # a valid file with an extra, unknown member: loads, the member is listed
    case(
        "npz-valid-extra-member",
        _npz(folder / "extra.npz", {**valid, "session_notes.npy": _npy(np.arange(10.0))}),
        "load",
        r"ignored fields .*'session_notes'",
    )
    # a valid file written with pickle protocol 5 (arrays through _frombuffer)
    import pickle

    p5 = _object_npy(pickle.dumps(_trains(), protocol=5))
    case("npz-valid-pickle-protocol-5", _npz(folder / "p5.npz", {**valid, "spike.npy": p5}), "load", "")
    return cases


def _loader_cases(folder: Path) -> list[HostileCase]:
    cases = []
    if hasattr(os, "mkfifo"):
        fifo = folder / "fifo.npz"
        os.mkfifo(fifo)
        cases.append(
            HostileCase("loader-fifo-named-npz", fifo, "refuse", r"named pipe \(FIFO\), not a regular file")
        )
        link = folder / "link_to_fifo.mat"
        link.symlink_to(fifo)
        cases.append(HostileCase("loader-symlink-to-fifo", link, "refuse", r"named pipe"))
    if Path("/dev/zero").exists():
        dev = folder / "zero.npz"
        dev.symlink_to("/dev/zero")
        cases.append(
            HostileCase("loader-symlink-to-dev-zero", dev, "refuse", r"character device, not a regular file")
        )
    return cases


def _validator_cases(folder: Path) -> list[HostileCase]:
    cases = []

    def case(name: str, expect: str, match: str, **fields: object) -> None:
        path = folder / f"{name}.npz"
        np.savez_compressed(path, **fields)
        cases.append(HostileCase(name, path, expect, match))

    trains = _trains()
    spike = np.empty(5, dtype=object)
    for i, tr in trains.items():
        spike[i] = tr
    years = 30 * 365.25 * 86400
    case(
        "validate-t-spans-30-years",
        "refuse",
        r"t spans .*30(\.0)? years.*MAX_DURATION_S",
        spike=spike,
        t=np.array([0.0, years]),
    )
    case(
        "validate-20-million-units",
        "refuse",
        r"spike holds 20,000,000 units; at most 10,000 .*MAX_UNITS",
        spike=np.ones((2, 20_000_000), dtype=np.int8),
        t=np.array([0.0, 1.0]),
    )
    case(
        "validate-two-units",
        "refuse",
        r"only 2 units with spikes.*MIN_UNITS",
        spike=np.array([trains[0], trains[1]], dtype=object),
        t=T,
    )
    zeros = np.empty(5, dtype=object)
    for i in range(5):
        zeros[i] = np.zeros(10)
    case("validate-all-spikes-at-zero", "refuse", r"spikes span no time", spike=zeros, t=T)
    t_slow = np.arange(0.0, 3600.0, 60.0)
    case(
        "validate-tracking-once-a-minute",
        "refuse",
        r"MIN_TRACKING_RATE_HZ",
        spike=spike,
        t=t_slow,
        x=np.linspace(0, 50, t_slow.size),
        y=np.zeros(t_slow.size),
    )
    return cases


def _units_cases(folder: Path) -> list[HostileCase]:
    cases = []
    spike = {i: tr for i, tr in _trains().items()}
    t = np.arange(0, 10, 0.02)

    def case(name: str, match: str, **fields: np.ndarray) -> None:
        path = folder / f"{name}.npz"
        np.savez(path, spike=spike, t=t, **fields)
        cases.append(HostileCase(name, path, "load", match))

    w = 20 / 45  # 20 cm/s on a 45 cm radius
    case(
        "units-metres",
        r"read as metres and converted to cm",
        x=0.5 + 0.45 * np.cos(w * t),
        y=0.5 + 0.45 * np.sin(w * t),
    )
    case(
        "units-millimetres-1-m-arena",
        r"read as millimetres",
        x=500 + 450 * np.cos(w * t),
        y=500 + 450 * np.sin(w * t),
    )
    w = 20 / 18  # a mouse at 20 cm/s on a 18 cm radius, recorded in mm: 360 mm fits cm and mm
    case(
        "units-millimetres-decided-by-speed",
        r"the speed .* says millimetres: converted to cm",
        x=200 + 180 * np.cos(w * t),
        y=200 + 180 * np.sin(w * t),
    )
    wiggle = 0.4 / np.pi * np.sin(np.pi * t)  # runs along +x at 5 cm/s, heading within ±5°
    heading = np.degrees(np.arctan2(0.4 * np.cos(np.pi * t), 5.0))
    case(
        "units-degrees-small-range-follows-movement",
        r"follows the direction of movement only as degrees",
        x=10 + 5 * t,
        y=50 + wiggle,
        hd=heading + 1.0,
    )
    rng = np.random.default_rng(3)
    case(
        "units-degrees-whole-numbers",
        r"whole numbers",
        hd=np.clip(np.cumsum(rng.integers(-1, 2, t.size)), 0, 6) * 1.0,
    )
    case("units-hd-ambiguous-warns", r"--hd-unit deg", hd=1.0 + 0.5 * np.sin(t))
    return cases


def make_cases(folder: Path) -> list[HostileCase]:
    """Every hostile or awkward .npz / pickle / loader / validator case, written under ``folder``."""
    out = []
    for maker in (_pickle_cases, _zip_cases, _loader_cases, _validator_cases, _units_cases):
        sub = folder / maker.__name__.strip("_").removesuffix("_cases")
        sub.mkdir(parents=True, exist_ok=True)
        out += maker(sub)
    return out
