"""CANN2D: the continuous attractor network on an L × L sheet, a torus (periodic) or a plane, with adaptation.

Same dynamics as the ring (:mod:`core.simulation.models_cann1d`; Wu, Hamaguchi & Amari 2008; Fung, Wong & Wu
2010; adaptation as in Mi, Fung, Wong & Wu 2014), neurons at x_i ∈ [-π, π)², density ρ = L² / (2π)²:

    τ du/dt = -u + J * r + I_ext - v,   r = [u]₊² / (1 + k Σ [u]₊²),   τ_v dv/dt = -v + m u
    J(d) = J₀ / (2π a²) · exp(-|d|² / 2a²),   I_ext = A U₀ exp(-|d(x, z)|² / 4a²) + σ U₀ ξ

A free bump exists for k < k_c = ρ J₀² / (32 π a²) (the 2-D analogue of Fung et al. 2010's bound, derived
the same way from the Gaussian ansatz u = U exp(-|x|²/4a²)); its peak is U₀ = [ρJ₀/2 + √(ρ²J₀²/4 - 8πkρa²)]
/ (4πkρa²). J * r is a convolution. The Gaussian kernel is separable, so on the torus it is C r Cᵀ with C the
1-D circulant, applied through its few Fourier modes per axis (thin matrix products, as in CANN1D; 2× faster
than 2-D real FFTs at L = 100); on the plane a linear convolution by 2-D real FFTs (zero padding to 2L × 2L).
Memory is O(L²), never the (L² × L²) weight matrix.
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
from core.simulation.models_cann1d import cann_params, device_name, free_bump_peak, mode_basis, ring_modes
from core.simulation.tasks import Task

BOUNDARIES = ("torus", "plane")


@dataclass(frozen=True)
class CANN2DConfig(Config):
    """Parameters of the 2-D network (see the module doc for the equations)."""

    n: int = field(default=100, metadata=meta(None, 8, 1024, "neurons per side L (L × L in all)"))
    boundary: str = field(default="torus", metadata={"choices": list(BOUNDARIES), "help": "periodic or not"})
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

    @property
    def manifold(self) -> str:
        """Where the activity lives: "torus" (periodic) or "sheet" (a plane, with borders)."""
        return "torus" if self.boundary == "torus" else "sheet"


def _make_step(noisy: bool, periodic: bool):
    import jax
    import jax.numpy as jnp

    def step(p, s, d):
        u, v = s["u"], s["v"]
        n = u.shape[0]
        up = jnp.maximum(u, 0.0)
        u2 = up * up
        r = u2 / (1.0 + p["k"] * jnp.sum(u2))
        if "fwd" in p:  # torus: the kernel's few Fourier modes per axis, as thin matrix products (ring_modes)
            rec = p["back"] @ (p["gains"] * (p["fwd"] @ r @ p["fwd"].T)) @ p["back"].T
        else:
            shape = (p["khat"].shape[0], p["khat"].shape[0])
            rec = jnp.fft.irfft2(jnp.fft.rfft2(r, s=shape) * p["khat"], s=shape)[:n, :n]
        dx = p["xs"] - d["pos"][0]
        dy = p["xs"] - d["pos"][1]
        if periodic:
            dx = jnp.mod(dx + jnp.pi, 2 * jnp.pi) - jnp.pi
            dy = jnp.mod(dy + jnp.pi, 2 * jnp.pi) - jnp.pi
        gx = jnp.exp(-dx * dx * p["inv_4a2"])  # separable Gaussian: an outer product of two profiles
        gy = jnp.exp(-dy * dy * p["inv_4a2"])
        ext = (d["amp"] * p["u0"]) * (gy[:, None] * gx[None, :])
        if noisy:
            key = jax.random.fold_in(p["key"], s["i"])
            ext = ext + p["noise_sd"] * p["u0"] * jax.random.normal(key, u.shape, u.dtype)
        u_new = u + p["dt_tau"] * (-u + rec + ext - v)
        v_new = v + p["dt_tau_v"] * (-v + p["m"] * u)
        return {"u": u_new, "v": v_new, "i": s["i"] + 1}

    return step


def _make_readout(periodic: bool, trace: bool):
    import jax.numpy as jnp

    def readout(p, s):
        u = s["u"]
        up = jnp.maximum(u, 0.0)
        u2 = up * up
        r = u2 / (1.0 + p["k"] * jnp.sum(u2))
        total = jnp.maximum(jnp.sum(r), 1e-30)
        rx = jnp.sum(r, axis=0)  # marginal over rows: a profile along x (columns)
        ry = jnp.sum(r, axis=1)
        if periodic:
            zx = jnp.sum(rx * p["cos"]) + 1j * jnp.sum(rx * p["sin"])
            zy = jnp.sum(ry * p["cos"]) + 1j * jnp.sum(ry * p["sin"])
            pos = jnp.stack([jnp.angle(zx), jnp.angle(zy)])
            res = jnp.clip(jnp.stack([jnp.abs(zx), jnp.abs(zy)]) / total, 1e-12, 1.0)
            width = jnp.mean(jnp.sqrt(-2.0 * jnp.log(res)))
        else:
            mx = jnp.sum(rx * p["xs"]) / total
            my = jnp.sum(ry * p["xs"]) / total
            pos = jnp.stack([mx, my])
            vx = jnp.sum(rx * (p["xs"] - mx) ** 2) / total
            vy = jnp.sum(ry * (p["xs"] - my) ** 2) / total
            width = jnp.sqrt(0.5 * (vx + vy))
        ok = jnp.sum(r) > 0
        out = {
            "position": jnp.where(ok, pos, jnp.nan),
            "width": jnp.where(ok, width, jnp.nan),
            "amplitude": jnp.max(u),
            "rates": r.ravel()[p["idx"]],
        }
        if trace:
            out["u"] = u
        return out

    return readout


_FNS: dict = {}


def _fn(kind: str, *flags: bool):
    key = (kind, *flags)
    if key not in _FNS:
        _FNS[key] = _make_step(*flags) if kind == "step" else _make_readout(*flags)
    return _FNS[key]


class CANN2D(Model):
    """2-D CANN on a torus or a plane. ``simulate(task)`` runs it on a task with a 2-D stimulus (rad)."""

    name = "cann2d"

    def __init__(self, config: CANN2DConfig | None = None) -> None:
        config = config or CANN2DConfig()
        config.validate()
        self.config = c = config
        self.periodic = c.boundary == "torus"
        self.xs = ring_positions(c.n)
        self.spacing = 2 * np.pi / c.n
        self.rho = c.n**2 / (2 * np.pi) ** 2
        self.k_c = self.rho * c.j0**2 / (32 * np.pi * c.a_rad**2)
        self.k = c.k_rel * self.k_c
        self.u0 = free_bump_peak(self.rho, c.j0, self.k, c.a_rad, dims=2)
        if self.periodic:
            d = ring_offsets(c.n)
        else:  # linear convolution: offsets -L..L-1 in circular order on a 2L grid
            j = np.arange(2 * c.n)
            d = np.where(j < c.n, j, j - 2 * c.n) * self.spacing
        g = np.exp(-d * d / (2 * c.a_rad**2))
        kernel = c.j0 / (2 * np.pi * c.a_rad**2) * np.outer(g, g)
        self.khat = np.fft.rfft2(kernel)[:, : kernel.shape[0] // 2 + 1]
        # the Gaussian kernel is separable, J(dx, dy) = c g(dx) g(dy): on the torus its convolution is C r Cᵀ
        # with C the 1-D circulant of g, applied through g's first few Fourier modes (as CANN1D)
        g_hat = np.fft.rfft(g).real
        self.modes = ring_modes(g_hat, c.n) if self.periodic else None
        if self.modes is not None:
            per_axis = np.tile(g_hat[: self.modes + 1], 2)  # cosine and sine rows share the gains
            self.mode_gains = c.j0 / (2 * np.pi * c.a_rad**2) * np.outer(per_axis, per_axis)

    @property
    def n_neurons(self) -> int:
        return self.config.n**2

    @property
    def positions(self) -> np.ndarray:
        """(L², 2) preferred (x, y) (rad) of every neuron in flat (row-major, y then x) order."""
        yy, xx = np.meshgrid(self.xs, self.xs, indexing="ij")
        return np.stack([xx.ravel(), yy.ravel()], axis=1)

    def bump_profile(self, position) -> np.ndarray:
        """u (L, L) of a stationary bump at ``position`` (x, y) (rad), with adaptation's reduced gain."""
        c = self.config
        peak = free_bump_peak(self.rho, c.j0 / (1 + c.m), self.k, c.a_rad, dims=2)
        if not np.isfinite(peak):
            peak = self.u0
        dx = self.xs - position[0]
        dy = self.xs - position[1]
        if self.periodic:
            dx, dy = wrap_pi(dx), wrap_pi(dy)
        return peak * np.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (4 * c.a_rad**2))

    def initial_state(self, position=(0.0, 0.0), v_shift_rad=(0.0, 0.0)) -> dict[str, np.ndarray]:
        """A bump at ``position`` (x, y) (rad); v = m·u of a bump shifted by ``v_shift_rad`` (see CANN1D)."""
        u = self.bump_profile(position)
        v = self.config.m * self.bump_profile(np.asarray(position) + np.asarray(v_shift_rad))
        return {"u": u.astype(np.float32), "v": v.astype(np.float32), "i": np.int32(0)}

    def rates(self, u: np.ndarray) -> np.ndarray:
        u2 = np.maximum(u, 0.0) ** 2
        return u2 / (1.0 + self.k * u2.sum(axis=(-2, -1), keepdims=True))

    def decode(self, u: np.ndarray) -> Bump:
        """Bump of a state u (L, L): per-axis circular mean of r (torus) or centre of mass (plane), rad."""
        r = self.rates(np.asarray(u, dtype=np.float64))
        rx, ry = r.sum(axis=0), r.sum(axis=1)
        if self.periodic:
            (px, resx), (py, resy) = circular_mean(rx, self.xs), circular_mean(ry, self.xs)
            width = float(np.mean(np.sqrt(-2 * np.log(np.clip([resx, resy], 1e-12, 1.0)))))
        else:
            total = r.sum()
            px, py = (rx * self.xs).sum() / total, (ry * self.xs).sum() / total
            width = float(
                np.sqrt(0.5 * ((rx * (self.xs - px) ** 2).sum() + (ry * (self.xs - py) ** 2).sum()) / total)
            )
        return Bump(np.array([px, py]), width, float(np.max(u)))

    def run(self, task: Task, options: RunOptions) -> SimulationResult:
        """Run over a task with a 2-D stimulus (rad; default start: a bump at its first position). Unit
        indices are flat (row-major) into the L × L sheet; ``record_state`` keeps u (n_records, L, L)."""
        c = self.config
        task.require("stim_pos", "stim_amp", model=self.name)
        if task.dims != 2:
            raise ConfigError(
                f"{self.name} needs a 2-D stimulus (x, y) rad; task {task.name!r} has another shape"
            )
        t, per, t_rec = options.schedule(task, c.dt_ms)
        idx = options.units(self.n_neurons)
        drive = {
            "pos": task.at("stim_pos", t).astype(np.float32),
            "amp": task.at("stim_amp", t).astype(np.float32),
        }
        params = {
            "xs": self.xs.astype(np.float32),
            **cann_params(c, self.xs, self.k, self.u0, task, idx),
        }
        if self.modes is None:
            params["khat"] = self.khat.astype(np.complex64)
        else:
            params["fwd"], params["back"] = mode_basis(c.n, self.modes)
            params["gains"] = self.mode_gains.astype(np.float32)
        state = options.state
        if state is None:
            start = task.stim_pos[0] if options.start_position is None else options.start_position
            state = self.initial_state(start)
        final, rec, wall = run_compiled(
            _fn("step", task.noise_sd > 0, self.periodic),
            _fn("readout", self.periodic, options.record_state),
            params,
            state,
            drive,
            per,
            progress=options.progress,
            cancel=options.cancel,
            on_chunk=options.on_chunk,
            dt_ms=c.dt_ms,
            label=self.name,
        )
        return SimulationResult(
            model=self.name,
            config=c,
            task=task,
            t_s=t_rec,
            rates=rec["rates"],
            unit_index=idx,
            unit_position=self.positions[idx],
            bump_position=rec["position"].astype(np.float64),
            bump_width=rec["width"].astype(np.float64),
            bump_amplitude=rec["amplitude"].astype(np.float64),
            final_state={k: np.asarray(v) for k, v in final.items()},
            device=device_name(final),
            wall_s=wall,
            n_steps=t.size,
            stimulus=task.at("stim_pos", t_rec),
            state_trace=rec.get("u"),
            extra={"u0": float(self.u0), "k": float(self.k), "k_c": float(self.k_c)},
        )
