"""Writing one analysis to a folder: summary.json, persistence.npz and decoding.npz (the barcode and the
other views are written by :mod:`core.views.registry`).

A report folder is all or nothing. :func:`write_report` writes it into a temporary folder beside the target
and moves it into place once complete (:func:`publish` says how an existing folder is replaced);
``summary.json`` is always written last and lists the report's files, so a folder without it — a crash, a
kill or Ctrl-C in the middle — is no report: :func:`is_complete` tells, and readers treat such a folder as
absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath

import numpy as np

from core import __version__
from core.errors import ConfigError
from core.pipeline import AnalysisResult
from core.recording import Recording

VERSIONED = ("numpy", "scipy", "scikit-learn", "ripser", "matplotlib", "h5py")


def software_versions() -> dict[str, str]:
    """Versions of canns-gui, Python and the libraries that shape the result."""
    versions = {"canns-gui": __version__, "python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def summary(recording: Recording, result: AnalysisResult, warnings: list[str]) -> dict:
    """The JSON-safe record of one run: input, versions, parameters, timings, barcode, verdict."""
    pers, sig = result.persistence, result.significance
    return {
        "input": {
            "path": recording.source or "(built-in synthetic recording)",
            "sha256": recording.sha256,
            "description": recording.describe(),
            "generator": recording.metadata.get("generator"),
        },
        "software": software_versions(),
        "parameters": result.config.to_dict(),
        "timings_s": {k: round(v, 4) for k, v in result.timings_s.items()},
        "rate_matrix": {
            "n_bins": result.rate_matrix.n_bins,
            "n_epochs": result.rate_matrix.n_epochs,
            "n_units": result.rate_matrix.rates.shape[1],
            "kept_fraction": round(result.rate_matrix.kept_fraction, 4),
        },
        "point_cloud": {
            "n_points": int(result.point_cloud.points.shape[0]),
            "explained_variance_ratio": [
                round(float(v), 4) for v in result.point_cloud.explained_variance_ratio
            ],
        },
        "persistence": {
            "backend": pers.backend,
            "coeff": pers.coeff,
            "threshold": pers.threshold,
            "threshold_h2": pers.threshold_h2 if len(pers.diagrams) > 2 else None,
            "n_landmarks_h2": None if pers.landmarks_h2 is None else int(pers.landmarks_h2.size),
        },
        "barcode": result.barcode(),
        "significant": sig.significant,
        "significance": {
            "method": sig.method,
            "test": sig.test,
            "alpha": sig.alpha,
            "bar_p_values": sig.bar_p_values,
            "gaps": [
                {
                    "dim": g.dim,
                    "k": g.k,
                    "statistic": g.statistic if np.isfinite(g.statistic) else None,
                    "p_value": g.p_value,
                    "p_adjusted": g.p_adjusted,
                    "window": g.window,
                }
                for g in sig.gaps
            ],
            "reasons": sig.reasons,
            "thresholds": sig.thresholds,
            "null_maxima": sig.null_maxima,
        },
        "verdict": sig.verdict,
        "evidence": sig.evidence,
        "decoding": decoding_summary(result),
        "warnings": warnings,
    }


def decoding_summary(result: AnalysisResult) -> dict | None:
    """Decoding metrics for summary.json: circles, torus axis angle (deg), head-direction agreement."""
    dec = result.decoding
    if dec is None:
        return None
    out = {"n_circles": dec.n_circles, "torus_axis_angle_deg": dec.torus_angle_deg}
    if "head_direction" in dec.metrics:
        out["head_direction"] = dec.metrics["head_direction"]
    return out


def _finite(x):
    """JSON has no inf/nan: write them as null."""
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def write_run_outputs(
    out: Path,
    recording: Recording,
    result: AnalysisResult,
    warnings: list[str],
    view_metrics: dict | None = None,
    files: list[Path] = (),
) -> list[Path]:
    """Write persistence.npz, decoding.npz (if decoded), then summary.json last, into ``out``; ``files``: the
    report's other files (its views), listed in summary.json with these. An earlier summary.json in ``out``
    is removed first, so the folder never shows a verdict beside half-written data. Returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (out / SUMMARY).unlink()
    paths = []
    record = summary(recording, result, warnings)
    if view_metrics is not None:
        record["views"] = view_metrics
    pers = result.persistence
    arrays = {f"h{d}": dgm for d, dgm in enumerate(pers.diagrams)}
    cocycles = pers.cocycles_h1
    arrays["cocycles_h1"] = np.concatenate(cocycles) if cocycles else np.empty((0, 3), dtype=np.int64)
    arrays["cocycles_h1_offsets"] = np.cumsum([0] + [len(c) for c in cocycles])
    arrays["bin_index"] = result.point_cloud.bin_index
    arrays["bin_t_s"] = result.rate_matrix.t[result.point_cloud.bin_index]
    arrays["distances"] = result.point_cloud.distances.astype(np.float32)
    if pers.landmarks_h2 is not None:
        arrays["landmarks_h2"] = pers.landmarks_h2
    path = out / "persistence.npz"
    np.savez_compressed(path, **arrays)
    paths.append(path)
    if result.decoding is not None:
        path = out / "decoding.npz"
        np.savez_compressed(path, **result.decoding.to_arrays())
        paths.append(path)
    path = out / SUMMARY
    record["files"] = sorted({_relative(p, out) for p in [*files, *paths, path]})
    tmp = out / f".{SUMMARY}.tmp"
    tmp.write_text(json.dumps(_finite(record), indent=2))
    os.replace(tmp, path)  # whole or absent
    paths.append(path)
    return paths


