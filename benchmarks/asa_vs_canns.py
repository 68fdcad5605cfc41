"""Benchmark: our ASA pipeline (``core``) against the reference one of the ``canns`` package (1.5.x).

Both sides analyse the same synthetic grid module (default 100 units, 30 min at 10 ms bins) saved once as an
ASA ``.npz``, with the Gardner et al. 2022 settings: 10 ms bins, 50 ms Gaussian smoothing, speed > 2.5 cm/s,
every 5th bin, the 15,000 most active bins, z-score + PCA to 6, fuzzy downsampling (k = 1000) to 1,200
points, 800-neighbour cosine metric, Z/47, maxdim 1, no shuffles.

Part 2 (``--part views`` or ``all``, the default) continues in the same child processes on each side's own
TDA output: decoding of the circular coordinates, the CohoMap (and its figure as PNG), rate maps of every unit
and grid scores, each call with its defaults (ours: ``run_analysis``'s decoding stage, ``compute_cohomap``,
``cohomap_figure``, ``compute_rate_maps``, ``compute_grid_scores`` with its default shuffles and once more
with none; the reference: see ``_reference_runner.py``). Peak RSS is recorded after every stage, and for every
part-2 stage also the peak during that stage alone (the kernel's high-water mark is reset at its start).

Each side runs alone in its own child process (never both at once), so its peak RSS is its own:

* ours: this script with ``--child ours`` under the project's Python;
* reference: ``benchmarks/_reference_runner.py`` under the benchmark environment's Python, the only place
  where ``canns`` is installed (it is never installed into the project's venv).

Usage (from the repository root)::

    .venv/bin/python benchmarks/asa_vs_canns.py [--reference-python /work/bench-venv/bin/python]
        [--minutes 30] [--units 100] [--seed 0] [--skip-reference] [--json OUT.json]
        [--part tda|views|all]

Create the reference environment once (outside the repository)::

    python3.11 -m venv /work/bench-venv && /work/bench-venv/bin/pip install "canns==1.5.*"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE_RUNNER = HERE / "_reference_runner.py"
DEFAULT_REFERENCE_PYTHON = "/work/bench-venv/bin/python"
INSTALL_HINT = (
    'python3.11 -m venv /work/bench-venv && /work/bench-venv/bin/pip install "canns==1.5.*"\n'
    "then pass --reference-python /work/bench-venv/bin/python (the default)"
)
MARK = "BENCH_JSON "

# The settings both sides use (Gardner et al. 2022, as canns' defaults); ours are forced to these values.
OURS_SETTINGS = {
    "preprocess": {"dt_s": 0.01, "sigma_s": 0.05, "speed_min_cm_s": 2.5},
    "point_cloud": {
        "time_step": 5,
        "n_active_bins": 15000,
        "zscore": True,
        "n_pca": 6,
        "n_neighbors_downsample": 1000,
        "n_points": 1200,
        "omega": 1.0,
        "n_neighbors_metric": 800,
        "metric": "cosine",
    },
    "persistence": {"maxdim": 1, "coeff": 47},
    "significance": {"n_shuffles": 0},
}


_PEAK = [0.0]  # process-lifetime peak RSS (GiB), kept across high-water-mark resets


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far, in GiB (Linux: ru_maxrss is in KiB)."""
    _PEAK[0] = max(_PEAK[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2)
    return _PEAK[0]


def since_reset_gib() -> float:
    """Peak RSS since the last ``reset_peak`` (the whole process when none happened), GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def current_rss_gib() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Record the lifetime peak, then reset the kernel's RSS high-water mark (Linux ≥ 4.0: writing 5 to
    /proc/self/clear_refs), so that the next reading is the peak of what follows alone."""
    peak_rss_gib()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------- our child


def _with_settings(config):
    """``config`` with every field of OURS_SETTINGS set; returns (config, {field: (preset value, used)})."""
    from dataclasses import replace

    changed = {}
    for group, values in OURS_SETTINGS.items():
        sub = getattr(config, group)
        diff = {}
        for name, value in values.items():
            if not hasattr(sub, name):
                raise AttributeError(f"AnalysisConfig.{group} has no field {name!r}; update OURS_SETTINGS")
            if getattr(sub, name) != value:
                changed[f"{group}.{name}"] = [getattr(sub, name), value]
                diff[name] = value
        if diff:
            config = replace(config, **{group: replace(sub, **diff)})
    return config, changed


def child_ours(path: str, repeat: int = 1, part: str = "all") -> dict:
    """Our pipeline on ``path``, timed per stage; the dict printed as the child's JSON line.

    ``run_analysis`` now ends with decoding; part 1's figures stop at the verdict: its total leaves the
    decoding time out, and its peak RSS is read when the pipeline reports the verdict (progress message
    "verdict: …"), after which the RSS high-water mark is reset so that decoding's own peak is measured.
    """
    t_start = time.perf_counter()
    out: dict = {"side": "ours", "ok": False, "part": part, "timings_s": {}, "peak_rss_gib_after": {}}
    timings, rss = out["timings_s"], out["peak_rss_gib_after"]

    def mark(name: str, began: float) -> None:
        timings[name] = time.perf_counter() - began
        rss[name] = peak_rss_gib()

    try:
        began = time.perf_counter()
        sys.path.insert(0, str(ROOT))
        import numpy as np

        from core.io import load_recording
        from core.pipeline import AnalysisConfig, run_analysis

        mark("import", began)

        began = time.perf_counter()
        recording = load_recording(path).recording
        mark("load", began)

        config, changed = _with_settings(AnalysisConfig.from_preset("grid"))
        out["overridden_from_preset"] = changed
        out["warm_runs"] = []
        for run in range(repeat):
            at_verdict: dict = {}

            def progress(fraction: float, message: str, at_verdict=at_verdict) -> None:
                if not at_verdict and message.startswith("verdict"):
                    at_verdict["peak_rss_gib"] = peak_rss_gib()
                    at_verdict["rss_gib"] = current_rss_gib()
                    at_verdict["hwm_reset"] = reset_peak()

            began = time.perf_counter()
            result = run_analysis(recording, config, progress=progress)
            seconds = time.perf_counter() - began
            stages = {k: float(v) for k, v in result.timings_s.items()}
            decoding_s = stages.get("decoding", 0.0)
            if run == 0:  # the first run in a fresh process: what a user waits for
                mark("analysis", began)
                timings.update(stages)
                # part 1 stops at the verdict: decoding (now the pipeline's last stage) is part 2
                timings["total"] = timings["load"] + timings["analysis"] - decoding_s
                out["cold_wall_s"] = time.perf_counter() - t_start - decoding_s
                # peak of the cold run up to the verdict (load included); without the progress hook, the
                # whole analysis (decoding included)
                out["peak_rss_gib"] = at_verdict.get("peak_rss_gib", peak_rss_gib())
                out["peak_rss_at_verdict_hook"] = bool(at_verdict)
                if at_verdict.get("hwm_reset") and result.decoding is not None:
                    out["decoding_stage_peak_rss_gib"] = since_reset_gib()
                    out["rss_at_decoding_start_gib"] = at_verdict.get("rss_gib")
                rss["decoding"] = peak_rss_gib()
                if part in ("views", "all"):
                    out["views"] = run_views_ours(result, timings, rss)
                    out["views"]["stage_peak_rss_gib"]["decoding"] = out.get("decoding_stage_peak_rss_gib")
                    out["views"]["rss_at_start_gib"]["decoding"] = out.get("rss_at_decoding_start_gib")
                    if out["views"]["ok"]:
                        timings["total_views"] = timings["total"] + sum(timings[k] for k in VIEW_STAGES_OURS)
            else:  # later runs in the same process (JIT and other caches warm)
                out["warm_runs"].append({"total": seconds - decoding_s, **stages})

        pers = result.persistence
        out["verdict"] = result.verdict
        out["significant"] = dict(result.significant)
        out["evidence"] = getattr(result.significance, "evidence", "")
        out["backend"] = getattr(pers, "backend", "?")
        out["threshold"] = float(getattr(pers, "threshold", float("nan")))
        out["n_bars"] = {f"h{d}": int(len(dgm)) for d, dgm in enumerate(pers.diagrams)}
        out["diagrams"] = {
            f"h{d}": [[float(b), None if not np.isfinite(e) else float(e)] for b, e in np.asarray(dgm)]
            for d, dgm in enumerate(pers.diagrams)
            if d >= 1
        }
        # Lifetimes as our pipeline measures them (bars alive at the truncation threshold end there).
        out["h1_lifetimes"] = [float(v) for v in pers.lifetimes(1)]
        with contextlib.suppress(AttributeError):
            out["rate_matrix_shape"] = list(np.shape(result.rate_matrix.rates))
        try:
            from dataclasses import asdict

            out["config"] = asdict(result.config)
        except TypeError:
            pass
        out["ok"] = True
    except BaseException as exc:  # report, never crash without a JSON line
        import traceback

        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    out["wall_s"] = time.perf_counter() - t_start
    out.setdefault("cold_wall_s", out["wall_s"])
    out["peak_rss_gib_all_runs"] = peak_rss_gib()
    out.setdefault("peak_rss_gib", out["peak_rss_gib_all_runs"])
    return out


# Part-2 stages whose times add up to "total incl. decoding + views" (the like-for-like grid score run
# without shuffles is reported beside them, not added).
VIEW_STAGES_OURS = ("decoding", "cohomap", "cohomap_figure", "rate_maps", "grid_scores")
VIEW_STAGES_REF = ("decode", "cohomap", "cohomap_figure", "rate_maps", "grid_scores")


def run_views_ours(result, timings: dict, rss: dict) -> dict:
    """CohoMap, rate maps and grid scores on the cold run's result, each call with its defaults."""
    import numpy as np

    info: dict = {"stage_peak_rss_gib": {}, "rss_at_start_gib": {}, "ok": False}
    stage_peak, at_start = info["stage_peak_rss_gib"], info["rss_at_start_gib"]

    def stage(name: str, fn):
        at_start[name] = current_rss_gib()
        reset = reset_peak()
        began = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - began
        if reset:
            stage_peak[name] = since_reset_gib()
        rss[name] = peak_rss_gib()
        return value

    try:
        decoding = result.decoding
        if decoding is None:
            raise RuntimeError(f"nothing decoded (verdict {result.verdict!r}); no CohoMap or grid scores")
        info["decoded_shape"] = list(np.shape(decoding.theta))
        info["torus_angle_deg"] = decoding.torus_angle_deg

        began = time.perf_counter()
        from core.views import gridscore as gridscore_mod
        from core.views.cohomap import cohomap_figure, compute_cohomap
        from core.views.gridscore import GridScoreConfig, compute_grid_scores
        from core.views.ratemaps import compute_rate_maps

        timings["import_views"] = time.perf_counter() - began

        cmap = stage("cohomap", lambda: compute_cohomap(decoding))
        info["cohomap"] = {
            "phase_maps_shape": list(np.shape(cmap.phase_maps)),
            "spacing_cm": float(cmap.spacing_cm),
            "lattice_angle_deg": float(cmap.lattice_angle_deg),
            "fit_quality": [float(q) for q in cmap.fit_quality],
        }

        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "cohomap.png")

            def figure() -> int:
                cohomap_figure(cmap).savefig(png)
                return os.path.getsize(png)

            info["cohomap_png_bytes"] = stage("cohomap_figure", figure)

        rates = result.rate_matrix
        maps = stage("rate_maps", lambda: compute_rate_maps(rates))
        info["rate_map_shape"] = list(np.shape(maps.maps)[1:])
        info["rate_map_empty_bins"] = int(np.isnan(maps.maps[0]).sum())

        def clear_geometry_cache() -> None:  # each grid-score call starts cold, as in a fresh process
            cache_clear = getattr(getattr(gridscore_mod, "_annulus", None), "cache_clear", None)
            if cache_clear is not None:
                cache_clear()

        # Like-for-like with the reference (which computes no shuffle threshold): no shuffles. First, so
        # that it is the cold call.
        none = GridScoreConfig(n_shuffles=0)
        plain = stage("grid_scores_no_shuffles", lambda: compute_grid_scores(rates, maps, none))
        clear_geometry_cache()
        default = GridScoreConfig()
        scores = stage("grid_scores", lambda: compute_grid_scores(rates, maps))
        finite = scores.gridness[np.isfinite(scores.gridness)]
        info["grid_scores"] = {
            "n_units": int(scores.n_units),
            "n_shuffles": int(default.n_shuffles),
            "median": float(np.median(finite)) if finite.size else None,
            "n_finite": int(finite.size),
            "n_above_0.3": int((finite > 0.3).sum()),
            "n_grid_cells": int(np.sum(scores.is_grid)),
            "same_gridness_without_shuffles": bool(
                np.allclose(plain.gridness, scores.gridness, equal_nan=True)
            ),
        }
        info["ok"] = True
    except BaseException as exc:  # part 1 stands even when part 2 fails
        import traceback

        info["error"] = f"{type(exc).__name__}: {exc}"
        info["traceback"] = traceback.format_exc()[-4000:]
    return info


