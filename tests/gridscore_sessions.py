"""Realistic medial-entorhinal test sessions with known answers, on real rat paths shipped with RatInABox.

Paths: Sargolini et al. (2006), Science 312:758 (600 s, 1 m box) and Tanni et al. (2022), Curr. Biol.
32:2793 (7,323 s, 3.5 × 2.5 m), both as in ``ratinabox/data``; a path can be rescaled to any square box and
shifted so that the arena is centred on any point (e.g. −165…+165 cm). Grid cells: Gaussian fields on a
jittered hexagonal lattice (field s.d. 0.13 × spacing, field centres jittered by 5 % of the spacing, field
peak rates log-normal around the cell's peak rate of 2–20 Hz) plus a background rate. Non-grid cells:
place-like (1–3 fields), spatially irregular (an exponentiated smooth random field) or untuned (a slowly
fluctuating rate). Spikes are Poisson.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from core.preprocess import PreprocessConfig, RateMatrix, compute_rates
from core.recording import Recording
from core.synthetic import poisson_spikes


@dataclass(frozen=True)
class Module:
    """A grid module: spacing (cm), orientation (deg) and number of cells."""

    spacing_cm: float
    orientation_deg: float
    n_cells: int


@dataclass
class Session:
    """A simulated session: its rate matrix and the truth per unit (NaN / −1 for non-grid cells)."""

    rate_matrix: RateMatrix
    is_grid: np.ndarray
    module: np.ndarray
    spacing_cm: np.ndarray
    orientation_deg: np.ndarray
    kinds: list = field(default_factory=list)


def real_path(
    dataset: str, box_cm: float, centre_cm: tuple[float, float] = (0.0, 0.0), duration_s: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t s, x cm, y cm) of a RatInABox real path ("sargolini" or "tanni"), stretched to a square box of side
    ``box_cm`` centred on ``centre_cm``; the first ``duration_s`` only when given."""
    import ratinabox

    data = np.load(Path(ratinabox.__file__).parent / "data" / f"{dataset}.npz")
    t, pos = data["t"] - data["t"][0], data["pos"]
    keep = t <= duration_s if duration_s is not None else np.ones(t.size, bool)
    t, pos = t[keep], pos[keep]
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    xy = (pos - lo) / (hi - lo) * box_cm - box_cm / 2 + np.asarray(centre_cm)
    return t, xy[:, 0], xy[:, 1]


def resample(t: np.ndarray, x: np.ndarray, y: np.ndarray, dt_s: float) -> tuple:
    """Linear interpolation of a path (s, cm) onto a regular time base of step ``dt_s`` (s)."""
    tt = np.arange(t[0], t[-1], dt_s)
    return tt, np.interp(tt, t, x), np.interp(tt, t, y)


def grid_cell_rates(
    x: np.ndarray, y: np.ndarray, module: Module, peak_hz: float, rng: np.random.Generator, extent: float
) -> np.ndarray:
    """Rate (Hz) along the path of one grid cell of ``module`` with a random phase and field jitter."""
    s = module.spacing_cm
    th = np.deg2rad(module.orientation_deg)
    a1 = s * np.array([np.cos(th), np.sin(th)])
    a2 = s * np.array([np.cos(th + np.pi / 3), np.sin(th + np.pi / 3)])
    centre = np.array([np.mean(x), np.mean(y)])
    n = int(np.ceil(extent / s)) + 3
    i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1))
    phase = rng.random(2)
    nodes = (i.ravel()[:, None] + phase[0]) * a1 + (j.ravel()[:, None] + phase[1]) * a2 + centre
    near = np.all(np.abs(nodes - centre) < extent / 2 + s, axis=1)
    nodes = nodes[near] + rng.normal(0.0, 0.06 * s, size=(int(near.sum()), 2))
    stretch = 1.0 + rng.uniform(0.0, 0.1)  # ellipticity of real lattices (Stensola et al. 2015)
    nodes = centre + (nodes - centre) * np.array([np.sqrt(stretch), 1.0 / np.sqrt(stretch)])
    gains = rng.lognormal(0.0, 0.6, size=nodes.shape[0]) * (rng.random(nodes.shape[0]) > 0.1)
    sd = 0.13 * s
    rate = np.zeros(x.size)
    for (cx, cy), g in zip(nodes, gains, strict=True):
        rate += g * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sd * sd))
    return peak_hz * rate + rng.uniform(0.05, 0.5)


def place_rates(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, extent: float) -> np.ndarray:
    """Rate (Hz) of a place-like cell: 1–3 Gaussian fields (s.d. 5–15 % of the box) anywhere in the box."""
    centre = np.array([np.mean(x), np.mean(y)])
    rate = np.full(x.size, rng.uniform(0.1, 0.8))
    for _ in range(rng.integers(1, 4)):
        c = centre + rng.uniform(-0.45, 0.45, size=2) * extent
        sd = rng.uniform(0.05, 0.15) * extent
        rate += rng.uniform(2.0, 15.0) * np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2) / (2 * sd * sd))
    return rate