# All or nothing ------------------------------------------------------------------------------------------

SUMMARY = "summary.json"  # written last: a folder without it holds no report
MAX_SUMMARY_BYTES = 256 * 1024**2
PARTIAL = ".partial-"  # a report being written: ``<parent>/.<name>.partial-<random>``
STALE_PARTIAL_S = 3600.0  # a partial folder this old (s) was left by a killed run and is removed
REPORT_SUFFIXES = (".json", ".npz", ".csv", ".png", ".svg", ".pdf")  # the kinds of file a report holds


def _relative(path: Path, folder: Path) -> str:
    path = Path(path)
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def report_files(folder: Path) -> list[str] | None:
    """The files the report in ``folder`` lists (relative, POSIX), or None when ``folder`` holds no
    complete report. Only plain names inside the folder count: never an absolute path or ``..``."""
    path = Path(folder) / SUMMARY
    try:
        if path.stat().st_size > MAX_SUMMARY_BYTES:
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or "verdict" not in record:
        return None
    files = record.get("files", [SUMMARY])
    if not isinstance(files, list) or not all(isinstance(f, str) and _inside(f) for f in files):
        return None
    return files


def _inside(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts and not re.match(r"[A-Za-z]:", name)


def is_complete(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a finished report: its summary.json (written last) reads back, and every
    file it lists is there. A folder left by a crash, a kill or Ctrl-C while writing is not."""
    files = report_files(Path(folder))
    return files is not None and all((Path(folder) / f).is_file() for f in files)


@contextlib.contextmanager
def staged_report(target: str | os.PathLike) -> Iterator[Path]:
    """A new temporary folder beside ``target`` to write a report into; when the block ends normally it is
    moved into place (:func:`publish`), and on any exception (Ctrl-C included) it is removed and ``target``
    is left as it was. A partial folder left by a killed run is removed the next time (after an hour)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file; the report needs a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(target)
        staging = _new_folder(target.parent / f".{target.name}{PARTIAL}")
    except OSError as exc:
        raise ConfigError(f"cannot write the report beside {target}: {exc.strerror or exc}") from None
    try:
        yield staging
        publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _new_folder(prefix: Path) -> Path:
    """A folder named ``prefix`` plus a random suffix, created new with the usual permissions (those of
    ``mkdir``: the report it becomes is as readable as any folder the user makes)."""
    for _ in range(100):
        folder = prefix.with_name(prefix.name + secrets.token_hex(6))
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {prefix}…")


def write_report(target: str | os.PathLike, write: Callable[[Path], list[Path]]) -> list[Path]:
    """``write(folder)`` into a temporary folder, then the report moved into ``target`` whole
    (:func:`staged_report`); returns the files as they are in ``target``."""
    target = Path(target)
    with staged_report(target) as staging:
        paths = write(staging)
    return [target / _relative(p, staging) for p in paths]


def publish(staging: Path, target: Path) -> None:
    """Move the complete report in ``staging`` to ``target``.

    - ``target`` does not exist: ``staging`` is renamed to it, one atomic step.
    - ``target`` is a folder (empty, an earlier report, or the user's own folder): its summary.json is
      removed first, so from then on it reads as no report; each new file replaces its namesake with
      ``os.replace`` (atomic per file); the files an earlier report there listed and this one does not
      write are removed; summary.json comes last, and only then is the folder a report again. Files the
      user keeps there that no report listed are never touched.

    A crash in the middle leaves ``target`` without summary.json (no report), never an old verdict beside
    new data or a verdict beside truncated data."""
    staging, target = Path(staging), Path(target)
    if not target.exists():
        try:
            os.rename(staging, target)
            return
        except OSError:  # created meanwhile, or a file system that cannot rename a folder onto it
            pass
    before = report_files(target) or []
    with contextlib.suppress(FileNotFoundError):
        (target / SUMMARY).unlink()
    written = sorted(
        p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file() and p.name != SUMMARY
    )
    for name in written:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target / name)
    for name in set(before) - set(written) - {SUMMARY}:
        old = target / name
        if old.suffix in REPORT_SUFFIXES and old.is_file() and not old.is_symlink():
            with contextlib.suppress(OSError):
                old.unlink()
    if (staging / SUMMARY).is_file():
        os.replace(staging / SUMMARY, target / SUMMARY)


def _remove_stale_partials(target: Path) -> None:
    cutoff = time.time() - STALE_PARTIAL_S
    with contextlib.suppress(OSError):
        for item in target.parent.iterdir():
            if item.name.startswith(f".{target.name}{PARTIAL}") and item.is_dir() and not item.is_symlink():
                with contextlib.suppress(OSError):
                    if item.stat().st_mtime < cutoff:
                        shutil.rmtree(item, ignore_errors=True)
