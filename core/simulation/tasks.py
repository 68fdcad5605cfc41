"""Tasks: what drives a model, sampled on the task's own time grid (s) and resampled to the model's step.

A :class:`Task` carries every input series a model may read, each optional:

- ``stim_pos`` (rad; (T,) on a ring, (T, 2) on a sheet) and ``stim_amp`` (T,): a Gaussian bump of external
  input at ``stim_pos`` of amplitude ``stim_amp`` × the free bump's peak U₀ (CANN1D, CANN2D, HD cue);
  ``noise_sd`` adds fresh Gaussian input noise of s.d. ``noise_sd`` × U₀ to every neuron at every step.
- ``omega_rad_s`` (T,): angular head velocity (HD ring); ``cue_amp`` (T,): visual anchoring amplitude (HD
  ring; the cue sits at ``hd_rad``).
- ``velocity_m_s`` (T, 2): running velocity (grid network).
- behaviour for recordings: ``x_cm``, ``y_cm`` (arena position), ``hd_rad`` (head direction, [0, 2π)).

Trajectories reuse ``core.synthetic`` (rat-like random walk with walls, OU head direction); external ones are
read by ``core.io.trajectory`` (the recording readers' safety and checks). Each task kind has its own config
class (:class:`TrackingTask`, ..., :class:`ExternalTask`, all :class:`TaskConfig`), whose ``build`` makes the
task; ``core.simulation.registry`` offers them by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from core.config import Config
from core.errors import ConfigError, RecordingError
from core.simulation.base import TWO_PI, meta, sample_inputs, wrap_pi

DEFAULT_DT_S = 0.001


@dataclass
class Task:
    """Input series of one run on a uniform time grid ``t_s`` (s, starting at 0). See the module doc."""

    name: str
    t_s: np.ndarray
    stim_pos: np.ndarray | None = None
    stim_amp: np.ndarray | None = None
    noise_sd: float = 0.0
    omega_rad_s: np.ndarray | None = None
    cue_amp: np.ndarray | None = None
    velocity_m_s: np.ndarray | None = None
    x_cm: np.ndarray | None = None
    y_cm: np.ndarray | None = None
    hd_rad: np.ndarray | None = None
    periodic: bool = True
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # repairs made while reading an external trajectory

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if self.t_s.size > 1 else 0.0

    @property
    def dt_s(self) -> float:
        return float(self.t_s[1] - self.t_s[0]) if self.t_s.size > 1 else DEFAULT_DT_S

    @property
    def dims(self) -> int | None:
        """1 or 2 for a stimulus on a ring or sheet, None without stimulus."""
        if self.stim_pos is None:
            return None
        return 1 if self.stim_pos.ndim == 1 else self.stim_pos.shape[1]

    def describe(self) -> dict:
        return {"name": self.name, "duration_s": round(self.duration_s, 6), "seed": self.seed, **self.params}

    def at(self, name: str, t_query: np.ndarray) -> np.ndarray | None:
        """Series ``name`` linearly interpolated at ``t_query`` (s): angles along the shortest arc."""
        values = getattr(self, name)
        if values is None:
            return None
        angular = name == "hd_rad" or (name == "stim_pos" and self.periodic)
        out = sample_inputs(self.t_s, values, np.clip(t_query, self.t_s[0], self.t_s[-1]), angular)
        return np.mod(out, TWO_PI) if name == "hd_rad" else out

    def require(self, *names: str, model: str) -> None:
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ConfigError(f"task {self.name!r} gives no {', '.join(missing)}, which {model} needs")


def _grid(duration_s: float, dt_s: float) -> np.ndarray:
    if not duration_s > 0:
        raise ConfigError(f"duration_s must be > 0 s, got {duration_s}")
    if not 0 < dt_s <= duration_s:
        raise ConfigError(f"dt_s must be in (0, duration_s], got {dt_s}")
    return np.arange(int(round(duration_s / dt_s)) + 1) * dt_s


def _dims_of(position: Any) -> np.ndarray:
    p = np.asarray(position, dtype=np.float64)
    if p.ndim > 1 or p.size not in (1, 2):
        raise ConfigError(f"a stimulus position is an angle or a pair of angles (rad), got shape {p.shape}")
    return p.reshape(()) if p.size == 1 else p


# --------------------------------------------------------------------------- stimulus tasks (CANN1D/2D)


def tracking(
    positions: Any,
    segment_s: float = 1.0,
    amplitude: float = 1.0,
    dt_s: float = DEFAULT_DT_S,
    periodic: bool = True,
) -> Task:
    """Smooth tracking: a stimulus moving at constant speed from each of ``positions`` to the next in
    ``segment_s`` seconds (rad; a (K,) list on a ring, (K, 2) on a sheet; the shortest way round when
    ``periodic``). Amplitude in units of the free bump's peak U₀."""
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[0] < 2 or (p.ndim == 2 and p.shape[1] != 2):
        raise ConfigError(f"tracking needs ≥ 2 positions, (K,) or (K, 2) rad; got shape {p.shape}")
    if periodic:
        steps = wrap_pi(np.diff(p, axis=0))
        p = np.concatenate([p[:1], p[:1] + np.cumsum(steps, axis=0)])
    knots = np.arange(p.shape[0]) * segment_s
    t = _grid(knots[-1], dt_s)
    pos = sample_inputs(knots, p, t, angular=False)
    pos = wrap_pi(pos) if periodic else pos
    return Task(
        "tracking",
        t,
        stim_pos=pos,
        stim_amp=np.full(t.size, float(amplitude)),
        periodic=periodic,
        params={"segment_s": segment_s, "amplitude": amplitude, "n_positions": int(p.shape[0])},
    )


