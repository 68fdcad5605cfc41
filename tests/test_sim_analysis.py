"""Model analysis helpers and their headless figures."""

import io

import numpy as np
import pytest

from core.errors import ConfigError
from core.simulation import CANN1D, CANN2D, CANN1DConfig, CANN2DConfig, HDRing, HDRingConfig, analysis, tasks

PNG = b"\x89PNG\r\n\x1a\n"


def png_of(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


@pytest.fixture(scope="module")
def ring_run():
    net = CANN1D(CANN1DConfig(n=64))
    return net, net.simulate(
        tasks.moving_stimulus(2.0, 6.0, amplitude=0.5), record_state=True, record_units=12
    )


def test_tracking_error_finds_the_lag(ring_run):
    net, result = ring_run
    tracking = analysis.tracking_error(result, transient_s=0.5)
    # a bump trailing by a constant angle e at speed v lags by e / v
    steady = -np.mean(tracking.error[result.t_s > 1.0])
    assert tracking.lag_s == pytest.approx(steady / 2.0, abs=result.dt_record_s)
    assert png_of(analysis.tracking_figure(tracking, result, "tracking"))[:8] == PNG


def test_tuning_curves_peak_at_the_preferred_angle(ring_run):
    net, result = ring_run
    tc = analysis.tuning_curves(result, n_bins=32)
    assert tc.curves.shape == (12, 32)
    lag = analysis.tracking_error(result).lag_s * 2.0  # the bump trails the stimulus by this angle
    err = np.angle(np.exp(1j * (tc.preferred - lag - net.x[tc.unit_index])))
    assert np.abs(err).max() <= 2 * np.pi / 32 + 1e-9
    assert png_of(analysis.tuning_figure(tc))[:8] == PNG


def test_energy_landscape_arrays_and_figure(ring_run):
    net, result = ring_run
    st = analysis.space_time(result)
    assert st.u.shape == (result.t_s.size, 64) and st.positions.shape == (64,)
    peak = net.x[np.argmax(st.u, axis=1)]
    assert np.abs(np.angle(np.exp(1j * (peak - st.bump)))).max() <= net.spacing
    assert png_of(analysis.energy_landscape_figure(st, "u(x, t)"))[:8] == PNG
    no_trace = net.simulate(tasks.no_input(0.0, 0.1))
    with pytest.raises(ConfigError, match="record_state"):
        analysis.space_time(no_trace)


def test_drift_and_path_integration_figures():
    hd = HDRing(HDRingConfig(n=32))
    result = hd.simulate(tasks.rotation(1.0, 1.0))
    pi = analysis.path_integration_error(result)
    assert pi.unit == "rad" and pi.max_error < 0.05
    assert png_of(analysis.path_integration_figure(pi))[:8] == PNG
    drift = analysis.bump_drift(result)
    assert drift.rate_per_s == pytest.approx(1.0, rel=0.05)  # it turned at 1 rad/s
    assert png_of(analysis.drift_figure(drift))[:8] == PNG
    with pytest.raises(ConfigError):
        analysis.path_integration_error(CANN1D(CANN1DConfig(n=32)).simulate(tasks.no_input(0.0, 0.1)))


def test_2d_tuning_maps_and_sheet_figure():
    net = CANN2D(CANN2DConfig(n=16, a_rad=0.8))
    task = tasks.tracking([(-3, -3), (3, -1), (-1, 3), (3, 3)], segment_s=1.0, amplitude=1.0, periodic=False)
    result = net.simulate(task, record_units=4, record_state=True)
    tc = analysis.tuning_curves(result, n_bins=8)
    assert tc.curves.shape == (4, 8, 8) and tc.preferred.shape == (4, 2)
    assert png_of(analysis.tuning_figure(tc))[:8] == PNG
    assert result.state_trace.shape == (result.t_s.size, 16, 16)
    assert png_of(analysis.sheet_figure(result.state_trace[-1], "u"))[:8] == PNG
