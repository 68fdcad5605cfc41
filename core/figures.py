"""Headless figures (matplotlib's Agg canvas; no pyplot state, so safe in worker threads)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def save_figure(fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Write ``stem.<fmt>`` for each format (PNG at 200 dpi); returns the paths."""
    paths = []
    for fmt in formats:
        path = stem.with_suffix("." + fmt)
        fig.savefig(path, dpi=200 if fmt == "png" else None)
        paths.append(path)
    return paths