def moving_stimulus(
    speed_rad_s: float,
    duration_s: float,
    start: float = 0.0,
    amplitude: float = 1.0,
    dt_s: float = DEFAULT_DT_S,
) -> Task:
    """A stimulus turning round the ring at constant ``speed_rad_s`` (rad/s) from ``start`` (rad)."""
    t = _grid(duration_s, dt_s)
    return Task(
        "tracking",
        t,
        stim_pos=wrap_pi(start + speed_rad_s * t),
        stim_amp=np.full(t.size, float(amplitude)),
        params={"speed_rad_s": speed_rad_s, "amplitude": amplitude},
    )


def population_coding(
    position: Any,
    duration_s: float,
    amplitude: float = 1.0,
    onset_s: float = 0.0,
    offset_s: float | None = None,
    dt_s: float = DEFAULT_DT_S,
    periodic: bool = True,
) -> Task:
    """A static stimulus at ``position`` (rad, or a pair on a sheet), on during [onset_s, offset_s) (s;
    None: to the end); after it the bump persists on its own. Amplitude in units of U₀."""
    p = _dims_of(position)
    t = _grid(duration_s, dt_s)
    on = (t >= onset_s) & (t < (duration_s + dt_s if offset_s is None else offset_s))
    pos = np.broadcast_to(p, (t.size,) + p.shape).copy()
    return Task(
        "population",
        t,
        stim_pos=pos,
        stim_amp=np.where(on, float(amplitude), 0.0),
        periodic=periodic,
        params={"amplitude": amplitude, "onset_s": onset_s, "offset_s": offset_s},
    )


def no_input(position: Any, duration_s: float, dt_s: float = 0.01, periodic: bool = True) -> Task:
    """No external input at all (the model starts from a bump at ``position``): drift and persistence."""
    task = population_coding(position, duration_s, amplitude=0.0, dt_s=dt_s, periodic=periodic)
    task.name = "no_input"
    return task


def template_matching(
    position: Any,
    duration_s: float,
    amplitude: float = 1.0,
    noise_sd: float = 0.5,
    seed: int = 0,
    dt_s: float = DEFAULT_DT_S,
    periodic: bool = True,
) -> Task:
    """A noisy template: the stimulus bump at ``position`` plus fresh Gaussian input noise of s.d.
    ``noise_sd`` × U₀ on every neuron at every model step (seeded); the network cleans it into a bump."""
    if noise_sd < 0:
        raise ConfigError(f"noise_sd must be ≥ 0, got {noise_sd}")
    task = population_coding(position, duration_s, amplitude, dt_s=dt_s, periodic=periodic)
    task.name = "template"
    task.noise_sd = float(noise_sd)
    task.seed = int(seed)
    task.params.update(noise_sd=noise_sd)
    return task


# --------------------------------------------------------------------------- trajectories


def _velocity_m_s(t: np.ndarray, x_cm: np.ndarray, y_cm: np.ndarray) -> np.ndarray:
    return np.stack([np.gradient(x_cm, t), np.gradient(y_cm, t)], axis=1) / 100.0


def _omega(t: np.ndarray, hd: np.ndarray) -> np.ndarray:
    return np.gradient(np.unwrap(hd), t)


