"""From a model run to a :class:`~core.recording.Recording` that the analysis treats like an imported file.

Rates of the recorded neurons are scaled to Hz (the run's largest rate → ``peak_rate_hz``, plus a background),
drawn as inhomogeneous Poisson spikes (``core.synthetic.poisson_spikes``, seeded) and attached to the task's
behaviour: arena position (cm) and/or head direction (rad). ``simulate_recording`` is the one-call path used
by ``canns-asa simulate``: a model by name, its default task, a random subset of recorded units, a device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.errors import ConfigError, RecordingError
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.simulation.base import TWO_PI, SimulationResult, wrap
from core.simulation.models_cann1d import CANN1D, CANN1DConfig
from core.simulation.models_cann2d import CANN2D, CANN2DConfig
from core.simulation.models_grid import GridConfig, GridNetwork
from core.simulation.models_hd import HDRing, HDRingConfig
from core.simulation.tasks import Task


def to_recording(
    result: SimulationResult,
    n_units: int | None = None,
    peak_rate_hz: float = 15.0,
    background_hz: float = 0.1,
    seed: int = 0,
) -> Recording:
    """Poisson spikes of ``n_units`` recorded neurons (a random subset of those the run recorded, seeded;
    None: all) with the task's trajectory and head direction at the record times.

    The rate of a unit at record k is background_hz + peak_rate_hz · r_k / max(r) (max over the run and the
    recorded units). ``metadata`` holds the run's provenance (model, parameters, task, device) and each unit's
    preferred position on the network.
    """
    rng = np.random.default_rng(seed)
    rates = np.asarray(result.rates, dtype=np.float64)
    n_rec = rates.shape[1]
    if n_units is None:
        pick = np.arange(n_rec)
    else:
        if not 1 <= n_units <= n_rec:
            raise ConfigError(
                f"n_units must be in [1, {n_rec}] (the neurons the run recorded), got {n_units}"
            )
        pick = np.sort(rng.choice(n_rec, n_units, replace=False)) if n_units < n_rec else np.arange(n_rec)
    if peak_rate_hz <= 0 or background_hz < 0:
        raise ConfigError("peak_rate_hz must be > 0 Hz and background_hz ≥ 0 Hz")
    top = rates.max()
    if not np.isfinite(top) or top <= 0:
        raise ConfigError("the network was silent during the whole run: no spikes to draw")
    hz = background_hz + peak_rate_hz * rates[:, pick] / top
    from core.synthetic import poisson_spikes

    dt = result.dt_record_s if result.t_s.size > 1 else float(result.t_s[0])
    t0 = float(result.t_s[0] - dt)  # record k summarises the interval ending at t_s[k]
    trains = poisson_spikes(hz, dt, t0, rng)
    t = np.concatenate([[t0], result.t_s])
    task: Task = result.task
    x = y = hd = None
    if task is not None and task.x_cm is not None and task.y_cm is not None:
        x, y = task.at("x_cm", t), task.at("y_cm", t)
    if task is not None and task.hd_rad is not None:
        hd = task.at("hd_rad", t)
    elif result.model == "cann1d" and result.stimulus is not None:  # the tracked angle is the head direction
        hd = np.mod(task.at("stim_pos", t), TWO_PI)
    units = result.unit_index[pick]
    metadata: dict[str, Any] = result.provenance()
    metadata.update(
        recorded_neurons=units.tolist(),
        preferred_position=np.asarray(result.unit_position[pick]).tolist(),
        peak_rate_hz=peak_rate_hz,
        background_hz=background_hz,
        spike_seed=seed,
    )
    return Recording(
        unit_ids=[int(u) for u in units],
        spike_times=trains,
        t=t,
        x=x,
        y=y,
        hd=hd,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- one call per model name


@dataclass(frozen=True)
class ModelSpec:
    """How ``canns-asa simulate MODEL`` builds a run: the model class and the config it uses, the task it
    drives the model with (``task(duration_s, seed)``), the default number of units and duration (s), and the
    dimension of its stimulus (1: ring, 2: sheet; for ``tasks.build_task``)."""

    name: str
    description: str
    model: type
    config: Any
    task: Callable[[float, int], Task]
    default_units: int
    default_duration_s: float = 600.0
    stimulus_dims: int = 1

    def build(self):
        return self.model(self.config)


def _hd_task(duration_s: float, seed: int) -> Task:
    from core.simulation.tasks import head_direction

    return head_direction(duration_s, seed=seed)


def _walk_task(duration_s: float, seed: int) -> Task:
    from core.simulation.tasks import arena_walk

    return arena_walk(duration_s, seed=seed)


MODELS: dict[str, ModelSpec] = {
    "cann1d": ModelSpec(
        "cann1d",
        "ring CANN (512 neurons) tracking a head-direction walk",
        CANN1D,
        CANN1DConfig(),
        _hd_task,
        20,
    ),
    # a bump of s.d. 1 rad (the default is 0.5) so that 100 of the 10,000 neurons cover the torus densely
    # enough for the analysis to find it in 10 minutes (with 0.5 rad each unit fires 4 % of the time)
    "cann2d": ModelSpec(
        "cann2d",
        "torus CANN (100 × 100) tracking a random walk in a 150 cm box",
        CANN2D,
        CANN2DConfig(a_rad=1.0),
        _walk_task,
        100,
        stimulus_dims=2,
    ),
    "hd-ring": ModelSpec(
        "hd-ring", "head-direction ring integrating angular velocity", HDRing, HDRingConfig(), _hd_task, 20
    ),
    "grid-torus": ModelSpec(
        "grid-torus",
        "Burak–Fiete grid sheet (40 × 40) path-integrating a random walk",
        GridNetwork,
        GridConfig(),
        _walk_task,
        100,
        stimulus_dims=2,
    ),
}


def _fit_task(model: str, task: Task) -> Task:
    """An external trajectory adapted to a ring model: the head direction becomes the stimulus."""
    if model in ("cann1d", "hd-ring"):
        if task.hd_rad is None:
            source = task.params.get("source", task.name)
            raise RecordingError(f"{source}: {model} needs the head direction (hd) in the trajectory")
        if task.dims != 1:
            task = replace(task, stim_pos=wrap(task.hd_rad))
    return task


def simulate_recording(
    model: str,
    duration_s: float | None = None,
    n_units: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    task: Task | None = None,
    peak_rate_hz: float = 15.0,
) -> tuple[Recording, SimulationResult, str]:
    """Run model ``model`` (a key of :data:`MODELS`) on its default task (or ``task``) and turn it into a
    recording of ``n_units`` units. ``device``: "auto", "cpu", "gpu" or "gpu:N" (falls back to CPU with a
    message when the GPU fails). Returns (recording, result, device message)."""
    from core.devices import run_on_device

    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    spec = MODELS[model]
    duration_s = spec.default_duration_s if duration_s is None else float(duration_s)
    n_units = spec.default_units if n_units is None else int(n_units)
    if not duration_s > 0:
        raise ConfigError(f"--duration must be > 0 s, got {duration_s}")
    report = Reporter(progress, cancel)
    report(0.0, f"{model}: preparing the task")
    task = spec.task(duration_s, seed) if task is None else _fit_task(model, task)
    net = spec.build()

    def run() -> SimulationResult:
        return net.simulate(
            task, record_units=n_units, seed=seed, progress=report.sub(0.02, 0.95), cancel=cancel
        )

    result, used, message = run_on_device(run, device)
    report(0.96, "drawing Poisson spikes")
    recording = to_recording(result, None, peak_rate_hz=peak_rate_hz, seed=seed)
    recording.metadata["device"] = used
    if message:
        recording.metadata["device_message"] = message
    report(1.0, f"{model}: {recording.describe()}")
    return recording, result, message