# --------------------------------------------------------------------------------------------- parent


def ensure_recording(units: int, minutes: float, seed: int, data_dir: Path, regenerate: bool) -> dict:
    """Generate the grid module once with our generator and save it as ASA .npz; reuse it afterwards."""
    sys.path.insert(0, str(ROOT))
    path = data_dir / f"grid_{units}u_{minutes:g}min_seed{seed}.npz"
    info = {"path": str(path), "units": units, "minutes": minutes, "seed": seed}
    if path.exists() and not regenerate:
        info["generated"] = False
        return info
    from core.io import save_recording_npz
    from core.synthetic import grid_module

    began = time.perf_counter()
    recording = grid_module(n_units=units, duration_s=minutes * 60.0, seed=seed)
    save_recording_npz(recording, path)
    info.update(generated=True, generate_s=time.perf_counter() - began, n_spikes=recording.n_spikes)
    return info


def run_child(cmd: list[str], timeout_s: float, label: str) -> dict:
    """Run one side; its JSON line, or a failure record (timeout, crash, missing line)."""
    print(f"[{label}] running: {' '.join(cmd)}", flush=True)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    began = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"side": label, "ok": False, "error": f"timed out after {timeout_s:.0f} s"}
    wall = time.perf_counter() - began
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            record = json.loads(line[len(MARK) :])
            # Process wall of the cold run: interpreter start + import + load + first analysis.
            record["process_wall_s"] = wall - (record.get("wall_s", 0.0) - record.get("cold_wall_s", 0.0))
            return record
    tail = (proc.stdout[-1500:] + "\n" + proc.stderr[-3000:]).strip()
    return {"side": label, "ok": False, "error": f"exit {proc.returncode}, no result line", "output": tail}


