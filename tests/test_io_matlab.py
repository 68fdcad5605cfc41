"""MATLAB files: v5 through scipy.io, v7.3 (HDF5, column-major, cells as object references) through h5py."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from core.errors import RecordingError
from core.io import load_recording

T = np.arange(500) * 0.02  # 0 … 9.98 s


def _trains() -> list[np.ndarray]:
    rng = np.random.default_rng(6)
    return [np.sort(rng.uniform(0, 9.9, 15 + 5 * i)) for i in range(3)] + [np.array([4.25])]


def _cell(items: list[np.ndarray]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, a in enumerate(items):
        out[i] = a
    return out


def _tracking() -> dict[str, np.ndarray]:
    return {"x": 60 + 50 * np.cos(T), "y": 60 + 50 * np.sin(T), "hd": np.rad2deg(np.mod(T, 2 * np.pi))}


def _assert_trains(rec_trains: list[np.ndarray], trains: list[np.ndarray]) -> None:
    assert len(rec_trains) == len(trains)
    for a, b in zip(rec_trains, trains, strict=True):
        np.testing.assert_allclose(a, b)


# ---------------------------------------------------------------------------------------------------- v5


def test_v5_cell_array(tmp_path: Path) -> None:
    trains = _trains()  # the last unit has a single spike: scipy squeezes it to a scalar
    path = tmp_path / "cells.mat"
    scipy.io.savemat(path, {"spike": _cell(trains), "t": T, **_tracking()})
    res = load_recording(path)
    assert res.format == "mat5"
    rec = res.recording
    assert rec.unit_ids == [0, 1, 2, 3]
    _assert_trains(rec.spike_times, trains)
    np.testing.assert_allclose(rec.hd, np.mod(T, 2 * np.pi), atol=1e-9)
    assert len(res.warnings) == 1 and "read as degrees" in res.warnings[0]


def test_v5_column_vectors_and_struct_units(tmp_path: Path) -> None:
    trains = _trains()[:3]
    path = tmp_path / "struct.mat"
    units = {"unit_3": trains[0], "unit_9": trains[1], "unit_12": trains[2]}
    scipy.io.savemat(path, {"spike": units, "t": T.reshape(-1, 1)})
    rec = load_recording(path).recording
    assert rec.unit_ids == ["unit_3", "unit_9", "unit_12"]
    _assert_trains(rec.spike_times, trains)


@pytest.mark.parametrize("transpose", [False, True])
def test_v5_dense_matrix(tmp_path: Path, transpose: bool) -> None:
    counts = np.random.default_rng(7).poisson(0.4, size=(T.size, 6)).astype(float)
    path = tmp_path / "dense.mat"
    scipy.io.savemat(path, {"spike": counts.T if transpose else counts, "t": T})
    res = load_recording(path)
    np.testing.assert_array_equal(res.recording.rates, counts)
    assert any("transposed" in w for w in res.warnings) == transpose


def test_v5_misspelled_field(tmp_path: Path) -> None:
    path = tmp_path / "typo.mat"
    scipy.io.savemat(path, {"spike": _cell(_trains()), "ts": T})
    with pytest.raises(RecordingError, match=r"typo\.mat: required field 't' is missing.*did you mean 't'\?"):
        load_recording(path)


# -------------------------------------------------------------------------------------------------- v7.3


def _matlab_attrs(ds: h5py.Dataset | h5py.Group, cls: str) -> None:
    ds.attrs["MATLAB_class"] = np.bytes_(cls)


def _write_v73(
    path: Path, spike_kind: str, trains: list[np.ndarray], counts: np.ndarray | None = None
) -> None:
    """Mimic MATLAB's ``save -v7.3``: 512-byte userblock, column-major datasets, cells as references."""
    with h5py.File(path, "w", userblock_size=512) as f:
        ds = f.create_dataset("t", data=T.reshape(1, -1).T)  # MATLAB 1×T row → HDF5 (T, 1)
        _matlab_attrs(ds, "double")
        x = f.create_dataset("x", data=(60 + 50 * np.cos(T)).reshape(-1, 1))  # MATLAB row → (T, 1)
        _matlab_attrs(x, "double")
        y = f.create_dataset("y", data=(60 + 50 * np.sin(T)).reshape(1, -1))  # MATLAB column → (1, T)
        _matlab_attrs(y, "double")
        note = f.create_dataset("note", data=np.array([[ord("r")]], dtype=np.uint16))
        _matlab_attrs(note, "char")
        if spike_kind == "cell":
            refs_group = f.create_group("#refs#")
            refs = np.empty((len(trains) + 1, 1), dtype=h5py.ref_dtype)
            for i, tr in enumerate(trains):
                d = refs_group.create_dataset(f"u{i}", data=tr.reshape(-1, 1))  # 1×k row vector
                _matlab_attrs(d, "double")
                refs[i, 0] = d.ref
            empty = refs_group.create_dataset("empty", data=np.array([0, 0], dtype=np.uint64))
            _matlab_attrs(empty, "double")
            empty.attrs["MATLAB_empty"] = np.uint8(1)
            refs[len(trains), 0] = empty.ref
            cell = f.create_dataset("spike", data=refs)  # MATLAB 1×(N+1) cell → (N+1, 1)
            _matlab_attrs(cell, "cell")
        elif spike_kind == "struct":
            g = f.create_group("spike")
            _matlab_attrs(g, "struct")
            for i, tr in enumerate(trains):
                d = g.create_dataset(f"cell_{i + 1}", data=tr.reshape(-1, 1))
                _matlab_attrs(d, "double")
        else:
            assert counts is not None
            d = f.create_dataset("spike", data=counts.T)  # MATLAB T×N → HDF5 (N, T)
            _matlab_attrs(d, "double")
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")


