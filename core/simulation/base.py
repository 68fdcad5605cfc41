"""What every model shares: the compiled run loop, the run's result, and ring/torus geometry helpers.

A model is a pure step function ``step(params, state, inputs) -> state`` and a ``readout(params, state)``
(bump decoder and recorded rates), both traced by JAX. :func:`run_compiled` runs them as two nested
``lax.scan`` loops (records × steps per record) under one ``jax.jit``: the compiled function is cached per
(step, readout) pair and per chunk shape, so later runs of the same shapes do not compile at all. Runs go in
chunks so that progress, the live view and cancel work between them: a first small chunk (it compiles), a
second that measures the time per step, then chunks of the largest shape that takes at most
``CHUNK_SECONDS`` (``LIVE_CHUNK_SECONDS`` with a live view), re-measured after every chunk. Chunk shapes
come from a fixed ladder (``CHUNK_SHAPES``): a run compiles a few shapes at most, a process each one once;
the end of a run goes in shapes already compiled, the very last chunk padded with masked records (the state
does not move). Pure JAX needs none of BrainPy's per-thread environment, so runs work in any thread
(``core.devices`` says why not BrainPy).

Units: time in ms inside models (τ, dt), seconds in results and recordings; positions on rings and tori in
radians, on the grid sheet in neurons, in the arena in cm.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import config as config_layer
from core.angles import TWO_PI, wrap_pi
from core.errors import ConfigError
from core.progress import CancelCheck, ProgressCallback, Reporter

# model steps per compiled call: the fixed ladder of chunk shapes (each compiles once per process); the first
# chunks of a run are the smallest, the others the largest that takes at most CHUNK_SECONDS
CHUNK_SHAPES = (250, 1_000, 4_000, 16_000, 64_000, 256_000)
CHUNK_SECONDS = 0.3  # a compiled call lasts at most about this long: progress and cancel between calls
LIVE_CHUNK_SECONDS = 0.1  # the same with a live view (``on_chunk``): it wants frequent frames
REPORT_EVERY_S = 0.1  # progress reports at most this often (cancel is checked after every call)

ChunkCallback = Callable[[dict], None]


def meta(unit: str | None = None, lo: float | None = None, hi: float | None = None, help: str = "", **kw):
    """Field metadata in the form the GUI turns into a form row (unit, min, max, help, choices)."""
    out: dict[str, Any] = {"help": help, **kw}
    if unit is not None:
        out["unit"] = unit
    if lo is not None:
        out["min"] = lo
    if hi is not None:
        out["max"] = hi
    return out


def config_dict(config: Any) -> dict:
    """JSON-safe dict of a config dataclass (provenance; :func:`core.config.to_dict`)."""
    return config_layer.to_dict(config)


# --------------------------------------------------------------------------- geometry


def ring_positions(n: int) -> np.ndarray:
    """Preferred angles (rad) of ``n`` neurons evenly on [-π, π), no duplicated endpoint."""
    return -np.pi + TWO_PI * np.arange(n) / n


def ring_offsets(n: int) -> np.ndarray:
    """Circular offsets (rad) of neuron j from neuron 0, j = 0..n-1, in [-π, π) (convolution order)."""
    return wrap_pi(TWO_PI * np.arange(n) / n)


def circular_mean(weights: np.ndarray, angles: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Weighted circular mean (rad) and mean resultant length along ``axis``; NaN where all weights are 0."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=axis)
    z = (w * np.exp(1j * angles)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        resultant = np.abs(z) / total
        mean = np.where(total > 0, np.angle(z), np.nan)
    return mean, np.where(total > 0, resultant, np.nan)


def unwrap_positions(positions: np.ndarray) -> np.ndarray:
    """Angles (rad), (T,) or (T, d), unwrapped along time."""
    return np.unwrap(np.asarray(positions, dtype=np.float64), axis=0)


# --------------------------------------------------------------------------- results


@dataclass
class Bump:
    """Decoded activity bump: position (rad; (2,) on a 2-D sheet), width (rad, s.d. of the rate profile;
    on the grid sheet: bump radius in neurons) and amplitude (peak synaptic input u, model units)."""

    position: np.ndarray | float
    width: float
    amplitude: float


@dataclass
class SimulationResult:
    """One run of a model on a task, sampled every ``record_every_ms``.

    t_s: record times (s) from the task's start. rates: (n_records, n_recorded) firing rates of the recorded
    neurons (model units, ≥ 0). unit_index: flat index of each recorded neuron. unit_position: (n_recorded,)
    or (n_recorded, 2) preferred position (rad; grid sheet: neuron coordinates). bump_position: (n_records,)
    or (n_records, 2) decoded bump position (rad; grid: sheet displacement since the start, neurons,
    unwrapped). bump_width, bump_amplitude: (n_records,). state_trace: the full state variable u over time
    (n_records, N) when asked (1-D models; energy-landscape plots). final_state: numpy copy of the last state.
    stimulus: (n_records,) or (n_records, 2) stimulus / true position at the record times (rad) when the task
    has one. device: the JAX device that ran it. wall_s: seconds spent in compiled runs (compilation
    included); n_steps: model steps. extra: model specific (grid modes, velocity gain, ...).
    """

    model: str
    config: Any
    task: Any
    t_s: np.ndarray
    rates: np.ndarray
    unit_index: np.ndarray
    unit_position: np.ndarray
    bump_position: np.ndarray
    bump_width: np.ndarray
    bump_amplitude: np.ndarray
    final_state: dict[str, np.ndarray]
    device: str
    wall_s: float
    n_steps: int
    stimulus: np.ndarray | None = None
    state_trace: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps_per_s(self) -> float:
        return self.n_steps / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def dt_record_s(self) -> float:
        return float(self.t_s[1] - self.t_s[0]) if self.t_s.size > 1 else float("nan")

    def provenance(self) -> dict:
        """JSON-safe description of the run: model, parameters, task, device, speed."""
        out = {
            "generator": f"core.simulation.{self.model}",
            "model": self.model,
            "config": config_dict(self.config),
            "task": self.task.describe() if self.task is not None else None,
            "device": self.device,
            "n_steps": int(self.n_steps),
            "wall_s": round(float(self.wall_s), 3),
            "steps_per_s": round(float(self.steps_per_s), 1),
        }
        for key, value in self.extra.items():
            if isinstance(value, bool | int | float | str):
                out[key] = value
            elif isinstance(value, np.ndarray | list | tuple):
                out[key] = np.asarray(value).tolist()
        return out


# --------------------------------------------------------------------------- the compiled loop

_COMPILED: dict[tuple, Callable] = {}


def _compiled(step: Callable, readout: Callable) -> Callable:
    """The jitted chunk runner of one (step, readout) pair; built once per process."""
    key = (step, readout)
    if key not in _COMPILED:
        import jax
        from jax import lax

        from core.devices import enable_compilation_cache

        enable_compilation_cache()

        def chunk(params, state, drive, valid):
            def outer(st, xs):
                d, ok = xs
                new, _ = lax.scan(lambda s, x: (step(params, s, x), None), st, d)
                new = jax.tree_util.tree_map(lambda a, b: jax.numpy.where(ok, a, b), new, st)
                return new, readout(params, new)

            return lax.scan(outer, state, (drive, valid))

        _COMPILED[key] = jax.jit(chunk)
    return _COMPILED[key]


def chunk_shapes(n_rec: int, steps_per_record: int, chunk_steps: int | None = None) -> list[int]:
    """Records per compiled call that a run of ``n_rec`` records may use, smallest first: the ladder
    ``CHUNK_SHAPES`` in records (a run shorter than the smallest: its own length, one call), or the one
    size ``chunk_steps`` (steps) when given."""
    if chunk_steps is not None:
        return [max(1, min(n_rec, chunk_steps // steps_per_record))]
    shapes = sorted({max(1, s // steps_per_record) for s in CHUNK_SHAPES})
    return [n_rec] if n_rec <= shapes[0] else shapes


class _ChunkPlanner:
    """Which shape the next compiled call has: the smallest until a call that did not compile has measured
    the time per record, then the largest that fits ``target_s`` (at least the smallest); the end of the
    run in shapes already compiled (the very last call padded)."""

    def __init__(self, shapes: list[int], target_s: float, fixed: bool) -> None:
        self.shapes, self.target_s, self.fixed = shapes, target_s, fixed
        self.per_record_s: float | None = None
        self.compiled: set[int] = set()

    def next(self, remaining: int) -> int:
        if self.fixed or self.per_record_s is None:
            return self.shapes[0]
        fits = [s for s in self.shapes if s * self.per_record_s <= self.target_s] or self.shapes[:1]
        size = fits[-1]
        if remaining < size:  # the end: the largest compiled shape that is not padded, else the smallest
            done = [s for s in self.shapes if s in self.compiled and s <= remaining and s <= size]
            size = done[-1] if done else self.shapes[0]
        return size

    def measured(self, size: int, seconds: float, compiled_now: bool) -> None:
        """A call of ``size`` records took ``seconds`` (``compiled_now``: compilation included)."""
        self.compiled.add(size)
        if not compiled_now:
            self.per_record_s = seconds / size


def _cache_size(fn: Callable) -> int:
    """Compiled variants of a jitted function (-1 where this JAX does not say)."""
    try:
        return int(fn._cache_size())
    except (AttributeError, TypeError):
        return -1


def run_compiled(
    step: Callable,
    readout: Callable,
    params: dict,
    state: dict,
    drive: dict[str, np.ndarray],
    steps_per_record: int,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    on_chunk: ChunkCallback | None = None,
    dt_ms: float = 1.0,
    chunk_steps: int | None = None,
    label: str = "simulating",
) -> tuple[dict, dict[str, np.ndarray], float]:
    """Run ``step`` over every row of ``drive`` (arrays of shape (n_steps, ...), n_steps a multiple of
    ``steps_per_record``), calling ``readout`` after every ``steps_per_record`` steps.

    Returns (final state as jax arrays, records as numpy arrays of shape (n_records, ...), seconds spent).
    ``on_chunk`` receives {"t_s", "records" (this chunk's), "state" (numpy), "final" (last chunk?)} after
    each chunk: a live view. Between chunks, ``cancel`` is checked (``Cancelled`` is raised) and progress
    reported (at most every ``REPORT_EVERY_S``, and at the end).
    ``chunk_steps``: model steps of every compiled call (default: sized by the measured time per step, see
    the module's docstring).
    """
    import jax
    import jax.numpy as jnp

    report = Reporter(progress, cancel)
    n_steps = next(iter(drive.values())).shape[0] if drive else 0
    if n_steps == 0 or n_steps % steps_per_record:
        raise ConfigError(
            f"the run needs a whole number of records ({n_steps} steps, {steps_per_record}/record)"
        )
    n_rec = n_steps // steps_per_record
    target_s = CHUNK_SECONDS if on_chunk is None else LIVE_CHUNK_SECONDS
    planner = _ChunkPlanner(
        chunk_shapes(n_rec, steps_per_record, chunk_steps), target_s, fixed=chunk_steps is not None
    )
    fn = _compiled(step, readout)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    state = jax.tree_util.tree_map(jnp.asarray, state)
    shaped = {k: np.asarray(v).reshape((n_rec, steps_per_record) + np.shape(v)[1:]) for k, v in drive.items()}
    records: list[dict] = []
    spent = 0.0
    total_s = n_steps * dt_ms / 1000.0
    report(0.0, f"{label}: compiling")
    last_report = -np.inf
    lo = 0
    while lo < n_rec:
        size = planner.next(n_rec - lo)
        hi = min(lo + size, n_rec)
        part = {}
        for k, v in shaped.items():
            block = v[lo:hi]
            if hi - lo < size:  # pad the last chunk to its shape; padded records are masked
                pad = np.zeros((size - (hi - lo),) + block.shape[1:], dtype=block.dtype)
                block = np.concatenate([block, pad])
            part[k] = block
        valid = np.arange(size) < hi - lo
        before = _cache_size(fn)
        began = time.perf_counter()
        state, rec = fn(params, state, part, valid)
        rec = jax.tree_util.tree_map(lambda a, n=hi - lo: np.asarray(a)[:n], rec)  # waits for the call
        took = time.perf_counter() - began
        spent += took
        planner.measured(size, took, compiled_now=_cache_size(fn) != before)
        records.append(rec)
        lo = hi
        t_done = hi * steps_per_record * dt_ms / 1000.0
        if on_chunk is not None:
            state_np = jax.tree_util.tree_map(np.asarray, state)
            on_chunk({"t_s": t_done, "records": rec, "state": state_np, "final": hi == n_rec})
        now = time.perf_counter()
        if now - last_report >= REPORT_EVERY_S or hi == n_rec:
            last_report = now
            report(hi / n_rec, f"{label}: {t_done:.1f} of {total_s:.1f} s simulated")
        else:
            report.check()
    merged = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    return state, merged, spent


def sample_inputs(t_task: np.ndarray, values: np.ndarray, t_query: np.ndarray, angular: bool) -> np.ndarray:
    """Linear interpolation of a (T,) or (T, d) series at ``t_query`` (angles: unwrapped, then wrapped)."""
    v = np.asarray(values, dtype=np.float64)
    if angular:
        v = unwrap_positions(v)
    if v.ndim == 1:
        out = np.interp(t_query, t_task, v)
    else:
        out = np.stack([np.interp(t_query, t_task, v[:, j]) for j in range(v.shape[1])], axis=1)
    return wrap_pi(out) if angular else out


def step_times(duration_s: float, dt_ms: float, record_every_ms: float) -> tuple[np.ndarray, int, np.ndarray]:
    """(times (s) of every model step, steps per record, record times (s)) for a run of ``duration_s``.

    The run is rounded down to whole records; step i covers [i·dt, (i+1)·dt) and records are taken at the
    end of their last step.
    """
    per = int(round(record_every_ms / dt_ms))
    if per < 1 or abs(per * dt_ms - record_every_ms) > 1e-6 * record_every_ms:
        raise ConfigError(f"record_every_ms ({record_every_ms}) must be a multiple of dt_ms ({dt_ms})")
    n_rec = int(np.floor(duration_s * 1000.0 / record_every_ms + 1e-9))
    if n_rec < 1:
        raise ConfigError(f"the run ({duration_s} s) is shorter than one record ({record_every_ms} ms)")
    n = n_rec * per
    t = np.arange(n) * dt_ms / 1000.0
    t_rec = (np.arange(n_rec) + 1) * per * dt_ms / 1000.0
    return t, per, t_rec