def reference_available(python: str) -> str | None:
    """None when ``python`` exists and can find canns; otherwise why not."""
    if not Path(python).exists():
        return f"{python} does not exist"
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('canns') is None)"
    try:
        rc = subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} cannot run: {exc}"
    return None if rc == 0 else f"canns is not installed for {python}"


def long_bars(lifetimes: list[float], max_bars: int = 4, min_ratio: float = 2.0) -> tuple[int, float]:
    """Our reading of a diagram: the bars above the largest ratio gap among the longest ``max_bars`` + 1.

    Returns (count, ratio of that gap); count is 0 when no gap reaches ``min_ratio``. The same reading is
    applied to both sides' H1 diagrams, independently of each pipeline's own verdict.
    """
    life = sorted((v for v in lifetimes if v == v), reverse=True)[: max_bars + 1] + [0.0]
    best_k, best = 0, 0.0
    for k in range(1, min(max_bars, len(life) - 1) + 1):
        ratio = life[k - 1] / life[k] if life[k] > 0 else float("inf")
        if ratio > best:
            best_k, best = k, ratio
    return (best_k, best) if best >= min_ratio else (0, best)


def h1_lifetimes(record: dict) -> list[float]:
    """H1 lifetimes, longest first; an infinite death counts up to the largest finite death."""
    if "h1_lifetimes" in record:
        return sorted(record["h1_lifetimes"], reverse=True)
    bars = record.get("diagrams", {}).get("h1", [])
    finite = [d for _, d in bars if d is not None]
    cap = max(finite) if finite else 0.0
    return sorted(((cap if d is None else d) - b for b, d in bars), reverse=True)


