"""FR: the population's rates as a units × time heatmap, units sorted by their decoded preferred phase.

Sorted by phase, a ring or torus population shows the activity bump travelling as diagonal stripes
(as in Gardner et al. 2022, Nature 602:123–128). The window is shown on a uniform time grid of
the rate matrix's bin width; bins the speed filter removed are NaN (blank), never stretched over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.angles import TWO_PI
from core.config import Config
from core.decoding import Decoding
from core.errors import ConfigError, RecordingError
from core.preprocess import RateMatrix
from core.views.pathcompare import window_rows

SORTS = ("phase", "torus", "none")


@dataclass(frozen=True)
class FiringConfig(Config):
    """Window, unit order and scaling of the heatmap.

    t0_s: window start (s; None = first bin). duration_s: window length (s). sort: "phase" orders units by
    their decoded preferred phase on circle ``sort_circle`` (1-based); "torus" cuts that circle into
    round(√n_units) phase bands and orders each band by the other circle (reading order on the torus square);
    "none" keeps the recording's order. zscore: z-score each unit over the whole recording (not the window).
    """

    t0_s: float | None = field(
        default=None, metadata={"unit": "s", "help": "window start (empty: first bin)"}
    )
    duration_s: float = field(
        default=30.0, metadata={"unit": "s", "min": 0.01, "max": 1e7, "help": "window length"}
    )
    sort: str = field(default="phase", metadata={"choices": list(SORTS), "help": "unit order"})
    sort_circle: int = field(default=1, metadata={"min": 1, "max": 3, "help": "circle to sort by (1-based)"})
    zscore: bool = field(default=False, metadata={"help": "z-score each unit over the recording"})


@dataclass
class FiringMap:
    """Heatmap of the window.

    rates: (n_units, n_cols) in ``value_unit`` ("Hz", or "z" when z-scored), rows in display order, columns a
    uniform grid; NaN where no bin was kept. t: (n_cols,) column centres (s); dt_s: column width (s).
    order: (n_units,) original unit index of each row. unit_ids: in display order. sort_phase: (n_units,) the
    phase (rad) each row was sorted by (NaN when unsorted). unit_phase: (n_units, n_circles) in display order
    or None.
    """

    rates: np.ndarray
    t: np.ndarray
    dt_s: float
    order: np.ndarray
    unit_ids: list
    sort_phase: np.ndarray
    unit_phase: np.ndarray | None
    value_unit: str
    sort_label: str
    config: FiringConfig

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The heatmap and its axes (for :func:`core.export.export_data`)."""
        out = {
            "rates": self.rates,
            "t_s": self.t,
            "unit_order": self.order,
            "unit_ids": np.asarray([str(u) for u in self.unit_ids]),
            "sort_phase_rad": self.sort_phase,
        }
        if self.unit_phase is not None:
            out["unit_phase_rad"] = self.unit_phase
        return out

    def to_rows(self) -> list[dict]:
        """One row per unit in display order: rank, id, original index, phases, mean value in the window."""
        rows = []
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(self.rates)
            means = np.where(finite, self.rates, 0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
        for r, j in enumerate(self.order):
            row: dict = {"rank": r, "unit_id": self.unit_ids[r], "unit_index": int(j)}
            if self.unit_phase is not None:
                for c in range(self.unit_phase.shape[1]):
                    row[f"phase_theta{c + 1}_rad"] = float(self.unit_phase[r, c])
            row[f"mean_{self.value_unit}_in_window"] = float(means[r])
            rows.append(row)
        return rows


def unit_order(
    n: int, unit_phase: np.ndarray | None, sort: str, circle: int
) -> tuple[np.ndarray, np.ndarray]:
    """Display order of ``n`` units and the phase (rad) each was sorted by; ``circle`` is 0-based."""
    if sort == "none" or unit_phase is None:
        return np.arange(n), np.full(n, np.nan)
    if circle >= unit_phase.shape[1]:
        raise ConfigError(f"cannot sort by circle {circle + 1}: the decoding has {unit_phase.shape[1]}")
    primary = np.mod(unit_phase[:, circle], TWO_PI)
    if sort == "torus" and unit_phase.shape[1] >= 2:
        secondary = np.mod(unit_phase[:, 1 - circle if circle < 2 else 0], TWO_PI)
        bands = max(int(round(np.sqrt(n))), 1)
        band = np.minimum(np.floor(primary / TWO_PI * bands), bands - 1)
        band[np.isnan(primary)] = bands  # undecoded units last
        order = np.lexsort((secondary, band))
    else:
        order = np.argsort(primary, kind="stable")  # NaN last
    return order, primary[order]


def uniform_columns(t: np.ndarray, rows: np.ndarray, t1: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Columns of width ``dt`` centred on the bins (first centre: the window's first bin, last before ``t1``).

    Returns the column of each of ``rows`` and the column centres (s).
    """
    first = float(t[rows[0]])
    n_cols = int(np.floor((t1 - first) / dt - 1e-9)) + 1
    col = np.clip(np.round((t[rows] - first) / dt).astype(np.int64), 0, n_cols - 1)
    return col, first + np.arange(n_cols) * dt


def compute_firing(
    rates: RateMatrix, decoding: Decoding | None = None, config: FiringConfig | None = None
) -> FiringMap:
    """Units × time rates in a window, sorted by decoded preferred phase when a decoding is given."""
    config = config or FiringConfig()
    config.validate()
    values = np.asarray(rates.rates, dtype=np.float64)
    unit_phase = None if decoding is None else np.asarray(decoding.unit_phase, dtype=np.float64)
    if unit_phase is not None and unit_phase.shape[0] != values.shape[1]:
        raise RecordingError(f"decoding has {unit_phase.shape[0]} units, the rate matrix {values.shape[1]}")
    value_unit = "z" if rates.config.zscore else "Hz"
    if config.zscore:
        sd = values.std(axis=0)
        values = (values - values.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        value_unit = "z"
    rows, _, t1 = window_rows(rates.t, config.t0_s, config.duration_s)
    dt = float(rates.config.dt_s)
    col, centres = uniform_columns(rates.t, rows, t1, dt)
    heat = np.full((values.shape[1], centres.size), np.nan)
    heat[:, col] = values[rows].T
    order, sort_phase = unit_order(values.shape[1], unit_phase, config.sort, config.sort_circle - 1)
    if unit_phase is None or config.sort == "none":
        label = "recording order"
    elif config.sort == "torus" and unit_phase.shape[1] >= 2:
        label = f"sorted by θ{config.sort_circle} band, then the other circle"
    else:
        label = f"sorted by preferred θ{config.sort_circle}"
    return FiringMap(
        rates=heat[order],
        t=centres,
        dt_s=dt,
        order=order,
        unit_ids=[rates.unit_ids[j] for j in order],
        sort_phase=sort_phase,
        unit_phase=None if unit_phase is None else unit_phase[order],
        value_unit=value_unit,
        sort_label=label,
        config=config,
    )


def firing_figure(result: FiringMap, title: str = "") -> Figure:
    """Heatmap units × time (s) with a colorbar in Hz (or z); a cyclic strip shows each unit's sort phase."""
    fig = Figure(figsize=(10.0, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    sorted_by_phase = bool(np.isfinite(result.sort_phase).any())
    n_units = result.rates.shape[0]
    extent = (result.t[0] - result.dt_s / 2, result.t[-1] + result.dt_s / 2, n_units - 0.5, -0.5)
    if sorted_by_phase:
        strip, ax = fig.subplots(1, 2, width_ratios=[0.04, 1.0], sharey=True)
        strip.imshow(
            result.sort_phase[:, None],
            aspect="auto",
            cmap="twilight",
            vmin=0,
            vmax=TWO_PI,
            extent=(0, 1, n_units - 0.5, -0.5),
            interpolation="nearest",
        )
        strip.set_xticks([])
        strip.set_xlabel("θ", fontsize=9)
        strip.set_ylabel(f"unit ({result.sort_label})")
    else:
        ax = fig.subplots()
        ax.set_ylabel(f"unit ({result.sort_label})")
    finite = result.rates[np.isfinite(result.rates)]
    if result.value_unit == "z":
        vmin, vmax = np.percentile(finite, [1, 99]) if finite.size else (-1.0, 1.0)
    else:
        vmin, vmax = 0.0, (float(np.percentile(finite, 99)) if finite.size else 1.0)
    image = ax.imshow(
        result.rates,
        aspect="auto",
        cmap="viridis",
        extent=extent,
        vmin=vmin,
        vmax=max(vmax, vmin + 1e-9),
        interpolation="nearest",
    )
    ax.set_facecolor("0.85")
    ax.set_xlabel("time (s)")
    if sorted_by_phase:
        ax.tick_params(labelleft=False)
    fig.colorbar(image, ax=ax, label="rate (z-score)" if result.value_unit == "z" else "rate (Hz)")
    span = f"{extent[0]:.1f}–{extent[1]:.1f} s"
    fig.suptitle(title or f"Population rates, {span}", fontsize=10)
    return fig


def compute_view(context) -> FiringMap:
    """The registry's compute: the whole recording in recording order (float32: it is only drawn)."""
    rm = context.rate_matrix
    span = float(rm.t[-1] - rm.t[0]) + 2 * rm.config.dt_s
    view = compute_firing(rm, context.decoding, FiringConfig(t0_s=None, duration_s=span, sort="none"))
    view.rates = view.rates.astype(np.float32)  # halves the memory of a long recording
    return view


def export_view_files(
    view: FiringMap, sources, folder, record: dict, window: FiringConfig | None = None
) -> list:
    """fr.* : the heatmap of ``window`` (default :class:`FiringConfig`: the first 30 s, sorted by phase)."""
    from core.export import export_view

    window = window or FiringConfig()
    shown = compute_firing(sources.rate_matrix, sources.decoding, window)
    record = dict(record, view_parameters=window)
    return export_view("fr", firing_figure(shown), shown.to_arrays(), shown.to_rows(), folder, record)
