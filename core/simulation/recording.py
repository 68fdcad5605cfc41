"""From a model run to a :class:`~core.recording.Recording` that the analysis treats like an imported file.

Rates of the recorded neurons are scaled to Hz (the run's largest rate → ``peak_rate_hz``, plus a background),
drawn as inhomogeneous Poisson spikes (``core.synthetic.poisson_spikes``, seeded) and attached to the task's
behaviour: arena position (cm) and/or head direction (rad). :func:`run_model` is the one-call path (the
Simulate page): a model by name (``core.simulation.registry``) with its config, a task, a random subset of
recorded units, a device; ``simulate_recording`` is its ``canns-asa simulate`` form (default task of a given
duration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Config
from core.errors import ConfigError
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.simulation.base import TWO_PI, ChunkCallback, SimulationResult
from core.simulation.model import RunOptions
from core.simulation.registry import model_spec
from core.simulation.tasks import Task, TaskConfig


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
    elif task is not None and task.dims == 1:  # the angle a ring network tracks is the head direction
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
class RecordingOptions(Config):
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
    """Simulate ``model`` (a name in ``registry.MODELS``) with ``config`` (default: the spec's) on ``task``
    (a :class:`TaskConfig` or a built :class:`Task`; default: the model's default task, 600 s) and draw a
    recording of ``n_units`` units (random subset, seeded).

    ``device``: "auto", "cpu", "gpu" or "gpu:N" (falls back to CPU with a message when the GPU fails).
    ``keep_state``: keep the full network state of every record (None: when it needs ≤ 128 MB).
    ``on_chunk`` receives the live state after every compiled chunk (see ``base.run_compiled``).
    """
    from core.devices import run_on_device

    spec = model_spec(model)
    model = spec.name
    config = spec.config if config is None else config
    net = spec.build(config)
    n_units = spec.default_units if n_units is None else int(n_units)
    report = Reporter(progress, cancel)
    report(0.0, f"{model}: preparing the task")
    task = spec.make_task(spec.task_config(seed=seed) if task is None else task, config)
    if keep_state is None:
        n_records = int(task.duration_s * 1000.0 / RunOptions.record_every_ms)
        keep_state = n_records * net.n_neurons * 4 <= KEEP_STATE_BYTES
    options = RunOptions(
        record_units=n_units,
        record_state=keep_state,
        seed=seed,
        progress=report.sub(0.02, 0.95),
        cancel=cancel,
        on_chunk=on_chunk,
    )
    report.check()

    def run() -> SimulationResult:
        return net.simulate(task, options)

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
