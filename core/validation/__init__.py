"""Validation suite: realistic recordings with known answers (ring, torus or none) on real rat trajectories.

Needs RatInABox (the optional extra ``validation``); it is imported only when a recording is generated.
``recordings`` holds the generators and the transforms (count-binned spikes, sample-and-hold tracking,
gaps, null controls), ``suite`` the named cases and their scoring. Run it with ``benchmarks/validity.py``.
"""

from core.validation.recordings import (
    circular_shift_null,
    cut_gaps,
    grid_population,
    head_direction_ensemble,
    place_cell_population,
    rate_matched_poisson,
    rebin_spikes,
    sample_and_hold,
    sleep_head_direction,
)
from core.validation.suite import FAMILIES, TARGETS, Case, build_suite, evaluate, summarise

__all__ = [
    "FAMILIES",
    "TARGETS",
    "Case",
    "build_suite",
    "circular_shift_null",
    "cut_gaps",
    "evaluate",
    "grid_population",
    "head_direction_ensemble",
    "place_cell_population",
    "rate_matched_poisson",
    "rebin_spikes",
    "sample_and_hold",
    "sleep_head_direction",
    "summarise",
]
