"""FRM (firing-rate maps): every unit's spatial rate map (Hz over the arena, cm) when position was recorded,
and its head-direction tuning curve (Hz over rad) when head direction was; either alone is enough."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.views.ratemaps import RateMaps
from core.views.tuning import TuningCurves


@dataclass
class FiringRateMaps:
    """``maps`` (None without position) and ``tuning`` (None without head direction)."""

    maps: RateMaps | None
    tuning: TuningCurves | None


def compute_view(context) -> FiringRateMaps:
    """The registry's compute (settings groups ``rate_maps`` and ``tuning``)."""
    from core.views.ratemaps import compute_rate_maps
    from core.views.tuning import compute_tuning_curves

    rm, report = context.rate_matrix, context.report
    maps = tuning = None
    if rm.x is not None and rm.y is not None:
        maps = compute_rate_maps(rm, context.settings["rate_maps"], report.sub(0.0, 0.8), report.check)
    if rm.hd is not None:
        tuning = compute_tuning_curves(rm, context.settings["tuning"], report.sub(0.8, 1.0), report.check)
    return FiringRateMaps(maps, tuning)


def export_view_files(
    view: FiringRateMaps, sources, folder: Path, record: dict, units: list | None = None
) -> list[Path]:
    """frm.* (the rate maps of ``units``, ids; default the figure's choice) and, with head direction,
    frm_hd.* (the tuning curves, one CSV row per unit)."""
    from core.export import arrays_of, export_view

    paths: list[Path] = []
    if view.maps is not None:
        from core.views.ratemaps import rate_maps_figure

        figure = rate_maps_figure(view.maps, units)
        paths += export_view("frm", figure, arrays_of(view.maps), None, folder, record)
    if view.tuning is not None:
        from core.views.tuning import tuning_figure

        figure = tuning_figure(view.tuning, units)
        paths += export_view("frm_hd", figure, arrays_of(view.tuning), view.tuning.to_rows(), folder, record)
    return paths


def view_metrics(view: FiringRateMaps) -> dict:
    out = {}
    if view.maps is not None:
        info = view.maps.spatial_information_bits_per_spike
        out["median_spatial_information_bits_per_spike"] = float(np.nanmedian(info))
    if view.tuning is not None:
        out["median_mean_vector_length"] = float(np.nanmedian(view.tuning.mean_vector_length))
    return out
