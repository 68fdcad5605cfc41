"""From a model run to a :class:`~core.recording.Recording` that the analysis treats like an imported file.

Rates of the recorded neurons are scaled to Hz (the run's largest rate → ``peak_rate_hz``, plus a background),
drawn as inhomogeneous Poisson spikes (``core.synthetic.poisson_spikes``, seeded) and attached to the task's
behaviour: arena position (cm) and/or head direction (rad). :func:`run_model` is the one-call path (the
Simulate page): a model by name with its config, a task, a random subset of recorded units, a device;
``simulate_recording`` is its ``canns-asa simulate`` form (default task of a given duration).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.errors import ConfigError, RecordingError
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.simulation.base import TWO_PI, ChunkCallback, SimulationResult, wrap
from core.simulation.models_cann1d import CANN1D, CANN1DConfig
from core.simulation.models_cann2d import CANN2D, CANN2DConfig
from core.simulation.models_grid import GridConfig, GridNetwork
from core.simulation.models_hd import HDRing, HDRingConfig
from core.simulation.tasks import Task, TaskConfig, build_task


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
    """A model offered by name (``canns-asa simulate MODEL``, the Simulate page): its class and default
    config, the task kinds it can run (``tasks.TaskConfig.kind``; the first is its default), the default
    number of recorded units and duration (s), and the dimension of its stimulus (1: ring, 2: sheet)."""

    name: str
    description: str
    model: type
    config: Any
    tasks: tuple[str, ...]
    default_units: int
    default_duration_s: float = 600.0
    stimulus_dims: int = 1

    def task_config(self, duration_s: float | None = None, seed: int = 0) -> TaskConfig:
        """The default task of this model (full-strength stimulus, seeded)."""
        duration_s = self.default_duration_s if duration_s is None else float(duration_s)
        return TaskConfig(kind=self.tasks[0], duration_s=duration_s, amplitude=1.0, seed=seed)

    def make_task(self, task: TaskConfig | Task, config: Any = None) -> Task:
        """The task this model runs: ``task`` built for its stimulus (ring or sheet; periodic unless the
        config's boundary is a plane) and adapted to it (a trajectory's head direction drives a ring)."""
        if isinstance(task, TaskConfig):
            if task.kind not in self.tasks:
                raise ConfigError(
                    f"{self.name} cannot run a {task.kind!r} task; use one of {', '.join(self.tasks)}"
                )
            periodic = getattr(config or self.config, "boundary", "torus") == "torus"
            task = build_task(task, dims=self.stimulus_dims, periodic=periodic)
        return _fit_task(self.name, task)


MODELS: dict[str, ModelSpec] = {
    "cann1d": ModelSpec(
        "cann1d",
        "ring CANN (512 neurons) tracking a head-direction walk",
        CANN1D,
        CANN1DConfig(),
        ("head_direction", "tracking", "population", "template", "external"),
        20,
    ),
    # a bump of s.d. 1 rad (the default is 0.5) so that 100 of the 10,000 neurons cover the torus densely
    # enough for the analysis to find it in 10 minutes (with 0.5 rad each unit fires 4 % of the time)
    "cann2d": ModelSpec(
        "cann2d",
        "torus CANN (100 × 100) tracking a random walk in a 150 cm box",
        CANN2D,
        CANN2DConfig(a_rad=1.0),
        ("arena_walk", "tracking", "population", "template", "external"),
        100,
        stimulus_dims=2,
    ),
    "hd-ring": ModelSpec(
        "hd-ring",
        "head-direction ring integrating angular velocity",
        HDRing,
        HDRingConfig(),
        ("head_direction", "rotation", "external"),
        20,
    ),
    "grid-torus": ModelSpec(
        "grid-torus",
        "Burak–Fiete grid sheet (40 × 40) path-integrating a random walk",
        GridNetwork,
        GridConfig(),
        ("arena_walk", "external"),
        100,
        stimulus_dims=2,
    ),
}


def model_spec(model: str) -> ModelSpec:
    """The :data:`MODELS` entry of ``model``; ConfigError naming the choices otherwise."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    return MODELS[model]


def _fit_task(model: str, task: Task) -> Task:
    """A trajectory adapted to a ring model: its head direction becomes the stimulus (tasks that already
    have a ring stimulus are kept as they are)."""
    if model in ("cann1d", "hd-ring") and task.dims != 1:
        if task.hd_rad is None:
            source = task.params.get("source", task.name)
            raise RecordingError(f"{source}: {model} needs the head direction (hd) in the trajectory")
        task = replace(task, stim_pos=wrap(task.hd_rad))
    return task


