"""Model analysis: tracking error, tuning curves, bump drift, path-integration error, u over space and time.

All functions take a :class:`~core.simulation.base.SimulationResult` and return plain arrays in dataclasses;
the ``*_figure`` functions draw them on matplotlib's Agg canvas (no pyplot state, safe in worker threads),
like ``core.figures``. Angles in rad, times in s, arena positions in cm, sheet positions in neurons. Which
analyses apply, and how to read a result's positions, come from its model's capabilities in
``core.simulation.registry`` (``ModelSpec.analyses``, ``manifold``, ``coordinates``, ``stimulus``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.errors import ConfigError
from core.simulation.base import TWO_PI, SimulationResult, wrap_pi
from core.simulation.registry import MODELS, ModelSpec, model_spec


def _applies(result: SimulationResult, analysis: str) -> ModelSpec:
    """The spec of the result's model; ConfigError when ``analysis`` is not among its analyses."""
    spec = model_spec(result.model)
    if analysis not in spec.analyses:
        takers = [s.name for s in MODELS.values() if analysis in s.analyses]
        raise ConfigError(
            f"{analysis.replace('_', ' ')} applies to {', '.join(takers) or 'no model'}, not {spec.name}"
        )
    return spec


def _spacing(result: SimulationResult) -> float:
    """Distance between neighbouring neurons: rad on rings and tori, 1 on a sheet of neuron coordinates."""
    if model_spec(result.model).coordinates == "neurons":
        return 1.0
    return TWO_PI / result.config.n


def _periodic(result: SimulationResult) -> bool:
    return model_spec(result.model).periodic(result.config)


