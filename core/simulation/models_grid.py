"""Grid-cell network that path-integrates velocity on a periodic sheet (Burak & Fiete 2009, PLoS Comput Biol
5:e1000291).

n × n neurons on a periodic sheet, in 2 × 2 tiles of four direction populations (preferred directions N, S,
E, W: ê_θ). Each neuron's outgoing weights are the centre-surround profile W₀ shifted by l along its
direction, and its feed-forward drive is modulated by the running velocity v (m/s):

    τ ds_i/dt = -s_i + [ Σ_j W₀(x_i - x_j - l ê_θj) s_j + B_i ]₊,   B_i = A (1 + α ê_θi · v)
    W₀(x) = a exp(-γ|x|²) - exp(-β|x|²),   β = 3 / λ²,   γ = (γ/β) β

(Burak & Fiete's eqs. 1–3 and their periodic-network parameters: τ = 10 ms, dt = 0.5 ms, l = 2, a = 1,
α = 0.10315 s/m, A = 1.) The uniform state breaks into a hexagonal pattern of bumps that flows across the
sheet at a speed proportional to v, so each neuron fires on a triangular lattice in the arena.

Deviations, stated: B&F use γ/β = 1.05 and λ = 13 on a 128 × 128 sheet. On a 40 × 40 sheet that pattern does
not form (the shifted kernels leave the uniform state stable), and a hexagonal lattice must fit the square
torus; γ/β = 1.15 with λ = 11 forms the near-hexagonal lattice of wave vectors (2, 2), (-3, 1), (1, -3) (8
bumps, ~15 neurons apart) and flows isotropically (~48 neurons per metre, grid spacing ~32 cm in the arena).

The pattern forms from noise at rest for ``settle_ms`` (3 s) before a run. In a few seeds (4 and 5 of 0–39)
two triads of waves still compete after 0.5 s (the modes (2, 2) and (-2, 2) of a square-like mixture) and
one of them dies out in the run's first second: the state starts off the torus of the final lattice, and
the two modes tracked for the displacement are not the lattice's. All 40 seeds have settled by 1.5 s.
Once formed, the lattice is rigid: the three waves keep their amplitudes and the sum of their phases
(translation-invariant, as k₁ + k₂ + k₃ = 0) stays within 0.01 rad over 30 minutes of running, and a rigid
shift of the settled pattern explains 99 % of the recorded rates' variance, so the state lies on a 2-torus.

The recurrent input is Σ_θ W_θ * (s ⊙ mask_θ), four convolutions with translation-invariant kernels; as the
masks have period 2, all four come from one FFT of s (shifted copies of its spectrum) and one inverse FFT.
The pattern's displacement is read from the phases of its two strongest Fourier modes (Δφ = -2π m·d / n),
unwrapped over time: ``bump_position`` in the result is the sheet displacement (neurons) since the start,
and ``velocity_gain`` (neurons per metre) turns it into the path-integrated position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import Config
from core.errors import ConfigError
from core.simulation.base import Bump, SimulationResult, meta, run_compiled
from core.simulation.model import Model, RunOptions
from core.simulation.models_cann1d import device_name
from core.simulation.tasks import Task, constant_velocity

DIRECTIONS = np.array([[0.0, 1.0], [0.0, -1.0], [1.0, 0.0], [-1.0, 0.0]])  # N, S, E, W as (x, y)


@dataclass(frozen=True)
class GridConfig(Config):
    """Parameters of the grid-cell sheet (see the module doc for the equations and sources)."""

    n: int = field(default=40, metadata=meta(None, 8, 512, "neurons per side (even; n × n in all)"))
    tau_ms: float = field(default=10.0, metadata=meta("ms", 0.1, 1000.0, "time constant τ"))
    dt_ms: float = field(default=0.5, metadata=meta("ms", 0.001, 10.0, "Euler step"))
    lambda_net: float = field(
        default=11.0, metadata=meta("neurons", 3.0, 200.0, "pattern scale λ (β = 3/λ²)")
    )
    gamma_ratio: float = field(default=1.15, metadata=meta(None, 1.001, 3.0, "γ / β of the kernel"))
    a: float = field(default=1.0, metadata=meta(None, 0.0, 2.0, "excitatory amplitude a of W₀"))
    shift: float = field(default=2.0, metadata=meta("neurons", 0.0, 10.0, "offset l of outgoing weights"))
    alpha: float = field(default=0.10315, metadata=meta("s/m", 0.0, 10.0, "velocity gain α of the drive"))
    drive: float = field(default=1.0, metadata=meta(None, 0.01, 100.0, "feed-forward drive A"))
    settle_ms: float = field(
        default=3000.0, metadata=meta("ms", 0.0, 1e6, "pattern formation from noise before a run")
    )

    @property
    def beta(self) -> float:
        return 3.0 / self.lambda_net**2

    @property
    def uniform_mode(self) -> float:
        """Ŵ₀(0) = π (a/γ - 1/β): the (negative) gain of the uniform mode, which bounds the Euler step."""
        beta = self.beta
        return float(np.pi * (self.a / (self.gamma_ratio * beta) - 1.0 / beta))

    def check(self) -> None:
        if self.n % 2:
            raise ConfigError(f"n must be even (2 × 2 tiles of direction populations), got {self.n}")
        if self.dt_ms / self.tau_ms * (1.0 - self.uniform_mode) >= 1.8:
            limit = 1.8 * self.tau_ms / (1.0 - self.uniform_mode)
            raise ConfigError(f"dt_ms ({self.dt_ms}) is unstable for these weights: use dt_ms < {limit:.3g}")


def _step(p, s, d):
    import jax.numpy as jnp

    x = s["s"]
    h = x.shape[0] // 2
    spec = jnp.fft.fft2(x)
    g = p["ghat"]
    rec_hat = (
        g[0] * spec
        + g[1] * jnp.roll(spec, h, axis=0)
        + g[2] * jnp.roll(spec, h, axis=1)
        + g[3] * jnp.roll(spec, (h, h), axis=(0, 1))
    )
    rec = jnp.real(jnp.fft.ifft2(rec_hat))
    b = p["drive"] * (1.0 + p["alpha"] * (p["ex"] * d["vel"][0] + p["ey"] * d["vel"][1]))
    return {"s": x + p["dt_tau"] * (-x + jnp.maximum(rec + b, 0.0)), "i": s["i"] + 1}


def _readout(p, s):
    import jax.numpy as jnp

    x = s["s"]
    re = jnp.sum(p["basis_re"] * x[None], axis=(1, 2))
    im = jnp.sum(p["basis_im"] * x[None], axis=(1, 2))
    peak = jnp.max(x)
    area = jnp.sum(x > 0.5 * peak)
    return {
        "phase": jnp.arctan2(im, re),
        "width": jnp.sqrt(area / (p["n_bumps"] * jnp.pi)),
        "amplitude": peak,
        "rates": x.ravel()[p["idx"]],
    }


def _readout_trace(p, s):
    out = _readout(p, s)
    out["u"] = s["s"]
    return out


_GAINS: dict = {}  # config → neurons per metre


class GridNetwork(Model):
    """Burak–Fiete grid-cell sheet. ``simulate(task)`` path-integrates ``task.velocity_m_s``."""

    name = "grid-torus"

    def __init__(self, config: GridConfig | None = None) -> None:
        config = config or GridConfig()
        config.validate()
        self.config = c = config
        n = c.n
        iy, ix = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        pop = (iy % 2) * 2 + (ix % 2)
        self.population = pop  # 0..3 → DIRECTIONS
        self.masks = np.stack([(pop == q).astype(np.float32) for q in range(4)])
        d = np.arange(n)
        d = np.where(d >= n // 2, d - n, d).astype(np.float64)
        beta = c.beta
        gamma = c.gamma_ratio * beta
        khat = []
        for ex, ey in DIRECTIONS:
            ox = np.mod(d[None, :] - c.shift * ex + n / 2, n) - n / 2
            oy = np.mod(d[:, None] - c.shift * ey + n / 2, n) - n / 2
            r2 = ox * ox + oy * oy
            khat.append(np.fft.fft2(c.a * np.exp(-gamma * r2) - np.exp(-beta * r2)))
        self.khat = np.stack(khat)  # spectrum of W_θ, one per direction population
        # mask_q = [x ≡ q_x][y ≡ q_y] (mod 2) = ¼ Σ_ab (-1)^(a q_x + b q_y) e^{iπ(a x + b y)}, so the
        # spectrum of s ⊙ mask_q is ¼ Σ_ab (-1)^(...) Ŝ shifted by (a, b)·n/2, and Σ_q K̂_q · FFT(s ⊙ mask_q)
        # = Σ_ab G_ab · roll(Ŝ, (b, a)·n/2) with G_ab = ¼ Σ_q (-1)^(a q_x + b q_y) K̂_q: one FFT of s, not 4.
        qx, qy = np.arange(4) % 2, np.arange(4) // 2
        self.ghat = np.stack(
            [
                np.tensordot((-1.0) ** (a * qx + b * qy), self.khat, axes=1) / 4
                for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))
            ]
        )
        self.ex = DIRECTIONS[pop, 0].astype(np.float32)
        self.ey = DIRECTIONS[pop, 1].astype(np.float32)

    @property
    def n_neurons(self) -> int:
        return self.config.n**2

    @property
    def positions(self) -> np.ndarray:
        """(n², 2) sheet coordinates (x, y) (neurons) of every neuron in flat row-major order."""
        iy, ix = np.meshgrid(np.arange(self.config.n), np.arange(self.config.n), indexing="ij")
        return np.stack([ix.ravel(), iy.ravel()], axis=1).astype(np.float64)

    def _params(self, idx: np.ndarray, modes: np.ndarray) -> dict:
        c = self.config
        n = c.n
        iy, ix = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        arg = 2 * np.pi * (modes[:, 0, None, None] * ix[None] + modes[:, 1, None, None] * iy[None]) / n
        return {
            "ghat": self.ghat.astype(np.complex64),
            "ex": self.ex,
            "ey": self.ey,
            "drive": np.float32(c.drive),
            "alpha": np.float32(c.alpha),
            "dt_tau": np.float32(c.dt_ms / c.tau_ms),
            "basis_re": np.cos(arg).astype(np.float32),
            "basis_im": (-np.sin(arg)).astype(np.float32),
            "n_bumps": np.float32(max(abs(round(np.linalg.det(modes))), 1)),
            "idx": idx.astype(np.int32),
        }

    def pattern_modes(self, s: np.ndarray) -> np.ndarray:
        """(2, 2) integer wave vectors (m_x, m_y) of the two strongest non-collinear modes of a sheet."""
        n = self.config.n
        power = np.abs(np.fft.fft2(s - s.mean()))
        m = np.fft.fftfreq(n, 1.0 / n).round().astype(int)
        order = np.argsort(power.ravel())[::-1]
        first = None
        for k in order[:64]:
            iy, ix = np.unravel_index(k, power.shape)
            v = np.array([m[ix], m[iy]])
            if not v.any():
                continue
            if first is None:
                first = v
            elif first[0] * v[1] - first[1] * v[0] != 0:
                return np.stack([first, v])
        raise ConfigError(
            "no grid pattern formed on the sheet (uniform activity); check the kernel parameters"
        )

    def initial_state(self, seed: int = 0, settle_ms: float | None = None) -> dict[str, np.ndarray]:
        """Small random activity left to form a pattern for ``settle_ms`` (default: the config's) at rest."""
        c = self.config
        s = np.random.default_rng(seed).uniform(0.0, 1.0, (c.n, c.n)).astype(np.float32)
        state = {"s": s, "i": np.int32(0)}
        settle = c.settle_ms if settle_ms is None else settle_ms
        n_rec = int(round(settle / 10.0))
        per = int(round(10.0 / c.dt_ms))
        if n_rec > 0 and per >= 1:
            zero = {"vel": np.zeros((n_rec * per, 2), np.float32)}
            idx = np.zeros(1, np.int64)
            params = self._params(idx, np.array([[1, 0], [0, 1]]))
            final, _, _ = run_compiled(_step, _readout, params, state, zero, per, dt_ms=c.dt_ms)
            state = {k: np.asarray(v) for k, v in final.items()}
            state["i"] = np.int32(0)
        return state

    def decode(self, s: np.ndarray) -> Bump:
        """Pattern of a sheet: position = phase offset (x, y) (neurons) of the lattice within its unit cell,
        measured from the two strongest modes; width = bump radius (neurons); amplitude = max s."""
        modes = self.pattern_modes(s)
        n = self.config.n
        z = np.fft.fft2(s)
        phase = np.angle(np.array([z[mm[1] % n, mm[0] % n] for mm in modes]))
        offset = np.linalg.solve(-2 * np.pi / n * modes.astype(float), phase)
        n_bumps = max(abs(round(np.linalg.det(modes))), 1)
        width = float(np.sqrt((s > 0.5 * s.max()).sum() / (n_bumps * np.pi)))
        return Bump(offset, width, float(s.max()))

    @property
    def velocity_gain(self) -> float:
        """Sheet speed / running speed (neurons per metre), measured once per config from 1 s at 0.3 m/s
        along x and along y (the flow is isotropic to < 1 %)."""
        if self.config not in _GAINS:
            state = self.initial_state(seed=12345)
            gains = []
            for axis in (0, 1):
                v = np.zeros(2)
                v[axis] = 0.3
                res = self._integrate(constant_velocity(tuple(v), 1.0), RunOptions(state=state), False)
                half = res.t_s.size // 4  # skip the pattern's acceleration
                shift = res.bump_position[-1, axis] - res.bump_position[half, axis]
                gains.append(shift / (0.3 * (res.t_s[-1] - res.t_s[half])))
            _GAINS[self.config] = float(np.mean(gains))
        return _GAINS[self.config]

    def run(self, task: Task, options: RunOptions) -> SimulationResult:
        """Path-integrate the task's velocity (default start: a pattern formed from noise seeded by
        ``options.seed``; no start position). Unit indices are flat indices into the n × n sheet;
        ``record_state`` keeps s (n_records, n, n). The result's ``stimulus`` is the arena position (cm)."""
        return self._integrate(task, options, calibrated=True)

    def _integrate(self, task: Task, options: RunOptions, calibrated: bool) -> SimulationResult:
        c = self.config
        task.require("velocity_m_s", model=self.name)
        t, per, t_rec = options.schedule(task, c.dt_ms)
        idx = options.units(self.n_neurons)
        state = self.initial_state(options.seed) if options.state is None else options.state
        modes = self.pattern_modes(np.asarray(state["s"]))
        drive = {"vel": task.at("velocity_m_s", t).astype(np.float32)}
        final, rec, wall = run_compiled(
            _step,
            _readout_trace if options.record_state else _readout,
            self._params(idx, modes),
            state,
            drive,
            per,
            progress=options.progress,
            cancel=options.cancel,
            on_chunk=options.on_chunk,
            dt_ms=c.dt_ms,
            label=self.name,
        )
        start = self.decode(np.asarray(state["s"])).position
        phase = np.unwrap(
            np.concatenate([self._phase0(state, modes)[None], rec["phase"].astype(np.float64)]), axis=0
        )
        shift = np.linalg.solve(-2 * np.pi / c.n * modes.astype(float), (phase[1:] - phase[0]).T).T
        extra = {
            "modes": modes,
            "start_offset": start,
            "n_bumps": int(max(abs(round(np.linalg.det(modes))), 1)),
        }
        if calibrated:
            extra["velocity_gain"] = self.velocity_gain
        stimulus = None
        if task.x_cm is not None and task.y_cm is not None:
            stimulus = np.stack([task.at("x_cm", t_rec), task.at("y_cm", t_rec)], axis=1)
            extra["start_cm"] = [float(task.x_cm[0]), float(task.y_cm[0])]
        return SimulationResult(
            model=self.name,
            config=c,
            task=task,
            t_s=t_rec,
            rates=rec["rates"],
            unit_index=idx,
            unit_position=self.positions[idx],
            bump_position=shift,
            bump_width=rec["width"].astype(np.float64),
            bump_amplitude=rec["amplitude"].astype(np.float64),
            final_state={k: np.asarray(v) for k, v in final.items()},
            device=device_name(final),
            wall_s=wall,
            n_steps=t.size,
            stimulus=stimulus,
            state_trace=rec.get("u"),
            extra=extra,
        )

    def _phase0(self, state: dict, modes: np.ndarray) -> np.ndarray:
        n = self.config.n
        z = np.fft.fft2(np.asarray(state["s"], dtype=np.float64))
        return np.angle(np.array([z[mm[1] % n, mm[0] % n] for mm in modes]))
