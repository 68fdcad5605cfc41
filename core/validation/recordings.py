"""Realistic recordings with known answers, built on real rat trajectories (RatInABox).

Every generator returns ``(recording, truth)`` with ``truth`` one of ``"ring"``, ``"torus"``, ``"none"``,
and stores in ``recording.metadata`` the generator, its parameters, the seed, the truth and, for
head-direction ensembles, the true angle (rad, one per sample of ``recording.t``) under ``true_angle_rad``.
Grid populations label their units (``is_grid``, ``module``: −1 for a non-grid unit).

Transforms (``rebin_spikes``, ``sample_and_hold``, ``cut_gaps``, ``circular_shift_null``,
``rate_matched_poisson``) turn one recording into another the way lab exports and controls do, and append
themselves to ``metadata["transforms"]``. Times in s, positions in cm, angles in rad, rates in Hz.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Callable

import numpy as np
from scipy.special import i0e

from core.recording import Recording
from core.synthetic import grid_rates, poisson_spikes
from core.validation.trajectories import (
    ARENAS,
    DATASETS,
    TWO_PI,
    arena_size_cm,
    ou_process,
    real_trajectory,
)

DT_S = 0.01  # time base of every generated recording (100 Hz)
TORUS_MIN_CELLS = 30  # a grid module this large is expected to show its torus
FEW_MAX_CELLS = 11  # a module this small is far too few for a torus
CHUNK_SAMPLES = 20_000  # rates are computed and spikes drawn in chunks of this many samples
MAX_PEAK_HZ = 100.0  # highest head-direction cell peak rate

RateFn = Callable[[slice], np.ndarray]


# --------------------------------------------------------------------------------------------- helpers


def spikes_from_rates(rate_fn: RateFn, n_samples: int, t0_s: float, rng: np.random.Generator) -> list:
    """Poisson spike trains (s) from rates (Hz) given chunk by chunk: ``rate_fn(slice)`` → (len, N).

    Sample k covers [t0 + k·dt, t0 + (k+1)·dt); only the first ``n_samples − 1`` samples fire, so every
    spike lies within [t[0], t[-1]].
    """
    parts: list[list[np.ndarray]] = []
    for start in range(0, n_samples - 1, CHUNK_SAMPLES):
        sl = slice(start, min(start + CHUNK_SAMPLES, n_samples - 1))
        parts.append(poisson_spikes(rate_fn(sl), DT_S, t0_s + start * DT_S, rng))
    n_units = len(parts[0]) if parts else 0
    return [np.concatenate([p[j] for p in parts]) for j in range(n_units)]


def global_gain(n: int, rng: np.random.Generator, sd: float, tau_s: float = 5.0) -> np.ndarray:
    """Slow multiplicative gain shared by all units (mean ≈ 1; log-gain OU with s.d. ``sd``, τ in s)."""
    if sd <= 0:
        return np.ones(n)
    z = ou_process(n, DT_S, tau_s, sd, rng)
    return np.exp(z - sd * sd / 2)


def log_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    """``size`` values spread log-uniformly in [low, high]."""
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _metadata(generator: str, params: dict, seed: int, truth: str, **extra) -> dict:
    return {
        "generator": generator,
        "params": params,
        "seed": int(seed),
        "truth": truth,
        "transforms": [],
    } | extra


def _with(recording: Recording, **changes) -> Recording:
    """A copy of ``recording`` (deep-copied metadata) with some fields replaced."""
    fields = {
        "unit_ids": list(recording.unit_ids),
        "spike_times": recording.spike_times,
        "t": recording.t,
        "x": recording.x,
        "y": recording.y,
        "hd": recording.hd,
        "metadata": copy.deepcopy(recording.metadata),
    }
    fields.update(changes)
    return Recording(**fields)


# --------------------------------------------------------------------------------------------- head direction


def hd_tuning(n_units: int, rng: np.random.Generator, weak_fraction: float = 0.2) -> dict[str, np.ndarray]:
    """Uneven head-direction tuning: mean rates log-uniform 0.3–30 Hz, von Mises widths κ 1–10, some weak.

    A mean rate is lowered where its peak would exceed MAX_PEAK_HZ.

    Preferred directions (rad) are evenly spread with a random jitter of up to half their spacing. A weakly
    tuned unit has modulation depth 0.1–0.35 (the rest is untuned); a tuned unit 0.6–0.98.
    """
    spacing = TWO_PI / n_units
    preferred = np.mod(
        rng.uniform(0, TWO_PI) + np.arange(n_units) * spacing + rng.uniform(-0.5, 0.5, n_units) * spacing,
        TWO_PI,
    )
    weak = rng.random(n_units) < weak_fraction
    depth = np.where(weak, rng.uniform(0.1, 0.35, n_units), rng.uniform(0.6, 0.98, n_units))
    kappa = log_uniform(rng, 1.0, 10.0, n_units)
    peak_per_mean = (1.0 - depth) + depth / i0e(kappa)
    mean_hz = np.minimum(log_uniform(rng, 0.3, 30.0, n_units), MAX_PEAK_HZ / peak_per_mean)
    return {
        "preferred_rad": rng.permutation(preferred),
        "kappa": kappa,
        "depth": depth,
        "mean_hz": mean_hz,
        "weak": weak,
    }


def hd_rates(angle_rad: np.ndarray, tuning: dict[str, np.ndarray]) -> np.ndarray:
    """(T, N) rates (Hz) of the units of ``tuning`` at the angles ``angle_rad`` (T,).

    rate = mean · [(1 − d) + d · exp(κ (cos(θ − μ) − 1)) / (I0(κ) e^{−κ})], whose average over a uniform
    angle is ``mean``.
    """
    kappa, depth = tuning["kappa"], tuning["depth"]
    bump = np.exp(kappa * (np.cos(angle_rad[:, None] - tuning["preferred_rad"][None, :]) - 1.0)) / i0e(kappa)
    return tuning["mean_hz"] * ((1.0 - depth) + depth * bump)


def _tuning_params(tuning: dict[str, np.ndarray]) -> dict:
    return {k: np.asarray(v).tolist() for k, v in tuning.items()}


def head_direction_ensemble(
    n_units: int = 20,
    duration_s: float = 600.0,
    arena: str = "box100",
    weak_fraction: float = 0.2,
    gain_sd: float = 0.15,
    seed: int = 0,
) -> tuple[Recording, str]:
    """Head-direction cells with uneven rates and widths on a real rat path; the answer is ``"ring"``.

    Head direction is the heading of the real path plus a slow head-vs-body offset; x, y (cm) and hd (rad)
    are attached, and the true angle is kept in ``metadata["true_angle_rad"]``.
    """
    rng = np.random.default_rng(seed)
    path = real_trajectory(arena, duration_s, rng, DT_S)
    tuning = hd_tuning(n_units, rng, weak_fraction)
    gain = global_gain(path.t.size, rng, gain_sd)
    trains = spikes_from_rates(
        lambda sl: hd_rates(path.hd[sl], tuning) * gain[sl, None], path.t.size, 0.0, rng
    )
    params = {
        "n_units": n_units,
        "duration_s": duration_s,
        "arena": arena,
        "path_start_s": path.start_s,
        "weak_fraction": weak_fraction,
        "gain_sd": gain_sd,
        "tuning": _tuning_params(tuning),
    }
    meta = _metadata("head_direction_ensemble", params, seed, "ring", true_angle_rad=path.hd.copy())
    rec = Recording(list(range(n_units)), trains, path.t, path.x, path.y, path.hd, metadata=meta)
    return rec, "ring"


def internal_hd_walk(
    n: int, rng: np.random.Generator, sd_rad_s: float = 3.0, tau_s: float = 0.3
) -> np.ndarray:
    """An internal head-direction state (rad, [0, 2π)) whose angular velocity is OU (s.d. rad/s, τ s)."""
    omega = ou_process(n, DT_S, tau_s, sd_rad_s, rng)
    return np.mod(rng.uniform(0, TWO_PI) + np.cumsum(omega) * DT_S, TWO_PI)


def sleep_head_direction(
    n_units: int = 20,
    duration_s: float = 600.0,
    angular_sd_rad_s: float = 3.0,
    weak_fraction: float = 0.2,
    gain_sd: float = 0.3,
    seed: int = 0,
) -> tuple[Recording, str]:
    """Sleep-like head-direction ensemble: the state drifts by itself (fast, REM-like); no behaviour.

    The recording has no x, y or hd; the answer is still ``"ring"`` and the internal angle is in
    ``metadata["true_angle_rad"]`` (one per sample of ``t``).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s / DT_S)) + 1
    t = np.arange(n) * DT_S
    angle = internal_hd_walk(n, rng, angular_sd_rad_s)
    tuning = hd_tuning(n_units, rng, weak_fraction)
    gain = global_gain(n, rng, gain_sd)
    trains = spikes_from_rates(lambda sl: hd_rates(angle[sl], tuning) * gain[sl, None], n, 0.0, rng)
    params = {
        "n_units": n_units,
        "duration_s": duration_s,
        "angular_sd_rad_s": angular_sd_rad_s,
        "weak_fraction": weak_fraction,
        "gain_sd": gain_sd,
        "tuning": _tuning_params(tuning),
    }
    meta = _metadata("sleep_head_direction", params, seed, "ring", true_angle_rad=angle)
    return Recording(list(range(n_units)), trains, t, metadata=meta), "ring"


