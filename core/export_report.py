"""One call exports a whole analysis as a report folder: summary, barcode, decoding, and every view's figure
(PNG/SVG/PDF), data (NPZ/CSV) and provenance (JSON).

Views: ``cohomap``, ``cohospace``, ``pathcompare`` (need decoded phases; CohoMap and PathCompare also
position), ``fr`` (always), ``frm`` (rate maps with position, tuning curves with head direction) and
``gridscore`` (position; files ``gridscores.*``, the CSV with one row per unit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from core.export import export_view, provenance
from core.pipeline import AnalysisResult
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording

VIEWS = ("cohomap", "cohospace", "pathcompare", "fr", "frm", "gridscore")


def supported_views(result: AnalysisResult) -> list[str]:
    """The views this analysis has the data for."""
    rm, dec = result.rate_matrix, result.decoding
    has_position = rm.x is not None and rm.y is not None
    ok = {
        "cohomap": dec is not None and has_position,
        "cohospace": dec is not None,
        "pathcompare": dec is not None and (has_position or rm.hd is not None),
        "fr": True,
        "frm": has_position or rm.hd is not None,
        "gridscore": has_position,
    }
    return [v for v in VIEWS if ok[v]]


def view_names(text: str) -> list[str] | None:
    """The views named in ``text`` (None for 'all'); ConfigError for a name that is no view. Cheap: check it
    before the analysis runs."""
    if text.strip() in ("", "all"):
        return None
    asked = [v.strip().lower() for v in text.split(",") if v.strip()]
    unknown = [v for v in asked if v not in VIEWS]
    if unknown:
        raise ConfigError(f"unknown view(s) {', '.join(unknown)}; choose from all, {', '.join(VIEWS)}")
    return asked


def parse_views(text: str, result: AnalysisResult) -> list[str]:
    """'all' (those the data support) or a comma list; ConfigError names a view the data cannot support."""
    supported = supported_views(result)
    asked = view_names(text)
    if asked is None:
        return supported
    missing = [v for v in asked if v not in supported]
    if missing:
        raise ConfigError(
            f"this recording cannot give {', '.join(missing)}: CohoMap, CohoSpace and PathCompare need "
            "decoded phases (a ring or torus verdict), CohoMap and GridScore need position"
        )
    return asked


def arrays_of(result: object) -> dict[str, np.ndarray]:
    """The numeric array and scalar fields of a result dataclass (for views without ``to_arrays``)."""
    out = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray) and value.dtype != object:
            out[f.name] = value
        elif isinstance(value, bool | int | float):
            out[f.name] = np.asarray(value)
        elif isinstance(value, list) and value and all(isinstance(v, int | float | str) for v in value):
            out[f.name] = (
                np.asarray([str(v) for v in value]) if isinstance(value[0], str) else np.asarray(value)
            )
    return out


def _export(name: str, view, figure, out: Path, record: dict) -> list[Path]:
    arrays = view.to_arrays() if hasattr(view, "to_arrays") else arrays_of(view)
    table = view.to_rows() if hasattr(view, "to_rows") else None
    return export_view(name, figure, arrays, table, out, record)


def _cohomap(result: AnalysisResult, out: Path, record: dict, report: Reporter) -> tuple[list[Path], dict]:
    from core.views.cohomap import cohomap_figure, compute_cohomap

    view = compute_cohomap(result.decoding)
    metrics = {"spacing_cm": view.spacing_cm, "lattice_angle_deg": view.lattice_angle_deg}
    return _export("cohomap", view, cohomap_figure(view), out, record), metrics


def _cohospace(result: AnalysisResult, out: Path, record: dict, report: Reporter) -> tuple[list[Path], dict]:
    from core.views.cohospace import cohospace_figure, compute_cohospace

    view = compute_cohospace(result.rate_matrix, result.decoding)
    metrics = {"median_concentration": float(np.nanmedian(view.concentration))}
    return _export("cohospace", view, cohospace_figure(view), out, record), metrics


def _pathcompare(
    result: AnalysisResult, out: Path, record: dict, report: Reporter
) -> tuple[list[Path], dict]:
    from core.views.pathcompare import compute_pathcompare, pathcompare_figure

    view = compute_pathcompare(result.decoding)
    return _export("pathcompare", view, pathcompare_figure(view), out, record), {}


def _fr(result: AnalysisResult, out: Path, record: dict, report: Reporter) -> tuple[list[Path], dict]:
    from core.views.firing import compute_firing, firing_figure

    view = compute_firing(result.rate_matrix, result.decoding)
    return _export("fr", view, firing_figure(view), out, record), {}


def _frm(result: AnalysisResult, out: Path, record: dict, report: Reporter) -> tuple[list[Path], dict]:
    rm = result.rate_matrix
    if rm.x is not None and rm.y is not None:
        from core.views.ratemaps import compute_rate_maps, rate_maps_figure

        view = compute_rate_maps(rm, progress=report, cancel=report.check)
        info = view.spatial_information_bits_per_spike
        paths = _export("frm", view, rate_maps_figure(view), out, record)
        metrics = {"median_spatial_information_bits_per_spike": float(np.nanmedian(info))}
    else:
        paths, metrics = [], {}
    if rm.hd is not None:
        from core.views.tuning import compute_tuning_curves, tuning_figure

        curves = compute_tuning_curves(rm)
        paths += _export("frm_hd", curves, tuning_figure(curves), out, record)
        metrics["median_mean_vector_length"] = float(np.nanmedian(curves.mean_vector_length))
    return paths, metrics


def _gridscore(result: AnalysisResult, out: Path, record: dict, report: Reporter) -> tuple[list[Path], dict]:
    from core.views.gridscore import compute_grid_scores, gridscore_summary_figure
    from core.views.ratemaps import compute_rate_maps

    maps = compute_rate_maps(result.rate_matrix)
    scores = compute_grid_scores(result.rate_matrix, maps, progress=report, cancel=report.check)
    paths = _export("gridscores", scores, gridscore_summary_figure(scores), out, record)  # gridscores.csv
    rows = scores.to_rows()
    modules = sorted({int(m) for m in scores.module if int(m) >= 0})
    metrics = {
        "n_grid_cells": int(np.sum(scores.is_grid)),
        "n_units": len(rows),
        "median_gridness": float(np.nanmedian(scores.gridness)),
        "n_modules": len(modules),
    }
    return paths, metrics


EXPORTERS: dict[str, Callable] = {
    "cohomap": _cohomap,
    "cohospace": _cohospace,
    "pathcompare": _pathcompare,
    "fr": _fr,
    "frm": _frm,
    "gridscore": _gridscore,
}


def export_views(
    recording: Recording,
    result: AnalysisResult,
    out: Path,
    views: list[str],
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[list[Path], dict[str, dict]]:
    """Compute and export ``views``; returns the files and each view's metrics."""
    report = Reporter(progress, cancel)
    record = provenance(recording.source, recording.sha256, result.config.to_dict(), device=device)
    paths: list[Path] = []
    metrics: dict[str, dict] = {}
    for i, name in enumerate(views):
        sub = report.sub(i / max(len(views), 1), (i + 1) / max(len(views), 1))
        sub(0.0, f"view {name}")
        files, values = EXPORTERS[name](result, Path(out), record, sub)
        paths += files
        metrics[name] = values
    return paths, metrics
