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