# --------------------------------------------------------------------------------------------- grid cells


def _ratinabox_module(spacing_cm: float, orientation_rad: float, phases: np.ndarray) -> RateFn:
    """RatInABox GridCells (rectified cosines) of one module: a function pos (T, 2) cm → (T, N) in [0, 1]."""
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment
    from ratinabox.Neurons import GridCells

    n = phases.shape[0]
    with contextlib.redirect_stdout(io.StringIO()):
        cells = GridCells(
            Agent(Environment()),
            params={
                "n": n,
                "gridscale": list(np.full(n, spacing_cm / 100.0)),
                "orientation": list(np.full(n, orientation_rad)),
                "phase_offset": TWO_PI * phases,
                "description": "rectified_cosines",
                "min_fr": 0.0,
                "max_fr": 1.0,
            },
        )
    return lambda pos_cm: cells.get_state(evaluate_at=None, pos=pos_cm / 100.0).T


def module_model(module: dict, model: str) -> RateFn:
    """Rates in [0, 1] of one grid module (keys spacing_cm, orientation_rad, phases, sharpness) as a
    function of positions (T, 2) cm → (T, N): RatInABox GridCells or the three-cosine model."""
    if model == "ratinabox":
        return _ratinabox_module(module["spacing_cm"], module["orientation_rad"], module["phases"])
    if model != "three_cosine":
        raise ValueError(f"unknown grid model {model!r}; use 'ratinabox' or 'three_cosine'")
    return lambda pos: grid_rates(
        pos[:, 0],
        pos[:, 1],
        module["phases"],
        module["spacing_cm"],
        module["orientation_rad"],
        1.0,
        module["sharpness"],
    )


