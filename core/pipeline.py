"""The analysis from a loaded recording to a verdict: rates → point cloud → persistence → significance.

``run_analysis`` chains the stages, each a plain function of (input, config), with progress, cancel, per-stage
timings and an optional :class:`~core.cache.StageCache`. Presets hold the parameter sets for grid modules
(a torus expected) and head-direction ensembles (a ring expected).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import numpy as np

from core.cache import StageCache, config_hash, recording_fingerprint
from core.decoding import DecodeConfig, Decoding, decode
from core.errors import ConfigError
from core.homology import Persistence, PersistenceConfig, compute_persistence
from core.pointcloud import PointCloud, PointCloudConfig, build_point_cloud
from core.preprocess import PreprocessConfig, RateMatrix, compute_rates
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.significance import (
    Significance,
    SignificanceConfig,
    gap_significance,
    shift_recording,
    shuffle_significance,
)

PRESETS = ("grid", "hd", "auto")
AUTO_HD_MAX_UNITS = 40


@dataclass(frozen=True)
class AnalysisConfig:
    """Every parameter of one analysis, grouped by stage."""

    preset: str = "grid"
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    point_cloud: PointCloudConfig = field(default_factory=PointCloudConfig)
    persistence: PersistenceConfig = field(default_factory=PersistenceConfig)
    significance: SignificanceConfig = field(default_factory=SignificanceConfig)
    decoding: DecodeConfig = field(default_factory=DecodeConfig)

    @classmethod
    def from_preset(cls, name: str) -> AnalysisConfig:
        """``grid``: Gardner et al. 2022. ``hd``: ~20 head-direction cells (a ring needs fewer points and a
        smoother rate). ``auto`` is resolved per recording by :func:`resolve_preset`."""
        if name == "grid" or name == "auto":
            return cls(preset=name)
        if name == "hd":
            return cls(
                preset="hd",
                preprocess=PreprocessConfig(sigma_s=0.1, speed_min_cm_s=None),
                point_cloud=PointCloudConfig(
                    time_step=5, n_pca=6, n_neighbors_downsample=300, n_points=600, n_neighbors_metric=200
                ),
            )
        raise ConfigError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_preset(config: AnalysisConfig, recording: Recording) -> AnalysisConfig:
    """Replace ``auto`` by ``hd`` (head direction recorded and at most 40 units) or ``grid``; keep others."""
    if config.preset != "auto":
        return config
    name = "hd" if recording.hd is not None and recording.n_units <= AUTO_HD_MAX_UNITS else "grid"
    base = AnalysisConfig.from_preset(name)
    return replace(
        base, persistence=config.persistence, significance=config.significance, decoding=config.decoding
    )


@dataclass
class AnalysisResult:
    """Everything one analysis produced, with its parameters and timings (s)."""

    config: AnalysisConfig
    rate_matrix: RateMatrix
    point_cloud: PointCloud
    persistence: Persistence
    significance: Significance
    timings_s: dict[str, float]
    decoding: Decoding | None = None

    @property
    def verdict(self) -> str:
        return self.significance.verdict

    @property
    def significant(self) -> dict[str, int]:
        return self.significance.significant

    def barcode(self) -> dict[str, list[list[float]]]:
        """{"h0": [[birth, death], …], …}; ``death`` is ``None`` for bars that never die (JSON-safe)."""
        return {
            f"h{d}": [[float(b), None if not np.isfinite(e) else float(e)] for b, e in dgm]
            for d, dgm in enumerate(self.persistence.diagrams)
        }


def _cached(cache: StageCache | None, key: str, compute):
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit, True
    value = compute()
    if cache is not None:
        cache.put(key, value)
    return value, False


def topology(
    recording: Recording,
    config: AnalysisConfig,
    report: Reporter,
    cache: StageCache | None = None,
    gpu: bool = False,
    timings: dict[str, float] | None = None,
) -> tuple[RateMatrix, PointCloud, Persistence]:
    """Rate matrix, point cloud and persistence of one recording, each stage cached by its inputs' digest."""
    timings = {} if timings is None else timings
    key = recording_fingerprint(recording) if cache is not None else ""

    def stage(name: str, stage_config, start: float, stop: float, compute):
        nonlocal key
        key = config_hash(key, name, stage_config)
        sub = report.sub(start, stop)
        began = time.perf_counter()
        value, hit = _cached(cache, key, lambda: compute(sub, sub.check))
        timings[name] = 0.0 if hit else time.perf_counter() - began
        return value

    rates = stage(
        "preprocess", config.preprocess, 0.0, 0.1, partial(compute_rates, recording, config.preprocess)
    )
    cloud = stage(
        "point_cloud", config.point_cloud, 0.1, 0.45, partial(build_point_cloud, rates, config.point_cloud)
    )
    pers = stage(
        "persistence",
        config.persistence,
        0.45,
        1.0,
        partial(compute_persistence, cloud.distances, config.persistence, gpu),
    )
    return rates, cloud, pers


