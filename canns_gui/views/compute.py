"""The views' data: what the session holds (gathered on the GUI thread), and every view computed from it by
the core view modules (on a worker). A view that cannot be computed gets a reason in plain words instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import AsaError, Cancelled, ConfigError
from core.pipeline import AnalysisConfig, AnalysisResult, StagedAnalysis
from core.progress import Reporter
from core.recording import Recording
from core.views.cohomap import CohoMapConfig
from core.views.cohospace import CohoSpaceConfig
from core.views.gridscore import GridScoreConfig
from core.views.ratemaps import RateMapConfig
from core.views.tuning import TuningConfig

VIEW_NAMES = {
    "barcode": "Barcode",
    "cohomap": "CohoMap",
    "cohospace": "CohoSpace",
    "pathcompare": "PathCompare",
    "fr": "FR",
    "frm": "FRM",
    "gridscore": "GridScore",
}
DECODED_VIEWS = ("cohomap", "cohospace", "pathcompare")


@dataclass(frozen=True)
class ViewSettings:
    """The parameters of the computed views (edited in the Views page's settings panel)."""

    rate_maps: RateMapConfig = field(default_factory=RateMapConfig)
    grid_scores: GridScoreConfig = field(default_factory=GridScoreConfig)
    cohomap: CohoMapConfig = field(default_factory=CohoMapConfig)
    cohospace: CohoSpaceConfig = field(default_factory=CohoSpaceConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)


@dataclass
class ViewInputs:
    """The session's results at the moment "Compute views" was pressed (plain data, safe on a worker)."""

    recording: Recording | None
    analysis: StagedAnalysis | None
    config: AnalysisConfig
    rate_matrix: Any = None
    cloud: Any = None
    persistence: Any = None
    significance: Any = None
    decoding: Any = None
    decode_ran: bool = False
    warnings: list[str] = field(default_factory=list)
    device: str = "cpu"


def gather_inputs(session) -> ViewInputs:
    """What the session holds now (GUI thread): rate matrix, TDA tuple (cloud, persistence, significance),
    decoding; the rate matrix may be None, the worker then takes it from the (cached) staged analysis."""
    tda = session.result("significance")
    cloud, pers, sig = tda[:3] if tda is not None else (None, None, None)  # (+ the PCA view of the cloud)
    loaded = session.loaded
    return ViewInputs(
        recording=session.recording,
        analysis=session.analysis,
        config=session.config,
        rate_matrix=session.result("preprocess"),
        cloud=cloud,
        persistence=pers,
        significance=sig,
        decoding=session.result("decoding"),
        decode_ran="decoding" in session.results,
        warnings=list(loaded.warnings) if loaded is not None else [],
        device="gpu" if session.gpu else "cpu",
    )


@dataclass
class ViewData:
    """Every view's result (``views[name]``) or the reason it is missing (``reasons[name]``)."""

    inputs: ViewInputs
    settings: ViewSettings
    rate_matrix: Any = None
    decoding: Any = None
    views: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def unit_ids(self) -> list:
        return list(self.rate_matrix.unit_ids) if self.rate_matrix is not None else []


def decoding_reason(inputs: ViewInputs, name: str) -> str | None:
    """Why view ``name`` has no decoded phases to use, or None when it has."""
    if not inputs.decode_ran:
        return f"{name} needs decoded phases: run Decode."
    if inputs.decoding is None:
        return (
            f"{name} needs decoded phases, and TDA found no significant circle (verdict “none”), so there "
            "was nothing to decode."
        )
    return None


def rate_matrix_of(inputs: ViewInputs, report: Reporter):
    """The session's rate matrix, else the staged analysis's (cached after TDA or Decode)."""
    if inputs.rate_matrix is not None:
        return inputs.rate_matrix
    if inputs.analysis is None:
        return None
    return inputs.analysis.rates(inputs.config, report)


def _guarded(data: ViewData, key: str, compute) -> None:
    """Store ``compute()`` as view ``key``; a plain-words error (AsaError) becomes its reason instead."""
    try:
        data.views[key] = compute()
    except Cancelled:
        raise
    except AsaError as exc:
        data.reasons[key] = f"{VIEW_NAMES.get(key, key)} could not be computed: {exc}"


def compute_views(inputs: ViewInputs, settings: ViewSettings, report: Reporter) -> ViewData:
    """Every view the data allow (worker thread). Grid-score shuffles take most of the time."""
    from core.views.cohomap import compute_cohomap
    from core.views.cohospace import compute_cohospace
    from core.views.firing import FiringConfig, compute_firing
    from core.views.gridscore import compute_grid_scores
    from core.views.pathcompare import PathCompareConfig, compute_pathcompare
    from core.views.ratemaps import compute_rate_maps
    from core.views.tuning import compute_tuning_curves

    data = ViewData(inputs, settings)
    if inputs.persistence is None:
        data.reasons["barcode"] = "Barcode needs persistent homology: run TDA."
    report(0.0, "rate matrix")
    rm = rate_matrix_of(inputs, report.sub(0.0, 0.05))
    data.rate_matrix = rm
    if rm is None:
        for key, name in VIEW_NAMES.items():
            if key != "barcode":
                data.reasons[key] = (
                    f"{name} needs a recording: open one on the Import page, then run Preprocess."
                )
        return data
    has_xy = rm.x is not None and rm.y is not None
    has_hd = rm.hd is not None

    dec = inputs.decoding
    if dec is not None and (dec.theta.shape[0] != rm.n_bins or not np.array_equal(dec.t, rm.t)):
        for key in DECODED_VIEWS:
            data.reasons[key] = (
                f"{VIEW_NAMES[key]}: the decoded phases belong to a rate matrix computed with other "
                "parameters: run Decode again."
            )
        dec = None
    else:
        for key in DECODED_VIEWS:
            reason = decoding_reason(inputs, VIEW_NAMES[key])
            if reason:
                data.reasons[key] = reason
    data.decoding = dec
    if not has_xy:
        data.reasons.setdefault(
            "cohomap",
            "CohoMap needs position (x, y in cm) to draw phases over the arena, and this recording has none.",
        )
        data.reasons["gridscore"] = (
            "GridScore needs position (x, y in cm): grid scores come from spatial rate maps, and this "
            "recording has none."
        )
        if not has_hd:
            data.reasons["frm"] = (
                "FRM needs position (x, y in cm) for rate maps or head direction for tuning curves, and this "
                "recording has neither."
            )
            data.reasons.setdefault(
                "pathcompare",
                "PathCompare needs position (x, y in cm) or head direction to compare the decoded path with, "
                "and this recording has neither.",
            )
    span = float(rm.t[-1] - rm.t[0]) + 2 * rm.config.dt_s

    report(0.05, "FR: population rates")
    full = FiringConfig(t0_s=None, duration_s=span, sort="none")
    _guarded(data, "fr", lambda: compute_firing(rm, dec, full))
    fr = data.views.get("fr")
    if fr is not None:
        fr.rates = fr.rates.astype(np.float32)  # only drawn; halves the memory of a long recording
    if dec is not None:
        if "pathcompare" not in data.reasons:
            report(0.08, "PathCompare")
            cfg = PathCompareConfig(t0_s=None, duration_s=span)
            _guarded(data, "pathcompare", lambda: compute_pathcompare(dec, cfg))
        if "cohomap" not in data.reasons:
            report(0.1, "CohoMap")
            _guarded(data, "cohomap", lambda: compute_cohomap(dec, settings.cohomap))
        report(0.12, "CohoSpace")
        _guarded(data, "cohospace", lambda: compute_cohospace(rm, dec, settings.cohospace))
    if has_xy:
        report(0.15, "FRM: rate maps")
        _guarded(
            data,
            "frm",
            lambda: compute_rate_maps(rm, settings.rate_maps, report.sub(0.15, 0.2), report.check),
        )
    if has_hd:
        report(0.2, "FRM: head-direction tuning")
        _guarded(
            data,
            "tuning",
            lambda: compute_tuning_curves(rm, settings.tuning, report.sub(0.2, 0.22), report.check),
        )
        if "frm" not in data.views and "tuning" in data.views:
            data.reasons.pop("frm", None)
    maps = data.views.get("frm")
    if maps is not None:
        report(0.22, "GridScore: autocorrelograms and shuffles")
        _guarded(
            data,
            "gridscore",
            lambda: compute_grid_scores(rm, maps, settings.grid_scores, report.sub(0.22, 1.0), report.check),
        )
    elif has_xy and "gridscore" not in data.reasons:
        data.reasons["gridscore"] = data.reasons.get("frm", "GridScore needs the rate maps.")
    report(1.0, "views ready")
    return data


def export_report_folder(inputs: ViewInputs, folder, report: Reporter) -> list:
    """The whole report folder (worker thread): every view the data support, exported with the view modules'
    default settings (as ``canns-asa --views all``), then summary.json, persistence.npz, decoding.npz and the
    barcode figures. The rendering runs in the export process (see :mod:`canns_gui.views.exporting`).
    Returns the files written."""
    from pathlib import Path

    from canns_gui.views import exporting
    from core.export import provenance
    from core.export_report import supported_views

    if inputs.persistence is None or inputs.recording is None:
        raise ConfigError("Export all needs at least the TDA results: run Preprocess and TDA first.")
    rm = rate_matrix_of(inputs, report.sub(0.0, 0.02))
    dec = inputs.decoding
    if dec is not None and (dec.theta.shape[0] != rm.n_bins or not np.array_equal(dec.t, rm.t)):
        raise ConfigError(
            "The decoded phases belong to a rate matrix computed with other parameters: run Decode again."
        )
    result = AnalysisResult(
        inputs.config, rm, inputs.cloud, inputs.persistence, inputs.significance, timings_s={}, decoding=dec
    )
    folder = Path(folder)
    rec = inputs.recording
    record = provenance(rec.source, rec.sha256, inputs.config.to_dict(), device=inputs.device)
    views = supported_views(result)
    paths: list = []
    metrics: dict = {}
    for i, name in enumerate(views):
        report(0.02 + 0.93 * i / len(views), f"view {name} ({i + 1}/{len(views)})")
        files, values = exporting.WORKER.call(
            exporting.export_report_view, (name, result, folder, record), report.check
        )
        paths += files
        metrics[name] = values
    report(0.96, "summary, persistence and barcode")
    paths += exporting.WORKER.call(
        exporting.export_run_outputs, (folder, rec, result, inputs.warnings, metrics), report.check
    )
    report(1.0, f"{len(paths)} files written")
    return paths