def reading(record: dict) -> dict:
    life = h1_lifetimes(record)
    n, ratio = long_bars(life)
    return {"long_h1_bars": n, "gap_ratio": ratio, "top_h1_lifetimes": [round(v, 4) for v in life[:6]]}


def stage_rows(ref: dict, ours: dict) -> list[tuple[str, float | None, float | None]]:
    """(label, reference s, ours s) for the stages both sides have, mapped onto each other."""
    r, o = ref.get("timings_s", {}), ours.get("timings_s", {})
    split = ref.get("tda_split_s", {})

    def s(d: dict, *keys: str) -> float | None:
        vals = [d[k] for k in keys if k in d]
        return sum(vals) if vals else None

    ref_cloud = s(split, "select_active", "pca", "fuzzy_downsample", "distance_matrix")
    return [
        ("import (s)", s(r, "import"), s(o, "import")),
        ("load (s)", s(r, "load"), s(o, "load")),
        ("preprocess: bin+smooth+speed (s)", s(r, "embed"), s(o, "preprocess")),
        ("point cloud: PCA+downsample+metric (s)", ref_cloud, s(o, "point_cloud")),
        ("  of which fuzzy downsampling (s)", s(split, "fuzzy_downsample"), None),
        ("persistence, ripser (s)", s(split, "ripser"), s(o, "persistence")),
        ("TDA = point cloud + persistence (s)", s(r, "tda"), s(o, "point_cloud", "persistence")),
        ("significance / verdict (s)", None, s(o, "significance")),
        ("total, load→verdict (s)", s(r, "total"), s(o, "total")),
        ("process wall incl. start+import (s)", ref.get("process_wall_s"), ours.get("process_wall_s")),
        ("peak RSS (GiB)", ref.get("peak_rss_gib"), ours.get("peak_rss_gib")),
    ] + [
        (f"warm run {i + 2}: analysis (s)", w_r.get("total"), w_o.get("total"))
        for i, (w_r, w_o) in enumerate(_pairs(ref.get("warm_runs", []), ours.get("warm_runs", [])))
    ]


