"""Tasks: what drives a model, sampled on the task's own time grid (s) and resampled to the model's step.

A :class:`Task` carries every input series a model may read, each optional:

- ``stim_pos`` (rad; (T,) on a ring, (T, 2) on a sheet) and ``stim_amp`` (T,): a Gaussian bump of external
  input at ``stim_pos`` of amplitude ``stim_amp`` × the free bump's peak U₀ (CANN1D, CANN2D, HD cue);
  ``noise_sd`` adds fresh Gaussian input noise of s.d. ``noise_sd`` × U₀ to every neuron at every step.
- ``omega_rad_s`` (T,): angular head velocity (HD ring); ``cue_amp`` (T,): visual anchoring amplitude (HD
  ring; the cue sits at ``hd_rad``).
- ``velocity_m_s`` (T, 2): running velocity (grid network).
- behaviour for recordings: ``x_cm``, ``y_cm`` (arena position), ``hd_rad`` (head direction, [0, 2π)).

Trajectories reuse ``core.synthetic`` (rat-like random walk with walls, OU head direction).
"""

from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError, RecordingError
from core.simulation.base import TWO_PI, sample_inputs, wrap

DEFAULT_DT_S = 0.001
TASKS = ("tracking", "population", "template", "arena_walk", "head_direction", "rotation", "external")


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
        steps = wrap(np.diff(p, axis=0))
        p = np.concatenate([p[:1], p[:1] + np.cumsum(steps, axis=0)])
    knots = np.arange(p.shape[0]) * segment_s
    t = _grid(knots[-1], dt_s)
    pos = sample_inputs(knots, p, t, angular=False)
    pos = wrap(pos) if periodic else pos
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
        stim_pos=wrap(start + speed_rad_s * t),
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
    return wrap(np.stack([x_cm, y_cm], axis=1) * (TWO_PI / period_cm))


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
        stim_pos=wrap(hd),
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
        stim_pos=wrap(hd),
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

TRAJECTORY_FIELDS = ("t", "x", "y", "hd")


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{path.name}: not a text CSV file ({exc.reason})") from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if len(rows) < 3:
        raise RecordingError(f"{path.name}: a trajectory CSV needs a header row (t,x,y[,hd]) and ≥ 2 rows")
    header = [h.strip().lower() for h in rows[0]]
    columns: dict[str, list] = {h: [] for h in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise RecordingError(f"{path.name}, line {line}: {len(row)} values for {len(header)} columns")
        for h, cell in zip(header, row, strict=True):
            try:
                columns[h].append(float(cell))
            except ValueError:
                raise RecordingError(
                    f"{path.name}, line {line}: column {h!r} holds {cell!r}, not a number"
                ) from None
    return {h: np.asarray(v) for h, v in columns.items()}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {}
            for key in data.files:
                try:
                    out[key.lower()] = np.asarray(data[key])
                except ValueError:
                    raise RecordingError(
                        f"{path.name}: field {key!r} holds Python objects (pickle), which are not read; "
                        "store plain numeric arrays"
                    ) from None
            return out
    except RecordingError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RecordingError(f"{path.name}: not a readable .npz file ({exc})") from None


def load_trajectory(
    path: str | os.PathLike[str], position_unit: str = "cm", period_cm: float = 75.0, amplitude: float = 1.0
) -> Task:
    """An external trajectory from ``.npz`` (arrays ``t``, ``x``, ``y`` [, ``hd``]; never unpickled) or
    ``.csv`` (header ``t,x,y[,hd]``): t in s, x and y in ``position_unit`` ("cm" or "m"), hd in rad (degrees
    when it exceeds 2π). Velocity, angular velocity and the CANN2D stimulus (``arena_walk``'s mapping) are
    derived. Raises RecordingError naming the file and the problem."""
    from core.io.validate import DEGREES_THRESHOLD

    path = Path(path)
    if position_unit not in ("cm", "m"):
        raise ConfigError(f"position_unit must be 'cm' or 'm', got {position_unit!r}")
    if not path.is_file():
        raise RecordingError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        fields = _read_npz(path)
    elif suffix in (".csv", ".txt"):
        fields = _read_csv(path)
    else:
        raise RecordingError(f"{path.name}: a trajectory is a .npz or .csv file (t, x, y [, hd])")
    for key in ("t", "x", "y"):
        if key not in fields:
            found = ", ".join(sorted(fields)) or "nothing"
            raise RecordingError(
                f"{path.name}: no field {key!r} (found {found}); a trajectory needs t, x, y [, hd]"
            )
    arrays = {}
    for key in TRAJECTORY_FIELDS:
        if key not in fields:
            continue
        a = np.asarray(fields[key])
        if a.dtype.kind not in "fiu":
            raise RecordingError(f"{path.name}: field {key!r} is {a.dtype}, not numeric")
        a = np.atleast_1d(np.squeeze(a)).astype(np.float64)
        if a.ndim != 1:
            raise RecordingError(f"{path.name}: field {key!r} must be a vector, got shape {a.shape}")
        if not np.isfinite(a).all():
            raise RecordingError(
                f"{path.name}: field {key!r} has {int((~np.isfinite(a)).sum())} NaN/inf values"
            )
        arrays[key] = a
    n = arrays["t"].size
    bad = [k for k, a in arrays.items() if a.size != n]
    if bad:
        raise RecordingError(f"{path.name}: {', '.join(bad)} must have as many samples as t ({n})")
    if n < 2:
        raise RecordingError(f"{path.name}: a trajectory needs at least 2 samples, got {n}")
    t = arrays["t"]
    if np.any(np.diff(t) <= 0):
        raise RecordingError(f"{path.name}: t must be strictly increasing (s)")
    scale = 100.0 if position_unit == "m" else 1.0
    x, y = arrays["x"] * scale, arrays["y"] * scale
    hd = arrays.get("hd")
    if hd is not None:
        if np.abs(hd).max() > DEGREES_THRESHOLD:
            hd = np.deg2rad(hd)
        hd = np.mod(hd, TWO_PI)
    # resample onto a uniform grid at the median sampling interval
    dt = float(np.median(np.diff(t)))
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) / dt + 1e-9)) + 1) * dt
    xs, ys = np.interp(grid, t, x), np.interp(grid, t, y)
    hds = None if hd is None else np.mod(sample_inputs(t, hd, grid, angular=True), TWO_PI)
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
        params={"source": str(path), "period_cm": period_cm, "t0_s": float(t[0])},
    )


