"""Plausibility limits of the validator (named, with field, value and limit in the message), recordings no
analysis can use, and the unit heuristics: m / cm / mm positions and rad / deg head direction."""

from __future__ import annotations

import numpy as np
import pytest

import core.io.validate as v
from core.cli import build_parser
from core.errors import ConfigError, RecordingError
from core.io.validate import build_recording
from core.preprocess import PreprocessConfig, compute_rates

T = np.arange(0, 60, 0.02)  # 60 s at 50 Hz


def _spike(n: int = 5, t1: float = 59.0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(4)
    return {i: np.sort(rng.uniform(0.5, t1, 200)) for i in range(n)}


def _build(**fields: object):
    fields.setdefault("spike", _spike())
    fields.setdefault("t", T)
    opts = {k: fields.pop(k) for k in ("position_unit", "hd_unit") if k in fields}
    return build_recording(fields, name="rec.npz", **opts)


def _refused(**fields: object) -> str:
    with pytest.raises(RecordingError) as info:
        _build(**fields)
    return str(info.value)


def _circle(radius: float, speed: float, centre: float) -> tuple[np.ndarray, np.ndarray]:
    w = speed / radius
    return centre + radius * np.cos(w * T), centre + radius * np.sin(w * T)


# --------------------------------------------------------------------------------------------- limits


def test_time_base_of_thirty_years_refused() -> None:
    msg = _refused(t=np.array([0.0, 30 * 365.25 * 86400]))
    assert "rec.npz: t spans 9.467e+08 s (30 years)" in msg
    assert "at most 86,400 s (24 h, MAX_DURATION_S)" in msg and "milliseconds: divide by 1000" in msg


def test_time_base_in_milliseconds_refused_by_duration() -> None:
    t_ms = np.arange(0, 3_600_000, 20.0)  # an hour in ms
    assert "MAX_DURATION_S" in _refused(t=t_ms, spike={i: t_ms[100 + i :: 50] for i in range(5)})


def test_too_many_samples_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v, "MAX_SAMPLES", 1000)
    assert f"t has {T.size:,} samples; at most 1,000 are accepted (MAX_SAMPLES" in _refused()


def test_too_many_units_refused_in_every_form(monkeypatch: pytest.MonkeyPatch) -> None:
    msg = _refused(spike=np.ones((2, 20_000_000), dtype=np.int8), t=np.array([0.0, 1.0]))
    assert "spike holds 20,000,000 units; at most 10,000 are accepted (MAX_UNITS)" in msg
    monkeypatch.setattr(v, "MAX_UNITS", 4)
    assert "spike holds 5 units; at most 4" in _refused()
    assert "spike holds 5 units" in _refused(spike=list(_spike().values()))
    assert "spike holds 5 units" in _refused(spike=np.ones((T.size, 5)))


def test_too_many_spikes_and_dense_values_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v, "MAX_SPIKES", 999)
    assert "spike holds 1,000 spike times; at most 999 are accepted (MAX_SPIKES)" in _refused()
    monkeypatch.setattr(v, "MAX_DENSE_VALUES", 1000)
    msg = _refused(spike=np.ones((T.size, 4)))
    assert f"spike is a {T.size:,} × 4 matrix" in msg and "(MAX_DENSE_VALUES)" in msg


def test_tracking_rate_limits() -> None:
    slow = np.arange(0.0, 3600.0, 60.0)
    msg = _refused(t=slow, x=np.linspace(0, 50, slow.size), y=np.zeros(slow.size))
    assert "sampled every 60 s (0.0167 Hz)" in msg and "at least at 1 Hz (MIN_TRACKING_RATE_HZ)" in msg
    fast = np.arange(0, 10_000) * 1e-6  # 1 MHz
    msg = _refused(t=fast, hd=np.zeros(fast.size), spike={i: fast[100 * i + 1 :: 97] for i in range(5)})
    assert "sampled at 1e+06 Hz; at most 50,000 Hz is accepted (MAX_TRACKING_RATE_HZ)" in msg
    rec, _ = _build(t=np.array([0.0, 30.0, 60.0]))  # a sparse clock without tracking is fine
    assert rec.n_units == 5


def test_too_few_units_refused_with_the_reason() -> None:
    msg = _refused(spike={"a": np.array([1.0, 2.0]), "b": np.array([3.0])})
    assert "only 2 units with spikes (a, b); at least 3 units are needed (MIN_UNITS)" in msg
    assert "a ring needs ≥ 5 usable units" in msg
    msg = _refused(spike={0: np.array([1.0]), 1: np.array([]), 2: np.array([90.0])})
    assert "only 1 unit with spikes (0)" in msg
    counts = np.zeros((T.size, 4))
    counts[10, :2] = 1
    assert "only 2 units with spikes (0, 1)" in _refused(spike=counts)


def test_spikes_that_span_no_time_refused() -> None:
    msg = _refused(spike={i: np.zeros(10) for i in range(5)})
    assert "all 50 spikes fall at the same instant (t = 0 s): the spikes span no time" in msg
    counts = np.zeros((T.size, 4))
    counts[7] = 2
    assert "all activity of the spike matrix falls in one time sample (t = 0.14 s)" in _refused(spike=counts)


# ------------------------------------------------------------------------------------------ positions


def test_metres_converted_and_pass_the_speed_filter() -> None:
    x, y = _circle(0.45, 0.2, 0.5)  # 20 cm/s in a 1 m arena, in metres
    rec, warnings = _build(x=x, y=y)
    assert any(
        "read as metres and converted to cm (× 100)" in w and "--position-unit cm" in w for w in warnings
    )
    np.testing.assert_allclose(rec.x, 100 * x)
    rates = compute_rates(rec, PreprocessConfig())
    assert rates.speed_cm_s is not None and 15 < np.median(rates.speed_cm_s) < 25
    assert rates.kept_fraction > 0.9