def view_rows(ref: dict, ours: dict) -> list[tuple[str, float | None, float | None]]:
    """Part 2 (decoding, CohoMap, grid scores): (label, reference, ours) rows; times in s, memory in GiB."""
    r, o = ref.get("timings_s", {}), ours.get("timings_s", {})
    rv, ov = ref.get("views") or {}, ours.get("views") or {}
    rp, op = rv.get("stage_peak_rss_gib", {}), ov.get("stage_peak_rss_gib", {})
    # shuffles behind each side's grid-score threshold (the reference computes none)
    r_sh = (rv.get("grid_scores") or {}).get("n_shuffles", "—")
    o_sh = (ov.get("grid_scores") or {}).get("n_shuffles", "—")

    def peak(d: dict, keys: tuple[str, ...]) -> float | None:
        vals = [d[k] for k in keys if d.get(k) is not None]
        return max(vals) if vals else None

    views_r = ("cohomap", "cohomap_figure", "rate_maps", "grid_scores")
    views_o = ("cohomap", "cohomap_figure", "rate_maps", "grid_scores", "grid_scores_no_shuffles")
    return [
        ("decoding: circular coordinates (s)", r.get("decode"), o.get("decoding")),
        ("CohoMap (s)", r.get("cohomap"), o.get("cohomap")),
        ("CohoMap figure → PNG (s)", r.get("cohomap_figure"), o.get("cohomap_figure")),
        ("rate maps, every unit (s)", r.get("rate_maps"), o.get("rate_maps")),
        (f"grid scores, shuffles {r_sh} / {o_sh} (s)", r.get("grid_scores"), o.get("grid_scores")),
        ("grid scores, no shuffles on both (s)", r.get("grid_scores"), o.get("grid_scores_no_shuffles")),
        ("decoding + views (s)", _sum(r, VIEW_STAGES_REF), _sum(o, VIEW_STAGES_OURS)),
        ("total incl. decoding + views (s)", r.get("total_views"), o.get("total_views")),
        ("  same, no grid-score shuffles on both (s)", r.get("total_views"), _like_for_like(o)),
        ("peak RSS during decoding (GiB)", rp.get("decode"), op.get("decoding")),
        ("peak RSS during views (GiB)", peak(rp, views_r), peak(op, views_o)),
        (
            "peak RSS incl. decoding + views (GiB)",
            ref.get("peak_rss_gib_all_runs") if rv.get("ok") else None,
            ours.get("peak_rss_gib_all_runs") if ov.get("ok") else None,
        ),
    ]