@dataclass(frozen=True)
class RecordingOptions:
    """How a run becomes a recording (the Simulate page's form): recorded units, their peak rate, the seed
    of the unit choice and of the spikes."""

    n_units: int = field(default=100, metadata={"min": 1, "max": 65536, "help": "recorded units"})
    peak_rate_hz: float = field(
        default=15.0, metadata={"unit": "Hz", "min": 0.1, "max": 500.0, "help": "peak firing rate"}
    )
    seed: int = field(default=0, metadata={"min": 0, "max": 2**31 - 1, "help": "seed (units, spikes)"})


# the full state of every record is kept (live view, space-time plot, animation) while it stays below this
KEEP_STATE_BYTES = 128 * 2**20


@dataclass
class SimulationRun:
    """A finished run: the model's result, the recording drawn from it, the device message ('' when the
    requested device ran it), and the settings that made it (model name, units, seed, peak rate)."""

    model: str
    result: SimulationResult
    recording: Recording
    device_message: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


def run_model(
    model: str,
    config: Any = None,
    task: TaskConfig | Task | None = None,
    n_units: int | None = None,
    seed: int = 0,
    device: str = "auto",
    peak_rate_hz: float = 15.0,
    keep_state: bool | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    on_chunk: ChunkCallback | None = None,
) -> SimulationRun:
    """Simulate ``model`` (a key of :data:`MODELS`) with ``config`` (default: the spec's) on ``task`` (a
    :class:`TaskConfig` or a built :class:`Task`; default: the model's default task, 600 s) and draw a
    recording of ``n_units`` units (random subset, seeded).

    ``device``: "auto", "cpu", "gpu" or "gpu:N" (falls back to CPU with a message when the GPU fails).
    ``keep_state``: keep the full network state of every record (None: when it needs ≤ 128 MB).
    ``on_chunk`` receives the live state after every compiled chunk (see ``base.run_compiled``).
    """
    from core.devices import run_on_device

    spec = model_spec(model)
    config = spec.config if config is None else config
    if not isinstance(config, type(spec.config)):
        raise ConfigError(f"{model} needs a {type(spec.config).__name__}, got {type(config).__name__}")
    n_units = spec.default_units if n_units is None else int(n_units)
    report = Reporter(progress, cancel)
    report(0.0, f"{model}: preparing the task")
    task = spec.make_task(spec.task_config(seed=seed) if task is None else task, config)
    net = spec.model(config)
    n_neurons = config.n * (config.n if spec.stimulus_dims == 2 else 1)
    n_records = int(task.duration_s * 100.0)  # records every 10 ms
    if keep_state is None:
        keep_state = n_records * n_neurons * 4 <= KEEP_STATE_BYTES
    report.check()

    def run() -> SimulationResult:
        return net.simulate(
            task,
            record_units=n_units,
            record_state=keep_state,
            seed=seed,
            progress=report.sub(0.02, 0.95),
            cancel=cancel,
            on_chunk=on_chunk,
        )

    result, used, message = run_on_device(run, device)
    report(0.96, "drawing Poisson spikes")
    recording = to_recording(result, None, peak_rate_hz=peak_rate_hz, seed=seed)
    recording.metadata["device"] = used
    if message:
        recording.metadata["device_message"] = message
    report(1.0, f"{model}: {recording.describe()}")
    settings = {"model": model, "n_units": n_units, "seed": seed, "peak_rate_hz": peak_rate_hz}
    return SimulationRun(model, result, recording, message, settings)


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
    """``canns-asa simulate``: ``model`` on its default task of ``duration_s`` (or on ``task``, e.g. an
    external trajectory) without keeping the state. Returns (recording, result, device message)."""
    spec = model_spec(model)
    duration_s = spec.default_duration_s if duration_s is None else float(duration_s)
    if not duration_s > 0:
        raise ConfigError(f"--duration must be > 0 s, got {duration_s}")
    run = run_model(
        model,
        task=spec.task_config(duration_s, seed) if task is None else task,
        n_units=n_units,
        seed=seed,
        device=device,
        peak_rate_hz=peak_rate_hz,
        keep_state=False,
        progress=progress,
        cancel=cancel,
    )
    return run.recording, run.result, run.device_message
