"""MATLAB files: v5 through scipy.io, v7.3 (HDF5, column-major, cells as object references) through h5py."""

from __future__ import annotations

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
    trains = _trains()[:2]
    path = tmp_path / "struct.mat"
    scipy.io.savemat(path, {"spike": {"unit_3": trains[0], "unit_9": trains[1]}, "t": T.reshape(-1, 1)})
    rec = load_recording(path).recording
    assert rec.unit_ids == ["unit_3", "unit_9"]
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
