"""Attractor-network simulations whose output is a recording like any imported one.

Models (pure JAX, each run compiled once: ``jax.jit`` over nested ``lax.scan``; any thread, any JAX device):

- :class:`CANN1D` — ring CANN with divisive global inhibition; adaptation variant (A-CANN) via ``m``.
- :class:`CANN2D` — the same on an L × L torus or plane, recurrent input by FFT convolution.
- :class:`HDRing` — head-direction ring integrating angular velocity, optional visual anchoring.
- :class:`GridNetwork` — Burak & Fiete (2009) grid-cell sheet path-integrating velocity.

Every model is a :class:`Model` (:mod:`core.simulation.model`): built from its config dataclass, run by
``simulate(task, options)`` with the common :class:`RunOptions`. Tasks (:mod:`core.simulation.tasks`, one
config class per kind) drive them. :mod:`core.simulation.registry` offers models and task kinds by name with
their capabilities (``MODELS``, ``TASKS``). :func:`to_recording` turns a run into Poisson spikes with the
trajectory attached; :func:`simulate_recording` does it all by model name (``canns-asa simulate``); model
analysis and figures live in :mod:`core.simulation.analysis`. Devices: :mod:`core.devices`.
"""

from core.simulation.base import Bump, SimulationResult
from core.simulation.model import Model, RunOptions
from core.simulation.models_cann1d import CANN1D, CANN1DConfig
from core.simulation.models_cann2d import CANN2D, CANN2DConfig
from core.simulation.models_grid import GridConfig, GridNetwork
from core.simulation.models_hd import HDRing, HDRingConfig
from core.simulation.recording import simulate_recording, to_recording
from core.simulation.registry import MODELS, TASKS, ModelSpec, TaskKind

__all__ = [
    "CANN1D",
    "CANN1DConfig",
    "CANN2D",
    "CANN2DConfig",
    "MODELS",
    "TASKS",
    "Bump",
    "GridConfig",
    "GridNetwork",
    "HDRing",
    "HDRingConfig",
    "Model",
    "ModelSpec",
    "RunOptions",
    "SimulationResult",
    "TaskKind",
    "simulate_recording",
    "to_recording",
]