def null_maxima_of_shuffle(
    recording: Recording, config: AnalysisConfig, seed: np.random.SeedSequence
) -> dict[str, float]:
    """Longest bar per dimension of one shuffled copy of ``recording`` (runs in a worker process)."""
    shuffled = shift_recording(recording, np.random.default_rng(seed), config.significance.min_shift_s)
    _, _, pers = topology(shuffled, config, Reporter())
    return {f"h{d}": float(np.max(pers.lifetimes(d), initial=0.0)) for d in range(1, len(pers.diagrams))}


def run_shuffles(recording: Recording, config: AnalysisConfig, report: Reporter) -> dict[str, list[float]]:
    """Null distribution of the longest bars from ``n_shuffles`` shuffled copies, in parallel processes."""
    from joblib import Parallel, delayed

    sig = config.significance
    seeds = np.random.SeedSequence(sig.seed).spawn(sig.n_shuffles)
    maxima: dict[str, list[float]] = {}
    jobs = Parallel(n_jobs=min(sig.n_jobs, sig.n_shuffles), return_as="generator_unordered")
    results = jobs(delayed(null_maxima_of_shuffle)(recording, config, s) for s in seeds)
    try:
        for done, result in enumerate(results, start=1):
            for key, value in result.items():
                maxima.setdefault(key, []).append(value)
            report(done / sig.n_shuffles, f"shuffle {done}/{sig.n_shuffles}")
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    return maxima


def run_analysis(
    recording: Recording,
    config: AnalysisConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    cache: StageCache | None = None,
    gpu: bool = False,
) -> AnalysisResult:
    """Rates → point cloud → persistence → significance and verdict → decoded phases (when a ring or torus,
    or when ``config.decoding.n_circles`` asks) for one recording."""
    config = resolve_preset(config or AnalysisConfig(), recording)
    config.significance.validate()
    report = Reporter(progress, cancel)
    timings: dict[str, float] = {}
    with_shuffles = config.significance.n_shuffles > 0
    main = report.sub(0.0, 0.4 if with_shuffles else 0.95)
    rate_matrix, cloud, pers = topology(recording, config, main, cache, gpu, timings)
    start = time.perf_counter()
    lifetimes = [pers.lifetimes(d) for d in range(len(pers.diagrams))]
    if with_shuffles:
        null = run_shuffles(recording, config, report.sub(0.4, 0.95))
        significance = shuffle_significance(lifetimes, null, config.significance)
    else:
        significance = gap_significance(lifetimes, config.significance)
    timings["significance"] = time.perf_counter() - start
    report(0.95, f"verdict: {significance.verdict}")
    decoding = None
    n_circles = config.decoding.n_circles or min(significance.significant.get("h1", 0), 2)
    if n_circles:
        start = time.perf_counter()
        sub = report.sub(0.95, 1.0)
        decoding = decode(rate_matrix, cloud, pers, n_circles, config.decoding, sub, sub.check)
        timings["decoding"] = time.perf_counter() - start
    report(1.0, f"done: {significance.verdict}")
    return AnalysisResult(config, rate_matrix, cloud, pers, significance, timings, decoding)
