"""Unit subsets: a table of every unit's scores, a small query language over it, and the recording of a
subset, analysed like any other (e.g. one grid module of a 65-cell MEC session with three modules).

The table's columns: ``unit`` (id), ``rate_hz`` (mean rate over the recording), ``spikes``, and when the views
were computed ``spatial_info`` (bit/spike, Skaggs et al. 1993), ``gridness``, ``is_grid``, ``module`` (−1 for
non-grid units), ``spacing_cm``, ``hd_mvl`` (mean vector length of the head-direction tuning).

A query is clauses ``column op value`` joined by ``and`` / ``or`` (``and`` binds first), with ``op`` one of
``< <= > >= == !=``; e.g. ``module == 1``, ``is_grid == 1 and rate_hz > 0.5``, ``hd_mvl >= 0.3``. Queries are
parsed, never evaluated as code.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Mapping

import numpy as np

from core.errors import ConfigError
from core.recording import Recording

OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*([-+]?[0-9.eE+-]+|true|false)\s*$")
MAX_QUERY_CHARS = 500
COLUMNS = (
    "unit",
    "rate_hz",
    "spikes",
    "spatial_info",
    "gridness",
    "is_grid",
    "module",
    "spacing_cm",
    "hd_mvl",
)


def unit_table(recording: Recording, views: Mapping | None = None) -> list[dict]:
    """One row per unit: id, mean rate (Hz), spikes and, from computed views (``ViewData.views``), spatial
    information, gridness, grid cell, module, spacing and head-direction mean vector length."""
    n = recording.n_units
    duration = max(recording.duration_s, 1e-9)
    if recording.rates is not None:
        counts = np.nansum(recording.rates, axis=0)
        rates = np.nanmean(recording.rates, axis=0)
    else:
        counts = np.array([len(s) for s in recording.spike_times], dtype=float)
        rates = counts / duration
    rows = [
        {"unit": recording.unit_ids[i], "rate_hz": float(rates[i]), "spikes": int(counts[i])}
        for i in range(n)
    ]
    views = views or {}
    frm = views.get("frm")
    scores = views.get("gridscore")
    for i, row in enumerate(rows):
        if frm is not None and frm.maps is not None and frm.maps.n_units == n:
            row["spatial_info"] = float(frm.maps.spatial_information_bits_per_spike[i])
        if frm is not None and frm.tuning is not None and frm.tuning.n_units == n:
            row["hd_mvl"] = float(frm.tuning.mean_vector_length[i])
        if scores is not None and scores.n_units == n:
            row["gridness"] = float(scores.gridness[i])
            row["is_grid"] = bool(scores.is_grid[i])
            row["module"] = int(scores.module[i])
            row["spacing_cm"] = float(scores.spacing_cm[i])
    return rows


def _clause(text: str, columns: set[str]):
    match = _CLAUSE.match(text)
    if match is None:
        raise ConfigError(f"cannot read {text.strip()!r}: write column op value, e.g. 'module == 1'")
    column, op, value = match.groups()
    if column not in columns:
        raise ConfigError(f"no column {column!r}; the table has {', '.join(sorted(columns))}")
    number = {"true": 1.0, "false": 0.0}.get(value.lower()) if value.isalpha() else None
    if number is None:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{value!r} is not a number (in {text.strip()!r})") from None
    compare = OPERATORS[op]

    def test(row: dict) -> bool:
        try:
            cell = float(row.get(column))  # a unit id that is no number never matches
        except (TypeError, ValueError):
            return False
        return bool(np.isfinite(cell) and compare(cell, number))

    return test


def check_query(query: str) -> None:
    """ConfigError when ``query`` cannot be read or names no column (before any score is computed)."""
    select([dict.fromkeys(COLUMNS, 0.0)], query)


def select(table: list[dict], query: str) -> list[int]:
    """Indices (recording order) of the rows that satisfy ``query``; ConfigError naming what is wrong."""
    if len(query) > MAX_QUERY_CHARS:
        raise ConfigError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    columns = set().union(*(row.keys() for row in table)) if table else set()
    alternatives = []
    for part in re.split(r"\s+or\s+", query.strip()):
        alternatives.append([_clause(c, columns) for c in re.split(r"\s+and\s+", part)])
    return [i for i, row in enumerate(table) if any(all(t(row) for t in alt) for alt in alternatives)]


def by_ids(recording: Recording, unit_ids: list) -> list[int]:
    """Indices of ``unit_ids`` (compared as text, so '7' finds 7); ConfigError naming unknown ids."""
    index = {str(u): i for i, u in enumerate(recording.unit_ids)}
    unknown = [u for u in unit_ids if str(u) not in index]
    if unknown:
        raise ConfigError(f"no unit {', '.join(map(str, unknown[:5]))} in this recording")
    return [index[str(u)] for u in unit_ids]


def subset(recording: Recording, indices: list[int], name: str) -> Recording:
    """The recording of units ``indices`` only, named ``name`` in its metadata (its cache keys differ from
    the full recording's, so both analyses live side by side)."""
    indices = sorted(set(int(i) for i in indices))
    if not indices:
        raise ConfigError(f"the subset {name!r} has no units")
    spikes = recording.spike_times
    metadata = dict(recording.metadata)
    metadata["subset"] = {"name": name, "unit_ids": [recording.unit_ids[i] for i in indices]}
    return dataclasses.replace(
        recording,
        unit_ids=[recording.unit_ids[i] for i in indices],
        spike_times=[spikes[i] for i in indices] if len(spikes) == recording.n_units else [],
        rates=recording.rates[:, indices] if recording.rates is not None else None,
        metadata=metadata,
    )
