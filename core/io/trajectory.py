"""A behaviour trajectory (t, x, y [, hd]) read by the recording readers and checked by their validators.

``read_trajectory(path)`` reads an ``.npz`` through :func:`core.io.npz.read_npz` (plain data only, never
code) or a ``.csv`` / ``.txt`` table (a header row naming the columns, then numbers; an empty cell is a
missing sample), and checks the fields with the rules of :mod:`core.io.validate`: t in s, finite and
strictly increasing; x, y in cm (or m, converted) and hd in rad (degrees detected and converted), one sample
per t; short NaN gaps interpolated with a warning, more than half missing refused. The field names and their
exact aliases are those of the ASA layout (``core.io.fields``). Problems raise one ``RecordingError`` naming
the file and what to do.
"""

from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RecordingError
from core.io.fields import missing_field_message, resolve_fields
from core.io.npz import ZIP_MAGICS, read_npz
from core.io.validate import (
    _Context,
    _head_direction,
    _position,
    _report_unknown,
    _time_base,
    normalise_units,
)

REQUIRED = ("t", "x", "y")  # hd is optional
CSV_SUFFIXES = (".csv", ".txt")
MAX_CSV_BYTES = 512 * 2**20  # a text table larger than this is refused (save it as .npz)


@dataclass
class Trajectory:
    """t (s), x and y (cm), hd (rad in [0, 2π), or None), the file it came from and what was repaired."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    hd: np.ndarray | None
    source: str
    warnings: list[str] = field(default_factory=list)


def read_csv_columns(path: Path) -> dict[str, np.ndarray]:
    """The columns of a text table as name → float64 array (header row first; empty cells are NaN)."""
    name = path.name
    if path.stat().st_size > MAX_CSV_BYTES:
        raise RecordingError(f"{name}: a text table over {MAX_CSV_BYTES >> 20} MiB; save it as .npz instead")
    header: list[str] = []
    columns: list[list[float]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if not header:
                    header = [h.strip() for h in row]
                    columns = [[] for _ in header]
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise RecordingError(f"{name}, line {line}: {len(row)} values for {len(header)} columns")
                for h, cell, column in zip(header, row, columns, strict=True):
                    column.append(_number(cell, h, f"{name}, line {line}"))
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{name}: not a text table ({exc.reason}); save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise RecordingError(f"{name}: not a readable CSV table ({exc})") from None
    if not header:
        raise RecordingError(f"{name}: the table is empty; give a header row (t,x,y[,hd]) and numbers")
    return {h: np.asarray(c, dtype=np.float64) for h, c in zip(header, columns, strict=True)}


def _number(cell: str, column: str, where: str) -> float:
    text = cell.strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise RecordingError(f"{where}: column {column!r} holds {cell!r}, not a number") from None


def _read_fields(path: Path) -> dict[str, Any]:
    """Raw fields of a trajectory file, by magic bytes (zip: .npz) or extension (.csv, .txt)."""
    name = path.name
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGICS) or path.suffix.lower() == ".npz":
        try:
            return read_npz(path)
        except RecordingError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise RecordingError(
                f"{name}: cannot read this .npz file ({type(exc).__name__}: {exc}); it may be truncated or "
                "corrupt — export it again"
            ) from None
    if path.suffix.lower() in CSV_SUFFIXES:
        return read_csv_columns(path)
    raise RecordingError(f"{name}: a trajectory is a .npz or .csv file (t, x, y [, hd])")


def read_trajectory(
    path: str | os.PathLike[str], position_unit: str = "cm", hd_unit: str = "auto"
) -> Trajectory:
    """A trajectory from ``.npz`` (arrays ``t``, ``x``, ``y`` [, ``hd``]) or ``.csv`` (header ``t,x,y[,hd]``).

    position_unit: "cm" (as is), "m" (× 100) or "auto" (cm, with a warning when x/y look like metres);
    hd_unit: "auto" (rad; degrees detected and converted with a warning), "rad" or "deg". Raises
    RecordingError naming the file and the problem, ConfigError for an unknown unit.
    """
    pos_unit, hd_u = normalise_units(position_unit, hd_unit)
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: file not found")
    if not path.is_file():
        raise RecordingError(f"{path}: not a file; choose a .npz or .csv trajectory (t, x, y [, hd])")
    found = _read_fields(path)
    ctx = _Context(path.name)
    fields, unknown = resolve_fields(found)
    for key in REQUIRED:
        if key not in fields:
            ctx.fail(f"{missing_field_message(key, list(found))}; a trajectory needs t, x, y [, hd]")
    _report_unknown(unknown, fields, ctx)
    t = _time_base(fields["t"], ctx)
    x, y = _position(fields["x"], fields["y"], t, pos_unit, ctx)
    if x is None or y is None:
        ctx.fail("x and y hold no samples; a trajectory needs the position (cm) at every t")
    hd = _head_direction(fields.get("hd"), t, hd_u, ctx)
    return Trajectory(t, x, y, hd, str(path), ctx.warnings)
