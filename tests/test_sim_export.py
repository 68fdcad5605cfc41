"""One run end to end: run_model with a task form, live frames, model analyses, export with an animation."""

import json

import numpy as np
import pytest
from PIL import Image

from core.errors import ConfigError
from core.simulation.analysis import analyse, summary_lines
from core.simulation.export import export_run, model_figures
from core.simulation.live import LiveFeed
from core.simulation.recording import run_model
from core.simulation.registry import MODELS, model_spec
from core.simulation.tasks import PopulationTask, RotationTask, TrackingTask


@pytest.fixture(scope="module")
def ring_run():
    frames = []
    spec = MODELS["cann1d"]
    task = spec.make_task(TrackingTask(positions="0, 2, -2", segment_s=2.0, amplitude=1.0))
    run = run_model("cann1d", task=task, n_units=8, seed=1, on_chunk=LiveFeed(task, frames.append, 0.0))
    return run, frames


def test_live_frames_follow_the_run_to_its_end(ring_run):
    run, frames = ring_run
    times = [f["t_s"] for f in frames]
    assert len(frames) >= 2 and np.all(np.diff(times) > 0)  # live chunks of ≤ 0.1 s of compute each
    assert times[-1] == pytest.approx(4.0)
    last = frames[-1]
    assert last["state"].shape == (512,) and last["path"] is None
    # the live bump sits on the stimulus it tracks
    positions = np.linspace(-np.pi, np.pi, 512, endpoint=False)
    peak = positions[np.argmax(last["state"])]
    assert abs(np.angle(np.exp(1j * (peak - last["stimulus"])))) < 0.2


def test_a_live_feed_throttles_but_never_drops_the_last_frame():
    shown = []
    task = MODELS["cann1d"].make_task(PopulationTask(duration_s=1.0))
    feed = LiveFeed(task, shown.append, interval_s=60.0)
    state = {"u": np.zeros(4)}
    for k in range(5):
        feed({"t_s": 0.2 * (k + 1), "state": state, "final": k == 4})
    assert [f["t_s"] for f in shown] == [0.2, 1.0]


def test_run_model_keeps_the_state_of_short_runs_and_names_wrong_tasks(ring_run):
    run, _ = ring_run
    assert run.result.state_trace.shape == (400, 512)
    assert run.recording.n_units == 8 and run.settings["n_units"] == 8
    with pytest.raises(ConfigError, match="grid-torus cannot run a 'tracking' task"):
        run_model("grid-torus", task=TrackingTask())
    with pytest.raises(ConfigError, match="needs a GridConfig"):
        run_model("grid-torus", config=MODELS["cann1d"].config)
    with pytest.raises(ConfigError, match="unknown model"):
        model_spec("cann3d")


def test_analyses_and_figures_of_a_tracking_run(ring_run):
    run, _ = ring_run
    analyses = analyse(run.result)
    assert set(analyses) == {"tracking", "tuning", "space_time"}
    assert analyses["tracking"].mean_distance < 0.2  # rad: the bump follows the stimulus
    assert any("tracking: mean error" in line for line in summary_lines(run.result, analyses))
    assert set(model_figures(run.result, analyses)) == {"tracking", "tuning", "space_time"}


def test_export_writes_recording_arrays_figures_and_an_animation(ring_run, tmp_path):
    run, _ = ring_run
    paths = export_run(run, tmp_path, ("png", "svg"))
    names = {p.name for p in paths}
    assert {"recording.npz", "recording.json", "simulation.npz", "tracking.png", "tracking.svg"} <= names
    assert "animation.gif" in names
    with np.load(tmp_path / "simulation.npz", allow_pickle=False) as data:
        assert data["rates"].shape == (400, 8) and data["state_trace"].shape == (400, 512)
        assert data["stimulus"].shape == (400,)
    gif = Image.open(tmp_path / "animation.gif")
    assert gif.n_frames == 200
    provenance = json.loads((tmp_path / "recording.json").read_text())
    assert provenance["model"] == "cann1d" and provenance["settings"]["seed"] == 1
    # the saved recording loads back like any file
    from core.io import load_recording

    assert load_recording(tmp_path / "recording.npz").recording.n_units == 8


def test_an_animation_needs_the_kept_state(tmp_path):
    from core.simulation.export import export_animation

    run = run_model("hd-ring", task=RotationTask(duration_s=0.5), n_units=4, keep_state=False)
    with pytest.raises(ConfigError, match="did not keep its full state"):
        export_animation(run.result, tmp_path / "a.gif")
    assert "animation.gif" not in {p.name for p in export_run(run, tmp_path)}
