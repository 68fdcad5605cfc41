"""PathCompare: the animal's path in the arena beside its decoded path on the torus square (or ring).

Decoded phases live on a periodic domain, so a step from 2π − ε to ε is short; drawn naively it would cross
the whole square. After every step whose decoded phase changes by more than π in any coordinate (or whose
head direction wraps, or whose time gap exceeds ``max_gap_s``: bins removed by the speed filter) one row is
inserted into *all* the window's arrays, so they stay aligned. In that row an array is NaN when it must break
there (a periodic array that wraps at this step, or any array at a time gap) and otherwise the midpoint of its
neighbours, so the physical path stays continuous while the decoded path is cut at every wrap-around.

With head direction and a ring decoding, the decoded angle is aligned to head direction (best of the two
orientations ±1 and a constant offset, fitted on the whole recording by the circular mean of hd ∓ θ) and both
are shown over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from core.angles import TWO_PI
from core.config import Config
from core.decoding import Decoding
from core.errors import ConfigError, RecordingError


@dataclass(frozen=True)
class PathCompareConfig(Config):
    """Time window and line breaks.

    t0_s: window start (s, on the recording's clock); None = first time bin. duration_s: window length (s).
    max_gap_s: break the lines where consecutive kept bins are further apart than this (s).
    """

    t0_s: float | None = field(
        default=None, metadata={"unit": "s", "help": "window start (empty: first bin)"}
    )
    duration_s: float = field(
        default=30.0, metadata={"unit": "s", "min": 0.01, "max": 1e7, "help": "window length"}
    )
    max_gap_s: float = field(
        default=0.5, metadata={"unit": "s", "min": 0.0, "max": 60.0, "help": "break lines at longer gaps"}
    )


@dataclass
class HdAlignment:
    """Decoded ring angle mapped onto head direction: hd ≈ sign·θ + offset (rad).

    agreement: mean resultant length of hd − (sign·θ + offset) over the recording (1 = identical).
    circular_correlation, median_error_deg: the decoding's agreement with head direction over the whole
    recording (|Fisher–Lee ρ|; median |error| after the best rotation and reflection), NaN when unknown.
    """

    sign: int
    offset_rad: float
    agreement: float
    circular_correlation: float = float("nan")
    median_error_deg: float = float("nan")

    def describe(self) -> str:
        """"circular correlation 0.91, median error 12°" (or the resultant when those are unknown)."""
        if np.isfinite(self.circular_correlation):
            return (
                f"circular correlation {self.circular_correlation:.2f}, "
                f"median error {self.median_error_deg:.0f}°"
            )
        return f"agreement {self.agreement:.2f}"

    def apply(self, theta: np.ndarray) -> np.ndarray:
        return np.mod(self.sign * theta + self.offset_rad, TWO_PI)


@dataclass
class PathCompare:
    """The window's arrays, all the same length, with NaN where lines must break (see the module docstring).

    t: (n,) s. x, y: (n,) cm or None. theta: (n, n_circles) rad. hd: (n,) rad or None. theta_hd: (n,) decoded
    ring angle aligned to hd (rad) or None. index: (n,) row of the decoding (−1 in inserted rows).
    t0_s, t1_s: the window (s).
    """

    t: np.ndarray
    x: np.ndarray | None
    y: np.ndarray | None
    theta: np.ndarray
    hd: np.ndarray | None
    theta_hd: np.ndarray | None
    index: np.ndarray
    t0_s: float
    t1_s: float
    hd_alignment: HdAlignment | None
    config: PathCompareConfig

    @property
    def n_circles(self) -> int:
        return self.theta.shape[1]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The window's arrays (NaN rows are the line breaks) for :func:`core.export.export_data`."""
        out = {
            "t_s": self.t,
            "theta_rad": self.theta,
            "decoding_row": self.index,
            "window_s": np.array([self.t0_s, self.t1_s]),
        }
        if self.x is not None:
            out["x_cm"], out["y_cm"] = self.x, self.y
        if self.hd is not None:
            out["hd_rad"] = self.hd
        if self.theta_hd is not None:
            out["theta_aligned_to_hd_rad"] = self.theta_hd
            al = self.hd_alignment
            out["hd_alignment_sign_offset_agreement"] = np.array([al.sign, al.offset_rad, al.agreement])
            out["hd_circular_correlation_median_error_deg"] = np.array(
                [al.circular_correlation, al.median_error_deg]
            )
        return out


def window_rows(t: np.ndarray, t0_s: float | None, duration_s: float) -> tuple[np.ndarray, float, float]:
    """Rows with t in [t0, t0 + duration) and the window (s); t0 None = first time."""
    t0 = float(t[0]) if t0_s is None else float(t0_s)
    t1 = t0 + float(duration_s)
    rows = np.flatnonzero((t >= t0) & (t < t1))
    if rows.size == 0:
        raise ConfigError(
            f"no time bin in the window [{t0:.2f}, {t1:.2f}) s; the recording spans "
            f"{float(t[0]):.2f}–{float(t[-1]):.2f} s"
        )
    return rows, t0, t1


def jumps(values: np.ndarray) -> np.ndarray:
    """(n − 1,) True where a periodic value (rad; (n,) or (n, c)) steps by more than π in any coordinate."""
    step = np.abs(np.diff(np.asarray(values, dtype=np.float64), axis=0))
    return np.any(step > np.pi, axis=1) if step.ndim == 2 else step > np.pi


def insert_rows(values: np.ndarray, after: np.ndarray, blank: np.ndarray) -> np.ndarray:
    """``values`` with a row inserted after each index in ``after``: NaN where ``blank`` (aligned with
    ``after``), else the midpoint of its neighbours (so a line that needs no break stays continuous)."""
    values = np.asarray(values, dtype=np.float64)
    mid = 0.5 * (values[after] + values[after + 1])
    mid[blank] = np.nan
    return np.insert(values, after + 1, mid, axis=0)


def align_to_hd(theta: np.ndarray, hd: np.ndarray) -> HdAlignment:
    """Best sign (±1) and offset (rad) mapping a decoded ring angle ``theta`` onto head direction ``hd``."""
    ok = np.isfinite(theta) & np.isfinite(hd)
    best = HdAlignment(1, 0.0, 0.0)
    for sign in (1, -1):
        z = np.mean(np.exp(1j * (hd[ok] - sign * theta[ok]))) if ok.any() else 0j
        if abs(z) > best.agreement:
            best = HdAlignment(sign, float(np.mod(np.angle(z), TWO_PI)), float(abs(z)))
    return best


def compute_pathcompare(decoding: Decoding, config: PathCompareConfig | None = None) -> PathCompare:
    """The physical and decoded paths in a time window, with NaN breaks at wrap-arounds and time gaps."""
    config = config or PathCompareConfig()
    config.validate()
    t = np.asarray(decoding.t, dtype=np.float64)
    theta = np.mod(np.asarray(decoding.theta, dtype=np.float64), TWO_PI)
    if theta.shape[0] != t.size:
        raise RecordingError(f"decoding has {theta.shape[0]} phases but {t.size} times")
    rows, t0, t1 = window_rows(t, config.t0_s, config.duration_s)
    alignment = None
    if decoding.hd is not None and decoding.n_circles == 1:
        alignment = align_to_hd(theta[:, 0], np.asarray(decoding.hd, dtype=np.float64))
        measured = decoding.metrics.get("head_direction") or {}
        alignment.circular_correlation = float(measured.get("circular_correlation", np.nan))
        alignment.median_error_deg = float(measured.get("median_error_deg", np.nan))
    tw = t[rows]
    th = theta[rows]
    hd = None if decoding.hd is None else np.asarray(decoding.hd, dtype=np.float64)[rows]
    theta_hd = None if alignment is None else alignment.apply(th[:, 0])
    x = None if decoding.x is None else np.asarray(decoding.x, dtype=np.float64)[rows]
    y = None if decoding.y is None else np.asarray(decoding.y, dtype=np.float64)[rows]
    gap = ~(np.diff(tw) <= config.max_gap_s)
    periodic = [jumps(v) for v in (th, hd, theta_hd) if v is not None]
    after = np.flatnonzero(gap | np.any(periodic, axis=0))
    cut_gap = gap[after]

    def cut(v, periodic_value: bool = False):
        if v is None:
            return None
        return insert_rows(v, after, cut_gap | jumps(v)[after] if periodic_value else cut_gap)

    return PathCompare(
        t=cut(tw),
        x=cut(x),
        y=cut(y),
        theta=cut(th, True),
        hd=cut(hd, True),
        theta_hd=cut(theta_hd, True),
        index=np.insert(rows, after + 1, -1),
        t0_s=t0,
        t1_s=t1,
        hd_alignment=alignment,
        config=config,
    )


def time_coloured_line(
    ax, a: np.ndarray, b: np.ndarray, t: np.ndarray, t0: float, t1: float, lw: float = 1.2
):
    """Segments (a_i, b_i) → (a_i+1, b_i+1) coloured by time; segments touching NaN are left out."""
    pts = np.stack([a, b], axis=1)
    seg = np.stack([pts[:-1], pts[1:]], axis=1)
    ok = np.all(np.isfinite(seg), axis=(1, 2))
    mid = 0.5 * (t[:-1] + t[1:])
    lc = LineCollection(seg[ok], cmap="viridis", linewidths=lw)
    lc.set_array(mid[ok])
    lc.set_clim(t0, t1)
    ax.add_collection(lc)
    return lc


def _mark_ends(ax, a: np.ndarray, b: np.ndarray) -> None:
    ok = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if ok.size:
        ax.plot(a[ok[0]], b[ok[0]], "o", color="#2ca02c", ms=6, mec="black", mew=0.6, label="start")
        ax.plot(a[ok[-1]], b[ok[-1]], "s", color="#d62728", ms=6, mec="black", mew=0.6, label="end")


def _pi_axis(axis) -> None:
    axis.set_ticks([0, np.pi / 2, np.pi, 3 * np.pi / 2, TWO_PI], labels=["0", "π/2", "π", "3π/2", "2π"])


def _physical_panel(ax, r: PathCompare):
    lc = time_coloured_line(ax, r.x, r.y, r.t, r.t0_s, r.t1_s)
    _mark_ends(ax, r.x, r.y)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (cm)")
    ax.set_ylabel("y (cm)")
    ax.set_title("animal's path", fontsize=10)
    return lc


def _torus_panel(ax, r: PathCompare):
    lc = time_coloured_line(ax, r.theta[:, 0], r.theta[:, 1], r.t, r.t0_s, r.t1_s)
    _mark_ends(ax, r.theta[:, 0], r.theta[:, 1])
    ax.set_xlim(0, TWO_PI)
    ax.set_ylim(0, TWO_PI)
    ax.set_aspect("equal")
    _pi_axis(ax.xaxis)
    _pi_axis(ax.yaxis)
    ax.set_xlabel("decoded θ1 (rad)")
    ax.set_ylabel("decoded θ2 (rad)")
    ax.set_title("decoded path on the torus", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    return lc


def _ring_panel(ax, r: PathCompare) -> None:
    if r.theta_hd is not None:
        al = r.hd_alignment
        ax.plot(r.t, r.hd, color="0.55", lw=2.2, label="head direction")
        ax.plot(
            r.t,
            r.theta_hd,
            color="#4c72b0",
            lw=1.0,
            label=f"decoded ({'+' if al.sign > 0 else '−'}θ + {al.offset_rad:.2f} rad)",
        )
        ax.set_title(f"decoded ring angle vs head direction ({al.describe()})", fontsize=10)
        ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    else:
        ax.plot(r.t, r.theta[:, 0], color="#4c72b0", lw=1.0)
        ax.set_title("decoded ring angle", fontsize=10)
    ax.set_xlim(r.t0_s, r.t1_s)
    ax.set_ylim(0, TWO_PI)
    _pi_axis(ax.yaxis)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("angle (rad)")


def pathcompare_figure(result: PathCompare, title: str = "") -> Figure:
    """Physical path (cm) beside the decoded path (torus square, or ring angle vs time), coloured by time."""
    has_xy = result.x is not None and result.y is not None
    torus = result.n_circles >= 2
    widths = ([1.0] if has_xy else []) + [1.0 if torus else 1.5]
    fig = Figure(figsize=(4.6 * sum(widths) + 1.0, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(1, len(widths), squeeze=False, width_ratios=widths)[0])
    if has_xy:
        phys = axes.pop(0)
        lc = _physical_panel(phys, result)
        if not torus:
            fig.colorbar(lc, ax=phys, shrink=0.85, label="time (s)")
    if torus:
        lc = _torus_panel(axes[0], result)
        fig.colorbar(lc, ax=fig.axes, shrink=0.85, label="time (s)")
    else:
        _ring_panel(axes[0], result)
    fig.suptitle(title or f"PathCompare: {result.t0_s:.1f}–{result.t1_s:.1f} s", fontsize=10)
    return fig


def compute_view(context) -> PathCompare:
    """The registry's compute: the whole recording (the GUI plays through it)."""
    rm = context.rate_matrix
    span = float(rm.t[-1] - rm.t[0]) + 2 * rm.config.dt_s
    return compute_pathcompare(context.decoding, PathCompareConfig(t0_s=None, duration_s=span))


def export_view_files(
    view: PathCompare, sources, folder, record: dict, window: PathCompareConfig | None = None
) -> list:
    """pathcompare.* : the decoded against the physical path in ``window`` (default
    :class:`PathCompareConfig`)."""
    from core.export import export_view

    window = window or PathCompareConfig()
    shown = compute_pathcompare(sources.decoding, window)
    record = dict(record, view_parameters=window)
    return export_view("pathcompare", pathcompare_figure(shown), shown.to_arrays(), None, folder, record)
