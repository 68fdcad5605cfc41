"""A view that exists only in tests: the mean rate of every unit (Hz), with a settings group. Registered by
tests/test_view_registry.py to show that one registration reaches the CLI, the report and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.export import export_view
from core.views.registry import Setting, ViewSpec

KEY = "meanrate"


@dataclass(frozen=True)
class MeanRateConfig:
    scale: float = field(default=1.0, metadata={"min": 0.1, "max": 10.0, "help": "scale of the bars"})


@dataclass
class MeanRates:
    rate_hz: np.ndarray
    scale: float


def compute_view(context) -> MeanRates:
    config = context.settings[KEY]
    return MeanRates(np.nanmean(context.rate_matrix.rates, axis=0), config.scale)


def export_view_files(view: MeanRates, sources, folder, record, **options) -> list:
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    fig.subplots().bar(np.arange(view.rate_hz.size), view.rate_hz * view.scale)
    return export_view(KEY, fig, {"rate_hz": view.rate_hz}, None, folder, record)


def view_metrics(view: MeanRates) -> dict:
    return {"scale": view.scale, "max_rate_hz": float(np.nanmax(view.rate_hz))}


def spec(tab: str = "") -> tuple[ViewSpec, Setting]:
    here = "throwaway_view"
    view = ViewSpec(
        KEY, "MeanRate", f"{here}:compute_view", f"{here}:export_view_files", settings=(KEY,),
        metrics=f"{here}:view_metrics", tab=tab,
    )  # fmt: skip
    return view, Setting(KEY, f"{here}:MeanRateConfig", "Mean rates")
