"""Hostile MATLAB (v5 and v7.3/HDF5) and NWB files, generated here in a few seconds (nothing committed).

Each file attacks one thing the readers must bound: headers that claim a terabyte, deflate and cell bombs,
HDF5 datasets never written, huge, stored outside the file or virtual, links to other files, DAGs and
cycles of hard links, reference fan-outs, and NWB files whose ragged index, time base or units are
wrong. Unreadable variables the recording does not need must not stop a valid file from loading.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from hostile import HostileCase

T = np.arange(500) * 0.02  # 0 … 9.98 s
TB_DIMS = [65_536, 2_097_152]  # 2**37 elements: 1 TiB of doubles
BUDGET = r"reading budget|\d+× larger"  # either limit of core.io.limits.check_allocation


def _trains() -> list[np.ndarray]:
    rng = np.random.default_rng(13)
    return [np.sort(rng.uniform(0.1, 9.9, 20 + 5 * i)) for i in range(3)]


# ------------------------------------------------------------------------------------------ MATLAB v5

_MI_INT8, _MI_INT32, _MI_UINT32, _MI_DOUBLE, _MI_MATRIX, _MI_COMPRESSED, _MI_UTF32 = 1, 5, 6, 9, 14, 15, 18
_MX_CELL, _MX_STRUCT, _MX_CHAR, _MX_DOUBLE = 1, 2, 4, 6
_EMPTY = struct.pack("<II", _MI_MATRIX, 0)  # a cell element holding []


def _el(mdtype: int, data: bytes) -> bytes:
    return struct.pack("<II", mdtype, len(data)) + data + b"\0" * ((-len(data)) % 8)


def _matrix_head(cls: int, dims: list[int], name: str, body_bytes: int) -> bytes:
    """Tag and header of an miMATRIX whose body (``body_bytes`` long) follows."""
    head = (
        _el(_MI_UINT32, struct.pack("<II", cls, 0))
        + _el(_MI_INT32, struct.pack(f"<{len(dims)}i", *dims))
        + _el(_MI_INT8, name.encode())
    )
    return struct.pack("<II", _MI_MATRIX, len(head) + body_bytes) + head


def _matrix(cls: int, dims: list[int], name: str, body: bytes) -> bytes:
    return _matrix_head(cls, dims, name, len(body)) + body


def _compressed(payload: bytes) -> bytes:
    z = zlib.compress(payload)
    return struct.pack("<II", _MI_COMPRESSED, len(z)) + z


def _zlib_repeat(head: bytes, block: bytes, copies: int, tail: bytes = b"") -> bytes:
    """zlib stream of ``head + block × copies + tail``, built without holding the expansion."""
    c = zlib.compressobj(9)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    once = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # after a full flush, the same bytes every time
    checksum = zlib.adler32(head)
    if not any(block):  # zeros leave adler32's sum a alone and add len × a to its sum b
        a, b = checksum & 0xFFFF, checksum >> 16
        checksum = ((b + copies * len(block) * a) % 65521) << 16 | a
    else:
        for _ in range(copies):
            checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(tail, checksum)
    last = c.compress(tail) + c.flush()
    # the final flush wrote the checksum of head + block + tail; replace it with the one of the whole
    return first + once * copies + last[:-4] + struct.pack(">I", checksum)


def _compressed_repeat(head: bytes, block: bytes, copies: int, tail: bytes = b"") -> bytes:
    """miCOMPRESSED element of ``head + block × copies + tail``."""
    stream = _zlib_repeat(head, block, copies, tail)
    return struct.pack("<II", _MI_COMPRESSED, len(stream)) + stream


def _v5_valid() -> bytes:
    """A valid v5 file (compressed t and a cell of spike trains) to append variables to."""
    buf = io.BytesIO()
    spike = np.empty(3, dtype=object)
    for i, tr in enumerate(_trains()):
        spike[i] = tr
    scipy.io.savemat(buf, {"t": T, "spike": spike}, do_compression=True)
    return buf.getvalue()


def _v5_header() -> bytes:
    text = b"MATLAB 5.0 MAT-file, written by the hostile corpus".ljust(116, b" ")
    return text + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"


def _v5_spike_only() -> bytes:
    """Header and a valid compressed spike cell, no t: the cases add their own t."""
    spike = b"".join(_matrix(_MX_DOUBLE, [1, tr.size], "", _el(_MI_DOUBLE, tr.tobytes())) for tr in _trains())
    return _v5_header() + _compressed(_matrix(_MX_CELL, [1, 3], "spike", spike))


def _mat5_cases(folder: Path) -> list[HostileCase]:
    cases: list[HostileCase] = []

    def add(name: str, data: bytes, expect: str, match: str) -> None:
        path = folder / f"{name}.mat"
        path.write_bytes(data)
        cases.append(HostileCase(name, path, expect, match))

    # a real deflate bomb: t is 3.7 GiB of zeros in 3.6 MiB of file
    n = 500_000_000
    block = bytes(4 << 20)
    copies, rest = divmod(8 * n, len(block))
    head = _matrix_head(_MX_DOUBLE, [1, n], "t", 8 + 8 * n) + struct.pack("<II", _MI_DOUBLE, 8 * n)
    add(
        "mat5-deflate-bomb-t",
        _v5_spike_only() + _compressed_repeat(head, block, copies, bytes(rest)),
        "refuse",
        BUDGET,
    )

    # headers that claim 1 TiB in a file of a few hundred bytes
    t_claim = _matrix(_MX_DOUBLE, TB_DIMS, "t", _el(_MI_DOUBLE, bytes(64)))
    add("mat5-header-claims-1tb-t-compressed", _v5_spike_only() + _compressed(t_claim), "refuse", BUDGET)
    add("mat5-header-claims-1tb-t-plain", _v5_spike_only() + t_claim, "refuse", BUDGET)
    cell_claim = _matrix(_MX_CELL, TB_DIMS, "spike", _EMPTY * 4)
    add("mat5-cell-claims-1tb", _v5_header() + _compressed(cell_claim), "refuse", r"arrays|" + BUDGET)
    struct_claim = _matrix(
        _MX_STRUCT, TB_DIMS, "spike", _el(_MI_INT32, struct.pack("<i", 8)) + _el(_MI_INT8, b"")
    )
    add("mat5-struct-claims-1tb", _v5_header() + _compressed(struct_claim), "refuse", r"arrays|" + BUDGET)

    # cell bombs that hold what they claim: 16 million empty cells; a cell of 2,000 cells of 4,000
    n_cells = 1 << 24
    empties = _EMPTY * (1 << 17)
    head = _matrix_head(_MX_CELL, [1, n_cells], "spike", 8 * n_cells)
    add(
        "mat5-cell-bomb-16m-empties",
        _v5_header() + _compressed_repeat(head, empties, n_cells >> 17),
        "refuse",
        r"arrays|" + BUDGET,
    )
    inner = _matrix(_MX_CELL, [1, 4000], "", _EMPTY * 4000)
    head = _matrix_head(_MX_CELL, [1, 2000], "spike", len(inner) * 2000)
    add("mat5-nested-cell-bomb", _v5_header() + _compressed_repeat(head, inner, 2000), "refuse", "arrays")

    # unreadable or hostile variables the recording does not need: the file loads
    valid = _v5_valid()
    junk = struct.pack("<II", _MI_COMPRESSED, 64) + b"\x78\x9c" + bytes(range(62))
    add("mat5-corrupt-unused-variable", valid + junk, "load", "unreadable variable")
    add(
        "mat5-bomb-unused-variable",
        valid + _compressed(_matrix(_MX_CELL, TB_DIMS, "junk", _EMPTY * 4)),
        "load",
        "'junk'",
    )
    bad_chars = _matrix(
        _MX_CHAR, [1, 4], "label", _el(_MI_UTF32, struct.pack("<4I", 0xFFFFFFFF, 0xD800, 0x110000, 65))
    )
    add("mat5-invalid-codepoints-unused", valid + _compressed(bad_chars), "load", "'label'")
    return cases


# ---------------------------------------------------------------------------------------- MATLAB v7.3


def _cls(obj: h5py.Dataset | h5py.Group, name: str) -> None:
    obj.attrs["MATLAB_class"] = np.bytes_(name)


def write_v73(path: Path, build: Callable[[h5py.File], None], *, t: bool = True, spike: bool = True) -> Path:
    """A MATLAB-like v7.3 file: 512-byte userblock, column-major t, spike as a cell of references."""
    with h5py.File(path, "w", userblock_size=512) as f:
        if t:
            _cls(f.create_dataset("t", data=T.reshape(-1, 1)), "double")
        if spike:
            refs_group = f.require_group("#refs#")
            refs = np.empty((3, 1), dtype=h5py.ref_dtype)
            for i, tr in enumerate(_trains()):
                d = refs_group.create_dataset(f"u{i}", data=tr.reshape(-1, 1))
                _cls(d, "double")
                refs[i, 0] = d.ref
            _cls(f.create_dataset("spike", data=refs), "cell")
        build(f)
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")
    return path


def _dag(g: h5py.Group, depth: int, fanout: int) -> None:
    """``fanout`` hard links from each level to the next: fanout**depth paths through depth groups."""
    levels = [g] + [g.file.create_group(f"{g.name}_level{i}") for i in range(1, depth + 1)]
    for upper, lower in zip(levels, levels[1:], strict=False):
        for k in range(fanout):
            upper[f"a{k}"] = lower
    _cls(levels[-1].create_dataset("leaf", data=np.arange(3.0).reshape(-1, 1)), "double")


def _mat73_cases(folder: Path) -> list[HostileCase]:
    cases: list[HostileCase] = []
    (folder / "other.mat").unlink(missing_ok=True)
    with h5py.File(folder / "other.mat", "w") as f:  # what external links and storage point at
        _cls(f.create_dataset("t", data=T.reshape(-1, 1)), "double")
    (folder / "other.bin").write_bytes(T.tobytes())

    def add(name: str, build: Callable[[h5py.File], None], expect: str, match: str, **kw: bool) -> None:
        cases.append(HostileCase(name, write_v73(folder / f"{name}.mat", build, **kw), expect, match))

    def unwritten_t(f: h5py.File) -> None:
        _cls(f.create_dataset("t", shape=(10**11, 1), dtype="f8"), "double")

    def unwritten_spike(f: h5py.File) -> None:
        _cls(f.create_dataset("spike", shape=(10**9, 1), dtype=h5py.ref_dtype), "cell")

    def huge_sparse_chunks(f: h5py.File) -> None:
        ds = f.create_dataset("t", shape=(2 * 10**9, 1), dtype="f8", chunks=(4096, 1), compression="gzip")
        ds[:4096, 0] = np.arange(4096) * 0.02
        _cls(ds, "double")

    def huge_chunk(f: h5py.File) -> None:
        # 500 values in one 2 GiB gzip chunk (written pre-compressed: HDF5 would buffer the whole chunk)
        rows = 1 << 28
        ds = f.create_dataset(
            "t", shape=(500, 1), maxshape=(None, 1), chunks=(rows, 1), dtype="f8", compression="gzip"
        )
        zeros = bytes(4 << 20)
        copies, rest = divmod(8 * rows - T.nbytes, len(zeros))
        ds.id.write_direct_chunk((0, 0), _zlib_repeat(T.tobytes(), zeros, copies, bytes(rest)))
        _cls(ds, "double")

    def external_zero(f: h5py.File) -> None:
        ds = f.create_dataset(
            "t", shape=(10**9, 1), dtype="f8", external=[("/dev/zero", 0, h5py.h5f.UNLIMITED)]
        )
        _cls(ds, "double")

    def external_file(f: h5py.File) -> None:
        _cls(
            f.create_dataset(
                "t", shape=(T.size, 1), dtype="<f8", external=[(str(folder / "other.bin"), 0, T.nbytes)]
            ),
            "double",
        )

    def external_link(f: h5py.File) -> None:
        f["t"] = h5py.ExternalLink(str(folder / "other.mat"), "/t")

    def external_link_unused(f: h5py.File) -> None:
        f["ext"] = h5py.ExternalLink(str(folder / "other.mat"), "/t")

    def virtual(f: h5py.File) -> None:
        layout = h5py.VirtualLayout(shape=(T.size, 1), dtype="f8")
        layout[:] = h5py.VirtualSource(str(folder / "other.mat"), "t", shape=(T.size, 1))
        _cls(f.create_virtual_dataset("t", layout), "double")

    def dag_unused(f: h5py.File) -> None:
        _dag(f.create_group("tree"), depth=14, fanout=8)  # 8**14 paths

    def dag_spike(f: h5py.File) -> None:
        g = f.create_group("spike")
        _cls(g, "struct")
        _dag(g, depth=14, fanout=8)

    def fanout_spike(f: h5py.File, levels: int = 12, fanout: int = 8) -> None:
        leaf = f.create_dataset("#refs#/leaf", data=np.arange(1.0, 4.0).reshape(-1, 1))
        _cls(leaf, "double")
        target = leaf
        for i in range(levels):
            cell = f.create_dataset(
                f"#refs#/c{i}", data=np.full((fanout, 1), target.ref, dtype=h5py.ref_dtype)
            )
            _cls(cell, "cell")
            target = cell
        refs = np.full((fanout, 1), target.ref, dtype=h5py.ref_dtype)
        _cls(f.create_dataset("spike", data=refs), "cell")

    def reference_flood(f: h5py.File) -> None:
        leaf = f.create_dataset("#refs#/leaf", data=np.arange(1.0, 4.0).reshape(-1, 1))
        _cls(leaf, "double")
        refs = np.full((300_000, 1), leaf.ref, dtype=h5py.ref_dtype)
        _cls(f.create_dataset("spike", data=refs, chunks=(30_000, 1), compression="gzip"), "cell")

    def soft_loop_unused(f: h5py.File) -> None:
        f["loop"] = h5py.SoftLink("/loop")
        f["ping"] = h5py.SoftLink("/pong")
        f["pong"] = h5py.SoftLink("/ping")

    def soft_loop_t(f: h5py.File) -> None:
        f["t"] = h5py.SoftLink("/t")

    def dangling_t(f: h5py.File) -> None:
        f["t"] = h5py.SoftLink("/nowhere/t")

    def soft_t_ok(f: h5py.File) -> None:
        _cls(f.create_dataset("#refs#/time", data=T.reshape(-1, 1)), "double")
        f["t"] = h5py.SoftLink("/#refs#/time")

    def self_link_unused(f: h5py.File) -> None:
        g = f.create_group("meta")
        g["self"] = g
        g["again"] = g

    def self_link_spike(f: h5py.File) -> None:
        g = f.create_group("spike")
        _cls(g, "struct")
        _cls(g.create_dataset("u0", data=_trains()[0].reshape(-1, 1)), "double")
        g["u1"] = g

    def invalid_codepoints_unused(f: h5py.File) -> None:
        d = f.create_dataset("label", data=np.array([[-1], [0x110000], [0xD800], [65]], dtype=np.int64))
        _cls(d, "char")

    def undecodable_name_unused(f: h5py.File) -> None:
        f.create_dataset(b"notes\xff\xfe", data=np.arange(3.0))

    add("mat73-unwritten-t", unwritten_t, "refuse", "never written", t=False)
    add("mat73-unwritten-spike-cell", unwritten_spike, "refuse", "never written", spike=False)
    add("mat73-huge-t-sparse-chunks", huge_sparse_chunks, "refuse", BUDGET, t=False)
    add("mat73-huge-chunk-t", huge_chunk, "refuse", BUDGET, t=False)
    add("mat73-external-storage-dev-zero-t", external_zero, "refuse", "external storage", t=False)
    add("mat73-external-storage-file-t", external_file, "refuse", "external storage", t=False)
    add("mat73-external-link-t", external_link, "refuse", "external link", t=False)
    add("mat73-external-link-unused", external_link_unused, "load", "'ext'")
    add("mat73-virtual-t", virtual, "refuse", "virtual dataset", t=False)
    add("mat73-hardlink-dag-unused", dag_unused, "load", "'tree'")
    add("mat73-hardlink-dag-spike", dag_spike, "refuse", "struct", spike=False)
    add("mat73-reference-fanout-spike", fanout_spike, "refuse", "numeric", spike=False)
    add("mat73-reference-flood-spike", reference_flood, "refuse", "arrays", spike=False)
    add("mat73-softlink-loop-unused", soft_loop_unused, "load", "'loop'")
    add("mat73-softlink-loop-t", soft_loop_t, "refuse", "soft link", t=False)
    add("mat73-softlink-dangling-t", dangling_t, "refuse", "does not exist", t=False)
    add("mat73-softlink-t-valid", soft_t_ok, "load", "", t=False)
    add("mat73-self-link-unused", self_link_unused, "load", "'meta'")
    add("mat73-self-link-spike", self_link_spike, "refuse", "contains itself", spike=False)
    add("mat73-invalid-codepoints-unused", invalid_codepoints_unused, "load", "'label'")
    add("mat73-undecodable-name-unused", undecodable_name_unused, "load", r"notes\\+xff")
    return cases


# ------------------------------------------------------------------------------------------------ NWB


def _nwb(
    path: Path,
    *,
    trains: list[np.ndarray] | None = None,
    tracking: bool = True,
    xy_scale: float = 0.4,
    hd: np.ndarray | None = None,
    hd_unit: str = "radians",
) -> Path:
    import pynwb
    from pynwb.behavior import CompassDirection, Position, SpatialSeries

    nwb = pynwb.NWBFile(
        session_description="hostile corpus",
        identifier=path.stem,
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for uid, train in enumerate(trains if trains is not None else _trains()):
        nwb.add_unit(spike_times=train, id=uid)
    if tracking or hd is not None:
        behavior = nwb.create_processing_module(name="behavior", description="tracking")
        if tracking:
            xy = np.column_stack([0.5 + xy_scale * np.cos(T), 0.5 + xy_scale * np.sin(T)])
            series = SpatialSeries(name="xy", data=xy, timestamps=T, reference_frame="corner", unit="meters")
            behavior.add(Position(spatial_series=series))
        if hd is not None:
            series = SpatialSeries(name="hd", data=hd, timestamps=T, reference_frame="north", unit=hd_unit)
            behavior.add(CompassDirection(spatial_series=series))
    with pynwb.NWBHDF5IO(str(path), "w") as nio:
        nio.write(nwb)
    return path


def _edit_index(path: Path, values: list[int]) -> Path:
    with h5py.File(path, "r+") as f:
        f["units/spike_times_index"][...] = np.asarray(values)
    return path


def _nwb_cases(folder: Path) -> list[HostileCase]:
    try:
        import pynwb  # noqa: F401
    except ImportError:  # the optional nwb extra is not installed: nothing to attack
        return []
    cases: list[HostileCase] = []

    def add(name: str, path: Path, expect: str, match: str) -> None:
        cases.append(HostileCase(name, path, expect, match))

    counts = np.cumsum([tr.size for tr in _trains()])  # the honest index: [20, 45, 75]
    for name, index in (
        ("nwb-ragged-index-decreasing", [counts[0], counts[0] - 5, counts[2]]),
        ("nwb-ragged-index-ends-short", [counts[0], counts[1], counts[2] - 10]),
        ("nwb-ragged-index-past-end", [counts[0], counts[1], counts[2] + 1000]),
    ):
        add(
            name,
            _edit_index(_nwb(folder / f"{name}.nwb"), [int(v) for v in index]),
            "refuse",
            "spike_times_index",
        )

    ms = [tr * 1000.0 for tr in _trains()]
    add(
        "nwb-spike-times-ms-tracked",
        _nwb(folder / "nwb-spike-times-ms-tracked.nwb", trains=ms),
        "refuse",
        "milliseconds",
    )
    long_ms = [
        np.sort(np.random.default_rng(i).uniform(0, 3e5, 200)) for i in range(3)
    ]  # ms read as s: 300,000 s
    path = _nwb(folder / "nwb-spike-times-ms-untracked.nwb", trains=long_ms, tracking=False)
    add("nwb-spike-times-ms-untracked", path, "refuse", "milliseconds")
    add("nwb-arena-100m", _nwb(folder / "nwb-arena-100m.nwb", xy_scale=50.0), "refuse", "arena")
    hd_deg = np.rad2deg(np.mod(T * 2.0, 2 * np.pi))
    add(
        "nwb-hd-degrees-declared-radians",
        _nwb(folder / "nwb-hd-deg.nwb", hd=hd_deg),
        "load",
        "read as degrees",
    )

    path = _nwb(folder / "nwb-external-link.nwb")
    with h5py.File(path, "r+") as f:
        f["acquisition/raw"] = h5py.ExternalLink(str(folder / "other.mat"), "/t")
    add("nwb-external-link", path, "refuse", "external link")

    path = _nwb(folder / "nwb-unwritten-spike-times.nwb")
    with h5py.File(path, "r+") as f:
        attrs = dict(f["units/spike_times"].attrs)
        del f["units/spike_times"]
        ds = f.create_dataset("units/spike_times", shape=(10**10,), dtype="f8")
        for key, value in attrs.items():
            ds.attrs[key] = value
        f["units/spike_times_index"].attrs["target"] = ds.ref
    add("nwb-unwritten-spike-times", path, "refuse", "never written")
    return cases


def make_cases(folder: Path) -> list[HostileCase]:
    """Write every hostile MATLAB and NWB file into ``folder``; one case per file."""
    folder.mkdir(parents=True, exist_ok=True)
    return _mat5_cases(folder) + _mat73_cases(folder) + _nwb_cases(folder)
