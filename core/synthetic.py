"""Synthetic recordings whose answer is known: grid modules (torus), head-direction cells (ring), noise.

Used by the demo, the tests and the benchmarks. Spikes are drawn as inhomogeneous Poisson processes from
rates sampled on a fine time grid; all times in seconds, positions in cm, angles in radians.
"""

from __future__ import annotations

import numpy as np

from core.recording import Recording


def random_walk_2d(
    duration_s: float,
    dt_s: float = 0.01,
    box_cm: float = 150.0,
    mean_speed_cm_s: float = 15.0,
    turn_sd_rad_s: float = 2.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth, rat-like random walk in a square box with reflecting walls.

    Speed follows a positive Ornstein-Uhlenbeck-like process around ``mean_speed_cm_s``; heading diffuses
    with ``turn_sd_rad_s`` (rad/√s). Returns ``t`` (s), ``x``, ``y`` (cm, within [0, box_cm]).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s / dt_s)) + 1
    t = np.arange(n) * dt_s
    turns = rng.normal(0.0, turn_sd_rad_s * np.sqrt(dt_s), n)
    tau_s = 2.0
    noise = rng.normal(0.0, mean_speed_cm_s * np.sqrt(2 * dt_s / tau_s), n)
    x = np.empty(n)
    y = np.empty(n)
    px = py = box_cm / 2
    heading = rng.uniform(0, 2 * np.pi)
    s = mean_speed_cm_s
    for k in range(n):  # scalar recursion, ~0.3 s for 30 min at 10 ms
        s += (mean_speed_cm_s - s) * dt_s / tau_s + noise[k]
        heading += turns[k]
        px += abs(s) * np.cos(heading) * dt_s
        py += abs(s) * np.sin(heading) * dt_s
        if px < 0 or px > box_cm:  # reflect off the wall
            px = -px if px < 0 else 2 * box_cm - px
            heading = np.pi - heading
        if py < 0 or py > box_cm:
            py = -py if py < 0 else 2 * box_cm - py
            heading = -heading
        x[k] = px
        y[k] = py
    return t, x, y


