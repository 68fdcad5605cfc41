"""The one interface of every simulated model: ``Model.simulate(task, options)``.

A model is built from its config dataclass (its own parameters: sizes, time constants, kernels, ...) and runs
a :class:`~core.simulation.tasks.Task`. What every run takes besides the task lives in one place,
:class:`RunOptions` (start state, what to record and how often, seed, progress, cancel, live view), so the
four attractor models here, and the trained RNNs (Train) and BrainPy networks (Build) to come, share one
signature. A model subclasses :class:`Model` and implements :meth:`Model.run`; callers use
``simulate(task, options)`` or pass the options' fields as keywords, ``simulate(task, record_units=20)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from core.errors import ConfigError
from core.progress import CancelCheck, ProgressCallback
from core.simulation.base import ChunkCallback, SimulationResult, step_times

if TYPE_CHECKING:
    from core.simulation.tasks import Task


@dataclass(frozen=True)
class RunOptions:
    """The arguments every model's run shares.

    state: start there (a state dict of the model, e.g. a previous run's ``final_state``); None: the model's
    default start (a bump at ``start_position`` or at the task's first stimulus position; the grid sheet:
    a pattern formed from noise seeded by ``seed``). start_position: rad (a pair on a 2-D sheet); models
    without one ignore it. record_every_ms: sampling interval of the result (a multiple of the model's
    step). record_units: None (every neuron), a count (a random subset seeded by ``seed``) or flat indices.
    record_state: keep the full activity of every record (energy landscape, animation). progress, cancel,
    on_chunk: see :func:`core.simulation.base.run_compiled`.
    """

    state: dict | None = None
    start_position: Any = None
    record_every_ms: float = 10.0
    record_units: int | np.ndarray | None = None
    record_state: bool = False
    seed: int = 0
    progress: ProgressCallback | None = None
    cancel: CancelCheck | None = None
    on_chunk: ChunkCallback | None = None

    def schedule(self, task: Task, dt_ms: float) -> tuple[np.ndarray, int, np.ndarray]:
        """(step times (s), steps per record, record times (s)) of a run of ``task`` at step ``dt_ms``."""
        return step_times(task.duration_s, dt_ms, self.record_every_ms)

    def units(self, n_total: int) -> np.ndarray:
        """Indices of the recorded neurons among ``n_total`` (see ``record_units``)."""
        chosen = self.record_units
        if chosen is None:
            return np.arange(n_total)
        if np.ndim(chosen) == 0:
            count = int(chosen)
            if not 1 <= count <= n_total:
                raise ConfigError(f"the number of recorded units must be in [1, {n_total}], got {count}")
            return np.sort(np.random.default_rng(self.seed).choice(n_total, count, replace=False))
        idx = np.asarray(chosen, dtype=np.int64).ravel()
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n_total:
            raise ConfigError(f"recorded unit indices must lie in [0, {n_total})")
        return idx


class Model(ABC):
    """A simulated network: built from its config, run on a task.

    ``name`` is the model's name in the registry (``core.simulation.registry``), which is also
    ``SimulationResult.model`` of its runs; ``config`` its parameters; ``n_neurons`` how many neurons it has
    (flat indices 0..n_neurons-1 are what ``record_units`` picks from).
    """

    name: ClassVar[str] = "model"
    config: Any

    @property
    @abstractmethod
    def n_neurons(self) -> int: ...

    @abstractmethod
    def run(self, task: Task, options: RunOptions) -> SimulationResult:
        """One run over the whole task with ``options``."""

    def simulate(self, task: Task, options: RunOptions | None = None, **overrides: Any) -> SimulationResult:
        """Run over the whole task: ``options`` (default: ``RunOptions()``) with any of its fields given as
        keywords instead (``simulate(task, record_units=20, seed=1)``). See :class:`RunOptions`."""
        options = options or RunOptions()
        if overrides:
            try:
                options = replace(options, **overrides)
            except TypeError:
                known = ", ".join(RunOptions.__dataclass_fields__)
                unknown = ", ".join(sorted(set(overrides) - set(RunOptions.__dataclass_fields__)))
                raise TypeError(f"{self.name}.simulate got {unknown}; its options are {known}") from None
        return self.run(task, options)
