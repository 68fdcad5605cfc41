"""From a model run to a recording the analysis accepts: spikes, behaviour, provenance, closed loop, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from core.io import load_recording, save_recording_npz
from core.pipeline import AnalysisConfig, run_analysis
from core.simulation import (
    CANN1D,
    MODELS,
    CANN1DConfig,
    HDRing,
    HDRingConfig,
    simulate_recording,
    tasks,
    to_recording,
)


def test_rates_become_poisson_spikes_with_the_expected_counts():
    net = CANN1D(CANN1DConfig(n=64))
    result = net.simulate(tasks.moving_stimulus(2.0, 20.0), record_units=16, seed=1)
    rec = to_recording(result, n_units=8, peak_rate_hz=30.0, background_hz=0.5, seed=4)
    assert rec.n_units == 8 and set(rec.unit_ids) <= set(result.unit_index.tolist())
    cols = [list(result.unit_index).index(u) for u in rec.unit_ids]
    hz = 0.5 + 30.0 * result.rates[:, cols] / result.rates.max()
    expected = hz.sum(axis=0) * result.dt_record_s
    counts = np.array([len(s) for s in rec.spike_times])
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 3)
    assert rec.t[0] == 0.0 and rec.t[-1] == pytest.approx(20.0)
    assert all(s.min() >= rec.t[0] and s.max() <= rec.t[-1] for s in rec.spike_times if s.size)
    assert rec.hd is not None and rec.x is None  # a CANN1D tracks an angle: it is the head direction
    assert rec.metadata["model"] == "cann1d" and rec.metadata["device"].startswith("cpu")
    again = to_recording(result, n_units=8, peak_rate_hz=30.0, background_hz=0.5, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(rec.spike_times, again.spike_times, strict=True))


def test_recording_round_trips_through_the_asa_npz(tmp_path):
    net = HDRing(HDRingConfig(n=32))
    result = net.simulate(tasks.head_direction(5.0, seed=1), record_units=6)
    rec = to_recording(result)
    path = save_recording_npz(rec, tmp_path / "hd.npz")
    back = load_recording(path).recording
    assert back.n_units == 6 and back.unit_ids == rec.unit_ids
    np.testing.assert_allclose(back.hd, rec.hd)
    np.testing.assert_allclose(back.x, rec.x)
    assert back.n_spikes == rec.n_spikes


def test_simulate_recording_records_the_device_and_parameters():
    rec, result, message = simulate_recording("hd-ring", duration_s=2.0, n_units=5, seed=3, device="cpu")
    assert message == ""
    assert rec.n_units == 5 and rec.metadata["device"] == "cpu:0"
    assert rec.metadata["config"]["n"] == 100 and rec.metadata["task"]["name"] == "head_direction"
    json.dumps(rec.metadata)  # provenance is JSON-safe
    rec2, _, msg2 = simulate_recording("hd-ring", duration_s=2.0, n_units=5, seed=3, device="gpu")
    assert rec2.metadata["device"] == "cpu:0" and "no GPU" in msg2
    assert rec2.metadata["device_message"] == msg2


@pytest.mark.slow
def test_closed_loop_hd_ring_recording_is_a_ring():
    rec, _, _ = simulate_recording("hd-ring", duration_s=300.0, n_units=20, seed=1)
    result = run_analysis(rec, AnalysisConfig.from_preset("hd"))
    assert result.verdict == MODELS["hd-ring"].expected_verdict() == "ring"
    assert result.significant == {"h1": 1}


@pytest.mark.slow
def test_closed_loop_grid_torus_recording_is_a_torus():
    rec, sim, _ = simulate_recording("grid-torus", duration_s=300.0, n_units=100, seed=2)
    assert sim.extra["n_bumps"] >= 4
    result = run_analysis(rec, AnalysisConfig.from_preset("grid"))
    assert result.verdict == MODELS["grid-torus"].expected_verdict() == "torus"
    assert result.significant["h1"] == 2


# --------------------------------------------------------------------------- CLI


def asa(*args):
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *map(str, args)], capture_output=True, text=True, timeout=900
    )


def test_cli_simulate_writes_a_recording_that_loads(tmp_path):
    out = asa(
        "simulate", "hd-ring", "--duration", "30", "--units", "7", "--seed", "2", "--out", tmp_path / "r"
    )
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "steps/s" in out.stdout
    rec = load_recording(tmp_path / "r.npz").recording
    assert rec.n_units == 7 and rec.hd is not None
    provenance = json.loads((tmp_path / "r.json").read_text())
    assert provenance["model"] == "hd-ring" and provenance["device"] == "cpu:0"
    assert provenance["recorded_neurons"] == rec.unit_ids
    assert "%]" in out.stderr


def test_cli_simulate_with_an_external_trajectory(tmp_path):
    t = np.arange(0, 3, 0.01)
    np.savez(tmp_path / "traj.npz", t=t, x=50 + 10 * t, y=40 + 0 * t, hd=np.mod(t, 2 * np.pi))
    out = asa(
        "simulate",
        "cann1d",
        "--units",
        "4",
        "--trajectory",
        tmp_path / "traj.npz",
        "--out",
        tmp_path / "c.npz",
    )
    assert out.returncode == 0, out.stderr
    rec = load_recording(tmp_path / "c.npz").recording
    assert rec.duration_s == pytest.approx(2.99, abs=0.02)
    np.testing.assert_allclose(rec.x[-1], 50 + 10 * rec.t[-1], atol=0.1)


def test_cli_simulate_reads_a_csv_trajectory_and_reports_its_repairs(tmp_path):
    rows = ["t,x,y,hd"] + [f"{k / 100},{50 + k / 10},40,{'' if k == 7 else k / 100}" for k in range(200)]
    (tmp_path / "walk.csv").write_text("\n".join(rows) + "\n")
    out = asa(
        "simulate", "hd-ring", "--units", "4", "--trajectory", tmp_path / "walk.csv", "--out", tmp_path / "h"
    )
    assert out.returncode == 0, out.stderr
    assert "warning: walk.csv: interpolated 1 of 200 head-direction samples" in out.stderr
    rec = load_recording(tmp_path / "h.npz").recording
    np.testing.assert_allclose(rec.hd[rec.t < 1.9], rec.t[rec.t < 1.9], atol=1e-6)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["hd-ring", "--units", "0"], "units"),
        (["grid-torus", "--duration", "-1"], "duration"),
        (["hd-ring", "--device", "tpu"], "device"),
        (["hd-ring", "--trajectory", "missing.npz"], "missing.npz"),
    ],
)
def test_cli_simulate_bad_parameters_exit_2_with_one_line(tmp_path, args, needle):
    out = asa("simulate", *args, "--out", tmp_path / "x.npz", "--quiet")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0]


def test_cli_simulate_needs_head_direction_for_ring_models(tmp_path):
    np.savez(tmp_path / "xy.npz", t=np.arange(0, 2, 0.01), x=np.zeros(200), y=np.zeros(200))
    out = asa("simulate", "hd-ring", "--trajectory", tmp_path / "xy.npz", "--out", tmp_path / "x.npz")
    assert out.returncode == 2 and "head direction" in out.stderr


def test_cli_unknown_model_is_refused():
    out = asa("simulate", "hopfield", "--out", "x.npz")
    assert out.returncode == 2 and "invalid choice" in out.stderr
