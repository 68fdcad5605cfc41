"""Real rat trajectories from RatInABox (Sargolini et al. 2006, Tanni et al. 2022), on a 100 Hz time base.

RatInABox is an optional dependency (extra ``validation``) and is imported only inside functions. Its
``Agent.import_trajectory`` fits a cubic interpolant to the recorded positions (m); we evaluate it on our own
time base, convert to cm, and optionally scale and shift the arena. Head direction is the heading of the
smoothed path plus a slow head-versus-body offset, so that it turns even when the animal stands still.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from core.angles import TWO_PI

# Arena of each dataset in RatInABox's Environment terms (scale: shorter side, m; aspect: long / short).
DATASETS = {
    "sargolini": {"scale": 1.0, "aspect": 1.0, "duration_s": 599.0},
    "tanni": {"scale": 2.5, "aspect": 1.4, "duration_s": 7320.0},
}

# Arenas built from the datasets: (dataset, scale factor, centre the arena on 0).
ARENAS = {
    "box100": ("sargolini", 1.0, False),  # 100 × 100 cm, [0, 100] cm
    "tanni": ("tanni", 1.0, False),  # 350 × 250 cm, [0, 350] × [0, 250] cm
    "centred330": ("sargolini", 3.3, True),  # 330 × 330 cm, −165 … +165 cm
    "tanni_centred": ("tanni", 1.0, True),  # −175 … +175 × −125 … +125 cm
}


@dataclass
class Trajectory:
    """A path on a regular time base: ``t`` (s, from 0), ``x``, ``y`` (cm), ``hd`` (rad, [0, 2π))."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    hd: np.ndarray
    arena: str
    start_s: float

    @property
    def dt_s(self) -> float:
        return float(self.t[1] - self.t[0])

    def extent_cm(self) -> tuple[float, float, float, float]:
        """(x min, x max, y min, y max) of the visited area (cm)."""
        return float(self.x.min()), float(self.x.max()), float(self.y.min()), float(self.y.max())


@lru_cache(maxsize=4)
def _interpolant(dataset: str):
    """RatInABox's cubic interpolant of one dataset's positions (m) as a function of time (s, from 0)."""
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment

    spec = DATASETS[dataset]
    with contextlib.redirect_stdout(io.StringIO()):  # RatInABox prints citations and warnings
        env = Environment(params={"scale": spec["scale"], "aspect": spec["aspect"]})
        agent = Agent(env)
        agent.import_trajectory(dataset=dataset)
    return agent.pos_interp


def dataset_duration_s(dataset: str) -> float:
    """Usable length (s) of a dataset's trajectory."""
    return float(DATASETS[dataset]["duration_s"])


def path_heading(
    x_cm: np.ndarray, y_cm: np.ndarray, dt_s: float, sigma_s: float = 0.25, min_speed_cm_s: float = 3.0
) -> np.ndarray:
    """Direction of travel (rad, [0, 2π)) of a path: angle of its Gaussian-smoothed velocity (σ in s).

    Where the smoothed speed is below ``min_speed_cm_s`` (cm/s) the last heading is held, so that the
    tracker's jitter while the animal sits still does not spin it; the result is smoothed once more.
    """
    sigma = max(sigma_s / dt_s, 0.5)
    vx = gaussian_filter1d(np.gradient(x_cm, dt_s), sigma, mode="nearest")
    vy = gaussian_filter1d(np.gradient(y_cm, dt_s), sigma, mode="nearest")
    moving = np.hypot(vx, vy) >= min_speed_cm_s
    if not moving.any():
        return np.zeros(x_cm.size)
    last = np.maximum.accumulate(np.where(moving, np.arange(x_cm.size), -1))
    last[last < 0] = np.flatnonzero(moving)[0]
    angle = np.unwrap(np.arctan2(vy, vx)[last])
    return np.mod(gaussian_filter1d(angle, sigma, mode="nearest"), TWO_PI)


def ou_process(
    n: int, dt_s: float, tau_s: float, sd: float, rng: np.random.Generator, n_series: int | None = None
) -> np.ndarray:
    """Stationary Ornstein–Uhlenbeck samples with time constant ``tau_s`` (s) and s.d. ``sd``: shape (n,),
    or (n, n_series) independent series."""
    shape = (n,) if n_series is None else (n, n_series)
    a = np.exp(-dt_s / tau_s)
    eps = rng.normal(0.0, sd * np.sqrt(1.0 - a * a), shape)
    eps[0] = rng.normal(0.0, sd, shape[1:])
    return lfilter([1.0], [1.0, -a], eps, axis=0)


def smooth_noise(n: int, dt_s: float, tau_s: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth random signal (n,) of s.d. ``sd``: an OU process (τ in s) Gaussian-smoothed over τ / 4."""
    z = gaussian_filter1d(ou_process(n, dt_s, tau_s, 1.0, rng), max(tau_s / 4 / dt_s, 0.5), mode="wrap")
    return sd * z / max(float(z.std()), 1e-12)


def head_direction_of_path(
    x_cm: np.ndarray,
    y_cm: np.ndarray,
    dt_s: float,
    rng: np.random.Generator,
    offset_sd_rad: float = 0.35,
    offset_tau_s: float = 1.5,
) -> np.ndarray:
    """Head direction (rad, [0, 2π)): heading of the path plus a smooth head-vs-body offset (sd rad, τ s),
    so that the head also turns while the animal stands still."""
    heading = path_heading(x_cm, y_cm, dt_s)
    offset = smooth_noise(x_cm.size, dt_s, offset_tau_s, offset_sd_rad, rng)
    return np.mod(heading + offset, TWO_PI)


def real_trajectory(
    arena: str,
    duration_s: float,
    rng: np.random.Generator,
    dt_s: float = 0.01,
    start_s: float | None = None,
) -> Trajectory:
    """``duration_s`` (s) of a real rat path in ``arena`` (see ARENAS), sampled every ``dt_s`` (s).

    The segment starts at ``start_s`` (s into the dataset; random when None). Positions are in cm, scaled
    and, for the centred arenas, shifted so that the arena's centre is (0, 0).
    """
    dataset, scale, centred = ARENAS[arena]
    total = dataset_duration_s(dataset)
    if duration_s > total:
        raise ValueError(f"{dataset} has {total:.0f} s of path; asked for {duration_s:.0f} s")
    if start_s is None:
        start_s = float(rng.uniform(0.0, total - duration_s))
    n = int(round(duration_s / dt_s)) + 1
    t = np.arange(n) * dt_s
    pos_m = np.asarray(_interpolant(dataset)(start_s + t), dtype=np.float64)
    spec = DATASETS[dataset]
    width_m, height_m = spec["scale"] * spec["aspect"], spec["scale"]
    pos_m = np.clip(pos_m, [0.0, 0.0], [width_m, height_m])  # the spline overshoots the walls slightly
    x = pos_m[:, 0] * 100.0 * scale
    y = pos_m[:, 1] * 100.0 * scale
    if centred:
        x -= width_m * 100.0 * scale / 2
        y -= height_m * 100.0 * scale / 2
    hd = head_direction_of_path(x, y, dt_s, rng)
    return Trajectory(t=t, x=x, y=y, hd=hd, arena=arena, start_s=float(start_s))


def arena_size_cm(arena: str) -> tuple[float, float]:
    """(width, height) of an arena (cm)."""
    dataset, scale, _ = ARENAS[arena]
    spec = DATASETS[dataset]
    return spec["scale"] * spec["aspect"] * 100.0 * scale, spec["scale"] * 100.0 * scale
