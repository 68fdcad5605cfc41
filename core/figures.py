"""Headless figures (matplotlib's Agg canvas; no pyplot state, so safe in worker threads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.homology import Persistence
from core.significance import Significance, p_value_text

DIM_COLOURS = ("#4c72b0", "#dd8452", "#55a868")


def barcode_figure(
    persistence: Persistence, significance: Significance | None = None, title: str = ""
) -> Figure:
    """Barcode per dimension, longest bars first; significant bars drawn dark and thick, and the lifetime a
    bar needs to count (gap test or shuffle null) and the p-value of the longest bars beside each dimension.

    The x axis is the filtration value (−log fuzzy membership, no unit). Bars alive at the end of the computed
    filtration end in an arrow.
    """
    dgms = persistence.diagrams
    fig = Figure(figsize=(7.0, 1.2 + 1.6 * len(dgms)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(dgms), 1, sharex=True, squeeze=False)[:, 0]
    ends = [persistence.threshold_h2 if d == 2 else persistence.threshold for d in range(len(dgms))]
    x_max = max([e for e in ends if np.isfinite(e)] + [1.0])
    for dim, (ax, dgm) in enumerate(zip(axes, dgms, strict=True)):
        end = ends[dim] if np.isfinite(ends[dim]) else x_max
        life = np.minimum(dgm[:, 1], end) - dgm[:, 0]
        order = np.argsort(-life)[:60]
        key = f"h{dim}"
        n_sig = significance.significant.get(key, 0) if significance and dim > 0 else 0
        colour = DIM_COLOURS[dim % len(DIM_COLOURS)]
        for row, i in enumerate(order):
            birth, death = dgm[i]
            stop = min(death, end)
            strong = row < n_sig
            ax.hlines(
                row, birth, stop, color=colour, alpha=1.0 if strong else 0.45, lw=3.0 if strong else 1.5
            )
            if not np.isfinite(death):
                ax.annotate("", (stop, row), (stop - 0.02 * x_max, row), arrowprops={"arrowstyle": "->"})
        label = f"H{dim}"
        if significance and dim > 0:
            label += f"\n{n_sig} significant"
            thr = significance.thresholds.get(key, float("nan"))
            if np.isfinite(thr):
                label += f"\nlifetime > {thr:.3g}"
            p_text = p_value_text(significance, dim)
            if p_text:
                label += "\n" + p_text
        ax.set_ylabel(label, fontsize=9)
        ax.set_yticks([])
        ax.set_ylim(len(order) - 0.5 if len(order) else 0.5, -0.5 if len(order) else -0.5)
        ax.set_xlim(0, x_max * 1.02)
    axes[-1].set_xlabel("filtration value (−log fuzzy membership)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def save_figure(fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Write ``stem.<fmt>`` for each format (PNG at 200 dpi); returns the paths."""
    paths = []
    for fmt in formats:
        path = stem.with_suffix("." + fmt)
        fig.savefig(path, dpi=200 if fmt == "png" else None)
        paths.append(path)
    return paths
