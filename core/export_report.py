"""One call exports a whole analysis as a report folder: summary.json, persistence.npz, decoding.npz and
every view's figure (PNG/SVG/PDF), data (NPZ/CSV) and provenance (JSON). The views are those of
:mod:`core.views.registry`; the barcode is always written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.export import provenance
from core.pipeline import AnalysisResult
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.views.registry import (
    VIEWS,
    ViewData,
    ViewSettings,
    ViewSources,
    compute_views,
    export_one,
    metrics_of,
    view_names,
)

ALWAYS = ("barcode",)  # written even with ``--views none``


def sources_of(result: AnalysisResult) -> ViewSources:
    """The views' sources in a finished analysis."""
    return ViewSources(
        result.rate_matrix,
        result.decoding,
        result.persistence,
        result.significance,
        decoding_missing=f"the verdict is “{result.verdict}” (no significant circle), so there was nothing "
        "to decode",
    )


def parse_views(text: str, result: AnalysisResult) -> list[str]:
    """'all' (every view the data support), 'none' (the barcode only) or a comma list (plus the barcode);
    ConfigError names a view the data cannot support, and why."""
    sources = sources_of(result)
    available = sources.available()
    if text.strip() == "none":
        return list(ALWAYS)
    asked = view_names(text)
    if asked is None:
        return [key for key, spec in VIEWS.items() if not spec.missing(available)]
    refused = [k for k in asked if VIEWS[k].missing(available)]
    if refused:
        reasons = " ".join(sources.reason(VIEWS[k], VIEWS[k].missing(available)) for k in refused)
        raise ConfigError(f"this recording cannot give {', '.join(refused)}: {reasons}")
    return list(ALWAYS) + [k for k in asked if k not in ALWAYS]


def export_computed(
    data: ViewData,
    folder: Path,
    record: dict,
    run: Callable[[Callable, tuple], Any] | None = None,
    report: Reporter | None = None,
) -> tuple[list[Path], dict[str, dict]]:
    """Write every view in ``data`` as computed (with its settings) into ``folder``; ``run(function,
    args)`` calls the export (default: here; the GUI runs it in its export process). Returns the files and
    each view's metrics; a view that could not be computed has ``{"not_computed": reason}``."""
    report = report or Reporter()
    run = run or (lambda function, args: function(*args))
    paths: list[Path] = []
    metrics: dict[str, dict] = {key: {"not_computed": reason} for key, reason in data.reasons.items()}
    keys = list(data.views)
    for i, key in enumerate(keys):
        report(i / max(len(keys), 1), f"view {key} ({i + 1}/{len(keys)})")
        result = data.views[key]
        paths += run(export_one, (VIEWS[key], result, data.sources, Path(folder), record))
        metrics[key] = metrics_of(key, result)
    return paths, metrics


def export_views(
    recording: Recording,
    result: AnalysisResult,
    out: Path,
    views: list[str],
    device: str = "cpu",
    settings: ViewSettings | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[list[Path], dict[str, dict]]:
    """Compute ``views`` (with ``settings``, default the views' defaults) and export them into ``out``."""
    report = Reporter(progress, cancel)
    Path(out).mkdir(parents=True, exist_ok=True)
    data = compute_views(sources_of(result), settings, report.sub(0.0, 0.6), only=views)
    parameters = {"analysis": result.config.to_dict(), "views": data.settings.to_dict()}
    record = provenance(recording.source, recording.sha256, parameters, device=device)
    return export_computed(data, Path(out), record, report=report.sub(0.6, 1.0))
