"""Live frames of a running simulation for a viewer: what ``run_model(..., on_chunk=LiveFeed(task, show))``
hands to ``show`` while the model runs, at most every ``interval_s`` of wall time.

A frame is a dict: ``t_s`` (simulated seconds so far), ``state`` (the activity variable: u (N,) of a ring,
u (L, L) of a CANN2D sheet, s (n, n) of the grid sheet; rows are y), ``stimulus`` (the stimulus position at
``t_s``, rad; None when the task has none) and ``path`` ((k, 2) arena positions (cm) up to ``t_s``, at most
``max_path`` points; None without a trajectory). Arrays are copies: the viewer may keep them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from core.simulation.tasks import Task


def activity(state: dict[str, np.ndarray]) -> np.ndarray | None:
    """The activity variable of a model state: u (CANNs, HD ring) or s (grid network)."""
    for key in ("u", "s"):
        if key in state:
            return np.asarray(state[key])
    return None


class LiveFeed:
    """An ``on_chunk`` callback that turns compiled chunks into frames for ``show`` (called in the worker
    thread; a GUI forwards it through a queued signal). The last chunk always produces a frame."""

    def __init__(
        self, task: Task, show: Callable[[dict], None], interval_s: float = 0.1, max_path: int = 2000
    ) -> None:
        self.task, self.show = task, show
        self.interval_s, self.max_path = interval_s, max_path
        self._last = -np.inf

    def __call__(self, chunk: dict) -> None:
        now = time.monotonic()
        t = float(chunk["t_s"])
        if now - self._last < self.interval_s and not chunk.get("final", False):
            return
        self._last = now
        stimulus = self.task.at("stim_pos", np.array([t]))
        path = None
        if self.task.x_cm is not None and self.task.y_cm is not None:
            times = np.linspace(0.0, t, max(2, min(self.max_path, int(t * 20) + 2)))
            path = np.stack([self.task.at("x_cm", times), self.task.at("y_cm", times)], axis=1)
        state = activity(chunk["state"])
        self.show(
            {
                "t_s": t,
                "state": None if state is None else state.copy(),
                "stimulus": None if stimulus is None else np.asarray(stimulus)[0],
                "path": path,
            }
        )