def _like_for_like(o: dict) -> float | None:
    """Our total incl. decoding + views with the grid scores computed without shuffles, as the reference."""
    if "total_views" not in o or "grid_scores_no_shuffles" not in o:
        return None
    return o["total_views"] - o["grid_scores"] + o["grid_scores_no_shuffles"]


def _sum(d: dict, keys: tuple[str, ...]) -> float | None:
    return sum(d[k] for k in keys) if all(k in d for k in keys) else None


def _pairs(a: list, b: list) -> list[tuple[dict, dict]]:
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else {}, b[i] if i < len(b) else {}) for i in range(n)]


def fmt(v: float | None, width: int = 10) -> str:
    return f"{'—':>{width}}" if v is None else f"{v:>{width}.2f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def print_report(report: dict) -> None:
    ref, ours = report.get("reference") or {}, report.get("ours") or {}
    data = report["data"]
    print()
    print(f"Data: {data['path']} ({data['units']} units, {data['minutes']:g} min, seed {data['seed']})")
    for side in (ref, ours):
        if side and not side.get("ok"):
            print(f"\n!! {side.get('side')} FAILED: {side.get('error')}")
            for key in ("traceback", "output"):
                if side.get(key):
                    print(side[key])
    for side in (ref, ours):
        views = side.get("views") or {}
        if views and not views.get("ok"):
            print(f"\n!! {side.get('side')} decoding/views FAILED: {views.get('error')}")
            if views.get("traceback"):
                print(views["traceback"])
    part = report.get("part", "all")
    rows = stage_rows(ref, ours)
    if part == "views":  # part 1's rows that part 2 builds on
        keep = ("total, load→verdict (s)", "peak RSS (GiB)")
        rows = [row for row in rows if row[0] in keep]
    print()
    print(f"{'stage':40s} {'reference':>10s} {'ours':>10s} {'ref/ours':>9s}")
    print("-" * 72)
    for label, a, b in rows:
        q = ratio(a, b)
        print(f"{label:40s} {fmt(a)} {fmt(b)} {'' if q is None else f'{q:8.1f}x':>9s}")
    if part in ("views", "all"):
        print("-" * 72)
        for label, a, b in view_rows(ref, ours):
            q = ratio(a, b)
            print(f"{label:40s} {fmt(a)} {fmt(b)} {'' if q is None else f'{q:8.1f}x':>9s}")
    print("-" * 72)
    if ours.get("ok"):
        rd = report["readings"]["ours"]
        print(
            f"ours      verdict: {ours.get('verdict')}  significant {ours.get('significant')}  "
            f"[our reading: {rd['long_h1_bars']} long H1 bars, top {rd['top_h1_lifetimes']}]"
        )
    if ref.get("ok"):
        rd = report["readings"]["reference"]
        print(
            f"reference verdict: {rd['long_h1_bars']} long H1 bars (by our reading of its diagram; "
            f"gap ×{rd['gap_ratio']:.1f}), top {rd['top_h1_lifetimes']}"
        )
    kept = [
        f"{label} {side[key][0]:,}"
        for label, side, key in (("reference", ref, "embed_shape"), ("ours", ours, "rate_matrix_shape"))
        if side.get(key)
    ]
    if kept:
        print("bins kept by the speed filter: " + ", ".join(kept))
    for name, side in (("reference", ref), ("ours", ours)):
        views = side.get("views") or {}
        if views.get("ok"):
            g = views.get("grid_scores", {})
            med = g.get("median")
            grid = f", {g['n_grid_cells']} grid cells by shuffle threshold" if "n_grid_cells" in g else ""
            print(
                f"{name:9s} views: decoded {views.get('decoded_shape')}, "
                f"rate maps {views.get('rate_map_shape')} bins, gridness median "
                f"{'—' if med is None else f'{med:.2f}'} ({g.get('n_above_0.3')}/{g.get('n_units')} > 0.3; "
                f"{g.get('n_shuffles')} shuffles{grid})"
            )
    if report.get("ratios"):
        q = report["ratios"]
        parts = [f"{k} {v:.1f}x" for k, v in q.items() if v is not None]
        print("reference/ours: " + ", ".join(parts))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--reference-python",
        default=DEFAULT_REFERENCE_PYTHON,
        help="Python of the environment where canns is installed (default: %(default)s)",
    )
    p.add_argument("--minutes", type=float, default=30.0, help="recording length (default: %(default)s)")
    p.add_argument("--units", type=int, default=100, help="grid cells (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: %(default)s)")
    p.add_argument("--skip-reference", action="store_true", help="run ours only")
    p.add_argument("--skip-ours", action="store_true", help="run the reference only")
    p.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    p.add_argument(
        "--data-dir",
        default=os.path.join(tempfile.gettempdir(), "canns_gui_bench"),
        help="where the generated recording is cached (default: %(default)s)",
    )
    p.add_argument("--regenerate", action="store_true", help="generate the recording again")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per side (default: %(default)s)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="analyses per child process; runs after the first are reported as warm (default: 1)",
    )
    p.add_argument(
        "--part",
        choices=("tda", "views", "all"),
        default="all",
        help="tda: load → verdict; views: decoding, CohoMap and grid scores (the TDA they need runs too, "
        "its rows are not shown); all: both (default: %(default)s)",
    )
    p.add_argument("--child", choices=["ours"], help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child == "ours":
        record = child_ours(args.data, args.repeat, args.part)
        sys.stdout.flush()
        print(MARK + json.dumps(record), flush=True)
        return 0

    data = ensure_recording(args.units, args.minutes, args.seed, Path(args.data_dir), args.regenerate)
    how = f"generated in {data['generate_s']:.1f} s" if data["generated"] else "cached"
    print(f"recording: {data['path']} ({how})")
    report: dict = {
        "data": data,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "settings": OURS_SETTINGS,
        "part": args.part,
        "ours": None,
        "reference": None,
    }

    if not args.skip_ours:
        report["ours"] = run_child(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "ours",
                "--data",
                data["path"],
                "--repeat",
                str(args.repeat),
                "--part",
                args.part,
            ],
            args.timeout,
            "ours",
        )
    if not args.skip_reference:
        why = reference_available(args.reference_python)
        if why:
            print(f"\nReference skipped: {why}.\nCreate its environment with:\n  {INSTALL_HINT}\n")
            report["reference_skipped"] = why
        else:
            report["reference"] = run_child(
                [
                    args.reference_python,
                    str(REFERENCE_RUNNER),
                    data["path"],
                    str(args.repeat),
                    "--part",
                    args.part,
                ],
                args.timeout,
                "reference",
            )

    ref, ours = report["reference"] or {}, report["ours"] or {}
    report["readings"] = {k: reading(v) for k, v in (("ours", ours), ("reference", ref)) if v.get("ok")}
    if ref.get("ok") and ours.get("ok"):
        rt, ot = ref["timings_s"], ours["timings_s"]
        report["ratios"] = {
            "time total": ratio(rt.get("total"), ot.get("total")),
            "time TDA": ratio(rt.get("tda"), ot.get("point_cloud", 0) + ot.get("persistence", 0)),
            "process wall": ratio(ref.get("process_wall_s"), ours.get("process_wall_s")),
            "peak RSS": ratio(ref.get("peak_rss_gib"), ours.get("peak_rss_gib")),
        }
        if (ref.get("views") or {}).get("ok") and (ours.get("views") or {}).get("ok"):
            report["ratios"].update(
                {
                    "time decoding + views": ratio(_sum(rt, VIEW_STAGES_REF), _sum(ot, VIEW_STAGES_OURS)),
                    "time total incl. views": ratio(rt.get("total_views"), ot.get("total_views")),
                    "same without grid-score shuffles": ratio(rt.get("total_views"), _like_for_like(ot)),
                    "peak RSS incl. views": ratio(
                        ref.get("peak_rss_gib_all_runs"), ours.get("peak_rss_gib_all_runs")
                    ),
                }
            )
        if ref.get("warm_runs") and ours.get("warm_runs"):
            report["ratios"]["time warm analysis"] = ratio(
                ref["warm_runs"][-1].get("total"), ours["warm_runs"][-1].get("total")
            )
    print_report(report)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"\nfigures written to {args.json}")
    failed = [
        s
        for s in (report["ours"], report["reference"])
        if s is not None
        and (not s.get("ok") or (args.part != "tda" and not (s.get("views") or {}).get("ok")))
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
