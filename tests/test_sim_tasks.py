"""Tasks: stimulus series, trajectories, and importing an external trajectory (good and bad files)."""

import numpy as np
import pytest

from core.errors import ConfigError, RecordingError
from core.simulation import tasks


def test_tracking_moves_at_constant_speed_the_short_way_round():
    task = tasks.tracking([3.0, -3.0], segment_s=1.0, dt_s=0.01)
    # 3 → -3 rad is 0.28 rad forward across ±π, not 6 rad back
    steps = np.angle(np.exp(1j * np.diff(task.stim_pos)))
    assert np.all(steps > 0)
    assert steps.sum() == pytest.approx(2 * np.pi - 6.0, rel=1e-6)
    flat = tasks.tracking([(0, 0), (1, 2)], segment_s=2.0, periodic=False)
    assert flat.dims == 2
    np.testing.assert_allclose(flat.stim_pos[-1], (1, 2))


def test_population_coding_switches_the_stimulus_off():
    task = tasks.population_coding(1.0, 1.0, amplitude=2.0, onset_s=0.1, offset_s=0.5, dt_s=0.01)
    on = task.stim_amp > 0
    assert task.t_s[on].min() == pytest.approx(0.1) and task.t_s[on].max() < 0.5
    assert np.all(task.stim_pos == 1.0)


def test_template_matching_is_seeded_noise():
    task = tasks.template_matching(0.5, 1.0, noise_sd=0.3, seed=7)
    assert task.noise_sd == 0.3 and task.seed == 7 and task.name == "template"
    with pytest.raises(ConfigError):
        tasks.template_matching(0.5, 1.0, noise_sd=-1.0)


def test_arena_walk_reuses_the_synthetic_random_walk_and_gives_velocity():
    from core.synthetic import random_walk_2d

    task = tasks.arena_walk(20.0, seed=3)
    t, x, y = random_walk_2d(20.0, 0.01, seed=3)
    np.testing.assert_array_equal(task.x_cm, x)
    assert task.x_cm.min() >= 0 and task.x_cm.max() <= 150.0
    # integrating the velocity gives the path back
    path = np.cumsum(task.velocity_m_s[:-1] * np.diff(task.t_s)[:, None], axis=0) * 100.0
    assert np.abs(path[-1] - (np.array([x[-1], y[-1]]) - [x[0], y[0]])).max() < 2.0
    assert np.all(np.abs(task.stim_pos) <= np.pi)


def test_head_direction_task_integrates_back_to_the_walk():
    task = tasks.head_direction(30.0, seed=2)
    turned = np.cumsum(task.omega_rad_s[:-1] * np.diff(task.t_s))
    true = np.unwrap(task.hd_rad)
    assert abs(turned[-1] - (true[-1] - true[0])) < 0.05
    assert task.x_cm is not None and task.cue_amp.max() == 0.0


def test_task_resampling_interpolates_angles_the_short_way():
    task = tasks.rotation(1.0, 10.0, start=3.0, dt_s=0.5)
    t = np.array([0.25, 0.3])
    np.testing.assert_allclose(task.at("hd_rad", t), np.mod(3.0 + t, 2 * np.pi), atol=1e-9)


def test_task_without_what_a_model_needs_is_a_config_error():
    from core.simulation import GridNetwork

    with pytest.raises(ConfigError, match="velocity"):
        GridNetwork().simulate(tasks.population_coding(0.0, 0.1))


# --------------------------------------------------------------------------- external trajectories