def poisson_spikes(
    rates_hz: np.ndarray, dt_s: float, t0_s: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Spike times (s) per unit from a (T, N) rate matrix (Hz) sampled every ``dt_s`` starting at ``t0_s``.

    Counts per sample are Poisson; spikes are placed uniformly inside their sample.
    """
    counts = rng.poisson(rates_hz * dt_s)
    trains = []
    for j in range(rates_hz.shape[1]):
        idx = np.repeat(np.arange(counts.shape[0]), counts[:, j])
        times = t0_s + (idx + rng.random(idx.size)) * dt_s
        trains.append(np.sort(times))
    return trains


def grid_rates(
    x_cm: np.ndarray,
    y_cm: np.ndarray,
    phases: np.ndarray,
    spacing_cm: float = 50.0,
    orientation_rad: float = 0.3,
    peak_hz: float = 15.0,
    field_sharpness: float = 1.5,
) -> np.ndarray:
    """Rates (Hz), shape (T, N), of ideal grid cells that share spacing and orientation.

    ``phases`` is (N, 2) in lattice coordinates [0, 1)²; a unit fires where the animal's position, in lattice
    coordinates, equals its phase. The tuning is ``peak · exp(s · (Σ_k cos(k_k·(p − p_i)) − 3))`` with three
    wave vectors 60° apart of norm 4π / (√3 · spacing), the usual three-cosine model.
    """
    kn = 4 * np.pi / (np.sqrt(3) * spacing_cm)
    angles = orientation_rad + np.array([0.0, np.pi / 3, 2 * np.pi / 3]) + np.pi / 6
    k = kn * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (3, 2)
    a1 = spacing_cm * np.array([np.cos(orientation_rad), np.sin(orientation_rad)])
    a2 = spacing_cm * np.array([np.cos(orientation_rad + np.pi / 3), np.sin(orientation_rad + np.pi / 3)])
    offsets = phases[:, :1] * a1 + phases[:, 1:2] * a2  # (N, 2) cm
    pos = np.stack([x_cm, y_cm], axis=1)
    g = np.zeros((pos.shape[0], phases.shape[0]))
    for kk in k:
        g += np.cos(pos @ kk[:, None] - (offsets @ kk)[None, :])
    return peak_hz * np.exp(field_sharpness * (g - 3.0))


def grid_module(
    n_units: int = 100,
    duration_s: float = 1800.0,
    spacing_cm: float = 50.0,
    orientation_rad: float = 0.3,
    peak_hz: float = 15.0,
    box_cm: float = 150.0,
    seed: int = 0,
) -> Recording:
    """A grid module whose phases tile the torus, driven by a smooth random walk.

    Phases lie on a jittered √N × √N lattice of the unit cell, so the population activity covers the torus.
    """
    rng = np.random.default_rng(seed)
    dt_s = 0.01
    t, x, y = random_walk_2d(duration_s, dt_s, box_cm=box_cm, seed=seed)
    side = int(np.ceil(np.sqrt(n_units)))
    lattice = (np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5) / side
    phases = (lattice[:n_units] + rng.normal(0.0, 0.15 / side, (n_units, 2))) % 1.0
    rates = grid_rates(x, y, phases, spacing_cm, orientation_rad, peak_hz)
    trains = poisson_spikes(rates, dt_s, t[0], rng)
    return Recording(
        unit_ids=list(range(n_units)),
        spike_times=trains,
        t=t,
        x=x,
        y=y,
        metadata={
            "generator": "core.synthetic.grid_module",
            "spacing_cm": spacing_cm,
            "orientation_rad": orientation_rad,
            "peak_hz": peak_hz,
            "seed": seed,
            "phases": phases.tolist(),
        },
    )


def head_direction_walk(
    duration_s: float, dt_s: float = 0.01, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Head direction (rad, [0, 2π)) whose angular velocity is an OU process (sd 1.5 rad/s, τ = 0.5 s)."""
    rng = np.random.default_rng(seed + 1)
    n = int(round(duration_s / dt_s)) + 1
    tau_s, sd = 0.5, 1.5
    a = np.exp(-dt_s / tau_s)
    eps = rng.normal(0.0, sd * np.sqrt(1 - a * a), n)
    omega = np.empty(n)
    w = 0.0
    for k in range(n):
        w = a * w + eps[k]
        omega[k] = w
    hd = np.mod(np.cumsum(omega) * dt_s + rng.uniform(0, 2 * np.pi), 2 * np.pi)
    return np.arange(n) * dt_s, hd


def head_direction_cells(
    n_units: int = 20,
    duration_s: float = 600.0,
    peak_hz: float = 20.0,
    concentration: float = 4.0,
    background_hz: float = 0.5,
    seed: int = 0,
) -> Recording:
    """Head-direction cells with von Mises tuning, preferred directions evenly spread with jitter.

    Rate = background + peak · exp(κ (cos(hd − μ_i) − 1)). The animal also walks (position attached).
    """
    rng = np.random.default_rng(seed)
    dt_s = 0.01
    t, hd = head_direction_walk(duration_s, dt_s, seed)
    _, x, y = random_walk_2d(duration_s, dt_s, seed=seed)
    preferred = np.mod(
        np.linspace(0, 2 * np.pi, n_units, endpoint=False) + rng.normal(0, 0.1, n_units), 2 * np.pi
    )
    rates = background_hz + peak_hz * np.exp(concentration * (np.cos(hd[:, None] - preferred[None, :]) - 1.0))
    trains = poisson_spikes(rates, dt_s, t[0], rng)
    return Recording(
        unit_ids=list(range(n_units)),
        spike_times=trains,
        t=t,
        x=x,
        y=y,
        hd=hd,
        metadata={
            "generator": "core.synthetic.head_direction_cells",
            "preferred_rad": preferred.tolist(),
            "concentration": concentration,
            "seed": seed,
        },
    )


def independent_units(n_units: int = 50, duration_s: float = 600.0, seed: int = 0) -> Recording:
    """Units with independent, slowly fluctuating Poisson rates (1–10 Hz) and no shared structure."""
    rng = np.random.default_rng(seed)
    dt_s = 0.01
    t, x, y = random_walk_2d(duration_s, dt_s, seed=seed)
    n = t.size
    base = rng.uniform(1.0, 10.0, n_units)
    slow = np.empty((n, n_units))
    a = np.exp(-dt_s / 1.0)
    z = np.zeros(n_units)
    eps = rng.normal(0.0, np.sqrt(1 - a * a), (n, n_units))
    for k in range(n):
        z = a * z + eps[k]
        slow[k] = z
    rates = base * np.exp(0.5 * slow - 0.125)
    trains = poisson_spikes(rates, dt_s, t[0], rng)
    return Recording(
        unit_ids=list(range(n_units)),
        spike_times=trains,
        t=t,
        x=x,
        y=y,
        metadata={"generator": "core.synthetic.independent_units", "seed": seed},
    )
