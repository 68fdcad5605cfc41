"""CANN1D: a continuous attractor neural network on a ring, with an optional adaptation (A-CANN) variant.

Dynamics (Wu, Amari & Nakahara 2002; Wu, Hamaguchi & Amari 2008, Neural Comput 20:994; Fung, Wong & Wu 2010,
Neural Comput 22:752), N neurons with preferred angles x_i evenly on [-π, π) (no duplicated endpoint), density
ρ = N / 2π:

    τ du_i/dt = -u_i + Σ_j J(x_i - x_j) r_j + I_ext,i - v_i
    r_i = [u_i]₊² / (1 + k Σ_j [u_j]₊²)                       (divisive global inhibition, k ρ ∫ u² dx)
    J(d) = J₀ / (√(2π) a) · exp(-d² / 2a²)                      (d the circular distance)
    I_ext = A U₀ exp(-d(x, z)² / 4a²) + σ U₀ ξ                 (stimulus at z; ξ fresh N(0, 1) per step)
    τ_v dv_i/dt = -v_i + m u_i                          (adaptation; Mi, Fung, Wong & Wu 2014, NIPS 27)

A free bump exists for k < k_c = ρ J₀² / (8 √(2π) a) (Fung et al. 2010); the config gives k as k_rel = k / k_c
(their k̃) so that defaults hold at any N. Its peak is U₀ = [ρJ₀/√2 + √(ρ²J₀²/2 - 4kρ√(2π)a)] / (2kρ√(2π)a);
stimulus amplitudes are in units of U₀. With adaptation the bump starts travelling by itself when
m > τ / τ_v (Mi et al. 2014). The recurrent sum is a circular convolution: a Gaussian kernel passes only its
first few Fourier modes (K ≈ 6.4 / a above float32 resolution), so it is applied as two thin (2(K+1) × N)
matrix products of those modes, exact to float32 and ~2× faster than a real FFT pair at N = 512; wide spectra
(a narrow kernel on few neurons) use real FFTs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import Config
from core.errors import ConfigError
from core.simulation.base import (
    Bump,
    SimulationResult,
    circular_mean,
    meta,
    ring_offsets,
    ring_positions,
    run_compiled,
    wrap_pi,
)
from core.simulation.model import Model, RunOptions
from core.simulation.tasks import Task


@dataclass(frozen=True)
class CANN1DConfig(Config):
    """Parameters of the ring network (see the module doc for the equations)."""

    n: int = field(default=512, metadata=meta(None, 8, 65536, "neurons on the ring"))
    tau_ms: float = field(default=10.0, metadata=meta("ms", 0.1, 1000.0, "time constant τ of u"))
    dt_ms: float = field(default=1.0, metadata=meta("ms", 0.001, 100.0, "Euler step (≤ τ/5)"))
    a_rad: float = field(default=0.5, metadata=meta("rad", 0.01, 3.0, "width a of the recurrent kernel"))
    j0: float = field(default=1.0, metadata=meta(None, 0.01, 100.0, "recurrent strength J₀"))
    k_rel: float = field(
        default=0.5, metadata=meta(None, 0.0, 0.999, "global inhibition k / k_c (a bump exists below 1)")
    )
    m: float = field(default=0.0, metadata=meta(None, 0.0, 10.0, "adaptation strength (0 = plain CANN)"))
    tau_v_ms: float = field(default=100.0, metadata=meta("ms", 0.1, 1e5, "adaptation time constant τ_v"))

    def check(self) -> None:
        if self.dt_ms > self.tau_ms / 5:
            raise ConfigError(
                f"dt_ms ({self.dt_ms}) must be ≤ τ/5 ({self.tau_ms / 5} ms) for a stable Euler step"
            )
        if self.m > 0 and self.dt_ms > self.tau_v_ms / 5:
            raise ConfigError(f"dt_ms ({self.dt_ms}) must be ≤ τ_v/5 ({self.tau_v_ms / 5} ms)")

    @property
    def travelling_threshold(self) -> float:
        """m above which a free bump travels by itself: τ / τ_v (Mi et al. 2014)."""
        return self.tau_ms / self.tau_v_ms


# --------------------------------------------------------------------------- ring machinery (shared with HD)


def free_bump_peak(rho: float, j0: float, k: float, a: float, dims: int = 1) -> float:
    """Peak U₀ of the stationary free bump (the larger, stable root), 1-D or 2-D; NaN when none exists."""
    if dims == 1:
        b, c = rho * j0 / np.sqrt(2.0), k * rho * np.sqrt(2 * np.pi) * a
    else:
        b, c = rho * j0 / 2.0, 2 * np.pi * k * rho * a * a
    if c == 0:
        return 1.0 / b if b > 0 else float("nan")  # no inhibition: only the linear scale is meaningful
    disc = b * b - 4 * c
    return float((b + np.sqrt(disc)) / (2 * c)) if disc >= 0 else float("nan")


def make_ring_step(noisy: bool, rotating: bool):
    """Step function of a ring network; ``noisy`` adds input noise, ``rotating`` velocity-gated rotation."""
    import jax
    import jax.numpy as jnp

    def step(p, s, d):
        u, v = s["u"], s["v"]
        up = jnp.maximum(u, 0.0)
        u2 = up * up
        r = u2 / (1.0 + p["k"] * jnp.sum(u2))
        # rotation: two populations with kernels offset by ±δ₀, gated by (1 ± ω/ω_max)/2, i.e. the kernel's
        # Fourier gains ĵ_sym - i w ĵ_asym; otherwise ĵ (all real: the kernels are symmetric)
        w = jnp.clip(d["omega"] * p["inv_omega_max"], -1.0, 1.0) if rotating else 0.0
        a, b = (p["jhat_sym"], w * p["jhat_asym"]) if rotating else (p["jhat"], 0.0)
        if "fwd" in p:  # the few Fourier modes the kernel passes, as two thin matrix products (ring_modes)
            m = p["fwd"].shape[0] // 2
            cs = p["fwd"] @ r  # C_k = Σ r_j cos(k x_j), S_k = Σ r_j sin(k x_j)
            c, sn = cs[:m], cs[m:]
            rec = p["back"] @ jnp.concatenate([a * c - b * sn, a * sn + b * c])
        else:
            rec = jnp.fft.irfft(jnp.fft.rfft(r) * (a - 1j * b), n=u.shape[0])
        dist = jnp.mod(p["x"] - d["pos"] + jnp.pi, 2 * jnp.pi) - jnp.pi
        ext = d["amp"] * p["u0"] * jnp.exp(-dist * dist * p["inv_4a2"])
        if noisy:
            key = jax.random.fold_in(p["key"], s["i"])
            ext = ext + p["noise_sd"] * p["u0"] * jax.random.normal(key, u.shape, u.dtype)
        u_new = u + p["dt_tau"] * (-u + rec + ext - v)
        v_new = v + p["dt_tau_v"] * (-v + p["m"] * u)
        return {"u": u_new, "v": v_new, "i": s["i"] + 1}

    return step


SPECTRAL_TOL = 1e-7  # Fourier modes of the kernel weaker than this fraction of the strongest are dropped


def ring_modes(jhat: np.ndarray, n: int) -> int | None:
    """K, the highest Fourier mode of a ring kernel with gain ≥ SPECTRAL_TOL × the largest (below float32
    resolution otherwise); None when 2(K + 1) > n / 4, where a real FFT is cheaper than the thin products."""
    mag = np.abs(jhat)
    top = int(np.nonzero(mag >= SPECTRAL_TOL * mag.max())[0].max())
    return top if 2 * (top + 1) <= n // 4 else None


def mode_basis(n: int, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrices (fwd (2(K+1), n), back (n, 2(K+1))), float32, of the Fourier modes k ≤ K of a ring of n:
    fwd @ r gives the cosine and sine sums (C_k, S_k) of r, and back @ [P; Q] the inverse real DFT of P - iQ,
    so the circular convolution of r with a symmetric kernel of gains ĵ is back @ [ĵC; ĵS], exact up to the
    dropped modes. Angles by index, 2πj/n, as the FFT's."""
    k = np.arange(top + 1)[:, None]
    phase = 2 * np.pi / n * k * np.arange(n)[None, :]
    weight = np.where(k == 0, 1.0, 2.0) / n  # rfft's one-sided spectrum counts modes k > 0 twice
    fwd = np.concatenate([np.cos(phase), np.sin(phase)])
    back = np.concatenate([weight * np.cos(phase), weight * np.sin(phase)]).T
    return fwd.astype(np.float32), np.ascontiguousarray(back, dtype=np.float32)