def random_module(n_units: int, spacing_cm: float, rng: np.random.Generator) -> dict:
    """One module: its spacing (cm), a random orientation (rad), uniform phases in [0, 1)², peaks 2–30 Hz."""
    return {
        "n_units": n_units,
        "spacing_cm": float(spacing_cm),
        "orientation_rad": float(rng.uniform(0, np.pi / 3)),
        "phases": rng.random((n_units, 2)),
        "sharpness": float(rng.uniform(1.0, 2.5)),
        "peak_hz": log_uniform(rng, 2.0, 30.0, n_units),
        "background_hz": rng.uniform(0.05, 0.5, n_units),
    }


def other_cells(n_units: int, extent: tuple, rng: np.random.Generator) -> dict:
    """Non-grid units: irregular spatial cells (1–4 random fields) and non-spatial cells, about half each."""
    x0, x1, y0, y1 = extent
    n_fields = rng.integers(1, 5, n_units)
    spatial = rng.random(n_units) < 0.5
    return {
        "n_units": n_units,
        "spatial": spatial,
        "centres_cm": [np.stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)], 1) for k in n_fields],
        "width_cm": rng.uniform(0.05, 0.15, n_units) * max(x1 - x0, y1 - y0),
        "peak_hz": log_uniform(rng, 1.0, 15.0, n_units),
        "mean_hz": log_uniform(rng, 0.3, 10.0, n_units),
    }


def other_rates(x_cm: np.ndarray, y_cm: np.ndarray, others: dict, drift: np.ndarray) -> np.ndarray:
    """(T, N) rates (Hz) of the non-grid units; ``drift`` (T, N) is a slow log-rate fluctuation."""
    out = np.empty((x_cm.size, others["n_units"]))
    for j in range(others["n_units"]):
        if others["spatial"][j]:
            c = others["centres_cm"][j]
            d2 = (x_cm[:, None] - c[None, :, 0]) ** 2 + (y_cm[:, None] - c[None, :, 1]) ** 2
            field = np.exp(-d2 / (2 * others["width_cm"][j] ** 2)).sum(axis=1)
            out[:, j] = 0.1 + others["peak_hz"][j] * field
        else:
            out[:, j] = others["mean_hz"][j] * np.exp(drift[:, j])
    return out


