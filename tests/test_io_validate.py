"""Validation rules shared by every loader (core.io.validate.build_recording)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError, RecordingError
from core.io.validate import build_recording

T = np.arange(1000) * 0.01  # 0 … 9.99 s at 100 Hz


def _fields(**over: object) -> dict[str, object]:
    rng = np.random.default_rng(0)
    phase = 2 * np.pi * T / 10
    fields: dict[str, object] = {
        "spike": {i: np.sort(rng.uniform(0, 9.99, 50 + 10 * i)) for i in range(3)},
        "t": T.copy(),
        "x": 50 + 40 * np.cos(phase),
        "y": 50 + 40 * np.sin(phase),
        "hd": np.mod(phase + np.pi / 2, 2 * np.pi),
    }
    fields.update(over)
    return {k: v for k, v in fields.items() if v is not None}


def _build(fields: dict[str, object], **kw: str):
    return build_recording(fields, name="session.npz", **kw)


def _error(fields: dict[str, object], **kw: str) -> str:
    with pytest.raises(RecordingError) as info:
        _build(fields, **kw)
    assert type(info.value) is RecordingError
    msg = str(info.value)
    assert msg.startswith("session.npz: ")
    return msg


def test_clean_fields_give_no_warnings() -> None:
    rec, warnings = _build(_fields())
    assert warnings == []
    assert rec.unit_ids == [0, 1, 2]
    assert rec.n_spikes == 50 + 60 + 70
    assert rec.rates is None and rec.has_position and rec.hd is not None


# ------------------------------------------------------------------------------------------ field names


def test_missing_spike_suggests_near_name() -> None:
    fields = _fields()
    fields["spikes"] = fields.pop("spike")
    msg = _error(fields)
    assert "required field 'spike' is missing" in msg
    assert "did you mean 'spike'?" in msg
    assert "'spikes'" in msg and "'t'" in msg  # lists what was found


@pytest.mark.parametrize("alias", ["time", "ts", "times", "timestamps"])
def test_missing_t_suggests_t(alias: str) -> None:
    fields = _fields()
    fields[alias] = fields.pop("t")
    assert "did you mean 't'?" in _error(fields)


def test_missing_t_without_hint_lists_found_fields() -> None:
    fields = _fields()
    fields["clock_q"] = fields.pop("t")
    msg = _error(fields)
    assert "required field 't' is missing" in msg and "'clock_q'" in msg and "did you mean" not in msg


@pytest.mark.parametrize(("found", "canonical"), [("pos_x", "x"), ("head_direction", "hd"), ("theta", "hd")])
def test_misspelled_optional_field_warns_with_suggestion(found: str, canonical: str) -> None:
    fields = _fields()
    fields[found] = fields.pop(canonical)
    if canonical == "x":
        fields.pop("y")
    rec, warnings = _build(fields)
    assert any(f"did you mean '{canonical}'" in w for w in warnings)
    assert getattr(rec, canonical) is None


def test_exact_alias_accepted_silently() -> None:
    fields = _fields()
    fields["T"] = fields.pop("t")
    rec, warnings = _build(fields)
    assert warnings == [] and rec.t.size == T.size


def test_unknown_fields_reported_once() -> None:
    _, warnings = _build(_fields(session_notes=np.array([1.0]), rig=np.array([2.0])))
    assert len(warnings) == 1 and "'session_notes'" in warnings[0] and "'rig'" in warnings[0]


# -------------------------------------------------------------------------------------------- time base


def test_t_not_increasing_names_index_and_values() -> None:
    t = T.copy()
    t[[5, 6]] = t[[6, 5]]
    msg = _error(_fields(t=t))
    assert "t is not increasing at index 6 (t=0.05 s follows 0.06 s)" in msg
    assert "sort your samples or fix the clock" in msg


def test_t_repeated_value_refused() -> None:
    t = T.copy()
    t[10] = t[9]
    assert "not increasing at index 10" in _error(_fields(t=t))


def test_t_non_finite_refused() -> None:
    t = T.copy()
    t[[3, 7]] = np.nan
    msg = _error(_fields(t=t))
    assert "t has 2 non-finite values" in msg and "index 3" in msg


def test_t_too_short_refused() -> None:
    assert "at least 2" in _error(_fields(t=np.array([0.0]), x=None, y=None, hd=None))


def test_t_two_dimensional_refused() -> None:
    assert "t has shape (500, 2)" in _error(_fields(t=T.reshape(500, 2)))


def test_t_column_vector_accepted() -> None:
    rec, _ = _build(_fields(t=T.reshape(-1, 1)))
    assert rec.t.shape == (1000,)


def test_t_text_refused() -> None:
    assert "t is not numeric" in _error(_fields(t=np.array(["a", "b", "c"])))


# -------------------------------------------------------------------------------------------- position


def test_position_length_mismatch_names_both_lengths() -> None:
    fields = _fields()
    fields["x"] = fields["x"][:-3]
    msg = _error(fields)
    assert "x has 997 samples but t has 1000" in msg


def test_xy_in_one_two_column_field_is_split() -> None:
    fields = _fields()
    xy = np.column_stack([fields["x"], fields.pop("y")])
    fields["x"] = xy
    rec, warnings = _build(fields)
    np.testing.assert_allclose(rec.y, xy[:, 1])
    assert any("split them into x and y" in w for w in warnings)


def test_x_wrong_dimensions_refused() -> None:
    fields = _fields(x=np.zeros((1000, 3)))
    assert "x has shape (1000, 3)" in _error(fields)


def test_x_without_y_is_dropped_with_warning() -> None:
    rec, warnings = _build(_fields(y=None))
    assert rec.x is None and any("x was given without y" in w for w in warnings)


def test_position_gaps_interpolated_and_reported() -> None:
    fields = _fields()
    x, y = fields["x"].copy(), fields["y"].copy()
    x[[100, 101]] = np.nan
    y[500] = np.inf
    x[0] = np.nan  # leading gap: nearest valid value
    rec, warnings = _build(_fields(x=x, y=y))
    assert "interpolated 4 of 1000 position samples (longest gap 2 samples = 0.02 s)" in warnings
    ref = _fields()["x"]
    np.testing.assert_allclose(rec.x[100:102], np.interp(T[100:102], T[[99, 102]], ref[[99, 102]]))
    assert rec.x[0] == ref[1]
    assert np.isfinite(rec.y).all()


def test_position_mostly_missing_refused() -> None:
    x = _fields()["x"].copy()
    x[:600] = np.nan
    msg = _error(_fields(x=x))
    assert "600 of 1000 position samples (60%) are missing" in msg


def test_positions_in_metres_converted_in_auto() -> None:
    f = _fields()
    rec, warnings = _build(_fields(x=f["x"] / 100, y=f["y"] / 100))
    assert any(
        "read as metres and converted to cm (× 100)" in w and "--position-unit cm" in w for w in warnings
    )
    np.testing.assert_allclose(rec.x, f["x"])


def test_position_unit_m_converts_and_cm_never_warns() -> None:
    f = _fields()
    small = {"x": f["x"] / 100, "y": f["y"] / 100}
    rec, warnings = _build(_fields(**small), position_unit="m")
    np.testing.assert_allclose(rec.x, f["x"])
    assert warnings == []
    rec, warnings = _build(_fields(**small), position_unit="cm")
    assert warnings == [] and rec.x.max() < 1


def test_bad_unit_option_is_config_error() -> None:
    with pytest.raises(ConfigError):
        _build(_fields(), position_unit="furlong")
    with pytest.raises(ConfigError):
        _build(_fields(), hd_unit="gradians")


# ---------------------------------------------------------------------------------------- head direction


def test_hd_in_degrees_converted_in_auto() -> None:
    hd = _fields()["hd"]
    rec, warnings = _build(_fields(hd=np.rad2deg(hd)))
    np.testing.assert_allclose(rec.hd, hd, atol=1e-9)
    assert any("degrees" in w for w in warnings)


def test_hd_unit_deg_and_wrapping() -> None:
    rec, warnings = _build(_fields(hd=np.full(1000, -90.0)), hd_unit="deg")
    np.testing.assert_allclose(rec.hd, 1.5 * np.pi)
    assert warnings == []
    rec, _ = _build(_fields(hd=np.linspace(-np.pi, np.pi, 1000)))
    assert rec.hd.min() >= 0 and rec.hd.max() < 2 * np.pi


def test_hd_gap_interpolated_across_wrap() -> None:
    hd = np.full(1000, 6.2)
    hd[501:] = 0.1
    hd[500] = np.nan
    rec, warnings = _build(_fields(hd=hd))
    mid = rec.hd[500]
    assert min(mid, 2 * np.pi - mid) < 0.2  # went the short way round, not through π
    assert any("head-direction samples" in w for w in warnings)


def test_hd_length_mismatch_refused() -> None:
    assert "hd has 10 samples but t has 1000" in _error(_fields(hd=np.zeros(10)))


# --------------------------------------------------------------------------------------- spike trains


def test_spike_list_and_numpy_keys_give_plain_ids() -> None:
    trains = [np.array([1.0, 2.0]), np.array([3.0]), np.array([4.0])]
    rec, _ = _build(_fields(spike=trains))
    assert rec.unit_ids == [0, 1, 2]
    rec, _ = _build(
        _fields(spike={np.int64(7): trains[0], np.str_("b"): trains[1], np.float64(3.0): trains[2]})
    )
    assert rec.unit_ids == [7, "b", 3] and type(rec.unit_ids[0]) is int and type(rec.unit_ids[1]) is str
    assert type(rec.unit_ids[2]) is int


def test_non_finite_spikes_dropped() -> None:
    spike = {1: np.array([1.0, np.nan, 2.0]), 2: np.array([np.inf, 3.0]), 3: np.array([4.0])}
    rec, warnings = _build(_fields(spike=spike))
    assert "dropped 2 non-finite spike times (NaN/inf) in units 1, 2" in warnings
    assert rec.n_spikes == 4


def test_unsorted_trains_sorted_and_named() -> None:
    spike = {"a": np.array([3.0, 1.0, 2.0]), "b": np.array([1.0, 2.0]), "c": np.array([5.0])}
    rec, warnings = _build(_fields(spike=spike))
    assert "spike times were not sorted in units a; sorted them" in warnings
    np.testing.assert_array_equal(rec.spike_times[0], [1.0, 2.0, 3.0])


def test_spikes_outside_time_base_dropped() -> None:
    spike = {0: np.array([-1.0, 0.5, 12.0]), 1: np.array([1.0, 11.0, 13.0]), 2: np.array([2.0])}
    rec, warnings = _build(_fields(spike=spike))
    assert "dropped 4 spikes outside the time base [0.0, 10.0] s in 2 units" in warnings
    assert rec.n_spikes == 3


def test_empty_units_dropped_by_id() -> None:
    spike = {
        5: np.array([1.0]),
        9: np.array([]),
        11: np.array([20.0]),
        12: np.array([2.0]),
        13: np.array([3.0]),
    }
    rec, warnings = _build(_fields(spike=spike))
    assert rec.unit_ids == [5, 12, 13]
    assert "dropped 2 units with no spikes: 9, 11" in warnings


def test_no_units_left_refused() -> None:
    msg = _error(_fields(spike={0: np.array([50.0]), 1: np.array([])}))
    assert "no unit has any spike inside the time base" in msg


def test_spikes_in_milliseconds_refused() -> None:
    spike = {0: np.array([100.0, 5000.0, 9000.0])}
    msg = _error(_fields(spike=spike))
    assert "milliseconds or samples" in msg and "seconds" in msg


def test_non_numeric_train_refused() -> None:
    msg = _error(_fields(spike={"u1": np.array([1.0]), "u2": np.array(["a", "b"])}))
    assert "spike train of unit 'u2' is not numeric" in msg


def test_single_vector_is_one_unit_too_few_to_analyse() -> None:
    msg = _error(_fields(spike=np.array([0.5, 1.5, 2.5])))
    assert "only 1 unit with spikes (0); at least 3 units are needed (MIN_UNITS)" in msg


def test_unit_ids_field_used_for_list_form() -> None:
    three = [np.array([1.0]), np.array([2.0]), np.array([3.0])]
    rec, _ = _build(_fields(spike=three, unit_ids=np.array(["c1", "c2", "c3"])))
    assert rec.unit_ids == ["c1", "c2", "c3"]
    assert "unit_ids has 3 entries but spike has 2 units" in _error(
        _fields(spike=[np.array([1.0]), np.array([2.0])], unit_ids=np.array([1, 2, 3]))
    )


# ---------------------------------------------------------------------------------------- dense matrix


def test_dense_matrix_time_by_units() -> None:
    counts = np.random.default_rng(1).poisson(0.3, size=(1000, 4)).astype(float)
    rec, warnings = _build(_fields(spike=counts))
    assert warnings == []
    assert rec.rates.shape == (1000, 4) and rec.unit_ids == [0, 1, 2, 3]
    assert all(s.size == 0 for s in rec.spike_times)


def test_dense_matrix_transposed_with_warning() -> None:
    counts = np.random.default_rng(1).poisson(0.3, size=(4, 1000))
    rec, warnings = _build(_fields(spike=counts))
    np.testing.assert_array_equal(rec.rates, counts.T)
    assert any("transposed to time × units" in w for w in warnings)


def test_dense_matrix_wrong_shape_refused() -> None:
    msg = _error(_fields(spike=np.ones((3, 50))))
    assert "neither axis matches len(t) = 1000" in msg and "dict" in msg


def test_dense_matrix_nan_and_negative_refused() -> None:
    counts = np.ones((1000, 3))
    counts[[1, 2, 3], 0] = np.nan
    assert "spike matrix has 3 non-finite values" in _error(_fields(spike=counts))
    counts = np.ones((1000, 3))
    counts[0, 0] = -1
    assert "1 negative values" in _error(_fields(spike=counts))


def test_dense_all_zero_units_dropped() -> None:
    counts = np.zeros((1000, 6))
    counts[5, 1] = 2
    counts[7:9, 3:6] = 1
    rec, warnings = _build(_fields(spike=counts))
    assert rec.unit_ids == [1, 3, 4, 5] and any("no activity: 0, 2" in w for w in warnings)
