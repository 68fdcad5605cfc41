"""Barcode: the H1 (and H2) bars of the persistence diagram, longest first, with their significance.

:func:`barcode_rows` is the one description of the bars that both the GUI's plot and the exported table and
figure read. The x axis of every barcode is the filtration value (−log fuzzy membership, no unit); a bar
alive at the end of the computed filtration has a lifetime that is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.export import export_view
from core.homology import Persistence
from core.significance import Significance, p_value_text

DIM_COLOURS = ("#4c72b0", "#dd8452", "#55a868")
MAX_BARS = 40  # bars per dimension drawn in the plots (the table holds every bar)


@dataclass(frozen=True)
class BarcodeView:
    """The barcode's inputs: the diagrams and, once tested, their significance."""

    persistence: Persistence
    significance: Significance | None


def barcode_rows(
    persistence: Persistence, significance: Significance | None, max_bars: int | None = MAX_BARS
) -> list[dict]:
    """Bars longest first per dimension (H1, H2 …): dim, birth, death (cut at the filtration's end),
    lifetime, significant, p_value (None past the tested bars), alive (had not died at the cut) and row
    (its y position in a plot: one row a bar, three empty rows between dimensions)."""
    rows: list[dict] = []
    y = 0.0
    for dim in range(1, len(persistence.diagrams)):
        bars = persistence.bars(dim)
        key = f"h{dim}"
        n_sig = significance.significant.get(key, 0) if significance is not None else 0
        p_values = (significance.bar_p_values.get(key) if significance is not None else None) or []
        for rank in range(len(bars) if max_bars is None else min(len(bars), max_bars)):
            rows.append(
                {
                    "dim": dim,
                    "birth": float(bars.birth[rank]),
                    "death": float(bars.death[rank]),
                    "lifetime": float(bars.lifetime[rank]),
                    "significant": rank < n_sig,
                    "p_value": p_values[rank] if rank < len(p_values) else None,
                    "alive": bool(bars.alive[rank]),
                    "row": y,
                }
            )
            y -= 1
        y -= 3
    return rows


def dimension_label(significance: Significance | None, dim: int) -> str:
    """'H1: 2 significant (needs lifetime > 0.31); longest bars p = …' for a plot's label."""
    if significance is None:
        return f"H{dim}"
    key = f"h{dim}"
    text = f"H{dim}: {significance.significant.get(key, 0)} significant"
    threshold = significance.thresholds.get(key)
    if threshold is not None and np.isfinite(threshold):
        text += f" (needs lifetime > {threshold:.2f})"
    p_text = p_value_text(significance, dim)
    return text + (f"; longest bars {p_text}" if p_text else "")


def barcode_figure(
    persistence: Persistence, significance: Significance | None = None, title: str = ""
) -> Figure:
    """Barcode per dimension (H0 too), longest bars first; significant bars dark and thick, the lifetime a
    bar needs to count and the p-value of the longest bars beside each dimension; alive bars end in an
    arrow."""
    dgms = persistence.diagrams
    fig = Figure(figsize=(7.0, 1.2 + 1.6 * len(dgms)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(dgms), 1, sharex=True, squeeze=False)[:, 0]
    ends = [persistence.end(d) for d in range(len(dgms))]
    x_max = max([e for e in ends if np.isfinite(e)] + [1.0])
    for dim, ax in enumerate(axes):
        bars = persistence.bars(dim)
        n = min(len(bars), 60)
        stop = np.minimum(bars.death[:n], x_max)
        n_sig = significance.significant.get(f"h{dim}", 0) if significance and dim > 0 else 0
        colour = DIM_COLOURS[dim % len(DIM_COLOURS)]
        for row in range(n):
            strong = row < n_sig
            ax.hlines(
                row, bars.birth[row], stop[row], color=colour, alpha=1.0 if strong else 0.45,
                lw=3.0 if strong else 1.5,
            )  # fmt: skip
            if bars.alive[row]:
                tail = (stop[row] - 0.02 * x_max, row)
                ax.annotate("", (stop[row], row), tail, arrowprops={"arrowstyle": "->"})
        label = f"H{dim}"
        if significance and dim > 0:
            label += f"\n{n_sig} significant"
            threshold = significance.thresholds.get(f"h{dim}", float("nan"))
            if np.isfinite(threshold):
                label += f"\nlifetime > {threshold:.3g}"
            p_text = p_value_text(significance, dim)
            label += f"\n{p_text}" if p_text else ""
        ax.set_ylabel(label, fontsize=9)
        ax.set_yticks([])
        ax.set_ylim(n - 0.5 if n else 0.5, -0.5)
        ax.set_xlim(0, x_max * 1.02)
    axes[-1].set_xlabel("filtration value (−log fuzzy membership)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def export_barcode(view: BarcodeView, folder: Path, record: dict, title: str = "Barcode") -> list[Path]:
    """barcode.{png,svg,pdf} (the figure), barcode.npz (every diagram and the cuts), barcode.csv (every bar
    of H1 and above: one row each) and barcode.json (provenance)."""
    pers, sig = view.persistence, view.significance
    arrays = {f"h{d}": np.asarray(dgm) for d, dgm in enumerate(pers.diagrams)}
    arrays["threshold"] = np.asarray(pers.threshold)
    arrays["threshold_h2"] = np.asarray(pers.threshold_h2)
    rows = [{k: v for k, v in r.items() if k != "row"} for r in barcode_rows(pers, sig, max_bars=None)]
    figure = barcode_figure(pers, sig, title=title)
    return export_view("barcode", figure, arrays, rows, folder, record)


def compute_view(context) -> BarcodeView:
    """The registry's compute: the barcode needs nothing beyond the TDA results."""
    return BarcodeView(context.sources.persistence, context.sources.significance)


def export_view_files(view: BarcodeView, sources, folder: Path, record: dict, title: str = "") -> list[Path]:
    """The registry's export (the title defaults to the verdict)."""
    sig = view.significance
    return export_barcode(view, folder, record, title or (f"Barcode: {sig.verdict}" if sig else "Barcode"))