def grid_truth(module_sizes: list[int]) -> str:
    """``"torus"`` when the largest module has at least TORUS_MIN_CELLS units, else ``"none"``."""
    return "torus" if module_sizes and max(module_sizes) >= TORUS_MIN_CELLS else "none"


def grid_population(
    modules: list[tuple[int, float]],
    n_other: int = 0,
    duration_s: float = 900.0,
    arena: str = "box100",
    model: str = "ratinabox",
    gain_sd: float = 0.15,
    seed: int = 0,
) -> tuple[Recording, str]:
    """Grid modules ``[(n_units, spacing_cm), …]`` plus ``n_other`` non-grid units on a real rat path.

    ``model``: ``"ratinabox"`` (RatInABox GridCells, rectified cosines) or ``"three_cosine"``
    (``core.synthetic.grid_rates``). The answer is ``"torus"`` when one module has ≥ 30 units, ``"none"``
    otherwise (see :func:`grid_truth`). Units are labelled in ``metadata["is_grid"]`` and ``["module"]``.
    """
    rng = np.random.default_rng(seed)
    path = real_trajectory(arena, duration_s, rng, DT_S)
    mods = [random_module(n, s, rng) for n, s in modules]
    others = other_cells(n_other, path.extent_cm(), rng)
    drift = ou_process(path.t.size, DT_S, 20.0, 0.5, rng, n_series=n_other)
    gain = global_gain(path.t.size, rng, gain_sd)
    models = [module_model(m, model) for m in mods]
    pos = np.stack([path.x, path.y], axis=1)

    def rates(sl: slice) -> np.ndarray:
        cols = [m["background_hz"] + m["peak_hz"] * f(pos[sl]) for m, f in zip(mods, models, strict=True)]
        cols.append(other_rates(path.x[sl], path.y[sl], others, drift[sl]))
        return np.concatenate(cols, axis=1) * gain[sl, None]

    trains = spikes_from_rates(rates, path.t.size, 0.0, rng)
    module_of = np.concatenate(
        [np.full(m["n_units"], k) for k, m in enumerate(mods)] + [np.full(n_other, -1)]
    )
    truth = grid_truth([n for n, _ in modules])
    params = {
        "modules": [{k: np.asarray(v).tolist() for k, v in m.items()} for m in mods],
        "n_other": n_other,
        "duration_s": duration_s,
        "arena": arena,
        "arena_size_cm": list(arena_size_cm(arena)),
        "path_start_s": path.start_s,
        "model": model,
        "gain_sd": gain_sd,
    }
    meta = _metadata(
        "grid_population", params, seed, truth, is_grid=(module_of >= 0).tolist(), module=module_of.tolist()
    )
    unit_ids = list(range(len(trains)))
    return Recording(unit_ids, trains, path.t, path.x, path.y, path.hd, metadata=meta), truth


# --------------------------------------------------------------------------------------------- place cells