def test_load_trajectory_npz_and_csv(tmp_path):
    t = np.arange(0, 10, 0.02)
    x, y = 50 + 20 * np.cos(t), 50 + 20 * np.sin(t)
    hd = np.mod(t + np.pi / 2, 2 * np.pi)
    np.savez(tmp_path / "traj.npz", t=t + 5.0, x=x, y=y, hd=np.rad2deg(hd))
    task = tasks.load_trajectory(tmp_path / "traj.npz")
    assert task.t_s[0] == 0.0 and task.duration_s == pytest.approx(t[-1], abs=0.03)
    np.testing.assert_allclose(task.hd_rad[:100], hd[:100], atol=1e-6)  # degrees detected and converted
    speed = np.linalg.norm(task.velocity_m_s, axis=1)
    np.testing.assert_allclose(speed[5:-5], 0.2, rtol=0.01)  # 20 cm radius at 1 rad/s
    np.testing.assert_allclose(task.omega_rad_s[5:-5], 1.0, rtol=0.01)

    rows = ["t,x,y"] + [f"{a},{b / 100},{c / 100}" for a, b, c in zip(t, x, y, strict=True)]
    (tmp_path / "traj.csv").write_text("\n".join(rows) + "\n")
    csv_task = tasks.load_trajectory(tmp_path / "traj.csv", position_unit="m")
    np.testing.assert_allclose(csv_task.x_cm, task.x_cm, atol=1e-6)
    assert csv_task.hd_rad is None and csv_task.omega_rad_s is None


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.npz", {"t": np.arange(5.0), "x": np.zeros(5)}, "field 'y' is missing"),
        ("b.npz", {"t": np.arange(5.0), "x": np.zeros(5), "y": np.zeros(4)}, "y has 4 samples but t has 5"),
        ("c.npz", {"t": np.array([0, 1, 1, 2.0]), "x": np.zeros(4), "y": np.zeros(4)}, "t is not increasing"),
        ("d.npz", {"t": np.arange(3.0), "x": np.array([0, np.nan, np.nan]), "y": np.zeros(3)}, "NaN"),
        ("e.npz", {"t": np.arange(3.0), "x": np.array(["a", "b", "c"]), "y": np.zeros(3)}, "not numeric"),
        ("f.npz", {"t": np.arange(1.0), "x": np.zeros(1), "y": np.zeros(1)}, "at least 2"),
        ("g.npz", {"time": np.arange(3.0), "x": np.zeros(3), "y": np.zeros(3)}, "Rename 'time' to 't'"),
    ],
)
def test_bad_trajectory_files_name_the_problem(tmp_path, name, content, message):
    np.savez(tmp_path / name, **content)
    with pytest.raises(RecordingError, match=message):
        tasks.load_trajectory(tmp_path / name)


def test_short_gaps_in_a_trajectory_are_interpolated_with_a_warning(tmp_path):
    x = np.array([0.0, np.nan, 2.0, 3.0])
    np.savez(tmp_path / "gap.npz", t=np.arange(4.0), x=x, y=np.zeros(4))
    task = tasks.load_trajectory(tmp_path / "gap.npz")
    np.testing.assert_allclose(task.x_cm, [0, 1, 2, 3])
    assert task.warnings == ["interpolated 1 of 4 position samples (longest gap 1 samples = 1 s)"]


class _Opens:
    """Unpickling this would open (create) a file: what a hostile trajectory could carry."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def test_pickled_or_broken_trajectory_files_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Opens(str(marker))
    np.savez(tmp_path / "h.npz", t=np.arange(3.0), x=hostile, y=np.zeros(3))
    with pytest.raises(RecordingError, match="field 'x' refused: .* pickled object of type 'io.open'"):
        tasks.load_trajectory(tmp_path / "h.npz")
    assert not marker.exists()
    obj = np.empty(3, dtype=object)
    obj[:] = [np.zeros(2), np.zeros(3), np.zeros(1)]
    np.savez(tmp_path / "p.npz", t=np.arange(3.0), x=obj, y=np.zeros(3))
    with pytest.raises(RecordingError, match="x is not numeric"):
        tasks.load_trajectory(tmp_path / "p.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(RecordingError, match="broken.npz"):
        tasks.load_trajectory(tmp_path / "broken.npz")
    (tmp_path / "bad.csv").write_text("t,x,y\n0,1,2\n1,oops,3\n")
    with pytest.raises(RecordingError, match="line 3"):
        tasks.load_trajectory(tmp_path / "bad.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(RecordingError, match=".npz or .csv"):
        tasks.load_trajectory(tmp_path / "x.json")
    with pytest.raises(RecordingError, match="not found"):
        tasks.load_trajectory(tmp_path / "missing.npz")


def test_one_config_per_task_kind_builds_its_task(tmp_path):
    from core.simulation.registry import TASKS, build_task, task_config

    np.savez(tmp_path / "t.npz", t=np.arange(0, 2, 0.01), x=np.zeros(200), y=np.zeros(200), hd=np.zeros(200))
    sheet = {"positions": "0:0, 1:1", "position": "1:-1"}
    for kind in TASKS:
        for dims in (1, 2):
            if kind == "external" or dims == 1 or kind in ("tracking", "population", "template"):
                values = {
                    "duration_s": 1.0,
                    "trajectory": str(tmp_path / "t.npz"),
                    **(sheet if dims == 2 else {}),
                }
                config = task_config(kind, **values)
                assert config.kind == kind and type(config) is TASKS[kind].config
                task = build_task(config, dims)
                assert task.t_s.size > 1
                if kind in ("tracking", "population", "template"):
                    assert task.dims == dims
    with pytest.raises(ConfigError, match="x:y"):
        build_task(tasks.TrackingTask(positions="0, 1"), dims=2)
    with pytest.raises(ConfigError, match="trajectory"):
        build_task(tasks.ExternalTask())
    with pytest.raises(ConfigError, match="numbers"):
        build_task(tasks.TrackingTask(positions="zero, one"))