def test_v73_cell_array(tmp_path: Path) -> None:
    trains = _trains()
    path = tmp_path / "cells73.mat"
    _write_v73(path, "cell", trains)
    res = load_recording(path)
    assert res.format == "mat73"
    rec = res.recording
    assert rec.unit_ids == [0, 1, 2, 3]  # the empty cell (unit 4) is dropped
    assert any("dropped 1 units with no spikes: 4" in w for w in res.warnings)
    assert any("'note'" in w for w in res.warnings)
    _assert_trains(rec.spike_times, trains)
    np.testing.assert_allclose(rec.t, T)
    np.testing.assert_allclose(rec.y, 60 + 50 * np.sin(T))


def test_v73_struct_units(tmp_path: Path) -> None:
    trains = _trains()[:3]
    path = tmp_path / "struct73.mat"
    _write_v73(path, "struct", trains)
    rec = load_recording(path).recording
    assert rec.unit_ids == ["cell_1", "cell_2", "cell_3"]
    _assert_trains(rec.spike_times, trains)


def test_v73_dense_matrix_column_major(tmp_path: Path) -> None:
    counts = np.random.default_rng(8).poisson(0.4, size=(T.size, 5)).astype(float)
    path = tmp_path / "dense73.mat"
    _write_v73(path, "dense", [], counts)
    res = load_recording(path)
    np.testing.assert_array_equal(res.recording.rates, counts)
    assert not any("transposed" in w for w in res.warnings)


def test_plain_hdf5_without_userblock(tmp_path: Path) -> None:
    """An HDF5 file written from Python (no MATLAB attributes): arrays taken as stored."""
    counts = np.random.default_rng(9).poisson(0.4, size=(4, T.size))
    path = tmp_path / "plain.mat"
    with h5py.File(path, "w") as f:
        f["t"] = T
        f["spike"] = counts
    res = load_recording(path)
    np.testing.assert_array_equal(res.recording.rates, counts.T)
    assert any("transposed" in w for w in res.warnings)


# ------------------------------------------------------------------------------- bounded reading: limits


def test_budget_is_at_most_4_gib_and_half_the_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.io import limits

    assert 0 < limits.memory_budget_bytes() <= 4 * 2**30
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 2**30)
    assert limits.memory_budget_bytes() == 2**29


def test_check_allocation_messages() -> None:
    from core.io.limits import check_allocation

    with pytest.raises(RecordingError, match=r"^x\.mat: variable 't' would need 1 TiB of memory, more than"):
        check_allocation("x.mat: variable 't'", 2**40)
    with pytest.raises(RecordingError, match=r"declares 95\.4 MiB but only 1000 bytes .* 1000× larger"):
        check_allocation("x.mat: variable 't'", 10**8, file_bytes=1000)
    check_allocation("small", 10**6, file_bytes=10)  # tiny stores are judged as 64 KiB
    check_allocation("ratio ignored", 10**8)


# ---------------------------------------------------------------------- bounded reading: MATLAB v5 / v4


def _el(mdtype: int, data: bytes) -> bytes:
    return struct.pack("<II", mdtype, len(data)) + data + b"\0" * ((-len(data)) % 8)


def _mat(cls: int, dims: list[int], name: str, body: bytes) -> bytes:
    head = (
        _el(6, struct.pack("<II", cls, 0))
        + _el(5, struct.pack(f"<{len(dims)}i", *dims))
        + _el(1, name.encode())
    )
    return struct.pack("<II", 14, len(head) + len(body)) + head + body


def _zipped(matrix: bytes) -> bytes:
    z = zlib.compress(matrix)
    return struct.pack("<II", 15, len(z)) + z


