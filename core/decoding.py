"""Circular coordinates decoded from the significant H1 classes.

For each class (de Silva, Morozov & Vejdemo-Johansson 2011, Discrete Comput Geom 45:737; Perea 2018): the
Z/p cocycle from persistent cohomology is lifted to integers, the least-squares problem min_f ‖z − δf‖² is
solved on the edges of the Rips graph at a filtration value ε inside the bar (a sparse LSQR solve, never a
dense edges × vertices matrix), and θ = 2π·f mod 2π is the circular coordinate of each point of the cloud.

Every time bin then gets a phase (the cloud holds ~1,200 of them): each unit's preferred phase is the
activity-weighted circular mean of θ over the cloud's points, and each bin's phase is the circular mean of the
units' preferred phases weighted by their (mean-normalised) activity in that bin, i.e. population-vector
decoding on the learned circle. On a ring this is refined by maximum-likelihood (Poisson) decoding (Zhang,
Ginzburg, McNaughton & Sejnowski 1998, J Neurophysiol 79:1017): each unit's tuning curve over the circle is
estimated from every bin's current phase, and each bin takes the phase that maximises
Σ_i r_i log f_i(θ) − f_i(θ); two rounds. With few cells of uneven rates (6–30 head-direction cells) this
follows the animal where the population vector, dominated by the noise of weak cells, does not.

For a torus the two circles are aligned to the lattice by Gauss (2-D LLL) reduction of the integer basis of
the two classes under the inner product of their harmonic representatives (Scoccola, Gakhar, Bush et al.
2023, "Toroidal coordinates: decorrelating circular coordinates with lattice reduction", SoCG): the reduced
coordinates are as decorrelated as the data allow, and the angle between the reduced axes is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from core.angles import TWO_PI
from core.config import Config
from core.errors import ConfigError
from core.homology import Persistence
from core.pointcloud import PointCloud
from core.preprocess import RateMatrix
from core.progress import CancelCheck, ProgressCallback, Reporter


@dataclass(frozen=True)
class DecodeConfig(Config):
    """epsilon_fraction: where inside each bar the Rips graph is taken (0 = birth, 1 = death).
    n_circles: how many H1 classes to decode (None: the significant ones, at most 2). align_torus: lattice
    reduction of two circles."""

    epsilon_fraction: float = field(
        default=0.5,
        metadata={
            "min": 0.05,
            "max": 0.95,
            "help": "position of ε inside each bar",
            "ref": "de Silva, Morozov & Vejdemo-Johansson 2011, Discrete Comput Geom 45:737",
        },
    )
    n_circles: int | None = field(
        default=None,
        metadata={
            "min": 1,
            "max": 2,
            "help": "classes to decode",
            "ref": "de Silva, Morozov & Vejdemo-Johansson 2011, Discrete Comput Geom 45:737",
        },
    )
    align_torus: bool = field(
        default=True,
        metadata={
            "help": "decorrelate the two circles (torus)",
            "ref": "Scoccola et al. 2023, SoCG (lattice reduction)",
        },
    )


@dataclass
class Decoding:
    """Decoded circular coordinates for every row (time bin) of the rate matrix.

    theta: (n_bins, n_circles) radians in [0, 2π); one column per decoded H1 class (1 for a ring, 2 for a
        torus). t: bin centres (s). x, y: position (cm) at those bins or None; hd: head direction (rad)
        or None. unit_ids: as in the recording. unit_phase: (n_units, n_circles) each unit's preferred phase
        (rad). unit_concentration: (n_units, n_circles) mean resultant length of its activity-weighted phases
        (0..1). sampled_bin_index: rows of the rate matrix that were points of the cloud; sampled_theta their
        phases (before extension). torus_angle_deg: fitted angle between the two aligned axes (torus only).
        metrics: anything measured on the way (e.g. HD agreement).
    """

    theta: np.ndarray
    t: np.ndarray
    x: np.ndarray | None
    y: np.ndarray | None
    hd: np.ndarray | None
    unit_ids: list
    unit_phase: np.ndarray
    unit_concentration: np.ndarray
    sampled_bin_index: np.ndarray
    sampled_theta: np.ndarray
    torus_angle_deg: float | None = None
    metrics: dict = field(default_factory=dict)

    @property
    def n_circles(self) -> int:
        return self.theta.shape[1]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for ``decoding.npz``: theta (rad), t (s), the units' phases and the sampled points."""
        out = {
            "theta": self.theta,
            "t": self.t,
            "unit_phase": self.unit_phase,
            "unit_concentration": self.unit_concentration,
            "unit_ids": np.asarray([str(u) for u in self.unit_ids]),
            "sampled_bin_index": self.sampled_bin_index,
            "sampled_theta": self.sampled_theta,
        }
        for name in ("x", "y", "hd"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def integer_cocycle(cocycle: np.ndarray, coeff: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges (m, 2) with a < b and integer values (m,) of a Z/p cocycle from ripser.

    ripser writes rows (i, j, v) with i > j; the value belongs to the edge oriented j → i, i.e. to (a, b) =
    (j, i) with the lift of v into (−p/2, p/2].
    """
    c = np.asarray(cocycle, dtype=np.int64).reshape(-1, 3)
    values = np.mod(c[:, 2], coeff)
    values = np.where(values > coeff // 2, values - coeff, values).astype(np.float64)
    a, b = np.minimum(c[:, 0], c[:, 1]), np.maximum(c[:, 0], c[:, 1])
    sign = np.where(c[:, 0] > c[:, 1], 1.0, -1.0)
    return np.stack([a, b], axis=1), values * sign


def rips_edges(distances: np.ndarray, epsilon: float) -> np.ndarray:
    """Edges (a, b), a < b, of the Rips graph at filtration value ``epsilon`` (``inf`` = no edge)."""
    a, b = np.nonzero(np.triu(distances < epsilon, k=1))
    return np.stack([a, b], axis=1)


def harmonic_circle(
    edges: np.ndarray, n_vertices: int, cocycle_edges: np.ndarray, cocycle_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(f, α): vertex values f solving min ‖z − δf‖² by LSQR and the harmonic cocycle α = z − δf on ``edges``.

    θ = 2π·(f mod 1) is the circular coordinate.
    """
    m = edges.shape[0]
    key = edges[:, 0] * n_vertices + edges[:, 1]
    order = np.argsort(key)
    ckey = cocycle_edges[:, 0] * n_vertices + cocycle_edges[:, 1]
    pos = np.searchsorted(key[order], ckey)
    pos = np.clip(pos, 0, m - 1)
    found = key[order][pos] == ckey
    z = np.zeros(m)
    np.add.at(z, order[pos[found]], cocycle_values[found])
    rows = np.repeat(np.arange(m), 2)
    cols = edges.ravel()
    vals = np.tile([-1.0, 1.0], m)
    coboundary = sp.csr_matrix((vals, (rows, cols)), shape=(m, n_vertices))
    f = lsqr(coboundary, z, atol=1e-10, btol=1e-10, iter_lim=20 * n_vertices)[0]
    return f, z - coboundary @ f


def gauss_reduce(gram: np.ndarray) -> np.ndarray:
    """Integer 2 × 2 unimodular matrix A whose rows form a Gauss-reduced basis for the inner product ``gram``.

    Reduced: |b1| ≤ |b2| and |⟨b1, b2⟩| ≤ |b1|²/2 (Lagrange/Gauss, the 2-D case of LLL).
    """
    basis = np.eye(2, dtype=np.int64)

    def dot(u, v):
        return float(u @ gram @ v)

    for _ in range(100):
        if dot(basis[1], basis[1]) < dot(basis[0], basis[0]):
            basis = basis[::-1].copy()
        mu = int(np.round(dot(basis[0], basis[1]) / dot(basis[0], basis[0])))
        if mu == 0:
            break
        basis[1] -= mu * basis[0]
    return basis


def extend_to_bins(
    activity: np.ndarray, sampled_rows: np.ndarray, sampled_theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Preferred phase and concentration of each unit from the sampled points, then every row's phase.

    ``activity``: (n_bins, n_units) non-negative, mean-normalised per unit. Returns (theta (n_bins, c),
    unit_phase (n_units, c), unit_concentration (n_units, c)).
    """
    sampled = activity[sampled_rows].astype(np.float64)  # (n_points, n_units)
    n_circles = sampled_theta.shape[1]
    unit_phase = np.empty((activity.shape[1], n_circles))
    unit_conc = np.empty_like(unit_phase)
    theta = np.empty((activity.shape[0], n_circles))
    total = sampled.sum(axis=0)
    for c in range(n_circles):
        zc, zs = sampled.T @ np.cos(sampled_theta[:, c]), sampled.T @ np.sin(sampled_theta[:, c])
        unit_phase[:, c] = np.mod(np.arctan2(zs, zc), TWO_PI)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit_conc[:, c] = np.where(total > 0, np.hypot(zc, zs) / total, 0.0)
        weights = unit_conc[:, c]  # units with no tuning on this circle add no vote
        # two real products instead of one complex one: no complex copy of the (n_bins, n_units) matrix
        cos_votes = activity @ (weights * np.cos(unit_phase[:, c])).astype(activity.dtype)
        sin_votes = activity @ (weights * np.sin(unit_phase[:, c])).astype(activity.dtype)
        theta[:, c] = np.mod(np.arctan2(sin_votes, cos_votes), TWO_PI)
    return theta, unit_phase, unit_conc


def fisher_lee_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Fisher & Lee (1983, Biometrika 70:327) circular–circular correlation in [−1, 1].

    ρ = det E[u vᵀ] / √(det E[u uᵀ] · det E[v vᵀ]) with u = (cos a, sin a), v = (cos b, sin b): +1 when
    b = a + c, −1 when b = −a + c (a reflection). Unlike the Jammalamadaka–SenGupta coefficient it stays
    well defined for angles spread uniformly around the circle, as head direction and decoded phase are.
    """
    u = np.stack([np.cos(a), np.sin(a)])
    v = np.stack([np.cos(b), np.sin(b)])
    cross = np.linalg.det(u @ v.T / a.size)
    return float(cross / np.sqrt(np.linalg.det(u @ u.T / a.size) * np.linalg.det(v @ v.T / b.size)))


def head_direction_agreement(decoded: np.ndarray, hd: np.ndarray) -> dict[str, float]:
    """Agreement of a decoded angle with head direction (rad): |Fisher–Lee correlation|, and the median
    |error| (rad, deg) after the best rotation and reflection."""
    rho = fisher_lee_correlation(decoded, hd)
    sign = 1.0 if rho >= 0 else -1.0
    aligned = sign * decoded
    offset = np.angle(np.mean(np.exp(1j * (hd - aligned))))
    med = float(np.median(np.abs(np.angle(np.exp(1j * (hd - aligned - offset))))))
    return {
        "circular_correlation": abs(rho),
        "median_error_rad": med,
        "median_error_deg": float(np.degrees(med)),
        "reflected": sign < 0,
        "rotation_rad": float(np.mod(offset, TWO_PI)),
    }


def cloud_phases(
    cloud: PointCloud,
    persistence: Persistence,
    n_circles: int,
    config: DecodeConfig,
    report: Reporter | None = None,
) -> tuple[np.ndarray, float | None, dict]:
    """Circular coordinates (rad) of the cloud's points for the ``n_circles`` longest H1 bars, aligned to the
    lattice for a torus. Returns (theta (n_points, n_circles), torus axis angle (deg) or None, metrics)."""
    report = report or Reporter()
    bars = persistence.bars(1)
    n = cloud.distances.shape[0]
    fs, harmonics, edge_sets = [], [], []
    for k in range(min(n_circles, len(bars))):
        report(0.1 + 0.6 * k / n_circles, f"circular coordinate {k + 1}/{n_circles}")
        bar, birth, death = bars.index[k], bars.birth[k], bars.death[k]
        epsilon = birth + config.epsilon_fraction * (death - birth)
        edges = rips_edges(cloud.distances, epsilon)
        cedges, cvalues = integer_cocycle(persistence.cocycles_h1[bar], persistence.coeff)
        f, alpha = harmonic_circle(edges, n, cedges, cvalues)
        fs.append(f)
        harmonics.append(alpha)
        edge_sets.append(edges)
    f = np.stack(fs, axis=1)  # (n_points, c)
    torus_angle = None
    metrics: dict = {
        "epsilon_fraction": config.epsilon_fraction,
        "bars": [int(b) for b in bars.index[:n_circles]],
    }
    if n_circles == 2 and config.align_torus:
        report(0.75, "aligning the torus")
        # express both harmonic cocycles on the common (smaller) edge set to compare them
        common = edge_sets[int(np.argmin([len(e) for e in edge_sets]))]
        alphas = [
            _on_edges(alpha, edges, common, n) for alpha, edges in zip(harmonics, edge_sets, strict=True)
        ]
        gram = np.array([[a @ b for b in alphas] for a in alphas])
        basis = gauss_reduce(gram)
        f = f @ basis.T.astype(np.float64)
        reduced = basis @ gram @ basis.T
        cos = reduced[0, 1] / np.sqrt(reduced[0, 0] * reduced[1, 1])
        torus_angle = float(np.degrees(np.arccos(np.clip(abs(cos), 0.0, 1.0))))
        metrics["lattice_basis"] = basis.tolist()
        metrics["harmonic_gram"] = reduced.tolist()
    return np.mod(TWO_PI * f, TWO_PI), torus_angle, metrics


def decode(
    rate_matrix: RateMatrix,
    cloud: PointCloud,
    persistence: Persistence,
    n_significant: int,
    config: DecodeConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Decoding:
    """Circular coordinates of the ``n_significant`` longest H1 bars for every bin of ``rate_matrix``."""
    config = config or DecodeConfig()
    config.validate()
    report = Reporter(progress, cancel)
    n_circles = config.n_circles or min(n_significant, 2)
    h1 = persistence.diagrams[1] if len(persistence.diagrams) > 1 else np.empty((0, 2))
    if n_circles < 1 or h1.shape[0] < n_circles:
        raise ConfigError(
            "nothing to decode: no significant H1 bar (the verdict is 'none'); "
            "set n_circles to decode the longest bars anyway"
        )
    sampled_theta, torus_angle, metrics = cloud_phases(cloud, persistence, n_circles, config, report)
    report(0.85, "extending the phases to every time bin")
    rates = rate_matrix.rates  # float32; one float32 working copy below
    mean = rates.mean(axis=0, dtype=np.float64)
    activity = np.clip(rates, 0.0, None)
    activity /= np.where(mean > 0, mean, 1.0).astype(activity.dtype)
    theta, unit_phase, unit_conc = extend_to_bins(activity, cloud.bin_index, sampled_theta)
    if n_circles == 1:
        report(0.92, "maximum-likelihood phases on the ring")
        theta[:, 0] = ml_ring_phase(rates, theta[:, 0])
    if rate_matrix.hd is not None and n_circles == 1:
        metrics["head_direction"] = head_direction_agreement(theta[:, 0], rate_matrix.hd)
    if torus_angle is not None:
        metrics["torus_axis_angle_deg"] = torus_angle
    report(1.0, "decoded")
    return Decoding(
        theta=theta,
        t=rate_matrix.t,
        x=rate_matrix.x,
        y=rate_matrix.y,
        hd=rate_matrix.hd,
        unit_ids=list(rate_matrix.unit_ids),
        unit_phase=unit_phase,
        unit_concentration=unit_conc,
        sampled_bin_index=cloud.bin_index,
        sampled_theta=sampled_theta,
        torus_angle_deg=torus_angle,
        metrics=metrics,
    )


ML_PHASE_BINS = 72  # 5° states of the ring
ML_ROUNDS = 2
TUNING_SMOOTHING_BINS = 2.0  # s.d. (bins) of the circular smoothing of the tuning curves


def ring_tuning_curves(rates_hz: np.ndarray, theta: np.ndarray, n_bins: int = ML_PHASE_BINS) -> np.ndarray:
    """(n_units, n_bins) mean rate (Hz) of each unit at each phase bin of ``theta`` (rad), smoothed around
    the circle; empty phase bins take their neighbours' values through the smoothing."""
    idx = (np.mod(theta, TWO_PI) / TWO_PI * n_bins).astype(np.int64) % n_bins
    onehot = sp.csr_matrix((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n_bins, idx.size))
    sums = np.asarray(onehot @ rates_hz.astype(np.float64)).T  # (n_units, n_bins)
    counts = np.asarray(onehot.sum(axis=1)).ravel()
    lag = np.minimum(np.arange(n_bins), n_bins - np.arange(n_bins))
    kernel_ft = np.fft.fft(np.exp(-0.5 * (lag / TUNING_SMOOTHING_BINS) ** 2))

    def smooth(values: np.ndarray) -> np.ndarray:
        return np.real(np.fft.ifft(np.fft.fft(values, axis=-1) * kernel_ft, axis=-1))

    return smooth(sums) / np.maximum(smooth(counts), 1e-12)


def ml_ring_phase(rates_hz: np.ndarray, theta_init: np.ndarray, rounds: int = ML_ROUNDS) -> np.ndarray:
    """Phase (rad) of every bin by Poisson maximum likelihood on tuning curves learned from the current phases
    (``rounds`` times, starting from ``theta_init``); a parabola through the best state and its neighbours
    places it between states."""
    n_bins = ML_PHASE_BINS
    theta = np.asarray(theta_init, dtype=np.float64)
    rates = np.clip(rates_hz, 0.0, None)
    for _ in range(rounds):
        curves = ring_tuning_curves(rates, theta, n_bins)
        floor = 0.01 * np.maximum(curves.mean(axis=1, keepdims=True), 1e-6)
        log_f = np.log(np.maximum(curves, 0.0) + floor).astype(np.float32)
        total = (np.maximum(curves, 0.0) + floor).sum(axis=0).astype(np.float32)
        out = np.empty(rates.shape[0])
        for start in range(0, rates.shape[0], 65536):  # (chunk, n_bins) log-likelihoods at a time
            ll = rates[start : start + 65536].astype(np.float32) @ log_f - total
            best = np.argmax(ll, axis=1)
            rows = np.arange(best.size)
            left, mid, right = ll[rows, (best - 1) % n_bins], ll[rows, best], ll[rows, (best + 1) % n_bins]
            denom = left - 2 * mid + right
            shift = np.where(denom < 0, 0.5 * (left - right) / np.where(denom < 0, denom, -1.0), 0.0)
            out[start : start + best.size] = (best + 0.5 + np.clip(shift, -0.5, 0.5)) * TWO_PI / n_bins
        theta = np.mod(out, TWO_PI)
    return theta


def _on_edges(values: np.ndarray, edges: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """``values`` given on ``edges``, read on ``target`` edges (a subset)."""
    key = edges[:, 0] * n + edges[:, 1]
    order = np.argsort(key)
    pos = np.searchsorted(key[order], target[:, 0] * n + target[:, 1])
    return values[order[np.clip(pos, 0, len(key) - 1)]]
