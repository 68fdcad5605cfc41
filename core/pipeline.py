"""The analysis from a loaded recording to a verdict: rates → point cloud → persistence → significance.

``run_analysis`` chains the stages, each a plain function of (input, config), with progress, cancel, per-stage
timings and an optional :class:`~core.cache.StageCache` (in memory, and on disk between runs when given a
cache folder). Presets hold the parameter sets for grid modules (a torus expected) and head-direction
ensembles (a ring expected).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace

import numpy as np

from core import __version__, presets
from core import config as config_layer
from core.behaviour import behaviour_checks
from core.cache import DEFAULT_MAX_BYTES, DiskCache, StageCache, config_hash, recording_fingerprint
from core.decoding import DecodeConfig, Decoding, cloud_phases, decode
from core.errors import ConfigError
from core.homology import Persistence, PersistenceConfig, compute_persistence
from core.interruptible import map_unordered
from core.pointcloud import PointCloud, PointCloudConfig, build_point_cloud
from core.preprocess import PreprocessConfig, RateMatrix, compute_rates
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording
from core.significance import (
    DataSupport,
    Significance,
    SignificanceConfig,
    cloud_pieces,
    decide,
    null_gap_statistics,
    shift_recording,
    significant_counts,
)

# Bumped whenever a stage's algorithm changes, so that results cached by an older version are misses.
ALGORITHM_VERSION = 2

PRESETS = ("grid", "hd", "auto")


@dataclass(frozen=True)
class AnalysisConfig(config_layer.Config):
    """Every parameter of one analysis, grouped by stage.

    pinned: (dotted path, value) pairs the user set by hand (``canns-asa --set``). Every copy of the config
    keeps them, so resolving the ``auto`` preset (:func:`resolve_preset`) never overwrites a value the user
    chose, as the GUI's forms keep the fields the user edited when a preset is applied.
    """

    preset: str = "grid"
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    point_cloud: PointCloudConfig = field(default_factory=PointCloudConfig)
    persistence: PersistenceConfig = field(default_factory=PersistenceConfig)
    significance: SignificanceConfig = field(default_factory=SignificanceConfig)
    decoding: DecodeConfig = field(default_factory=DecodeConfig)
    pinned: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pinned", config_layer.pins(type(self), self.pinned))
        for name, value in config_layer.pinned_fields(self, self.pinned).items():
            object.__setattr__(self, name, value)
        super().__post_init__()

    def check(self) -> None:
        for path, _ in self.pinned:
            if "." not in path:
                raise ConfigError(
                    f"{path} cannot be pinned: only stage parameters such as preprocess.dt_s can "
                    "(the preset is chosen with --preset)"
                )

    @classmethod
    def from_preset(cls, name: str) -> AnalysisConfig:
        """``grid``: Gardner et al. 2022. ``hd``: ~20 head-direction cells (a ring needs fewer points and a
        smoother rate; 2/3 of the points as metric neighbours so the loop can be filled). ``auto`` is
        resolved per recording by :func:`resolve_preset` (see :mod:`core.presets`)."""
        if name == "grid" or name == "auto":
            return cls(preset=name)
        if name == "hd":
            return cls(
                preset="hd",
                preprocess=PreprocessConfig(sigma_s=0.1, speed_min_cm_s=None),
                point_cloud=PointCloudConfig(
                    time_step=5, n_pca=6, n_neighbors_downsample=300, n_points=600, n_neighbors_metric=400
                ),
            )
        raise ConfigError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")

    def to_dict(self) -> dict:
        return config_layer.to_dict(self)


def resolve_preset(config: AnalysisConfig, recording: Recording) -> AnalysisConfig:
    """Replace ``auto`` by settings chosen from the recording (:mod:`core.presets`): smoothing from the
    population's rate, speed filter from the behaviour, cloud size from the number of units. The resolved
    preset is named ``auto (<what the data are>)``; other presets are kept as they are."""
    if config.preset != "auto":
        return config
    data = presets.profile(recording)
    preprocess = presets.auto_preprocess(data, config.preprocess)
    return replace(
        config,
        preset=f"auto ({data.describe()})",
        preprocess=preprocess,
        point_cloud=presets.auto_point_cloud(data, config.point_cloud, preprocess.dt_s),
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


STAGES = ("preprocess", "point_cloud", "persistence", "significance", "decoding")


class StagedAnalysis:
    """One recording's stages, each computed on demand from its upstream stage and cached by a digest of the
    recording and every config up to it. ``run_analysis`` uses it end to end; the GUI calls stage by stage
    and compares :meth:`key` values to know which results are stale.

    ``cache_folder``: also keep results on disk there (at most ``cache_max_bytes`` bytes), so a new process
    loads them instead of recomputing; a given ``cache`` without a disk layer gets one. Without it, results
    stay in memory only. ``computed`` lists the stages this object computed rather than found cached.
    """

    def __init__(
        self,
        recording: Recording,
        cache: StageCache | None = None,
        gpu: bool = False,
        cache_folder: str | os.PathLike | None = None,
        cache_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.recording = recording
        self.cache = cache if cache is not None else StageCache(max_items=len(STAGES))
        if cache_folder is not None and self.cache.disk is None:
            self.cache.disk = DiskCache(cache_folder, cache_max_bytes)
        self.computed: list[str] = []
        self.gpu = gpu
        self.fingerprint = recording_fingerprint(recording)
        self.timings_s: dict[str, float] = {}  # seconds of the last computation of each stage (0: cached)
        self._timed: dict[str, str] = {}  # stage → key its timing belongs to

    def key(self, stage: str, config: AnalysisConfig) -> str:
        """Digest of the recording and the configs of ``stage`` and every stage before it."""
        key = config_hash(__version__, ALGORITHM_VERSION, self.fingerprint)
        for name in STAGES[: STAGES.index(stage) + 1]:
            key = config_hash(key, name, getattr(config, name))
        return key

    def _run(self, stage: str, config: AnalysisConfig, report: Reporter, compute):
        key = self.key(stage, config)
        hit = self.cache.get(key)
        if hit is not None:
            if self._timed.get(stage) != key:  # a result from an earlier run: it cost nothing now
                self.timings_s[stage] = 0.0
                self._timed[stage] = key
            return hit
        began = time.perf_counter()
        value = compute(report)
        self.timings_s[stage] = time.perf_counter() - began
        self.computed.append(stage)
        self._timed[stage] = key
        self.cache.put(key, value)
        return value

    def rates(self, config: AnalysisConfig, report: Reporter | None = None) -> RateMatrix:
        report = report or Reporter()
        return self._run(
            "preprocess",
            config,
            report,
            lambda r: compute_rates(self.recording, config.preprocess, r, r.check),
        )

    def cloud(self, config: AnalysisConfig, report: Reporter | None = None) -> PointCloud:
        report = report or Reporter()
        rates = self.rates(config, report.sub(0.0, 0.2))
        sub = report.sub(0.2, 1.0)
        return self._run(
            "point_cloud", config, sub, lambda r: build_point_cloud(rates, config.point_cloud, r, r.check)
        )

    def persistence(self, config: AnalysisConfig, report: Reporter | None = None) -> Persistence:
        report = report or Reporter()
        cloud = self.cloud(config, report.sub(0.0, 0.45))
        return self._run(
            "persistence",
            config,
            report.sub(0.45, 1.0),
            lambda r: compute_persistence(
                cloud.distances, config.persistence, self.gpu, r, r.check if r.cancellable else None
            ),
        )

    def significance(self, config: AnalysisConfig, report: Reporter | None = None) -> Significance:
        report = report or Reporter()
        shuffles = config.significance.n_shuffles > 0
        pers = self.persistence(config, report.sub(0.0, 0.4 if shuffles else 1.0))

        def compute(r: Reporter) -> Significance:
            config.significance.validate()
            lifetimes = [pers.lifetimes(d) for d in range(len(pers.diagrams))]
            null = run_shuffles(self.recording, config, r) if shuffles else None
            # the pieces of the cloud are measured where the counted loops live
            alive = {d: pers.n_alive(d) for d in range(1, len(pers.diagrams))}
            n_loops = significant_counts(lifetimes, config.significance, null, alive).get("h1", 0)
            support = self.support(pers, self.cloud(config), n_loops, config)
            result = decide(lifetimes, support, config.significance, null, alive)
            r(1.0, f"verdict: {result.verdict}")
            return result

        return self._run("significance", config, report.sub(0.4 if shuffles else 1.0, 1.0), compute)

    def support(
        self, pers: Persistence, cloud: PointCloud, n_loops: int, config: AnalysisConfig
    ) -> DataSupport:
        """What the data can support (:class:`DataSupport`): units with enough spikes; whether one of
        the tested H1 bars never died; the cloud's large pieces in the Rips graph halfway through the
        shortest of the ``n_loops`` counted H1 bars (where decoding reads the loop); how the counted
        circles' phases relate to the animal's behaviour (:func:`behaviour_checks`)."""
        rec, sig = self.recording, config.significance
        if rec.rates is not None:
            usable = rec.n_units
        else:
            usable = int(sum(len(s) >= sig.min_spikes_per_unit for s in rec.spike_times))
        bars = pers.bars(1)
        finite = cloud.distances[np.isfinite(cloud.distances)]
        complete = pers.threshold >= (finite.max() if finite.size else 0.0)  # the full filtration was run
        # a counted bar alive at a cut is a lower bound (fine); one that never dies in the full graph is not
        alive = bool(complete and bars.alive[: max(n_loops, 1)].any())
        if not n_loops or alive:
            return DataSupport(usable, rec.n_units, [], alive)
        middle = 0.5 * (bars.birth[n_loops - 1] + bars.death[n_loops - 1])
        pieces = cloud_pieces(cloud.distances, middle, sig.min_piece_fraction)
        hd, maps = None, []
        rates = self.rates(config)
        if rates.x is not None:
            theta, _, _ = cloud_phases(cloud, pers, min(n_loops, 2), config.decoding)
            hd, maps = behaviour_checks(theta, rates, cloud.bin_index)
        return DataSupport(usable, rec.n_units, pieces, alive, hd, maps)

    def decoding(self, config: AnalysisConfig, report: Reporter | None = None) -> Decoding | None:
        """Decoded phases of the significant circles (or ``config.decoding.n_circles``); None for 'none'."""
        report = report or Reporter()
        significance = self.significance(config, report.sub(0.0, 0.95))
        n_circles = config.decoding.n_circles or min(significance.significant.get("h1", 0), 2)
        if not n_circles:
            return None
        rates, cloud = self.rates(config), self.cloud(config)
        pers = self.persistence(config)
        return self._run(
            "decoding",
            config,
            report.sub(0.95, 1.0),
            lambda r: decode(rates, cloud, pers, n_circles, config.decoding, r, r.check),
        )

    def result(self, config: AnalysisConfig, report: Reporter | None = None) -> AnalysisResult:
        """Every stage, as one :class:`AnalysisResult`."""
        report = report or Reporter()
        decoding = self.decoding(config, report.sub(0.0, 0.99))
        significance = self.significance(config)
        report(1.0, f"done: {significance.verdict}")
        return AnalysisResult(
            config,
            self.rates(config),
            self.cloud(config),
            self.persistence(config),
            significance,
            dict(self.timings_s),
            decoding,
        )


def null_statistics_of_shuffle(
    job: tuple[Recording, AnalysisConfig, np.random.SeedSequence],
) -> dict[str, list[float]]:
    """Gap statistics T_1..T_m per dimension of one shuffled copy of a recording (runs in a worker
    process)."""
    recording, config, seed = job
    shuffled = shift_recording(recording, np.random.default_rng(seed), config.significance.min_shift_s)
    pers = StagedAnalysis(shuffled).persistence(config)
    alive = {d: pers.n_alive(d) for d in range(1, len(pers.diagrams))}
    lifetimes = [pers.lifetimes(d) for d in range(len(pers.diagrams))]
    return null_gap_statistics(lifetimes, config.significance, alive)


def run_shuffles(
    recording: Recording, config: AnalysisConfig, report: Reporter
) -> dict[str, list[list[float]]]:
    """Null gap statistics from ``n_shuffles`` shuffled copies (one list of T_1..T_m per shuffle and
    dimension), in parallel processes (terminated at once on cancel)."""
    sig = config.significance
    jobs = [(recording, config, s) for s in np.random.SeedSequence(sig.seed).spawn(sig.n_shuffles)]
    maxima: dict[str, list[list[float]]] = {}
    report(0.0, f"shuffles on {min(sig.n_jobs, sig.n_shuffles)} processes")
    results = map_unordered(null_statistics_of_shuffle, jobs, sig.n_jobs, report.check)
    for done, result in enumerate(results, 1):
        for key, value in result.items():
            maxima.setdefault(key, []).append(value)
        report(done / sig.n_shuffles, f"shuffle {done}/{sig.n_shuffles}")
    return maxima


def run_analysis(
    recording: Recording,
    config: AnalysisConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    cache: StageCache | None = None,
    gpu: bool = False,
    cache_folder: str | os.PathLike | None = None,
) -> AnalysisResult:
    """Rates → point cloud → persistence → significance and verdict → decoded phases (when a ring or torus,
    or when ``config.decoding.n_circles`` asks) for one recording; results also kept in ``cache_folder``
    (on disk, between runs) when given."""
    config = resolve_preset(config or AnalysisConfig(), recording)
    analysis = StagedAnalysis(recording, cache, gpu, cache_folder)
    return analysis.result(config, Reporter(progress, cancel))
