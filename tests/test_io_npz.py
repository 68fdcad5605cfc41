"""ASA .npz layout: the three spike forms, save/load round trips and the file fingerprint."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.io import LoadResult, load_recording, save_recording_npz
from core.recording import Recording

T = np.arange(600) * 0.02  # 0 … 11.98 s at 50 Hz


def _trains(n: int = 3, equal: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    return [np.sort(rng.uniform(0, 11.9, 40 if equal else 20 + 7 * i)) for i in range(n)]


def _tracking() -> dict[str, np.ndarray]:
    return {"x": 30 + 20 * np.cos(T), "y": 30 + 20 * np.sin(T), "hd": np.mod(T, 2 * np.pi)}


def _object_vector(items: list[np.ndarray]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, a in enumerate(items):
        out[i] = a
    return out


def test_dict_form(tmp_path: Path) -> None:
    trains = _trains()
    path = tmp_path / "dict.npz"
    np.savez(path, spike={10 + i: s for i, s in enumerate(trains)}, t=T, **_tracking())
    res = load_recording(path)
    assert isinstance(res, LoadResult) and res.format == "npz" and res.warnings == []
    rec = res.recording
    assert rec.unit_ids == [10, 11, 12]
    for a, b in zip(rec.spike_times, trains, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(rec.x, _tracking()["x"])


def test_list_form(tmp_path: Path) -> None:
    trains = _trains()
    path = tmp_path / "list.npz"
    np.savez(path, spike=_object_vector(trains), t=T)
    rec = load_recording(path).recording
    assert rec.unit_ids == [0, 1, 2] and not rec.has_position and rec.hd is None
    np.testing.assert_array_equal(rec.spike_times[2], trains[2])


def test_dense_form(tmp_path: Path) -> None:
    counts = np.random.default_rng(3).poisson(0.5, size=(T.size, 5)).astype(np.int32)
    path = tmp_path / "dense.npz"
    np.savez(path, spike=counts, t=T)
    rec = load_recording(path).recording
    np.testing.assert_array_equal(rec.rates, counts)
    assert rec.unit_ids == list(range(5)) and all(s.size == 0 for s in rec.spike_times)


def test_source_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "fp.npz"
    np.savez(path, spike=_object_vector(_trains()), t=T)
    rec = load_recording(str(path)).recording
    assert rec.source == str(path)
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec.metadata["format"] == "npz"


@pytest.mark.parametrize(
    "ids", [[0, 1, 2], [4, 8, 15], ["tt1_c1", "tt1_c2", "tt2_c1"]], ids=["default", "int", "str"]
)
def test_save_load_round_trip(tmp_path: Path, ids: list[object]) -> None:
    trains = _trains(equal=True)  # equal lengths must still be stored per unit, not as a matrix
    rec = Recording(unit_ids=ids, spike_times=trains, t=T, **_tracking())
    path = save_recording_npz(rec, tmp_path / "sub" / "saved.npz")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert ("unit_ids.npy" in names) == (ids != [0, 1, 2])
    res = load_recording(path)
    back = res.recording
    assert res.warnings == []
    assert back.unit_ids == ids
    for a, b in zip(back.spike_times, trains, strict=True):
        np.testing.assert_array_equal(a, b)
    for key in ("t", "x", "y", "hd"):
        np.testing.assert_allclose(getattr(back, key), getattr(rec, key))


def test_save_load_dense_round_trip(tmp_path: Path) -> None:
    rates = np.random.default_rng(4).gamma(1.0, size=(T.size, 3))
    rec = Recording(unit_ids=["a", "b", "c"], spike_times=[np.empty(0)] * 3, t=T, rates=rates)
    back = load_recording(save_recording_npz(rec, tmp_path / "dense_saved.npz")).recording
    np.testing.assert_allclose(back.rates, rates)
    assert back.unit_ids == ["a", "b", "c"] and back.x is None


def test_save_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "again.npz"
    path.write_bytes(b"old")
    rec = Recording(unit_ids=[0, 1, 2], spike_times=[np.array([1.0]), np.array([2.0]), np.array([3.0])], t=T)
    save_recording_npz(rec, path)
    assert load_recording(path).recording.n_spikes == 3
    assert [p.name for p in tmp_path.iterdir()] == ["again.npz"]  # no temporary file left behind


def test_npz_missing_field_suggests(tmp_path: Path) -> None:
    from core.errors import RecordingError

    path = tmp_path / "typo.npz"
    np.savez(path, spikes=_object_vector(_trains()), time=T)
    with pytest.raises(RecordingError, match=r"typo\.npz: required field 'spike' is missing.*did you mean"):
        load_recording(path)
