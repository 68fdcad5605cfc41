"""Writing one analysis to a folder: summary.json, persistence.npz and decoding.npz (the barcode and the
other views are written by :mod:`core.views.registry`)."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from core import __version__
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
) -> list[Path]:
    """Write summary.json, persistence.npz and decoding.npz (if decoded) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    record = summary(recording, result, warnings)
    if view_metrics is not None:
        record["views"] = view_metrics
    data = _finite(record)
    path = out / "summary.json"
    path.write_text(json.dumps(data, indent=2))
    paths.append(path)
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
    return paths
