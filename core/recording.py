"""The ``Recording``: spike trains with the animal's position and head direction, in physical units."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Recording:
    """One recording session.

    Attributes:
        unit_ids: identifier of each unit, as in the source file (strings or ints).
        spike_times: one sorted float64 array of spike times (s) per unit, all within ``[t[0], t[-1]]``.
        t: time base (s), strictly increasing; the samples of ``x``, ``y`` and ``hd``.
        x, y: position (cm) at ``t``, or None when the recording has no position.
        hd: head direction (rad, wrapped to [0, 2π)) at ``t``, or None.
        rates: optional dense (len(t), n_units) matrix of counts or rates aligned to ``t``, when the source
            gave rates instead of spike times (``spike_times`` is then empty for every unit).
        source: path of the file it was loaded from ("" for synthetic data).
        sha256: hex digest of that file ("" for synthetic data).
        metadata: free information (species, area, generator parameters, ...).
    """

    unit_ids: list
    spike_times: list[np.ndarray]
    t: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    hd: np.ndarray | None = None
    rates: np.ndarray | None = None
    source: str = ""
    sha256: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0

    @property
    def has_position(self) -> bool:
        return self.x is not None and self.y is not None

    @property
    def n_spikes(self) -> int:
        return int(sum(len(s) for s in self.spike_times))

    def describe(self) -> str:
        """One line for logs: units, duration, what tracking is present."""
        parts = [f"{self.n_units} units", f"{self.duration_s:.1f} s"]
        if self.rates is not None:
            parts.append("dense rate matrix")
        else:
            parts.append(f"{self.n_spikes} spikes")
        if self.has_position:
            parts.append("position")
        if self.hd is not None:
            parts.append("head direction")
        return ", ".join(parts)
