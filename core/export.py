"""Exporting one view: publication figures (PNG 300 dpi, SVG, PDF), its data (NPZ, CSV) and provenance (JSON).

Every view result has ``to_arrays()`` (and, with per-unit data, ``to_rows()``), so :func:`export_view` needs
no per-view code:

    export_view("cohomap", cohomap_figure(r), r.to_arrays(), r.to_rows(), out_dir,
                provenance(rec.source, rec.sha256, {"cohomap": config}))

CSV convention: NaN (and None) are written as an empty cell, which pandas, R and spreadsheets all read as
missing; ±inf as ``inf`` / ``-inf``; floats with the shortest text that reads back to the same value.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from core.config import to_json
from core.report import software_versions

FIGURE_FORMATS = ("png", "svg", "pdf")


def with_suffix(stem: Path, suffix: str) -> Path:
    """``stem`` + "." + ``suffix``, keeping any dots already in the name ("run.1" → "run.1.png")."""
    stem = Path(stem)
    return stem.parent / f"{stem.name}.{suffix}"


def json_safe(value: Any) -> Any:
    """``value`` made JSON-serialisable by the one config serialiser (:func:`core.config.to_json`): configs
    and other dataclasses → dicts, numpy → Python, NaN/inf → None, paths → str."""
    return to_json(value)


def provenance(
    recording_source: str | Path,
    sha256: str,
    parameters: Mapping[str, Any],
    device: str = "cpu",
    extra: Mapping[str, Any] | None = None,
    view: str = "",
) -> dict:
    """The JSON-safe record of where an exported view came from.

    Input path and its SHA-256, software versions, every parameter (config dataclasses are expanded), the
    compute device, the UTC time (ISO 8601) and the view name (:func:`export_view` fills it in when empty).
    ``extra`` is merged in last (e.g. metrics, warnings).
    """
    record = {
        "view": view,
        "input": {
            "path": str(recording_source) if recording_source else "(built-in synthetic recording)",
            "sha256": sha256 or "",
        },
        "software": software_versions(),
        "parameters": json_safe(dict(parameters)),
        "device": device,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if extra:
        record.update(json_safe(dict(extra)))
    return record


def export_figure(
    fig: Figure, stem: Path, formats: Iterable[str] = FIGURE_FORMATS, dpi: int = 300
) -> list[Path]:
    """Write ``stem.<fmt>`` per format: PNG rasterised at ``dpi``, SVG and PDF as vector graphics.

    Text stays text in SVG (``svg.fonttype`` "none") so journals' editors can restyle it; PDF embeds TrueType
    fonts (``pdf.fonttype`` 42). Returns the paths.
    """
    import matplotlib

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        for fmt in formats:
            path = with_suffix(stem, fmt)
            metadata = {"Software": "canns-gui"} if fmt == "png" else {"Creator": "canns-gui"}
            fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
            paths.append(path)
    return paths


def _checked_array(key: str, value: Any) -> np.ndarray:
    if value is None:
        raise TypeError(f"export_data: array {key!r} is None; leave it out instead")
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(
            f"export_data: array {key!r} has dtype object, which NPZ can only store pickled (unsafe to "
            "load); convert it to a numeric or string array"
        )
    return array


def csv_cell(value: Any) -> Any:
    """One CSV cell: NaN/None → empty, ±inf → "inf"/"-inf", floats with round-trip precision."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return value


def write_csv(path: Path, table: list[dict]) -> Path:
    """Rows as CSV; the header is every key in order of first appearance, missing cells empty."""
    header: list[str] = []
    for row in table:
        header += [k for k in row if k not in header]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, restval="")
        writer.writeheader()
        for row in table:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return path


def export_data(stem: Path, arrays: Mapping[str, Any], table: list[dict] | None = None) -> list[Path]:
    """Write ``stem.npz`` (compressed, loadable with ``allow_pickle=False``) and, with a table, ``stem.csv``.

    Object arrays are refused (TypeError): they would need pickle. NaN in the CSV is an empty cell.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    checked = {str(k): _checked_array(str(k), v) for k, v in arrays.items()}
    paths = [with_suffix(stem, "npz")]
    np.savez_compressed(paths[0], **checked)
    if table is not None:
        paths.append(write_csv(with_suffix(stem, "csv"), table))
    return paths


def export_view(
    name: str,
    figure: Figure | None,
    arrays: Mapping[str, Any],
    table: list[dict] | None,
    out_dir: Path,
    provenance: dict,
) -> list[Path]:
    """Write ``name.png/.svg/.pdf``, ``name.npz`` (+ ``name.csv``) and ``name.json`` into ``out_dir``.

    The JSON is ``provenance`` with the view name filled in and the list of files written beside it.
    """
    if not name or Path(name).name != name:
        raise ValueError(f"view name must be a plain file name, got {name!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / name
    paths = export_figure(figure, stem) if figure is not None else []
    paths += export_data(stem, arrays, table)
    record = json_safe(dict(provenance))
    record["view"] = record.get("view") or name
    json_path = with_suffix(stem, "json")
    record["files"] = [p.name for p in paths] + [json_path.name]
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths + [json_path]


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


def safe_stem(text: object) -> str:
    """``text`` reduced to letters, digits, '-' and '_' (a unit id in a file name)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text))