def make_ring_readout(trace: bool):
    """Ring readout: the bump (circular mean of r, width from the resultant length) and recorded rates."""
    import jax.numpy as jnp

    def readout(p, s):
        u = s["u"]
        up = jnp.maximum(u, 0.0)
        u2 = up * up
        r = u2 / (1.0 + p["k"] * jnp.sum(u2))
        total = jnp.sum(r)
        z = jnp.sum(r * p["cos"]) + 1j * jnp.sum(r * p["sin"])
        resultant = jnp.abs(z) / jnp.maximum(total, 1e-30)
        out = {
            "position": jnp.where(total > 0, jnp.angle(z), jnp.nan),
            "width": jnp.where(total > 0, jnp.sqrt(-2.0 * jnp.log(jnp.clip(resultant, 1e-12, 1.0))), jnp.nan),
            "amplitude": jnp.max(u),
            "rates": r[p["idx"]],
        }
        if trace:
            out["u"] = u
        return out

    return readout


_STEPS: dict = {}
_READOUTS: dict = {}


def ring_step(noisy: bool, rotating: bool):
    if (noisy, rotating) not in _STEPS:
        _STEPS[(noisy, rotating)] = make_ring_step(noisy, rotating)
    return _STEPS[(noisy, rotating)]


def ring_readout(trace: bool):
    if trace not in _READOUTS:
        _READOUTS[trace] = make_ring_readout(trace)
    return _READOUTS[trace]


