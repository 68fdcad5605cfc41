"""Head-direction ring: a CANN1D that integrates angular head velocity, with optional visual anchoring.

The ring is the CANN1D of :mod:`core.simulation.models_cann1d` (divisive global inhibition, Gaussian kernel).
Rotation comes from two populations of rotation cells, as in Xie, Hahnloser & Seung (2002, Phys Rev E
66:041902): they copy the ring's rates, are gated by the angular velocity ω with gains (1 ± ω/ω_max)/2 and
project back with kernels offset by ±δ₀:

    Σ_j [ (1 + w)/2 · J(x_i - x_j - δ₀) + (1 - w)/2 · J(x_i - x_j + δ₀) ] r_j,   w = clip(ω / ω_max, -1, 1)

To first order this is J - w δ₀ J', the velocity-gated asymmetric weight of Zhang (1996, J Neurosci
16:2112). A kernel offset by δ moves the bump at δ / τ, so δ₀ = ω_max τ makes the bump turn at ω (rad/s).
The offsets are applied in Fourier space (phase factors e^{∓iκδ₀}), so any δ₀ works on any N. Visual
anchoring: an external input A_cue U₀ exp(-d(x, hd)² / 4a²) at the true head direction, ``cue_amp`` in the
task (0 = pure path integration).

The split kernels also widen the bump slightly, which speeds it up by O(δ₀²/a²) (1.3 % at the defaults); with
``calibrate`` the ring measures its turning speed once (1 s at ω_max/4, cached per config) and divides ω by
that gain, which brings the integration error below 0.1 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import Config
from core.errors import ConfigError
from core.simulation.base import (
    SimulationResult,
    meta,
    run_compiled,
    step_times,
    wrap_pi,
)
from core.simulation.model import RunOptions
from core.simulation.models_cann1d import RingNetwork, ring_readout, ring_step
from core.simulation.tasks import Task, rotation

_GAINS: dict = {}  # config → measured turning speed / ω


@dataclass(frozen=True)
class HDRingConfig(Config):
    """Parameters of the head-direction ring (the CANN1D ones, without adaptation, plus ω_max)."""

    n: int = field(default=100, metadata=meta(None, 8, 65536, "head-direction neurons on the ring"))
    tau_ms: float = field(default=10.0, metadata=meta("ms", 0.1, 1000.0, "time constant τ of u"))
    dt_ms: float = field(default=1.0, metadata=meta("ms", 0.001, 100.0, "Euler step (≤ τ/5)"))
    a_rad: float = field(default=0.5, metadata=meta("rad", 0.01, 3.0, "width a of the recurrent kernel"))
    j0: float = field(default=1.0, metadata=meta(None, 0.01, 100.0, "recurrent strength J₀"))
    k_rel: float = field(
        default=0.5, metadata=meta(None, 0.0, 0.999, "global inhibition k / k_c (a bump exists below 1)")
    )
    omega_max_rad_s: float = field(
        default=10.0, metadata=meta("rad/s", 0.1, 1000.0, "largest angular velocity the ring integrates")
    )
    calibrate: bool = field(
        default=True, metadata={"help": "correct the velocity gain measured on a 1 s test rotation"}
    )

    m = 0.0  # no adaptation (RingNetwork reads these)
    tau_v_ms = 1.0

    def check(self) -> None:
        if self.dt_ms > self.tau_ms / 5:
            raise ConfigError(
                f"dt_ms ({self.dt_ms}) must be ≤ τ/5 ({self.tau_ms / 5} ms) for a stable Euler step"
            )
        if self.omega_max_rad_s * self.tau_ms / 1000.0 > self.a_rad:
            raise ConfigError(
                f"ω_max·τ ({self.omega_max_rad_s * self.tau_ms / 1000.0:.3g} rad) must stay below the kernel "
                f"width a ({self.a_rad} rad): lower omega_max_rad_s or tau_ms"
            )

    @property
    def delta0_rad(self) -> float:
        """Offset δ₀ = ω_max τ (rad) of the rotation kernels."""
        return self.omega_max_rad_s * self.tau_ms / 1000.0


class HDRing(RingNetwork):
    """Head-direction ring: ``simulate(task)`` integrates ``task.omega_rad_s``, anchored by ``cue_amp``."""

    name = "hd-ring"

    def __init__(self, config: HDRingConfig | None = None) -> None:
        super().__init__(config or HDRingConfig())
        kappa = np.arange(self.jhat.size)
        delta = self.config.delta0_rad
        self.jhat_sym = self.jhat * np.cos(kappa * delta)
        self.jhat_asym = self.jhat * np.sin(kappa * delta)

    def _rotation_params(self, task: Task, idx: np.ndarray) -> dict:
        params = self._params(task, idx)
        params.update(
            jhat_sym=self.gains(self.jhat_sym),
            jhat_asym=self.gains(self.jhat_asym),
            inv_omega_max=np.float32(1.0 / self.config.omega_max_rad_s),
        )
        return params

    @property
    def velocity_gain(self) -> float:
        """Turning speed of the bump / ω (1 without calibration); measured once per config."""
        if not self.config.calibrate:
            return 1.0
        if self.config not in _GAINS:
            omega = self.config.omega_max_rad_s / 4
            task = rotation(omega, 1.0)
            t, per, _ = step_times(1.0, self.config.dt_ms, 10.0)
            drive = {
                "pos": np.zeros(t.size, np.float32),
                "amp": np.zeros(t.size, np.float32),
                "omega": np.full(t.size, omega, np.float32),
            }
            idx = np.arange(1)
            _, rec, _ = run_compiled(
                ring_step(False, True),
                ring_readout(False),
                self._rotation_params(task, idx),
                self.initial_state(0.0),
                drive,
                per,
                dt_ms=self.config.dt_ms,
            )
            p = np.unwrap(rec["position"].astype(np.float64))
            half = p.size // 2  # skip the first half: the bump accelerates over a few τ
            _GAINS[self.config] = float((p[-1] - p[half]) / (omega * (p.size - 1 - half) * 0.01))
        return _GAINS[self.config]

    def run(self, task: Task, options: RunOptions) -> SimulationResult:
        """Run over the task (default start: a bump at the task's first head direction). The result's
        ``stimulus`` is the true head direction (rad, [-π, π))."""
        task.require("omega_rad_s", model=self.name)
        t, _, t_rec = options.schedule(task, self.config.dt_ms)
        idx = options.units(self.config.n)
        hd = task.at("hd_rad", t)
        cue = task.at("cue_amp", t)
        drive = {
            "pos": (np.zeros(t.size) if hd is None else wrap_pi(hd)).astype(np.float32),
            "amp": (np.zeros(t.size) if cue is None or hd is None else cue).astype(np.float32),
            "omega": (task.at("omega_rad_s", t) / self.velocity_gain).astype(np.float32),
        }
        start = options.start_position
        if start is None:
            start = 0.0 if task.hd_rad is None else float(wrap_pi(task.hd_rad[0]))
        step = ring_step(task.noise_sd > 0, True)
        result = self._run(task, options, step, drive, self._rotation_params(task, idx), idx, start)
        result.stimulus = None if task.hd_rad is None else wrap_pi(task.at("hd_rad", t_rec))
        result.extra["velocity_gain"] = self.velocity_gain
        return result