def test_millimetres_converted() -> None:
    x, y = _circle(450, 200, 500)  # 20 cm/s in a 1 m arena, in mm
    rec, warnings = _build(x=x, y=y)
    assert any("read as millimetres and converted to cm (÷ 10)" in w for w in warnings)
    np.testing.assert_allclose(rec.x, x / 10)


def test_cm_and_mm_told_apart_by_the_speed_where_the_arena_fits_both() -> None:
    x, y = _circle(180, 200, 200)  # a mouse: 20 cm/s, 36 cm across, in mm
    rec, warnings = _build(x=x, y=y)
    assert any("says millimetres: converted to cm" in w for w in warnings)
    np.testing.assert_allclose(rec.x, x / 10)
    x, y = _circle(180, 30, 200)  # a rat: 30 cm/s in a 3.6 m arena, in cm
    rec, warnings = _build(x=x, y=y)
    assert any(
        "says centimetres: kept as cm; if these are millimetres, rerun with --position-unit mm" in w
        for w in warnings
    )
    np.testing.assert_allclose(rec.x, x)


def test_plain_cm_arena_gives_no_warning_and_explicit_units_are_obeyed() -> None:
    x, y = _circle(40, 20, 50)
    assert _build(x=x, y=y)[1] == []
    rec, warnings = _build(x=x * 10, y=y * 10, position_unit="mm")
    assert warnings == [] and np.allclose(rec.x, x)
    rec, warnings = _build(x=x / 100, y=y / 100, position_unit="cm")
    assert warnings == [] and np.allclose(rec.x, x / 100)


def test_pixel_sized_positions_warn() -> None:
    x, y = _circle(4000, 200, 5000)
    rec, warnings = _build(x=x, y=y)
    assert any("wider than a 5 m arena even in mm: loaded as cm" in w for w in warnings)
    np.testing.assert_allclose(rec.x, x)


def test_still_animal_gives_no_unit_guess() -> None:
    rec, warnings = _build(x=np.full(T.size, 0.3), y=np.full(T.size, 0.2))
    assert warnings == [] and rec.x[0] == 0.3


def test_mm_is_a_unit_choice_everywhere() -> None:
    assert v.normalise_units("millimetres", "deg") == ("mm", "deg")
    with pytest.raises(ConfigError, match="not one of auto, cm, m, mm"):
        v.normalise_units("inch", "rad")
    args = build_parser().parse_args(["run", "rec.npz", "--position-unit", "mm"])
    assert args.position_unit == "mm"


# ----------------------------------------------------------------------------------- head direction


def test_wrapping_radians_stay_silent() -> None:
    rec, warnings = _build(hd=np.mod(0.7 * T, 2 * np.pi))
    assert warnings == []


def test_degrees_beyond_two_pi_converted() -> None:
    rec, warnings = _build(hd=np.mod(40 * T, 360))
    assert any("beyond 2π: read as degrees" in w and "--hd-unit rad" in w for w in warnings)
    np.testing.assert_allclose(rec.hd, np.deg2rad(np.mod(40 * T, 360)) % (2 * np.pi), atol=1e-9)


def test_small_degree_range_decided_by_the_direction_of_movement() -> None:
    t = np.arange(0, 10, 0.02)
    x, y = 10 + 5 * t, 50 + 0.4 / np.pi * np.sin(np.pi * t)  # runs along +x, heading within ±5°
    heading = np.arctan2(0.4 * np.cos(np.pi * t), 5.0)
    spike = _spike(t1=9.5)
    rec, warnings = _build(t=t, spike=spike, x=x, y=y, hd=np.degrees(heading) + 1.0)
    assert any("follows the direction of movement only as degrees" in w for w in warnings)
    np.testing.assert_allclose(rec.hd, np.mod(heading + np.deg2rad(1.0), 2 * np.pi), atol=1e-9)
    # the same recording in radians is kept silently
    rec, warnings = _build(t=t, spike=spike, x=x, y=y, hd=heading + 0.5)
    assert warnings == []
    np.testing.assert_allclose(rec.hd, heading + 0.5)


def test_whole_number_degrees_converted() -> None:
    hd = np.clip(np.cumsum(np.random.default_rng(1).integers(-1, 2, T.size)), 0, 6).astype(float)
    rec, warnings = _build(hd=hd)
    assert any("whole numbers from 0 to 6" in w for w in warnings)
    np.testing.assert_allclose(rec.hd, np.deg2rad(hd), atol=1e-12)


def test_implausible_turning_speed_means_degrees() -> None:
    hd = 3 + 2 * np.sin(2 * np.pi * 8 * T)  # as radians: ±2 rad at 8 Hz, some 50 rad/s
    rec, warnings = _build(hd=hd)
    assert any("if read as radians, faster than a head turns (30 rad/s)" in w for w in warnings)
    np.testing.assert_allclose(rec.hd, np.deg2rad(hd), atol=1e-12)


def test_ambiguous_small_range_loads_as_given_with_a_suggestion() -> None:
    hd = 1.0 + 0.5 * np.sin(T)
    rec, warnings = _build(hd=hd)
    assert any("loaded as radians; if these are degrees, rerun with --hd-unit deg" in w for w in warnings)
    np.testing.assert_allclose(rec.hd, hd)
    rec, warnings = _build(hd=hd, hd_unit="deg")
    assert warnings == [] and np.allclose(rec.hd, np.deg2rad(hd))