def cann_params(config, positions: np.ndarray, k: float, u0: float, task: Task, idx: np.ndarray) -> dict:
    """The compiled-step parameters every CANN shares (float32; ``positions`` in rad, per axis for 2-D)."""
    import jax

    c = config
    return {
        "cos": np.cos(positions).astype(np.float32),
        "sin": np.sin(positions).astype(np.float32),
        "k": np.float32(k),
        "u0": np.float32(u0),
        "inv_4a2": np.float32(1.0 / (4 * c.a_rad**2)),
        "dt_tau": np.float32(c.dt_ms / c.tau_ms),
        "dt_tau_v": np.float32(c.dt_ms / c.tau_v_ms),
        "m": np.float32(c.m),
        "noise_sd": np.float32(task.noise_sd),
        "key": jax.random.PRNGKey(task.seed),
        "idx": idx.astype(np.int32),
    }


def device_name(state: dict) -> str:
    leaf = next(iter(state.values()))
    try:
        dev = next(iter(leaf.devices()))
        return f"{dev.platform}:{dev.id}"
    except (AttributeError, StopIteration):
        return "cpu:0"


class RingNetwork(Model):
    """Shared machinery of CANN1D and the HD ring (geometry, kernel, free bump, decoding)."""

    def __init__(self, config: CANN1DConfig) -> None:
        config.validate()
        self.config = config
        c = config
        self.x = ring_positions(c.n)
        self.spacing = 2 * np.pi / c.n
        self.rho = c.n / (2 * np.pi)
        self.k_c = self.rho * c.j0**2 / (8 * np.sqrt(2 * np.pi) * c.a_rad)
        self.k = c.k_rel * self.k_c
        self.u0 = free_bump_peak(self.rho, c.j0, self.k, c.a_rad)
        d = ring_offsets(c.n)
        self.kernel = c.j0 / (np.sqrt(2 * np.pi) * c.a_rad) * np.exp(-d * d / (2 * c.a_rad**2))
        self.jhat = np.fft.rfft(self.kernel).real  # a symmetric kernel has real gains
        self.modes = ring_modes(self.jhat, c.n)

    @property
    def n_neurons(self) -> int:
        return self.config.n

    # ---- state and decoding (numpy)

    def bump_profile(self, position: float) -> np.ndarray:
        """u of the stationary free bump centred at ``position`` (rad), with adaptation's reduced gain."""
        c = self.config
        peak = free_bump_peak(self.rho, c.j0 / (1 + c.m), self.k, c.a_rad)
        if not np.isfinite(peak):
            peak = self.u0
        d = wrap_pi(self.x - position)
        return peak * np.exp(-d * d / (4 * c.a_rad**2))

    def initial_state(self, position: float = 0.0, v_shift_rad: float = 0.0) -> dict[str, np.ndarray]:
        """A bump at ``position`` (rad); adaptation v = m·u of a bump shifted by ``v_shift_rad`` (a kick that
        breaks the symmetry and lets a travelling bump choose its direction)."""
        u = self.bump_profile(position)
        v = self.config.m * self.bump_profile(position + v_shift_rad)
        return {"u": u.astype(np.float32), "v": v.astype(np.float32), "i": np.int32(0)}

    def rates(self, u: np.ndarray) -> np.ndarray:
        """Firing rates r of a state u (last axis the neurons)."""
        u2 = np.maximum(u, 0.0) ** 2
        return u2 / (1.0 + self.k * u2.sum(axis=-1, keepdims=True))

    def decode(self, u: np.ndarray) -> Bump:
        """Bump of a state u: circular mean of r (rad), width = s.d. of a Gaussian r with that mean resultant
        length, √(-2 ln R) (rad), amplitude = max u."""
        r = self.rates(np.asarray(u, dtype=np.float64))
        pos, res = circular_mean(r, self.x)
        width = float(np.sqrt(-2 * np.log(np.clip(res, 1e-12, 1.0)))) if np.isfinite(res) else float("nan")
        return Bump(float(pos), width, float(np.max(u)))

    # ---- running

    def gains(self, jhat: np.ndarray) -> np.ndarray:
        """Kernel gains as the compiled step takes them: the kept modes only when the step uses them."""
        return (jhat if self.modes is None else jhat[: self.modes + 1]).astype(np.float32)

    def _params(self, task: Task, idx: np.ndarray) -> dict:
        params = {
            "jhat": self.gains(self.jhat),
            "x": self.x.astype(np.float32),
            **cann_params(self.config, self.x, self.k, self.u0, task, idx),
        }
        if self.modes is not None:
            params["fwd"], params["back"] = mode_basis(self.config.n, self.modes)
        return params

    def _drive(self, task: Task, t: np.ndarray) -> dict[str, np.ndarray]:
        task.require("stim_pos", "stim_amp", model=self.name)
        if task.dims != 1:
            raise ConfigError(
                f"{self.name} needs a stimulus on a ring (one angle), task {task.name!r} is 2-D"
            )
        return {
            "pos": task.at("stim_pos", t).astype(np.float32),
            "amp": task.at("stim_amp", t).astype(np.float32),
        }

    def _run(
        self, task: Task, options: RunOptions, step, drive: dict, params: dict, idx: np.ndarray, start: float
    ) -> SimulationResult:
        """Run ``step`` over ``drive`` from ``options.state`` (default: a bump at ``start``, rad)."""
        _, per, t_rec = options.schedule(task, self.config.dt_ms)
        state = self.initial_state(start) if options.state is None else options.state
        final, rec, wall = run_compiled(
            step,
            ring_readout(options.record_state),
            params,
            state,
            drive,
            per,
            progress=options.progress,
            cancel=options.cancel,
            on_chunk=options.on_chunk,
            dt_ms=self.config.dt_ms,
            label=self.name,
        )
        stim = task.at("stim_pos", t_rec) if task.stim_pos is not None else None
        return SimulationResult(
            model=self.name,
            config=self.config,
            task=task,
            t_s=t_rec,
            rates=rec["rates"],
            unit_index=idx,
            unit_position=self.x[idx],
            bump_position=rec["position"].astype(np.float64),
            bump_width=rec["width"].astype(np.float64),
            bump_amplitude=rec["amplitude"].astype(np.float64),
            final_state={k: np.asarray(v) for k, v in final.items()},
            device=device_name(final),
            wall_s=wall,
            n_steps=int(drive[next(iter(drive))].shape[0]),
            stimulus=stim,
            state_trace=rec.get("u"),
            extra={"u0": float(self.u0), "k": float(self.k), "k_c": float(self.k_c)},
        )


class CANN1D(RingNetwork):
    """Ring CANN (plain or with adaptation). ``simulate(task)`` runs it on a task with a ring stimulus
    (:meth:`Model.simulate`)."""

    name = "cann1d"

    def __init__(self, config: CANN1DConfig | None = None) -> None:
        super().__init__(config or CANN1DConfig())

    def run(self, task: Task, options: RunOptions) -> SimulationResult:
        """Run over a task with a ring stimulus (default start: a free bump at the task's first stimulus
        position). ``record_state`` keeps u of every neuron at every record (energy landscape)."""
        t, _, _ = options.schedule(task, self.config.dt_ms)
        idx = options.units(self.config.n)
        drive = self._drive(task, t)
        start = options.start_position
        if start is None:
            start = float(task.stim_pos[0]) if task.stim_pos is not None else 0.0
        step = ring_step(task.noise_sd > 0, False)
        return self._run(task, options, step, drive, self._params(task, idx), idx, start)
