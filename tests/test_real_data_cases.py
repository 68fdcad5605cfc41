"""Small versions of the recordings that broke the analysis on real data, with their known answers.

Each is built by ``core.validation`` from a real rat trajectory (RatInABox's Sargolini and Tanni data) and
analysed exactly as ``canns-asa run FILE`` does (preset ``auto``). The full suite, with error rates over 128
recordings, is ``benchmarks/validity.py``.
"""

import numpy as np
import pytest

from core import validation as val
from core.decoding import head_direction_agreement
from core.pipeline import AnalysisConfig, run_analysis

pytest.importorskip("ratinabox")


def analyse(recording):
    return run_analysis(recording, AnalysisConfig.from_preset("auto"))


@pytest.mark.slow
def test_head_direction_cells_as_labs_export_them_are_a_ring_that_follows_the_animal():
    """19 cells with uneven rates, spikes rebuilt from 10 ms counts, tracking held at 39 Hz, ~100 gaps: the
    thalamic recording of the issue (there 35 min; 20 min here)."""
    recording, truth = val.head_direction_ensemble(n_units=19, duration_s=1200.0, arena="tanni", seed=11)
    recording = val.cut_gaps(val.sample_and_hold(val.rebin_spikes(recording), 39.0), n_gaps=100, seed=3)
    assert truth == "ring" and np.diff(recording.t).max() > 1.0
    result = analyse(recording)
    assert result.verdict == "ring", result.significance.evidence
    assert result.rate_matrix.n_epochs > 50  # the gaps cut the recording into epochs
    agreement = result.decoding.metrics["head_direction"]
    assert agreement["circular_correlation"] >= 0.8 and agreement["median_error_deg"] <= 25.0
    p = result.significance.bar_p_values["h1"]
    assert p[0] < 0.01 < p[1]


@pytest.mark.slow
def test_sleep_without_behaviour_is_a_ring_and_the_decoded_angle_follows_the_internal_one():
    recording, truth = val.sleep_head_direction(n_units=24, duration_s=600.0, angular_sd_rad_s=2.0, seed=5)
    assert recording.x is None and recording.hd is None
    result = analyse(recording)
    assert result.verdict == "ring", result.significance.evidence
    true = np.interp(result.decoding.t, recording.t, np.unwrap(recording.metadata["true_angle_rad"]))
    agreement = head_direction_agreement(result.decoding.theta[:, 0], np.mod(true, 2 * np.pi))
    assert agreement["circular_correlation"] >= 0.7


@pytest.mark.slow
def test_six_grid_cells_are_never_a_torus():
    recording, truth = val.grid_population([(6, 60.0)], duration_s=580.0, seed=2)
    assert truth == "none"
    result = analyse(recording)
    assert result.verdict == "none"


@pytest.mark.slow
def test_place_cells_are_not_an_attractor():
    recording, truth = val.place_cell_population(n_units=50, duration_s=840.0, arena="tanni", seed=1)
    result = analyse(recording)
    assert result.verdict == "none", result.significance.evidence


@pytest.mark.slow
@pytest.mark.parametrize("null", ["shift", "poisson"])
def test_null_controls_of_a_ring_have_no_structure(null):
    recording, _ = val.head_direction_ensemble(n_units=20, duration_s=580.0, seed=4)
    control = (
        val.circular_shift_null(recording, seed=1)
        if null == "shift"
        else val.rate_matched_poisson(recording, seed=1, slow=True)
    )
    result = analyse(control)
    assert result.verdict == "none"
    assert min(result.significance.bar_p_values["h1"]) > 0.05