def arena_to_torus(x_cm: np.ndarray, y_cm: np.ndarray, period_cm: float) -> np.ndarray:
    """Arena position (cm) → stimulus position on the torus (rad): one turn every ``period_cm``."""
    return wrap_pi(np.stack([x_cm, y_cm], axis=1) * (TWO_PI / period_cm))


def arena_walk(
    duration_s: float,
    box_cm: float = 150.0,
    mean_speed_cm_s: float = 15.0,
    seed: int = 0,
    dt_s: float = 0.01,
    period_cm: float = 75.0,
    amplitude: float = 1.0,
) -> Task:
    """A smooth, rat-like random walk in a square box with walls (``core.synthetic.random_walk_2d``).

    Gives the running velocity (grid network) and, for CANN2D, a stimulus at the position mapped onto the
    torus with one turn every ``period_cm`` (so a CANN2D unit fires on a square lattice in the arena).
    """
    from core.synthetic import random_walk_2d

    if not period_cm > 0:
        raise ConfigError(f"period_cm must be > 0 cm, got {period_cm}")
    t, x, y = random_walk_2d(duration_s, dt_s, box_cm=box_cm, mean_speed_cm_s=mean_speed_cm_s, seed=seed)
    return Task(
        "arena_walk",
        t,
        stim_pos=arena_to_torus(x, y, period_cm),
        stim_amp=np.full(t.size, float(amplitude)),
        velocity_m_s=_velocity_m_s(t, x, y),
        x_cm=x,
        y_cm=y,
        seed=seed,
        params={"box_cm": box_cm, "mean_speed_cm_s": mean_speed_cm_s, "period_cm": period_cm},
    )


def head_direction(
    duration_s: float,
    seed: int = 0,
    dt_s: float = 0.01,
    cue_amplitude: float = 0.0,
    amplitude: float = 1.0,
    with_position: bool = True,
) -> Task:
    """Head direction from ``core.synthetic.head_direction_walk`` (OU angular velocity): the angular
    velocity for the HD ring, the true direction as its visual cue (``cue_amplitude`` × U₀, 0 = no anchoring)
    and as the stimulus of a CANN1D (amplitude × U₀). ``with_position`` adds a random walk in a 150 cm box."""
    from core.synthetic import head_direction_walk, random_walk_2d

    t, hd = head_direction_walk(duration_s, dt_s, seed)
    x = y = None
    if with_position:
        _, x, y = random_walk_2d(duration_s, dt_s, seed=seed)
    return Task(
        "head_direction",
        t,
        stim_pos=wrap_pi(hd),
        stim_amp=np.full(t.size, float(amplitude)),
        omega_rad_s=_omega(t, hd),
        cue_amp=np.full(t.size, float(cue_amplitude)),
        x_cm=x,
        y_cm=y,
        hd_rad=hd,
        seed=seed,
        params={"cue_amplitude": cue_amplitude},
    )


def rotation(omega_rad_s: float, duration_s: float, start: float = 0.0, dt_s: float = 0.01) -> Task:
    """Constant angular velocity ``omega_rad_s`` (rad/s) from head direction ``start`` (rad), no cue."""
    t = _grid(duration_s, dt_s)
    hd = np.mod(start + omega_rad_s * t, TWO_PI)
    return Task(
        "rotation",
        t,
        stim_pos=wrap_pi(hd),
        stim_amp=np.zeros(t.size),
        omega_rad_s=np.full(t.size, float(omega_rad_s)),
        cue_amp=np.zeros(t.size),
        hd_rad=hd,
        params={"omega_rad_s": omega_rad_s},
    )


def constant_velocity(velocity_m_s: tuple[float, float], duration_s: float, dt_s: float = 0.01) -> Task:
    """Straight running at a constant velocity (m/s) from the origin (grid network calibration, tests)."""
    t = _grid(duration_s, dt_s)
    v = np.broadcast_to(np.asarray(velocity_m_s, dtype=np.float64), (t.size, 2)).copy()
    return Task(
        "constant_velocity",
        t,
        velocity_m_s=v,
        x_cm=100.0 * v[:, 0] * t,
        y_cm=100.0 * v[:, 1] * t,
        params={"velocity_m_s": list(map(float, velocity_m_s))},
    )


# --------------------------------------------------------------------------- external trajectories