def _valid_v5(**extra: object) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"spike": _cell(_trains()), "t": T, **extra}, do_compression=True)
    return buf.getvalue()


EMPTY_CELL = struct.pack("<II", 14, 0)


def test_v5_unreadable_unused_variable_does_not_refuse(tmp_path: Path) -> None:
    junk = struct.pack("<II", 15, 40) + b"\x78\x9c" + bytes(range(38))  # corrupt deflate data
    path = tmp_path / "junk.mat"
    path.write_bytes(_valid_v5(extra=np.arange(3.0)) + junk)
    res = load_recording(path)
    _assert_trains(res.recording.spike_times, _trains())
    assert any(
        "skipped 1 unreadable variable(s)" in w and "corrupt compressed data" in w for w in res.warnings
    )
    assert any("'extra'" in w for w in res.warnings)


def test_v5_trailing_zeros_end_the_walk(tmp_path: Path) -> None:
    path = tmp_path / "padded.mat"
    path.write_bytes(_valid_v5() + bytes(200_000))
    res = load_recording(path)
    assert any("200,000 trailing bytes that are not a variable" in w for w in res.warnings)


def test_v5_unused_bomb_is_never_read(tmp_path: Path) -> None:
    bomb = _zipped(_mat(1, [65_536, 2_097_152], "junk", EMPTY_CELL * 4))  # a cell that claims 2**37 elements
    path = tmp_path / "bomb.mat"
    path.write_bytes(_valid_v5() + bomb)
    res = load_recording(path)
    assert len(res.recording.unit_ids) == 4
    assert any("'junk'" in w for w in res.warnings)


@pytest.mark.parametrize("compressed", [True, False])
def test_v5_header_claiming_a_terabyte_is_refused_before_reading(tmp_path: Path, compressed: bool) -> None:
    t = _mat(6, [65_536, 2_097_152], "t", _el(9, bytes(64)))
    path = tmp_path / "claim.mat"
    path.write_bytes(_valid_v5()[:128] + (_zipped(t) if compressed else t))
    with pytest.raises(RecordingError, match=r"claim\.mat: variable 't' would need 1 TiB of memory"):
        load_recording(path)


def test_v5_cell_bomb_refused_by_its_element_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.io.matlab as matlab

    monkeypatch.setattr(matlab, "MAX_ARRAYS", 1000)
    inner = _mat(1, [1, 400], "", EMPTY_CELL * 400)
    path = tmp_path / "cells.mat"
    path.write_bytes(_valid_v5()[:128] + _zipped(_mat(1, [1, 10], "spike", inner * 10)))
    with pytest.raises(RecordingError, match=r"cells\.mat: variable 'spike' holds more than 1,000 arrays"):
        load_recording(path)


def test_v5_first_of_duplicate_variables_used(tmp_path: Path) -> None:
    second_t = _zipped(_mat(6, [1, 3], "t", _el(9, np.array([5.0, 6.0, 7.0]).tobytes())))
    path = tmp_path / "dup.mat"
    path.write_bytes(_valid_v5() + second_t)
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.t, T)
    assert any("variable 't' appears more than once" in w for w in res.warnings)


def test_v5_alias_and_required_variable_lost_to_corruption(tmp_path: Path) -> None:
    path = tmp_path / "alias.mat"
    scipy.io.savemat(path, {"spike": _cell(_trains()), "T": T})
    np.testing.assert_allclose(load_recording(path).recording.t, T)
    broken = tmp_path / "broken.mat"
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"spike": _cell(_trains())}, do_compression=True)
    broken.write_bytes(buf.getvalue() + struct.pack("<II", 15, 40) + b"\x78\x9c" + bytes(38))
    with pytest.raises(
        RecordingError, match=r"required variable 't' not found, and 1 variable\(s\) could not"
    ):
        load_recording(broken)


def test_v5_reader_reads_an_open_file() -> None:
    from core.io.matlab import NotRead, read_mat_v5

    fields = read_mat_v5(Path("memory.mat"), io.BytesIO(_valid_v5(extra=np.arange(2.0))))
    np.testing.assert_allclose(fields["t"], T)
    assert isinstance(fields["extra"], NotRead) and list(fields) == ["spike", "t", "extra"]


def test_v4_file(tmp_path: Path) -> None:
    counts = np.random.default_rng(3).poisson(0.4, size=(T.size, 3)).astype(float)
    path = tmp_path / "old.mat"
    scipy.io.savemat(path, {"spike": counts, "t": T, "note": np.arange(2.0)}, format="4")
    res = load_recording(path)
    np.testing.assert_array_equal(res.recording.rates, counts)
    assert any("'note'" in w for w in res.warnings)


