"""The Views page's data: what the session holds (gathered on the GUI thread), turned into the core's view
sources and computed by :func:`core.views.registry.compute_views` (on a worker). A view that cannot be
computed gets a reason in plain words instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.decoding import Decoding
from core.errors import ConfigError
from core.export import provenance
from core.export_report import export_computed
from core.homology import Persistence
from core.pipeline import AnalysisConfig, AnalysisResult, StagedAnalysis
from core.pointcloud import PointCloud
from core.preprocess import RateMatrix
from core.progress import Reporter
from core.recording import Recording
from core.significance import Significance
from core.views.registry import VIEWS, ViewData, ViewSettings, ViewSources, compute_views


@dataclass
class ViewInputs:
    """The session's results at the moment "Compute views" was pressed (plain data, safe on a worker)."""

    recording: Recording | None
    analysis: StagedAnalysis | None
    config: AnalysisConfig
    rate_matrix: RateMatrix | None = None
    cloud: PointCloud | None = None
    persistence: Persistence | None = None
    significance: Significance | None = None
    decoding: Decoding | None = None
    decode_ran: bool = False
    warnings: list[str] = field(default_factory=list)
    device: str = "cpu"


def gather_inputs(session) -> ViewInputs:
    """What the session holds now (GUI thread): rate matrix, TDA result, decoding; the rate matrix may be
    None, the worker then takes it from the (cached) staged analysis."""
    tda = session.result("significance")
    loaded = session.loaded
    return ViewInputs(
        recording=session.recording,
        analysis=session.analysis,
        config=session.config,
        rate_matrix=session.result("preprocess"),
        cloud=tda.cloud if tda is not None else None,
        persistence=tda.persistence if tda is not None else None,
        significance=tda.significance if tda is not None else None,
        decoding=session.result("decoding"),
        decode_ran="decoding" in session.results,
        warnings=list(loaded.warnings) if loaded is not None else [],
        device="gpu" if session.gpu else "cpu",
    )


def rate_matrix_of(inputs: ViewInputs, report: Reporter) -> RateMatrix | None:
    """The session's rate matrix, else the staged analysis's (cached after TDA or Decode)."""
    if inputs.rate_matrix is not None:
        return inputs.rate_matrix
    if inputs.analysis is None:
        return None
    return inputs.analysis.rates(inputs.config, report)


def sources_of(inputs: ViewInputs, report: Reporter) -> ViewSources | None:
    """The views' sources (worker thread), None without a recording. Decoded phases of another rate matrix
    (Preprocess rerun since Decode) are not used, and the reason says so."""
    rm = rate_matrix_of(inputs, report)
    if rm is None:
        return None
    dec = inputs.decoding
    if not inputs.decode_ran:
        missing = "Decode has not run: run Decode"
    elif dec is None:
        missing = "TDA found no significant circle (verdict “none”), so there was nothing to decode"
    elif dec.theta.shape[0] != rm.n_bins or not np.array_equal(dec.t, rm.t):
        dec, missing = (
            None,
            "the decoded phases belong to a rate matrix computed with other parameters: run Decode again",
        )
    else:
        missing = ""
    return ViewSources(rm, dec, inputs.persistence, inputs.significance, decoding_missing=missing)


def compute_all(inputs: ViewInputs, settings: ViewSettings, report: Reporter) -> ViewData:
    """Every view the data allow (worker thread); without a recording, each view says it needs one."""
    report(0.0, "rate matrix")
    sources = sources_of(inputs, report.sub(0.0, 0.05))
    if sources is None:
        reasons = {
            key: f"{spec.title} needs a recording: open one on the Import page, then run Preprocess."
            for key, spec in VIEWS.items()
        }
        return ViewData(ViewSources(None), settings, reasons=reasons)
    return compute_views(sources, settings, report.sub(0.05, 1.0))


def export_report_folder(
    inputs: ViewInputs, data: ViewData | None, settings: ViewSettings, folder: Path, report: Reporter
) -> list[Path]:
    """The whole report folder (worker thread): the views as computed and shown (``data``, with the user's
    settings; computed now with ``settings`` when there are none), then persistence.npz, decoding.npz and
    summary.json last. Rendering runs in the export process (:mod:`canns_gui.views.exporting`). Returns the
    files written.

    All or nothing (:func:`core.report.write_report`): everything is written into a temporary folder beside
    ``folder`` and moved there once complete; a cancel, a failure or a crash leaves ``folder`` as it was
    (or, if the crash hits while files are being moved in, without summary.json: no report). Into an
    existing folder the new files replace their namesakes one by one, summary.json last; the user's other
    files there are kept (:func:`core.report.publish`)."""
    from canns_gui.views import exporting
    from core.report import write_report, write_run_outputs

    if inputs.persistence is None or inputs.recording is None:
        raise ConfigError("Export all needs at least the TDA results: run Preprocess and TDA first.")
    if data is None:
        data = compute_all(inputs, settings, report.sub(0.0, 0.3))
    rm, dec = data.rate_matrix, data.decoding
    folder = Path(folder)
    rec = inputs.recording
    parameters = {"analysis": inputs.config.to_dict(), "views": data.settings.to_dict()}
    record = provenance(rec.source, rec.sha256, parameters, device=inputs.device)

    def run(function, args):
        return exporting.WORKER.call(function, args, report.check)

    result = AnalysisResult(
        inputs.config, rm, inputs.cloud, inputs.persistence, inputs.significance, timings_s={}, decoding=dec
    )

    def write(staging: Path) -> list[Path]:
        paths, metrics = export_computed(data, staging, record, run, report.sub(0.3, 0.95))
        report(0.96, "summary, persistence and decoding")
        outputs = (staging, rec, result, inputs.warnings, metrics, paths)
        return paths + run(write_run_outputs, outputs)  # in the export process too

    paths = write_report(folder, write)
    report(1.0, f"{len(paths)} files written")
    return paths
