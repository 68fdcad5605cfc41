"""Field names of the ASA layout, the few exact aliases accepted silently, and "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

REQUIRED: tuple[str, ...] = ("spike", "t")
OPTIONAL: tuple[str, ...] = ("x", "y", "hd", "unit_ids")
KNOWN: tuple[str, ...] = REQUIRED + OPTIONAL

# Exact names accepted without a word (only unambiguous spellings; everything else gets a suggestion).
ALIASES: dict[str, str] = {"T": "t", "X": "x", "Y": "y", "HD": "hd", "Spike": "spike", "SPIKE": "spike"}

# Every member name a reader needs to read: the fields and their exact aliases (others are only listed).
LAYOUT_NAMES: frozenset[str] = frozenset(KNOWN) | frozenset(ALIASES)


def is_layout_name(name: str) -> bool:
    """Whether a stored name is an ASA field or one of its exact aliases (so worth reading)."""
    return name in LAYOUT_NAMES


# Common names that difflib cannot map to a one- or two-letter field name; used only to *suggest*.
HINTS: dict[str, str] = {
    **{n: "spike" for n in ("spikes", "spike_times", "spiketimes", "spk", "spikes_dict", "spiketrains")},
    **{n: "spike" for n in ("spike_train", "spike_trains", "st", "units")},
    **{n: "t" for n in ("time", "times", "ts", "timestamps", "timestamp", "tt", "t_s", "time_s")},
    **{n: "x" for n in ("pos_x", "posx", "x_pos", "xpos", "x_cm", "position_x")},
    **{n: "y" for n in ("pos_y", "posy", "y_pos", "ypos", "y_cm", "position_y")},
    **{n: "hd" for n in ("head_direction", "headdirection", "head_dir", "theta", "heading", "azimuth")},
    **{n: "hd" for n in ("hd_rad", "hd_deg", "angle", "direction")},
}

# Keys that MATLAB and other writers add; never reported as unknown.
IGNORED_PREFIXES: tuple[str, ...] = ("__", "#")


def suggest(name: str, candidates: Iterable[str] = KNOWN) -> str | None:
    """The ASA field a found name probably meant, or None."""
    cands = list(candidates)
    hint = HINTS.get(name.lower())
    if hint is not None and hint in cands:
        return hint
    close = difflib.get_close_matches(name.lower(), cands, n=1, cutoff=0.6)
    return close[0] if close else None


def resolve_fields(found: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Map the names found in a file onto ASA field names.

    Returns ``(fields, unknown)``: ``fields`` holds the known fields (exact aliases renamed), ``unknown`` the
    other names (without writer bookkeeping keys such as MATLAB's ``__header__``).
    """
    fields: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in found.items():
        if name.startswith(IGNORED_PREFIXES):
            continue
        canonical = name if name in KNOWN else ALIASES.get(name)
        if canonical is not None and canonical not in fields:
            fields[canonical] = value
        else:
            unknown.append(name)
    return fields, unknown


def missing_field_message(field: str, found: Iterable[str]) -> str:
    """Sentence for a missing required field: what was found and the likely intended name."""
    names = [n for n in found if not n.startswith(IGNORED_PREFIXES)]
    listed = ", ".join(repr(n) for n in names) if names else "no fields at all"
    msg = f"required field '{field}' is missing (found: {listed})"
    guesses = [n for n in names if suggest(n) == field]
    if guesses:
        msg += f"; did you mean '{field}'? Rename {guesses[0]!r} to '{field}' and save the file again"
    else:
        msg += f"; add '{field}' ({describe(field)})"
    return msg


def describe(field: str) -> str:
    """What a field holds, with its unit."""
    return {
        "spike": "spike times in seconds per unit, or a (time × units) count matrix aligned to t",
        "t": "the time base in seconds, strictly increasing",
        "x": "x position in cm at each t",
        "y": "y position in cm at each t",
        "hd": "head direction in radians at each t",
        "unit_ids": "one identifier per unit",
    }.get(field, field)