# ------------------------------------------------------------------------------ bounded reading: v7.3


def write_v73(path: Path, build) -> Path:  # noqa: ANN001
    """A MATLAB-like v7.3 file (t, x, y, note and a cell of spike trains) changed by ``build(file)``."""
    _write_v73(path, "cell", _trains())
    with h5py.File(path, "r+") as f:
        build(f)
    return path


def test_v73_links_to_other_files(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "other.mat", "w") as f:
        f["t"] = T
    path = tmp_path / "ext.mat"
    with h5py.File(path, "w") as f:
        f["t"] = h5py.ExternalLink(str(tmp_path / "other.mat"), "/t")
        f["spike"] = np.random.default_rng(0).poisson(0.3, size=(2, T.size))
    with pytest.raises(
        RecordingError, match=r"ext\.mat: variable 't' is an external link to '.*other\.mat:/t'"
    ):
        load_recording(path)

    def unused(f: h5py.File) -> None:
        f["more"] = h5py.ExternalLink(str(tmp_path / "missing.mat"), "/x")

    res = load_recording(write_v73(tmp_path / "unused.mat", unused))
    assert any("'more'" in w for w in res.warnings)


def test_v73_storage_outside_the_file_or_never_written(tmp_path: Path) -> None:
    (tmp_path / "raw.bin").write_bytes(T.tobytes())
    path = tmp_path / "external.mat"
    with h5py.File(path, "w") as f:
        f.create_dataset(
            "t", shape=(T.size,), dtype="<f8", external=[(str(tmp_path / "raw.bin"), 0, T.nbytes)]
        )
        f["spike"] = np.ones((2, T.size))
    with pytest.raises(RecordingError, match=r"variable 't' keeps its data outside the HDF5 file"):
        load_recording(path)
    path = tmp_path / "virtual.mat"
    with h5py.File(path, "w") as f:
        layout = h5py.VirtualLayout(shape=(T.size,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(tmp_path / "unused.mat"), "t", shape=(T.size,))
        f.create_virtual_dataset("t", layout)
        f["spike"] = np.ones((2, T.size))
    with pytest.raises(RecordingError, match=r"variable 't' is a virtual dataset"):
        load_recording(path)
    path = tmp_path / "unwritten.mat"
    with h5py.File(path, "w") as f:
        f.create_dataset("t", shape=(10**10,), dtype="f8")
        f["spike"] = np.ones((2, T.size))
    with pytest.raises(
        RecordingError, match=r"variable 't' \(10,000,000,000 float64\) was declared but never"
    ):
        load_recording(path)


def test_v73_soft_links_shared_objects_and_cycles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def linked(f: h5py.File) -> None:
        del f["t"]
        _matlab_attrs(f.create_dataset("#refs#/time", data=T.reshape(-1, 1)), "double")
        f["t"] = h5py.SoftLink("/#refs#/time")
        f["loop"] = h5py.SoftLink("/loop")  # unused: never resolved
        g = f.create_group("meta")
        g["self"] = g  # unused: never walked
        same = np.full((5, 1), f["#refs#/u0"].ref, dtype=h5py.ref_dtype)
        _matlab_attrs(f.create_dataset("#refs#/same", data=same), "cell")

    path = write_v73(tmp_path / "links.mat", linked)
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.t, T)
    assert any("'loop'" in w and "'meta'" in w for w in res.warnings)

    def cycle(f: h5py.File) -> None:
        del f["spike"]
        g = f.create_group("spike")
        g["u0"] = f["#refs#/u0"]
        g["again"] = g

    with pytest.raises(RecordingError, match=r"variable 'spike'\.again contains itself"):
        load_recording(write_v73(tmp_path / "cycle.mat", cycle))

    def shared(f: h5py.File) -> None:  # one train referenced by every cell: read once
        del f["spike"]
        refs = np.full((40, 1), f["#refs#/u1"].ref, dtype=h5py.ref_dtype)
        _matlab_attrs(f.create_dataset("spike", data=refs), "cell")

    rec = load_recording(write_v73(tmp_path / "shared.mat", shared)).recording
    assert len(rec.unit_ids) == 40
    import core.io.matlab as matlab

    monkeypatch.setattr(matlab, "MAX_ARRAYS", 30)
    with pytest.raises(RecordingError, match=r"variable 'spike': more than 30 arrays"):
        load_recording(tmp_path / "shared.mat")


def test_v73_char_with_invalid_code_units() -> None:
    from core.io.matlab import _matlab_chars

    units = np.array([ord("a"), 0xD83D, 0xDE00, -1, 0x110000, ord("z")], dtype=np.int64)
    assert _matlab_chars(units) == "a\U0001f600\ufffd\ufffdz"