def _difference(result: SimulationResult, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return wrap_pi(a - b) if _periodic(result) else a - b


# --------------------------------------------------------------------------- tracking


@dataclass
class TrackingError:
    """Decoded bump vs stimulus. error: (T,) or (T, d) signed difference (rad); distance: (T,) its norm;
    lag_s: the delay of the bump behind the stimulus that best explains the error (s, 0 for a static
    stimulus); mean_distance: mean of ``distance`` after ``transient_s``."""

    t_s: np.ndarray
    error: np.ndarray
    distance: np.ndarray
    lag_s: float
    mean_distance: float
    max_distance: float
    transient_s: float


def tracking_error(
    result: SimulationResult, transient_s: float = 0.2, max_lag_s: float = 1.0
) -> TrackingError:
    """Bump tracking error against the stimulus it follows (models with the "tracking" analysis: CANN1D,
    CANN2D, the HD ring against the true head direction)."""
    _applies(result, "tracking")
    if result.stimulus is None:
        raise ConfigError(f"{result.model} result has no stimulus position to compare the bump with")
    err = _difference(result, result.bump_position, result.stimulus)
    dist = np.abs(err) if err.ndim == 1 else np.linalg.norm(err, axis=1)
    keep = result.t_s >= result.t_s[0] + transient_s
    if not keep.any():
        keep = np.ones_like(dist, dtype=bool)
    dt = result.dt_record_s
    best, lag = np.inf, 0.0
    if np.isfinite(dt) and dt > 0:
        for k in range(0, int(max_lag_s / dt) + 1):  # bump(t) vs stimulus(t - k dt)
            if k >= keep.sum():
                break
            a = result.bump_position[k:][keep[k:]]
            b = result.stimulus[: result.stimulus.shape[0] - k][keep[k:]]
            d = _difference(result, a, b)
            cost = float(np.nanmean(d**2))
            if cost < best - 1e-12:
                best, lag = cost, k * dt
    return TrackingError(
        t_s=result.t_s,
        error=err,
        distance=dist,
        lag_s=lag,
        mean_distance=float(np.nanmean(dist[keep])),
        max_distance=float(np.nanmax(dist[keep])),
        transient_s=transient_s,
    )


def tracking_figure(tracking: TrackingError, result: SimulationResult, title: str = "") -> Figure:
    """Decoded bump position and stimulus over time (per axis), and the tracking distance."""
    pos = np.atleast_2d(result.bump_position.T).T
    stim = np.atleast_2d(result.stimulus.T).T
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    for j in range(pos.shape[1]):
        label = "" if pos.shape[1] == 1 else " xy"[j + 1]
        ax.plot(tracking.t_s, stim[:, j], color="0.6", lw=2, label=f"stimulus {label}".strip())
        ax.plot(tracking.t_s, pos[:, j], lw=1, label=f"bump {label}".strip())
    ax.set_ylabel("position (rad)")
    ax.legend(fontsize=8, loc="upper right")
    ax2.plot(tracking.t_s, tracking.distance, color="C3", lw=1)
    ax2.set_ylabel("error (rad)")
    ax2.set_xlabel("time (s)")
    ax2.set_title(
        f"mean {tracking.mean_distance:.3g} rad, max {tracking.max_distance:.3g} rad, "
        f"lag {tracking.lag_s * 1e3:.0f} ms",
        fontsize=9,
    )
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- tuning curves


@dataclass
class TuningCurves:
    """Mean rate of each recorded neuron per stimulus bin. centres: bin centres (rad on rings; arena cm or rad
    on sheets, one array per axis); curves: (n_units, n_bins) or (n_units, ny, nx), NaN where unvisited;
    preferred: (n_units,) or (n_units, 2) bin centre of the peak; unit_index: the neurons."""

    centres: list[np.ndarray]
    curves: np.ndarray
    preferred: np.ndarray
    unit_index: np.ndarray
    variable: str


def tuning_curves(result: SimulationResult, n_bins: int = 60) -> TuningCurves:
    """Tuning of the recorded neurons to what drove them (the model's ``stimulus``): the stimulus or head
    direction on rings, the stimulus position on CANN2D sheets, the arena position (cm) for the grid network.
    Angles are binned over [-π, π), other units over the range visited."""
    spec = model_spec(result.model)
    variable = f"{spec.stimulus} ({spec.stimulus_unit})"
    if n_bins < 2:
        raise ConfigError(f"n_bins must be ≥ 2, got {n_bins}")
    if result.stimulus is None:
        raise ConfigError(f"the {result.model} run has no stimulus or trajectory to tune to")
    rates = np.asarray(result.rates, dtype=np.float64)
    stim = np.asarray(result.stimulus, dtype=np.float64)
    if stim.ndim == 1:
        edges = np.linspace(-np.pi, np.pi, n_bins + 1)
        which = np.clip(np.digitize(wrap_pi(stim), edges) - 1, 0, n_bins - 1)
        counts = np.bincount(which, minlength=n_bins)
        sums = np.stack(
            [np.bincount(which, weights=rates[:, j], minlength=n_bins) for j in range(rates.shape[1])]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            curves = np.where(counts > 0, sums / counts, np.nan)
        centres = [0.5 * (edges[:-1] + edges[1:])]
        peak = np.nanargmax(np.where(np.isfinite(curves), curves, -np.inf), axis=1)
        preferred = centres[0][peak]
    else:
        if spec.stimulus_unit == "rad":
            lo, hi = np.array([-np.pi, -np.pi]), np.array([np.pi, np.pi])
        else:
            lo, hi = stim.min(axis=0), stim.max(axis=0) + 1e-9
        ex = np.linspace(lo[0], hi[0], n_bins + 1)
        ey = np.linspace(lo[1], hi[1], n_bins + 1)
        ix = np.clip(np.digitize(stim[:, 0], ex) - 1, 0, n_bins - 1)
        iy = np.clip(np.digitize(stim[:, 1], ey) - 1, 0, n_bins - 1)
        flat = iy * n_bins + ix
        counts = np.bincount(flat, minlength=n_bins * n_bins)
        sums = np.stack(
            [np.bincount(flat, weights=rates[:, j], minlength=n_bins**2) for j in range(rates.shape[1])]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            curves = np.where(counts > 0, sums / counts, np.nan).reshape(-1, n_bins, n_bins)
        centres = [0.5 * (ex[:-1] + ex[1:]), 0.5 * (ey[:-1] + ey[1:])]
        peak = np.nanargmax(np.where(np.isfinite(curves), curves, -np.inf).reshape(len(curves), -1), axis=1)
        preferred = np.stack([centres[0][peak % n_bins], centres[1][peak // n_bins]], axis=1)
    return TuningCurves(centres, curves, preferred, result.unit_index.copy(), variable)


def tuning_figure(tuning: TuningCurves, max_units: int = 16, title: str = "") -> Figure:
    """Ring: every curve on one axis (up to ``max_units``); sheets: one small map per unit."""
    n = min(len(tuning.curves), max_units)
    if tuning.curves.ndim == 2:
        fig = Figure(figsize=(6.5, 3.8), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for j in range(n):
            ax.plot(tuning.centres[0], tuning.curves[j], lw=1)
        ax.set_xlabel(tuning.variable)
        ax.set_ylabel("rate (model units)")
    else:
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        fig = Figure(figsize=(1.8 * cols, 1.8 * rows + 0.4), layout="constrained")
        FigureCanvasAgg(fig)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        ext = (tuning.centres[0][0], tuning.centres[0][-1], tuning.centres[1][0], tuning.centres[1][-1])
        for j, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if j < n:
                ax.imshow(tuning.curves[j], origin="lower", extent=ext, cmap="viridis", aspect="equal")
                ax.set_title(f"unit {tuning.unit_index[j]}", fontsize=8)
            else:
                ax.axis("off")
        fig.supxlabel(tuning.variable, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- drift


@dataclass
class Drift:
    """Bump displacement since the first record. displacement: (T,) or (T, d) (rad; grid sheet: neurons);
    distance: (T,) its norm; in_spacings: ``distance`` in neuron spacings; rate_per_s: final distance / s."""

    t_s: np.ndarray
    displacement: np.ndarray
    distance: np.ndarray
    in_spacings: np.ndarray
    rate_per_s: float
    max_in_spacings: float


def bump_drift(result: SimulationResult) -> Drift:
    """How far the bump wanders from where it was at the first record (meaningful without input)."""
    spec = model_spec(result.model)
    pos = np.asarray(result.bump_position, dtype=np.float64)
    if spec.coordinates == "rad" and _periodic(result):  # angles (a sheet in neurons is unwrapped already)
        pos = np.unwrap(pos, axis=0)
    disp = pos - pos[0]
    dist = np.abs(disp) if disp.ndim == 1 else np.linalg.norm(disp, axis=1)
    spacings = dist / _spacing(result)
    span = result.t_s[-1] - result.t_s[0]
    return Drift(
        t_s=result.t_s,
        displacement=disp,
        distance=dist,
        in_spacings=spacings,
        rate_per_s=float(dist[-1] / span) if span > 0 else 0.0,
        max_in_spacings=float(np.nanmax(spacings)),
    )


def drift_figure(drift: Drift, title: str = "") -> Figure:
    fig = Figure(figsize=(6.5, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(drift.t_s, drift.in_spacings, lw=1)
    ax.axhline(1.0, color="0.6", ls="--", lw=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("drift (neuron spacings)")
    ax.set_title(f"max {drift.max_in_spacings:.3g} spacings, {drift.rate_per_s:.3g} per s", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- path integration


@dataclass
class PathIntegration:
    """Integrated vs true trajectory. HD ring: ``estimate`` and ``truth`` are unwrapped angles (rad) relative
    to the start, ``error`` their difference (rad). Grid network: arena displacements (cm) since the start,
    ``error`` the distance (cm). ``unit`` names the unit."""

    t_s: np.ndarray
    estimate: np.ndarray
    truth: np.ndarray
    error: np.ndarray
    unit: str
    final_error: float
    max_error: float


def path_integration_error(result: SimulationResult) -> PathIntegration:
    """Path-integration error over time of a model with the "path_integration" analysis: an angle on a ring
    (the HD ring), a position in the arena otherwise (the grid network, via its measured velocity gain)."""
    spec = _applies(result, "path_integration")
    if spec.manifold == "ring":
        if result.stimulus is None:
            raise ConfigError(f"the {spec.name} run has no true head direction to compare with")
        est = np.unwrap(result.bump_position)
        true = np.unwrap(result.stimulus)
        est, true = est - est[0], true - true[0]
        err = est - true
        unit = "rad"
        mag = np.abs(err)
    else:
        gain = result.extra.get("velocity_gain")
        if gain is None or result.stimulus is None:
            raise ConfigError(f"the {spec.name} run has no velocity gain or no arena trajectory")
        est = result.bump_position / gain * 100.0  # neurons → m → cm
        true = result.stimulus - np.asarray(result.extra.get("start_cm", result.stimulus[0]))
        err = est - true
        mag = np.linalg.norm(err, axis=1)
        unit = "cm"
    return PathIntegration(
        result.t_s, est, true, mag if unit == "cm" else err, unit, float(mag[-1]), float(mag.max())
    )


def path_integration_figure(pi: PathIntegration, title: str = "") -> Figure:
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(2, 1, height_ratios=(2, 1))
    if pi.unit == "rad":
        ax.plot(pi.t_s, pi.truth, color="0.6", lw=2, label="true")
        ax.plot(pi.t_s, pi.estimate, lw=1, label="integrated")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("turned (rad)")
    else:
        ax.plot(pi.truth[:, 0], pi.truth[:, 1], color="0.6", lw=2, label="true")
        ax.plot(pi.estimate[:, 0], pi.estimate[:, 1], lw=1, label="integrated")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x (cm from start)")
        ax.set_ylabel("y (cm)")
    ax.legend(fontsize=8)
    ax2.plot(pi.t_s, np.abs(pi.error), color="C3", lw=1)
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel(f"error ({pi.unit})")
    ax2.set_title(f"final {pi.final_error:.3g} {pi.unit}, max {pi.max_error:.3g} {pi.unit}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- u over space and time


@dataclass
class SpaceTime:
    """u over (time, space) of a ring run: positions (N,) rad, t_s (T,), u (T, N); the decoded bump and the
    stimulus (T,) for overlays."""

    positions: np.ndarray
    t_s: np.ndarray
    u: np.ndarray
    bump: np.ndarray
    stimulus: np.ndarray | None


def space_time(result: SimulationResult) -> SpaceTime:
    """The energy-landscape arrays of a ring run simulated with ``record_state=True``."""
    if result.state_trace is None or result.state_trace.ndim != 2:
        raise ConfigError("run a ring model with record_state=True to get u over space and time")
    from core.simulation.base import ring_positions

    return SpaceTime(
        ring_positions(result.state_trace.shape[1]),
        result.t_s,
        np.asarray(result.state_trace),
        result.bump_position,
        result.stimulus,
    )


def energy_landscape_figure(st: SpaceTime, title: str = "") -> Figure:
    """u over space (y) and time (x) as an image, with the decoded bump and the stimulus on top."""
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    half = (st.positions[1] - st.positions[0]) / 2
    ext = (st.t_s[0], st.t_s[-1], st.positions[0] - half, st.positions[-1] + half)
    im = ax.imshow(st.u.T, origin="lower", aspect="auto", extent=ext, cmap="magma")
    fig.colorbar(im, ax=ax, label="u")

    def broken(y: np.ndarray) -> np.ndarray:  # no vertical line where the angle wraps
        y = np.asarray(y, dtype=np.float64).copy()
        y[1:][np.abs(np.diff(y)) > np.pi] = np.nan
        return y

    if st.stimulus is not None:
        ax.plot(st.t_s, broken(st.stimulus), color="cyan", lw=1, label="stimulus")
    ax.plot(st.t_s, broken(st.bump), color="white", lw=0.8, ls="--", label="decoded bump")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("preferred position (rad)")
    ax.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def sheet_figure(u: np.ndarray, title: str = "", extent: tuple | None = None) -> Figure:
    """One frame of a 2-D sheet (CANN2D u or the grid network's s)."""
    fig = Figure(figsize=(4.2, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    im = ax.imshow(np.asarray(u), origin="lower", cmap="viridis", extent=extent)
    fig.colorbar(im, ax=ax)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- everything that applies


def analyse(result: SimulationResult) -> dict[str, object]:
    """Every model analysis that applies to ``result`` (those its model declares, ``ModelSpec.analyses``),
    by name: ``tracking`` (bump vs stimulus), ``path_integration``, ``tuning``, ``drift`` (when the input
    switches off), ``space_time`` (ring runs that kept their state). Analyses that cannot run on this result
    (no stimulus, no kept state, ...) are left out."""
    makers = {
        "tracking": tracking_error,
        "path_integration": path_integration_error,
        "tuning": tuning_curves,
        "drift": bump_drift,
        "space_time": space_time,
    }
    amp = result.task.stim_amp if result.task is not None else None
    input_off = amp is not None and bool(np.any(amp == 0))  # a free bump: drift means something
    out: dict[str, object] = {}
    for name in model_spec(result.model).analyses:
        if name not in makers or (name == "drift" and not input_off):
            continue
        try:
            out[name] = makers[name](result)
        except ConfigError:
            continue
    return out


def summary_lines(result: SimulationResult, analyses: dict[str, object]) -> list[str]:
    """One line per headline figure of a run (speed, device, tracking, path integration, drift)."""
    lines = [
        f"{result.n_steps:,} steps in {result.wall_s:.2f} s ({result.steps_per_s:,.0f} steps/s) on "
        f"{result.device}"
    ]
    tr = analyses.get("tracking")
    if isinstance(tr, TrackingError):
        lines.append(
            f"tracking: mean error {tr.mean_distance:.3g} rad, max {tr.max_distance:.3g} rad, "
            f"lag {tr.lag_s * 1e3:.0f} ms"
        )
    pi = analyses.get("path_integration")
    if isinstance(pi, PathIntegration):
        lines.append(
            f"path integration: final error {pi.final_error:.3g} {pi.unit}, max {pi.max_error:.3g} {pi.unit}"
        )
    drift = analyses.get("drift")
    if isinstance(drift, Drift):
        lines.append(f"drift: max {drift.max_in_spacings:.3g} neuron spacings")
    return lines
