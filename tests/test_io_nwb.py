"""NWB files written with pynwb: Units table, Position and CompassDirection, declared units honoured."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.errors import RecordingError
from core.io import load_recording

pynwb = pytest.importorskip("pynwb")
from pynwb.behavior import CompassDirection, Position, SpatialSeries  # noqa: E402

T = np.arange(400) * 0.025  # 0 … 9.975 s at 40 Hz
UNIT_IDS = [11, 22, 33]


def _trains() -> list[np.ndarray]:
    rng = np.random.default_rng(10)
    return [np.sort(rng.uniform(0.5, 9.5, 25 + 5 * i)) for i in range(3)]


def _write(
    path: Path,
    *,
    position: bool = True,
    compass: bool = True,
    pos_unit: str = "meters",
    hd_unit: str = "degrees",
    hd_rate: float = 40.0,
) -> None:
    nwb = pynwb.NWBFile(
        session_description="io test",
        identifier="io-test-1",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for uid, train in zip(UNIT_IDS, _trains(), strict=True):
        nwb.add_unit(spike_times=train, id=uid)
    behavior = nwb.create_processing_module(name="behavior", description="tracking")
    if position:
        xy = np.column_stack([0.5 + 0.4 * np.cos(T), 0.5 + 0.4 * np.sin(T)])
        series = SpatialSeries(name="xy", data=xy, timestamps=T, reference_frame="corner", unit=pos_unit)
        behavior.add(Position(spatial_series=series))
    if compass:
        n = int(round(T[-1] * hd_rate)) + 1
        hd_rad = np.mod(np.arange(n) / hd_rate, 2 * np.pi)
        data = np.rad2deg(hd_rad) if hd_unit == "degrees" else hd_rad
        series = SpatialSeries(
            name="hd", data=data, starting_time=0.0, rate=hd_rate, reference_frame="north", unit=hd_unit
        )
        behavior.add(CompassDirection(spatial_series=series))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_nwb_round_trip_with_unit_conversion(tmp_path: Path) -> None:
    path = tmp_path / "session.nwb"
    _write(path)
    res = load_recording(path)
    rec = res.recording
    assert res.format == "nwb"
    assert rec.unit_ids == UNIT_IDS
    for a, b in zip(rec.spike_times, _trains(), strict=True):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(rec.t, T)
    np.testing.assert_allclose(rec.x, 50 + 40 * np.cos(T))  # metres → cm
    np.testing.assert_allclose(rec.hd, np.mod(T, 2 * np.pi), atol=1e-9)  # degrees → radians
    assert any("converted to cm" in w for w in res.warnings)
    assert any("converted to radians" in w for w in res.warnings)
    assert not any("look like metres" in w for w in res.warnings)
    assert rec.metadata["identifier"] == "io-test-1"
    assert len(rec.sha256) == 64


def test_nwb_hd_resampled_onto_position_clock(tmp_path: Path) -> None:
    path = tmp_path / "hd100.nwb"
    _write(path, hd_unit="radians", hd_rate=100.0)
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.hd, np.mod(T, 2 * np.pi), atol=1e-6)
    assert any("resampled" in w for w in res.warnings)


def test_nwb_position_in_cm_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cm.nwb"
    _write(path, pos_unit="cm", compass=False)
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.x, 0.5 + 0.4 * np.cos(T))
    assert res.warnings == [] and res.recording.hd is None


def test_nwb_without_tracking_uses_10ms_grid(tmp_path: Path) -> None:
    path = tmp_path / "spikes_only.nwb"
    _write(path, position=False, compass=False)
    res = load_recording(path)
    rec = res.recording
    trains = _trains()
    lo, hi = min(s[0] for s in trains), max(s[-1] for s in trains)
    np.testing.assert_allclose(np.diff(rec.t), 0.01)
    assert rec.t[0] == lo and rec.t[-1] >= hi
    assert rec.n_spikes == sum(s.size for s in trains)  # none clipped
    assert any("10 ms time base" in w for w in res.warnings)


def test_nwb_without_units_refused(tmp_path: Path) -> None:
    path = tmp_path / "nounits.nwb"
    nwb = pynwb.NWBFile(
        session_description="x", identifier="x", session_start_time=datetime(2024, 1, 1, tzinfo=UTC)
    )
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(RecordingError, match=r"nounits\.nwb: the NWB file has no Units table"):
        load_recording(path)


def test_nwb_without_pynwb_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "session.nwb"
    _write(path, compass=False)
    monkeypatch.setitem(sys.modules, "pynwb", None)
    monkeypatch.setitem(sys.modules, "pynwb.behavior", None)
    with pytest.raises(RecordingError, match=r"install the nwb extra: pip install -e '\.\[nwb\]'"):
        load_recording(path)
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the installed app says what it lacks instead
    with pytest.raises(RecordingError, match=r"this installed build leaves NWB out"):
        load_recording(path)


# ----------------------------------------------------------------------- what the file claims is checked


def _units_file(path: Path, trains: list[np.ndarray], *, tracking: bool = True, unit: str = "cm") -> Path:
    nwb = pynwb.NWBFile(
        session_description="checks",
        identifier=path.stem,
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for uid, train in enumerate(trains):
        nwb.add_unit(spike_times=train, id=uid)
    if tracking:
        behavior = nwb.create_processing_module(name="behavior", description="tracking")
        xy = np.column_stack([50 + 40 * np.cos(T), 50 + 40 * np.sin(T)])
        series = SpatialSeries(name="xy", data=xy, timestamps=T, reference_frame="corner", unit=unit)
        behavior.add(Position(spatial_series=series))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.mark.parametrize(
    ("index", "words"),
    [
        ([25, 20, 90], r"decreases at unit row 1 \(end offset 20 after 25\)"),
        ([25, 55, 80], r"ends at offset 80 and so leaves spikes that belong to no unit in spike_times \(90"),
        ([25, 55, 200], r"ends at offset 200 and so points past the end of spike_times"),
    ],
)
def test_nwb_corrupt_ragged_index_refused(tmp_path: Path, index: list[int], words: str) -> None:
    import h5py

    path = _units_file(tmp_path / "ragged.nwb", _trains())
    with h5py.File(path, "r+") as f:
        f["units/spike_times_index"][...] = np.asarray(index)
    with pytest.raises(
        RecordingError, match=r"ragged\.nwb: the Units table's spike_times_index is corrupt: it " + words
    ):
        load_recording(path)


def test_nwb_ragged_index_with_one_entry_too_few(tmp_path: Path) -> None:
    import h5py

    path = _units_file(tmp_path / "short.nwb", _trains())
    with h5py.File(path, "r+") as f:
        attrs = dict(f["units/spike_times_index"].attrs)
        del f["units/spike_times_index"]
        ds = f.create_dataset("units/spike_times_index", data=np.array([25, 90], dtype=np.uint8))
        for key, value in attrs.items():
            ds.attrs[key] = value
    with pytest.raises(
        RecordingError,
        match=r"short\.nwb: the Units table's spike_times_index is corrupt: it has 2 entries but the table "
        r"has 3 units",
    ):
        load_recording(path)


def test_nwb_spike_times_in_ms_or_samples_refused(tmp_path: Path) -> None:
    path = _units_file(tmp_path / "ms.nwb", [tr * 1000 for tr in _trains()])
    with pytest.raises(
        RecordingError,
        match=r"ms\.nwb: the spike times .* fit it once divided by 1,000: they look like milliseconds",
    ):
        load_recording(path)
    path = _units_file(tmp_path / "samples.nwb", [np.round(tr * 30_000) for tr in _trains()])
    with pytest.raises(RecordingError, match=r"look like sample indices at about \d[\d,]* Hz"):
        load_recording(path)
    trains = [np.sort(np.random.default_rng(i).uniform(0, 300_000, 100)) for i in range(3)]
    path = _units_file(tmp_path / "long.nwb", trains, tracking=False)
    with pytest.raises(RecordingError, match=r"span 29\d,\d+ s \(8\d\.\d h\) and the file has no tracking"):
        load_recording(path)


def test_nwb_spikes_beyond_short_tracking_are_not_taken_for_ms(tmp_path: Path) -> None:
    """Sorting over a longer recording than the tracking: spikes outside are dropped, not refused."""
    trains = [np.sort(np.concatenate([tr, tr + 10.0, tr + 20.0])) for tr in _trains()]
    res = load_recording(_units_file(tmp_path / "longer.nwb", trains))
    assert any("outside the time base" in w for w in res.warnings)


def test_nwb_untracked_ms_checked_against_trials(tmp_path: Path) -> None:
    path = tmp_path / "trials.nwb"
    nwb = pynwb.NWBFile(
        session_description="x", identifier="x", session_start_time=datetime(2024, 1, 1, tzinfo=UTC)
    )
    for uid, train in enumerate(_trains()):
        nwb.add_unit(spike_times=train * 1000, id=uid)
    for start in range(10):
        nwb.add_trial(start_time=float(start), stop_time=start + 0.9)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(RecordingError, match=r"outside the session's other time series .* milliseconds"):
        load_recording(path)


def test_nwb_arena_of_100_m_refused(tmp_path: Path) -> None:
    path = _units_file(tmp_path / "huge.nwb", _trains(), unit="meters")  # cm values labelled metres
    with pytest.raises(
        RecordingError, match=r"huge\.nwb: the position spans 80 × 80 m .* plausible arena \(10 m\)"
    ):
        load_recording(path)
    res = load_recording(path, position_unit="cm")
    np.testing.assert_allclose(res.recording.x, 50 + 40 * np.cos(T))


def test_nwb_unknown_position_unit_warns(tmp_path: Path) -> None:
    res = load_recording(_units_file(tmp_path / "px.nwb", _trains(), unit="pixels"))
    assert any("position unit 'pixels' is not a length unit" in w for w in res.warnings)


def test_nwb_compass_values_contradicting_the_declared_unit(tmp_path: Path) -> None:
    path = tmp_path / "deg_as_rad.nwb"
    _write(path, hd_unit="radians", hd_rate=40.0, position=True)
    import h5py

    with h5py.File(path, "r+") as f:
        ds = f["processing/behavior/CompassDirection/hd/data"]
        ds[...] = np.rad2deg(ds[()])  # degrees under the unit 'radians'
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.hd, np.mod(T, 2 * np.pi), atol=1e-9)
    assert any("declares 'radians' but reaches" in w and "read as degrees" in w for w in res.warnings)

    path = tmp_path / "rad_as_deg.nwb"
    _write(path, hd_unit="radians", hd_rate=40.0)
    with h5py.File(path, "r+") as f:
        f["processing/behavior/CompassDirection/hd"].attrs["unit"] = "degrees"
        f["processing/behavior/CompassDirection/hd/data"].attrs["unit"] = "degrees"
    res = load_recording(path)
    np.testing.assert_allclose(res.recording.hd, np.mod(T, 2 * np.pi), atol=1e-9)
    assert any("declares 'degrees' but all values lie within ±2π" in w for w in res.warnings)


def test_nwb_links_to_other_files_refused(tmp_path: Path) -> None:
    import h5py

    path = _units_file(tmp_path / "linked.nwb", _trains())
    with h5py.File(path, "r+") as f:
        f["acquisition/raw"] = h5py.ExternalLink("elsewhere.nwb", "/acquisition/raw")
    with pytest.raises(
        RecordingError, match=r"linked\.nwb: '/acquisition/raw' is an external link to 'elsewhere"
    ):
        load_recording(path)
