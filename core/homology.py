"""Persistent homology of a point cloud's distance matrix through interchangeable backends.

H0–H1 (with H1 cocycles, Z/p coefficients) are computed on all points; H2, when asked, on a greedy max-min
landmark subset, so it finishes in seconds instead of hours. The Vietoris–Rips filtration is truncated at an
adaptive threshold (a quantile of the finite distances): if any bar is still alive there, the threshold is
raised and the computation repeated, up to the full filtration, so the bars that significance reads are
exact while the usual case costs a fraction of the full filtration (the two longest H1 bars may stay alive
at a cut: their lifetime up to it is a lower bound, see :func:`_alive`). Bars that never die (the neighbour
graph has no edges that fill them) keep death = inf; significance never counts such a bar as evidence
("undetermined"). When a cancel check is given, the engine runs in a worker process that Cancel kills
(``core.interruptible``).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.config import Config
from core.errors import ConfigError
from core.interruptible import WORKER
from core.progress import CancelCheck, ProgressCallback, Reporter


@dataclass(frozen=True)
class PersistenceConfig(Config):
    """Parameters of persistent homology.

    maxdim: highest homology dimension (1 or 2). coeff: prime p of the Z/p coefficients (Gardner: 47).
    backend: "auto", "ripser", "canns-lib" or "ripser++". "auto" is ripser.py, with ripser++ taking H2 when a
    GPU is selected and it is installed (ripser++ has no cocycles, so it cannot serve H1 decoding).
    n_landmarks_h2: points used for H2. threshold_quantiles: the truncation schedule (quantiles of finite
    distances; 1.0 = no truncation).
    """

    maxdim: int = field(default=1, metadata={"choices": [1, 2], "help": "highest homology dimension"})
    coeff: int = field(
        default=47,
        metadata={
            "min": 2,
            "max": 997,
            "help": "prime field Z/p",
            "ref": "Gardner et al. 2022, Nature 602:123 (p = 47)",
        },
    )
    backend: str = field(
        default="auto",
        metadata={
            "choices": ["auto", "ripser", "canns-lib", "ripser++"],
            "help": "engine",
            "ref": "ripser: Bauer 2021, J Appl Comput Topol 5:391",
        },
    )
    n_landmarks_h2: int = field(
        default=300,
        metadata={
            "min": 20,
            "max": 2000,
            "help": "landmarks for H2",
            "ref": "max-min landmarks: de Silva & Carlsson 2004",
        },
    )
    threshold_quantiles: tuple[float, ...] = field(
        default=(0.2, 0.35, 0.6, 1.0),
        metadata={"min": 0.01, "max": 1.0, "help": "truncation schedule (quantiles of finite distances)"},
    )

    def check(self) -> None:
        if any(self.coeff % p == 0 for p in range(2, int(self.coeff**0.5) + 1)):
            raise ConfigError(f"coeff must be a prime number, got {self.coeff}")


@dataclass
class Persistence:
    """Persistence diagrams and what made them.

    diagrams: [h0, h1, (h2)], each (n_bars, 2) float64 of (birth, death) in distance units (−log membership);
    death = inf for bars alive at the end. cocycles_h1: one (m, 3) int array (i, j, value mod p) per H1 bar.
    threshold: the filtration cut used for H0–H1; threshold_h2 for H2 (the largest finite distance when
    uncut). landmarks_h2: indices of the H2 points.
    """

    diagrams: list[np.ndarray]
    cocycles_h1: list[np.ndarray]
    threshold: float
    threshold_h2: float
    landmarks_h2: np.ndarray | None
    backend: str
    coeff: int

    def n_alive(self, dim: int) -> int:
        """Bars of dimension ``dim`` still alive at the end of the computed filtration."""
        return int(np.isinf(self.diagrams[dim][:, 1]).sum()) if dim < len(self.diagrams) else 0

    def end(self, dim: int) -> float:
        """The filtration value at which dimension ``dim`` was cut (``threshold_h2`` for H2)."""
        return self.threshold_h2 if dim == 2 else self.threshold

    def bars(self, dim: int) -> Bars:
        """The bars of dimension ``dim``, longest first, with deaths clipped to the cut."""
        dgm = self.diagrams[dim] if dim < len(self.diagrams) else np.empty((0, 2))
        return bars_of(dgm, dim, self.end(dim))

    def lifetimes(self, dim: int) -> np.ndarray:
        """Bar lengths of dimension ``dim``, longest first, up to the cut."""
        return self.bars(dim).lifetime


@dataclass(frozen=True)
class Bars:
    """One dimension's bars, longest first. index: the row of each bar in ``diagrams[dim]``; birth, death:
    filtration values (death clipped to the cut); lifetime = death − birth; alive: the bar had not died at
    the cut (its lifetime is a lower bound)."""

    dim: int
    index: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    lifetime: np.ndarray
    alive: np.ndarray

    def __len__(self) -> int:
        return int(self.index.size)


def bars_of(diagram: np.ndarray, dim: int, end: float) -> Bars:
    """The bars of one diagram (birth, death rows) cut at ``end``, longest first: the one place a bar's
    lifetime is computed."""
    dgm = np.asarray(diagram, dtype=np.float64).reshape(-1, 2)
    death = np.minimum(dgm[:, 1], end)
    life = death - dgm[:, 0]
    order = np.argsort(-life, kind="stable")
    return Bars(dim, order, dgm[order, 0], death[order], life[order], ~(dgm[order, 1] <= end))


class Backend(Protocol):
    name: str

    def __call__(
        self, distances: np.ndarray, maxdim: int, coeff: int, thresh: float, do_cocycles: bool
    ) -> tuple[list[np.ndarray], list[np.ndarray]]: ...


class RipserPy:
    """ripser.py (Tralie, Saul & Bar-On 2018; Bauer 2021), the default engine."""

    name = "ripser"
    module = "ripser"

    def __call__(self, distances, maxdim, coeff, thresh, do_cocycles):
        ripser = importlib.import_module(self.module).ripser
        out = ripser(
            distances,
            maxdim=maxdim,
            thresh=thresh,
            coeff=coeff,
            distance_matrix=True,
            do_cocycles=do_cocycles,
        )
        cocycles = out.get("cocycles", [])
        return out["dgms"], list(cocycles[1]) if do_cocycles and len(cocycles) > 1 else []


class CannsLibRipser(RipserPy):
    """canns-lib's Rust port of Ripser, with ripser.py's interface; used when installed and selected."""

    name = "canns-lib"
    module = "canns_lib.ripser"


class RipserPlusPlus:
    """ripser++ (Zhang et al. 2020), GPU; Z/2 only and no cocycles, so it serves H2 landmarks and checks."""

    name = "ripser++"

    def __call__(self, distances, maxdim, coeff, thresh, do_cocycles):
        import ripserplusplus as rpp

        finite = np.where(np.isfinite(distances), distances, np.finfo(np.float32).max)
        args = f"--format distance --dim {maxdim}" + (f" --threshold {thresh}" if np.isfinite(thresh) else "")
        raw = rpp.run(args, finite.astype(np.float32))
        dgms = []
        for dim in range(maxdim + 1):
            bars = np.asarray([(b[0], b[1]) for b in raw.get(dim, [])], dtype=np.float64).reshape(-1, 2)
            dgms.append(bars)
        return dgms, []


def available_backends() -> list[str]:
    """Names of the engines importable here."""
    names = ["ripser"]
    if importlib.util.find_spec("canns_lib") is not None:
        names.append("canns-lib")
    if importlib.util.find_spec("ripserplusplus") is not None:
        names.append("ripser++")
    return names


def get_backend(name: str) -> Backend:
    """The engine called ``name`` ("auto" is ripser.py)."""
    if name in ("auto", "ripser"):
        return RipserPy()
    if name not in available_backends():
        raise ConfigError(
            f"the homology backend {name!r} is not installed (available: {available_backends()})"
        )
    return CannsLibRipser() if name == "canns-lib" else RipserPlusPlus()


def greedy_landmarks(distances: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """Max-min (farthest point) landmark indices; infinite distances count as larger than any finite one."""
    m = distances.shape[0]
    if n >= m:
        return np.arange(m)
    finite = distances[np.isfinite(distances)]
    big = 2.0 * (finite.max() if finite.size else 1.0)
    d = np.where(np.isfinite(distances), distances, big)
    picked = [start]
    nearest = d[start].copy()
    for _ in range(n - 1):
        nxt = int(np.argmax(nearest))
        picked.append(nxt)
        np.minimum(nearest, d[nxt], out=nearest)
    return np.array(picked)


ALIVE_ALLOWED_H1 = 2  # H1 bars that may stay alive at a cut: the candidates (a torus has two) …
ALIVE_MARGIN = 4.0  # … when their lifetime up to the cut is already this many times the longest finished bar


def _alive(diagrams: list[np.ndarray], thresh: float) -> bool:
    """True when the cut must be raised: H0 has more than one component left, an H2 bar is alive, or an
    alive H1 bar is not among the ``ALIVE_ALLOWED_H1`` longest (by lifetime up to the cut). The longest bars
    may stay alive when their lifetime up to the cut is already ``ALIVE_MARGIN`` times the longest finished
    bar: that lower bound then stands far above the noise, and significance never tests a gap whose lower
    bar is alive (``core.significance``), so the bars it reads are exact or conservative."""
    if diagrams and np.isinf(diagrams[0][:, 1]).sum() > 1:
        return True
    if any(np.isinf(d[:, 1]).any() for d in diagrams[2:]):
        return True
    if len(diagrams) < 2 or not np.isinf(diagrams[1][:, 1]).any():
        return False
    bars = bars_of(diagrams[1], 1, thresh)  # longest first
    alive = np.isinf(np.asarray(diagrams[1], dtype=np.float64)[bars.index, 1])
    if alive[ALIVE_ALLOWED_H1:].any():
        return True
    finished = bars.lifetime[~alive].max() if (~alive).any() else 0.0
    return bool(bars.lifetime[alive].min() < ALIVE_MARGIN * finished)


def _truncated(
    backend: Backend,
    distances: np.ndarray,
    maxdim: int,
    coeff: int,
    quantiles: tuple[float, ...],
    do_cocycles: bool,
    report: Reporter,
) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    off = distances[np.triu_indices_from(distances, 1)]
    finite = off[np.isfinite(off)]
    largest = float(finite.max()) if finite.size else 0.0
    schedule = sorted(q for q in quantiles if 0 < q <= 1) or [1.0]
    for step, q in enumerate(schedule):
        report(step / len(schedule), f"H0–H{maxdim} (cut at the {q:.0%} distance quantile)")
        uncut = q >= 1.0 or not finite.size
        thresh = np.inf if uncut else float(np.quantile(finite, q))
        args = (distances, maxdim, coeff, thresh, do_cocycles)
        if report.cancellable:  # the engine cannot be interrupted: run it where Cancel can kill it
            dgms, cocycles = WORKER.call(backend, args, report.check)
        else:
            dgms, cocycles = backend(*args)
        if uncut or step == len(schedule) - 1 or not _alive(dgms, thresh):
            break
    dgms = [np.asarray(d, dtype=np.float64).reshape(-1, 2) for d in dgms]
    return dgms, cocycles, largest if uncut else thresh


def compute_persistence(
    distances: np.ndarray,
    config: PersistenceConfig | None = None,
    gpu: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Persistence:
    """Persistence diagrams of a (n, n) distance matrix (``inf`` = no edge)."""
    config = config or PersistenceConfig()
    config.validate()
    report = Reporter(progress, cancel)
    backend = get_backend(config.backend)
    # "auto" on a GPU: ripser++ takes H2 (no cocycles needed there; Z/2 finds the torus's sphere class too)
    gpu_h2 = gpu and config.backend == "auto" and "ripser++" in available_backends()
    backend_h2 = RipserPlusPlus() if gpu_h2 else backend
    h01_report = report.sub(0.0, 0.6 if config.maxdim >= 2 else 1.0)
    dgms, cocycles, thresh = _truncated(
        backend, distances, min(config.maxdim, 1), config.coeff, config.threshold_quantiles, True, h01_report
    )
    dgms = dgms[:2]
    landmarks = None
    thresh2 = np.inf
    if config.maxdim >= 2:
        report(0.6, "H2 on landmarks")
        landmarks = greedy_landmarks(distances, config.n_landmarks_h2)
        sub = distances[np.ix_(landmarks, landmarks)]
        dgms2, _, thresh2 = _truncated(
            backend_h2, sub, 2, config.coeff, config.threshold_quantiles, False, report.sub(0.6, 1.0)
        )
        dgms.append(dgms2[2])
    report(1.0, "persistence done")
    return Persistence(
        diagrams=dgms,
        cocycles_h1=[np.asarray(c, dtype=np.int64) for c in cocycles],
        threshold=thresh,
        threshold_h2=thresh2,
        landmarks_h2=landmarks,
        backend=backend.name,
        coeff=config.coeff,
    )