def place_cell_population(
    n_units: int = 60, duration_s: float = 900.0, arena: str = "box100", gain_sd: float = 0.15, seed: int = 0
) -> tuple[Recording, str]:
    """RatInABox PlaceCells (Gaussian fields, widths 8–25 % of the arena, peaks 2–25 Hz); answer "none"."""
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment
    from ratinabox.Neurons import PlaceCells

    rng = np.random.default_rng(seed)
    path = real_trajectory(arena, duration_s, rng, DT_S)
    dataset, scale, centred = ARENAS[arena]
    width_cm, height_cm = arena_size_cm(arena)
    shift = np.array([width_cm / 2, height_cm / 2]) if centred else np.zeros(2)  # back to [0, W] × [0, H]
    centres_m = np.stack([rng.uniform(0, width_cm, n_units), rng.uniform(0, height_cm, n_units)], 1) / 100.0
    widths_m = rng.uniform(0.08, 0.25, n_units) * min(width_cm, height_cm) / 100.0
    peak = log_uniform(rng, 2.0, 25.0, n_units)
    background = rng.uniform(0.02, 0.3, n_units)
    with contextlib.redirect_stdout(io.StringIO()):
        env = Environment(params={"scale": height_cm / 100.0, "aspect": width_cm / height_cm})
        cells = PlaceCells(
            Agent(env),
            params={
                "n": n_units,
                "place_cell_centres": centres_m,
                "widths": widths_m,
                "description": "gaussian",
            },
        )
    pos_m = (np.stack([path.x, path.y], axis=1) + shift) / 100.0
    gain = global_gain(path.t.size, rng, gain_sd)

    def rates(sl: slice) -> np.ndarray:
        return (background + peak * cells.get_state(evaluate_at=None, pos=pos_m[sl]).T) * gain[sl, None]

    trains = spikes_from_rates(rates, path.t.size, 0.0, rng)
    params = {
        "n_units": n_units,
        "duration_s": duration_s,
        "arena": arena,
        "dataset": dataset,
        "path_start_s": path.start_s,
        "centres_cm": (centres_m * 100.0 - shift).tolist(),
        "widths_cm": (widths_m * 100.0).tolist(),
        "peak_hz": peak.tolist(),
        "gain_sd": gain_sd,
    }
    meta = _metadata("place_cell_population", params, seed, "none", is_grid=[False] * n_units)
    rec = Recording(list(range(n_units)), trains, path.t, path.x, path.y, path.hd, metadata=meta)
    return rec, "none"


# --------------------------------------------------------------------------------------------- transforms


def _log(recording: Recording, name: str, **params) -> None:
    recording.metadata.setdefault("transforms", []).append({"name": name, **params})


def rebin_spikes(recording: Recording, bin_s: float = 0.01, max_per_bin: int = 3) -> Recording:
    """Spikes rebuilt from binned counts, as some labs export them: counts in ``bin_s`` (s) bins from
    ``t[0]``, clipped to ``max_per_bin``, each spike placed at its bin's start."""
    t0 = float(recording.t[0])
    trains = []
    for s in recording.spike_times:
        k = np.floor((np.asarray(s) - t0) / bin_s + 1e-9).astype(np.int64)
        bins, counts = np.unique(k, return_counts=True)
        trains.append(t0 + np.repeat(bins, np.minimum(counts, max_per_bin)) * bin_s)
    out = _with(recording, spike_times=trains)
    _log(out, "rebin_spikes", bin_s=bin_s, max_per_bin=max_per_bin)
    return out


def held_index(t: np.ndarray, rate_hz: float) -> np.ndarray:
    """For each sample of ``t`` (s), the index of the sample the tracker last updated at ``rate_hz`` (Hz)."""
    ticks = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate_hz)) + 1) / rate_hz
    at_tick = np.searchsorted(t, ticks - 1e-9)  # the first sample at or after each tracker tick
    last_tick = np.searchsorted(ticks, t + 1e-9, side="right") - 1
    return at_tick[np.clip(last_tick, 0, ticks.size - 1)]


def sample_and_hold(recording: Recording, rate_hz: float = 39.0) -> Recording:
    """Tracking sampled at ``rate_hz`` (Hz) and held constant in between on the recording's time base."""
    idx = held_index(np.asarray(recording.t), rate_hz)
    changes = {
        key: getattr(recording, key)[idx] for key in ("x", "y", "hd") if getattr(recording, key) is not None
    }
    out = _with(recording, **changes)
    _log(out, "sample_and_hold", rate_hz=rate_hz)
    return out


def gap_intervals(
    t0_s: float, t1_s: float, n_gaps: int, rng: np.random.Generator, min_s: float = 0.1, max_s: float = 2.5
) -> np.ndarray:
    """(n, 2) non-overlapping [start, stop) intervals (s) inside (t0, t1), lengths uniform in [min, max]."""
    lengths = rng.uniform(min_s, max_s, n_gaps)
    free = (t1_s - t0_s) - lengths.sum()
    if free <= 0:
        raise ValueError("the gaps are longer than the recording")
    cuts = np.sort(rng.uniform(0.0, free, n_gaps))
    starts = t0_s + cuts + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    return np.stack([starts, starts + lengths], axis=1)