def irregular_rates(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, extent: float) -> np.ndarray:
    """Rate (Hz) of a spatially irregular cell: exp of a smooth random field (length 6–20 % of the box)."""
    n = 64
    length = rng.uniform(0.06, 0.2) * n
    f = gaussian_filter(rng.normal(size=(n, n)), length, mode="wrap")
    f = (f - f.mean()) / f.std()
    lo = np.array([np.min(x), np.min(y)])
    ix = np.clip(((x - lo[0]) / extent * (n - 1)).astype(int), 0, n - 1)
    iy = np.clip(((y - lo[1]) / extent * (n - 1)).astype(int), 0, n - 1)
    return rng.uniform(1.0, 6.0) * np.exp(0.8 * f[iy, ix]) / np.exp(0.32)


def untuned_rates(n: int, dt_s: float, rng: np.random.Generator) -> np.ndarray:
    """Rate (Hz) of an untuned cell: 1–10 Hz with slow (~10 s) log-normal fluctuations."""
    f = gaussian_filter(rng.normal(size=n), 10.0 / dt_s, mode="wrap")
    f = f / (f.std() + 1e-12)
    return rng.uniform(1.0, 10.0) * np.exp(0.3 * f - 0.045)


def pass_gain(n: int, n_units: int, dt_s: float, rng: np.random.Generator) -> np.ndarray:
    """(n, n_units) slow log-normal rate gains (s.d. 0.5 in log, ~3 s correlation): pass-to-pass
    variability."""
    f = gaussian_filter(rng.normal(size=(n, n_units)), (3.0 / dt_s, 0.0), mode="wrap")
    f /= f.std(axis=0, keepdims=True) + 1e-12
    return np.exp(0.5 * f - 0.125)


def bursty(trains: list, t_end: float, rng: np.random.Generator) -> list:
    """Each spike becomes a burst of 1–3 spikes 4 ms apart (mean 1.5), sorted, none after ``t_end`` (s)."""
    out = []
    for tr in trains:
        extra = rng.choice(3, size=tr.size, p=[0.6, 0.3, 0.1])
        parts = [tr] + [tr[extra > k] + 0.004 * (k + 1) for k in range(2)]
        merged = np.sort(np.concatenate(parts))
        out.append(merged[merged <= t_end])
    return out


def make_session(
    modules: list[Module],
    n_place: int = 0,
    n_irregular: int = 0,
    n_untuned: int = 0,
    dataset: str = "tanni",
    box_cm: float = 330.0,
    centre_cm: tuple[float, float] = (0.0, 0.0),
    duration_s: float | None = None,
    dt_s: float = 0.02,
    seed: int = 0,
) -> Session:
    """Grid cells of ``modules`` and non-grid cells on a real path, Poisson spikes, binned at ``dt_s`` (s)."""
    rng = np.random.default_rng(seed)
    t, x, y = resample(*real_path(dataset, box_cm, centre_cm, duration_s), dt_s)
    cols, kinds, truth = [], [], []
    for m_index, mod in enumerate(modules):
        for _ in range(mod.n_cells):
            cols.append(grid_cell_rates(x, y, mod, rng.uniform(2.0, 20.0), rng, box_cm))
            kinds.append("grid")
            truth.append((m_index, mod.spacing_cm, mod.orientation_deg))
    for kind, n in (("place", n_place), ("irregular", n_irregular), ("untuned", n_untuned)):
        for _ in range(n):
            if kind == "place":
                cols.append(place_rates(x, y, rng, box_cm))
            elif kind == "irregular":
                cols.append(irregular_rates(x, y, rng, box_cm))
            else:
                cols.append(untuned_rates(x.size, dt_s, rng))
            kinds.append(kind)
            truth.append((-1, np.nan, np.nan))
    rates = np.stack(cols, axis=1) * pass_gain(x.size, len(cols), dt_s, rng)
    trains = bursty(poisson_spikes(rates, dt_s, float(t[0]), rng), float(t[-1]), rng)
    rec = Recording(unit_ids=list(range(len(cols))), spike_times=trains, t=t, x=x, y=y)
    rm = compute_rates(rec, PreprocessConfig(dt_s=dt_s))
    mod_t, sp_t, or_t = (np.array(v) for v in zip(*truth, strict=True))
    return Session(rm, mod_t >= 0, mod_t.astype(int), sp_t.astype(float), or_t.astype(float), kinds)


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC area (Mann–Whitney U / n₊n₋) of scores ``positive`` above ``negative``; NaN scores count lowest."""
    p = np.nan_to_num(np.asarray(positive, float), nan=-np.inf)
    n = np.nan_to_num(np.asarray(negative, float), nan=-np.inf)
    greater = (p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()
    return float(greater / (p.size * n.size))


def angle_error_mod60(a_deg: np.ndarray, b_deg: np.ndarray) -> np.ndarray:
    """|a − b| (deg) on the circle of 60°."""
    d = np.mod(np.asarray(a_deg) - np.asarray(b_deg), 60.0)
    return np.minimum(d, 60.0 - d)