def load_trajectory(
    path: str | os.PathLike[str], position_unit: str = "cm", period_cm: float = 75.0, amplitude: float = 1.0
) -> Task:
    """An external trajectory (``.npz`` or ``.csv`` with t, x, y [, hd]; read and checked by
    :func:`core.io.trajectory.read_trajectory`: t in s, x and y in ``position_unit``, hd in rad or degrees)
    resampled onto a uniform grid at its median sampling interval, starting at 0 s. Velocity, angular
    velocity and the CANN2D stimulus (``arena_walk``'s mapping) are derived; ``warnings`` lists the repairs.
    Raises RecordingError naming the file and the problem."""
    from core.io.trajectory import read_trajectory

    traj = read_trajectory(path, position_unit=position_unit)
    t = traj.t
    dt = float(np.median(np.diff(t)))
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) / dt + 1e-9)) + 1) * dt
    xs, ys = np.interp(grid, t, traj.x), np.interp(grid, t, traj.y)
    hds = None if traj.hd is None else np.mod(sample_inputs(t, traj.hd, grid, angular=True), TWO_PI)
    grid = grid - grid[0]
    return Task(
        "external",
        grid,
        stim_pos=arena_to_torus(xs, ys, period_cm),
        stim_amp=np.full(grid.size, float(amplitude)),
        velocity_m_s=_velocity_m_s(grid, xs, ys),
        omega_rad_s=None if hds is None else _omega(grid, hds),
        cue_amp=None if hds is None else np.zeros(grid.size),
        x_cm=xs,
        y_cm=ys,
        hd_rad=hds,
        params={"source": traj.source, "period_cm": period_cm, "t0_s": float(t[0])},
        warnings=traj.warnings,
    )


def on_ring(task: Task, model: str = "a ring network") -> Task:
    """A trajectory for a ring network: its head direction becomes the stimulus (rad); RecordingError naming
    the source when it has none."""
    if task.hd_rad is None:
        source = task.params.get("source", task.name)
        raise RecordingError(f"{source}: {model} needs the head direction (hd) in the trajectory")
    task.stim_pos = wrap_pi(task.hd_rad)
    return task


# --------------------------------------------------------------------------- one config class per task kind


def _parse_positions(text: str, dims: int) -> np.ndarray:
    try:
        items = [s.strip() for s in text.split(",") if s.strip()]
        values = [[float(v) for v in item.split(":")] for item in items]
    except ValueError:
        raise ConfigError(
            f"positions {text!r}: numbers in rad, comma separated (x:y pairs on a sheet)"
        ) from None
    if any(len(v) != dims for v in values):
        raise ConfigError(
            f"positions {text!r}: give {'one angle' if dims == 1 else 'x:y pairs'} per position"
        )
    out = np.asarray(values, dtype=np.float64)
    return out[:, 0] if dims == 1 else out


def _duration(default: float = 10.0) -> Any:
    return field(default=default, metadata=meta("s", 0.01, 1e5, "length"))


def _amplitude() -> Any:
    return field(default=1.0, metadata=meta("U₀", 0.0, 100.0, "stimulus amplitude"))


def _seed() -> Any:
    return field(default=0, metadata=meta(None, 0, 2**31 - 1, "random seed"))


def _position() -> Any:
    return field(default="0", metadata={"label": "Stimulus position", "help": "rad; x:y on a sheet"})


def _period() -> Any:
    return field(default=75.0, metadata=meta("cm", 1.0, 1000.0, "CANN2D: arena cm per torus turn"))


@dataclass(frozen=True)
class TaskConfig(Config):
    """The base of every task kind's config (a frozen dataclass whose field metadata the GUI turns into a
    form). ``kind`` names the kind; ``build(dims, periodic)`` makes its task for a network with a ``dims``-D
    stimulus (1: ring, 2: sheet), periodic (ring, torus) or not (plane). Positions in rad ([-π, π)),
    amplitudes in units of the free bump's peak U₀. ``sheet_defaults``: defaults that differ for a 2-D
    stimulus (positions as x:y pairs)."""

    kind: ClassVar[str] = ""
    sheet_defaults: ClassVar[dict[str, Any]] = {}

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        raise NotImplementedError(f"{type(self).__name__} builds no task")


@dataclass(frozen=True)
class TrackingTask(TaskConfig):
    """A stimulus moving at constant speed through ``positions`` (:func:`tracking`); its length is one
    ``segment_s`` per step between positions."""

    kind: ClassVar[str] = "tracking"
    sheet_defaults: ClassVar[dict[str, Any]] = {"positions": "0:0, 1.5:1, -2:-1"}
    positions: str = field(
        default="0, 1.5, -2",
        metadata={"label": "Positions", "help": "rad, comma separated (x:y pairs on a sheet, e.g. 0:0, 1:2)"},
    )
    segment_s: float = field(default=2.0, metadata=meta("s", 0.01, 1e4, "time per segment"))
    amplitude: float = _amplitude()

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return tracking(
            _parse_positions(self.positions, dims), self.segment_s, self.amplitude, periodic=periodic
        )