def _outside(times: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Boolean mask of ``times`` (s) that fall in none of the [start, stop) ``gaps``."""
    k = np.searchsorted(gaps[:, 0], times, side="right") - 1
    inside = (k >= 0) & (times < gaps[np.clip(k, 0, None), 1])
    return ~inside


def cut_gaps(
    recording: Recording,
    n_gaps: int = 100,
    seed: int = 0,
    min_s: float = 0.1,
    max_s: float = 2.5,
) -> Recording:
    """Concatenated epochs: ``n_gaps`` stretches (min_s–max_s s) where neither tracking nor spikes exist.

    Samples of ``t`` inside a gap are removed (``t`` jumps), and with them the spikes of their sample
    interval [t_k, t_k+1); the true angle is cut alike.
    """
    t = np.asarray(recording.t)
    gaps = gap_intervals(
        float(t[0]) + 1.0, float(t[-1]) - 1.0, n_gaps, np.random.default_rng(seed), min_s, max_s
    )
    keep = _outside(t, gaps)
    changes = {
        key: getattr(recording, key)[keep] for key in ("x", "y", "hd") if getattr(recording, key) is not None
    }
    trains = [
        s[keep[np.clip(np.searchsorted(t, s, side="right") - 1, 0, t.size - 1)]]
        for s in recording.spike_times
    ]
    out = _with(recording, t=t[keep], spike_times=trains, **changes)
    if "true_angle_rad" in out.metadata:
        out.metadata["true_angle_rad"] = np.asarray(out.metadata["true_angle_rad"])[keep]
    _log(
        out,
        "cut_gaps",
        n_gaps=n_gaps,
        seed=seed,
        min_s=min_s,
        max_s=max_s,
        removed_s=float(np.ptp(gaps, 1).sum()),
    )
    return out


def _as_null(recording: Recording, trains: list, name: str, **params) -> Recording:
    out = _with(recording, spike_times=trains)
    meta = out.metadata
    meta["base_truth"] = meta.get("truth")
    meta["truth"] = "none"
    meta.pop("true_angle_rad", None)
    if "is_grid" in meta:  # the units no longer behave as labelled
        meta["base_is_grid"] = meta.pop("is_grid")
    _log(out, name, **params)
    return out


def circular_shift_null(recording: Recording, seed: int = 0, min_shift_s: float = 20.0) -> Recording:
    """Each unit's spikes shifted circularly in time by its own random amount (≥ ``min_shift_s``, s).

    Every unit keeps its spike count and its own temporal structure; the shared structure is gone, so the
    answer is ``"none"``.
    """
    rng = np.random.default_rng(seed)
    t0, span = float(recording.t[0]), float(recording.t[-1] - recording.t[0])
    trains, shifts = [], rng.uniform(min_shift_s, span - min_shift_s, recording.n_units)
    for s, shift in zip(recording.spike_times, shifts, strict=True):
        trains.append(np.sort(t0 + np.mod(np.asarray(s) - t0 + shift, span)))
    return _as_null(recording, trains, "circular_shift_null", seed=seed, min_shift_s=min_shift_s)


def slow_density(n: int, rng: np.random.Generator, sd: float = 0.5, tau_s: float = 30.0) -> np.ndarray:
    """A positive, slowly fluctuating rate profile (n,), mean ≈ 1 (log-rate OU, s.d. ``sd``, τ in s)."""
    return np.exp(ou_process(n, DT_S, tau_s, sd, rng))


def rate_matched_poisson(recording: Recording, seed: int = 0, slow: bool = False) -> Recording:
    """Each unit's spikes redrawn with the same count, as a homogeneous Poisson process (``slow=False``) or
    one whose rate fluctuates slowly and independently per unit (τ 30 s); the answer is ``"none"``."""
    rng = np.random.default_rng(seed)
    t = np.asarray(recording.t)
    trains = []
    for s in recording.spike_times:
        density = slow_density(t.size, rng) if slow else np.ones(t.size)
        density[:-1] *= np.diff(t) <= 1.5 * DT_S  # no spikes across a gap in t
        cdf = np.concatenate([[0.0], np.cumsum(density[:-1])])
        trains.append(np.sort(np.interp(rng.random(len(s)) * cdf[-1], cdf, t)))
    return _as_null(recording, trains, "rate_matched_poisson", seed=seed, slow=slow)


__all__ = [
    "DATASETS",
    "TORUS_MIN_CELLS",
    "circular_shift_null",
    "cut_gaps",
    "grid_population",
    "head_direction_ensemble",
    "place_cell_population",
    "rate_matched_poisson",
    "rebin_spikes",
    "sample_and_hold",
    "sleep_head_direction",
]
