"""What the views write to disk, as plain functions run in a separate process (no Qt here).

matplotlib renders a figure in long calls that hold Python's GIL, so rendering on a worker *thread* would
still freeze the window for 0.1–0.4 s at a time. Each export therefore runs in a reusable worker process
(:class:`core.interruptible.InterruptibleWorker`; Cancel kills it): a tab's export job is
``functools.partial(one_of_these, …)`` called as ``job(folder, provenance_record)``, returning the files.
"""

from __future__ import annotations

import atexit
from pathlib import Path

import numpy as np

from core.export import export_view
from core.interruptible import InterruptibleWorker

WORKER = InterruptibleWorker()
atexit.register(WORKER.close)  # end the process before the interpreter tears multiprocessing down


def run(job, folder: Path, record: dict, check) -> list[Path]:
    """``job(folder, record)`` in the export process; ``check()`` is polled and may raise to cancel."""
    return WORKER.call(job, (Path(folder), record), check)


def export_barcode(pers, sig, rows: list[dict], folder: Path, record: dict) -> list[Path]:
    from core.figures import barcode_figure

    arrays = {f"h{d}": np.asarray(dgm) for d, dgm in enumerate(pers.diagrams)}
    arrays["threshold"] = np.asarray(pers.threshold)
    return export_view("barcode", barcode_figure(pers, sig, title="Barcode"), arrays, rows, folder, record)


def export_cohomap(view, mode: str, folder: Path, record: dict) -> list[Path]:
    from core.views.cohomap import cohomap_figure

    figure = cohomap_figure(view, mode)
    return export_view("cohomap", figure, view.to_arrays(), view.to_rows(), folder, record)


def export_cohospace(view, units: list[int], folder: Path, record: dict) -> list[Path]:
    from core.views.cohospace import cohospace_figure

    figure = cohospace_figure(view, units=units or None)
    return export_view("cohospace", figure, view.to_arrays(), view.to_rows(), folder, record)


def export_pathcompare(decoding, t0_s: float, t1_s: float, folder: Path, record: dict) -> list[Path]:
    from core.views.pathcompare import PathCompareConfig, compute_pathcompare, pathcompare_figure

    config = PathCompareConfig(t0_s=t0_s, duration_s=max(t1_s - t0_s, 0.01))
    view = compute_pathcompare(decoding, config)
    record = dict(record, view_parameters=config)
    return export_view("pathcompare", pathcompare_figure(view), view.to_arrays(), None, folder, record)


def export_fr(rate_matrix, decoding, config, folder: Path, record: dict) -> list[Path]:
    from core.views.firing import compute_firing, firing_figure

    view = compute_firing(rate_matrix, decoding, config)
    record = dict(record, view_parameters=config)
    return export_view("fr", firing_figure(view), view.to_arrays(), view.to_rows(), folder, record)


def export_frm(maps, tuning, units: list, folder: Path, record: dict) -> list[Path]:
    """``frm.*`` (rate maps of ``units``, ids) and, with head direction, ``frm_hd.*`` (tuning curves)."""
    from core.export_report import arrays_of

    paths: list[Path] = []
    if maps is not None:
        from core.views.ratemaps import rate_maps_figure

        paths += export_view("frm", rate_maps_figure(maps, units), arrays_of(maps), None, folder, record)
    if tuning is not None:
        from core.views.tuning import tuning_figure

        figure = tuning_figure(tuning, units)
        paths += export_view("frm_hd", figure, arrays_of(tuning), tuning.to_rows(), folder, record)
    return paths


def safe_stem(text: object) -> str:
    """``text`` reduced to letters, digits, '-' and '_' (a unit id in a file name)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text))


def export_gridscore(scores, index: int, folder: Path, record: dict) -> list[Path]:
    """``gridscores.*`` (every unit: summary figure, CSV) and ``gridscore_unit_<id>.*`` (the selected one)."""
    from core.export_report import arrays_of
    from core.views.gridscore import gridscore_figure, gridscore_summary_figure

    rows = scores.to_rows()
    summary = gridscore_summary_figure(scores)
    paths = export_view("gridscores", summary, arrays_of(scores), rows, folder, record)
    rm = scores.rate_maps
    unit_arrays = {
        "rate_map_hz": rm.maps[index],
        "x_edges_cm": rm.x_edges,
        "y_edges_cm": rm.y_edges,
        "autocorrelogram_r": scores.autocorrelograms[index],
        "lag_x_cm": scores.lag_x_cm,
        "lag_y_cm": scores.lag_y_cm,
        "peaks_cm": scores.peaks_cm[index],
        "shuffled_gridness": scores.shuffled_gridness[index],
    }
    uid = scores.unit_ids[index]
    figure = gridscore_figure(scores, uid)
    stem = f"gridscore_unit_{safe_stem(uid)}"
    paths += export_view(stem, figure, unit_arrays, [rows[index]], folder, record)
    return paths


def export_report_view(name: str, result, folder: Path, record: dict) -> tuple[list[Path], dict]:
    """One view of the report folder, as ``canns-asa --views`` writes it: (files, metrics)."""
    from core.export_report import EXPORTERS
    from core.progress import Reporter

    return EXPORTERS[name](result, Path(folder), record, Reporter())


def export_run_outputs(folder: Path, recording, result, warnings: list[str], metrics: dict) -> list[Path]:
    """summary.json, persistence.npz, decoding.npz and the barcode figures of the report folder."""
    from core.report import write_run_outputs

    return write_run_outputs(Path(folder), recording, result, warnings, metrics)