@dataclass(frozen=True)
class _StaticStimulus(TaskConfig):
    """What the tasks with a static stimulus share: their length, the stimulus position and amplitude."""

    sheet_defaults: ClassVar[dict[str, Any]] = {"position": "0:0"}

    duration_s: float = _duration()
    position: str = _position()
    amplitude: float = _amplitude()

    def _at(self, dims: int) -> np.ndarray:
        return _parse_positions(self.position, dims)[0]


@dataclass(frozen=True)
class PopulationTask(_StaticStimulus):
    """A static stimulus switched off at ``offset_s`` (:func:`population_coding`): the bump persists."""

    kind: ClassVar[str] = "population"
    offset_s: float = field(default=1.0, metadata=meta("s", 0.0, 1e5, "stimulus off at"))

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return population_coding(
            self._at(dims), self.duration_s, self.amplitude, offset_s=self.offset_s, periodic=periodic
        )


@dataclass(frozen=True)
class TemplateTask(_StaticStimulus):
    """A static stimulus in fresh input noise (:func:`template_matching`): the network cleans it."""

    kind: ClassVar[str] = "template"
    noise_sd: float = field(default=0.5, metadata=meta("U₀", 0.0, 100.0, "input noise s.d."))
    seed: int = _seed()

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return template_matching(
            self._at(dims), self.duration_s, self.amplitude, self.noise_sd, self.seed, periodic=periodic
        )


@dataclass(frozen=True)
class ArenaWalkTask(TaskConfig):
    """A rat-like random walk in a square box (:func:`arena_walk`): velocity, and a torus stimulus."""

    kind: ClassVar[str] = "arena_walk"
    duration_s: float = _duration()
    box_cm: float = field(default=150.0, metadata=meta("cm", 10.0, 1000.0, "arena side"))
    mean_speed_cm_s: float = field(default=15.0, metadata=meta("cm/s", 1.0, 200.0, "mean running speed"))
    period_cm: float = _period()
    amplitude: float = _amplitude()
    seed: int = _seed()

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return arena_walk(
            self.duration_s,
            self.box_cm,
            self.mean_speed_cm_s,
            self.seed,
            period_cm=self.period_cm,
            amplitude=self.amplitude,
        )


@dataclass(frozen=True)
class HeadDirectionTask(TaskConfig):
    """A head-direction walk (:func:`head_direction`): angular velocity, cue and ring stimulus."""

    kind: ClassVar[str] = "head_direction"
    duration_s: float = _duration()
    cue_amplitude: float = field(
        default=0.0, metadata=meta("U₀", 0.0, 100.0, "HD ring: visual anchoring (0 = none)")
    )
    amplitude: float = _amplitude()
    seed: int = _seed()

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return head_direction(
            self.duration_s, self.seed, cue_amplitude=self.cue_amplitude, amplitude=self.amplitude
        )


@dataclass(frozen=True)
class RotationTask(TaskConfig):
    """Turning at a constant angular velocity without a cue (:func:`rotation`)."""

    kind: ClassVar[str] = "rotation"
    duration_s: float = _duration()
    omega_rad_s: float = field(default=2.0, metadata=meta("rad/s", -100.0, 100.0, "angular velocity"))

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        return rotation(self.omega_rad_s, self.duration_s)


@dataclass(frozen=True)
class ExternalTask(TaskConfig):
    """A recorded trajectory from a file (:func:`load_trajectory`); ring networks follow its head
    direction."""

    kind: ClassVar[str] = "external"
    trajectory: str = field(
        default="", metadata={"label": "Trajectory file", "help": ".npz/.csv file with t, x, y [, hd]"}
    )
    period_cm: float = _period()
    amplitude: float = _amplitude()

    def build(self, dims: int = 1, periodic: bool = True) -> Task:
        if not self.trajectory:
            raise ConfigError("an external task needs a trajectory file (.npz or .csv with t, x, y [, hd])")
        task = load_trajectory(self.trajectory, period_cm=self.period_cm, amplitude=self.amplitude)
        return on_ring(task) if dims == 1 else task