# --------------------------------------------------------------------------- one form for every task


@dataclass(frozen=True)
class TaskConfig:
    """Every task's parameters in one form (the GUI generates it from the metadata); :func:`build_task` reads
    the fields that ``kind`` uses. Positions in rad ([-π, π)), amplitudes in units of the free bump's peak U₀.
    """

    kind: str = field(
        default="tracking", metadata={"choices": list(TASKS), "help": "what drives the network"}
    )
    duration_s: float = field(default=10.0, metadata={"unit": "s", "min": 0.01, "max": 1e5, "help": "length"})
    amplitude: float = field(
        default=0.5, metadata={"unit": "U₀", "min": 0.0, "max": 100.0, "help": "stimulus amplitude"}
    )
    positions: str = field(
        default="0, 1.5, -2",
        metadata={
            "label": "Tracking: positions",
            "help": "tracking: positions in rad, comma separated (x:y pairs on a sheet, e.g. 0:0, 1:2)",
        },
    )
    segment_s: float = field(
        default=2.0,
        metadata={
            "unit": "s",
            "min": 0.01,
            "max": 1e4,
            "label": "Tracking: segment time",
            "help": "tracking: time per segment",
        },
    )
    position: str = field(
        default="0",
        metadata={"label": "Stimulus position", "help": "population/template: stimulus position (rad; x:y)"},
    )
    offset_s: float = field(
        default=1.0,
        metadata={
            "unit": "s",
            "min": 0.0,
            "max": 1e5,
            "label": "Population: stimulus off at",
            "help": "population: stimulus off at",
        },
    )
    noise_sd: float = field(
        default=0.5,
        metadata={
            "unit": "U₀",
            "min": 0.0,
            "max": 100.0,
            "label": "Template: noise s.d.",
            "help": "template: input noise s.d.",
        },
    )
    box_cm: float = field(
        default=150.0, metadata={"unit": "cm", "min": 10.0, "max": 1000.0, "help": "arena side"}
    )
    mean_speed_cm_s: float = field(
        default=15.0,
        metadata={
            "unit": "cm/s",
            "min": 1.0,
            "max": 200.0,
            "label": "Walk: mean speed",
            "help": "arena walk: mean speed",
        },
    )
    period_cm: float = field(
        default=75.0,
        metadata={
            "unit": "cm",
            "min": 1.0,
            "max": 1000.0,
            "label": "CANN2D: cm per torus turn",
            "help": "CANN2D: arena cm per torus turn",
        },
    )
    omega_rad_s: float = field(
        default=2.0,
        metadata={
            "unit": "rad/s",
            "min": -100.0,
            "max": 100.0,
            "label": "Rotation: angular velocity",
            "help": "rotation: angular velocity",
        },
    )
    cue_amplitude: float = field(
        default=0.0,
        metadata={
            "unit": "U₀",
            "min": 0.0,
            "max": 100.0,
            "label": "HD: visual anchoring",
            "help": "HD: visual anchoring (0 = none)",
        },
    )
    trajectory: str = field(
        default="",
        metadata={
            "label": "External trajectory file",
            "help": "external: .npz/.csv file with t, x, y [, hd]",
        },
    )
    seed: int = field(default=0, metadata={"min": 0, "max": 2**31 - 1, "help": "random seed"})


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


def build_task(config: TaskConfig, dims: int = 1, periodic: bool = True) -> Task:
    """The task ``config.kind`` for a network with a ``dims``-D stimulus (1: ring, 2: sheet)."""
    c = config
    if c.kind == "tracking":
        return tracking(_parse_positions(c.positions, dims), c.segment_s, c.amplitude, periodic=periodic)
    if c.kind in ("population", "template"):
        p = _parse_positions(c.position, dims)[0]
        if c.kind == "population":
            return population_coding(p, c.duration_s, c.amplitude, offset_s=c.offset_s, periodic=periodic)
        return template_matching(p, c.duration_s, c.amplitude, c.noise_sd, c.seed, periodic=periodic)
    if c.kind == "arena_walk":
        return arena_walk(
            c.duration_s, c.box_cm, c.mean_speed_cm_s, c.seed, period_cm=c.period_cm, amplitude=c.amplitude
        )
    if c.kind == "head_direction":
        return head_direction(c.duration_s, c.seed, cue_amplitude=c.cue_amplitude, amplitude=c.amplitude)
    if c.kind == "rotation":
        return rotation(c.omega_rad_s, c.duration_s)
    if c.kind == "external":
        if not c.trajectory:
            raise ConfigError("an external task needs a trajectory file (.npz or .csv with t, x, y [, hd])")
        task = load_trajectory(c.trajectory, period_cm=c.period_cm, amplitude=c.amplitude)
        if dims == 1:
            if task.hd_rad is None:
                raise RecordingError(f"{c.trajectory}: a ring network needs the head direction (hd)")
            task.stim_pos = wrap(task.hd_rad)
        return task
    raise ConfigError(f"unknown task {c.kind!r}; use one of {', '.join(TASKS)}")
