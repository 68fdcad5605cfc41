"""Child process of ``asa_vs_canns.py``: the reference ASA pipeline of the ``canns`` package, timed.

Runs under the benchmark environment's Python (the one that has ``canns`` installed), never under the
project's. It only *calls* canns' public functions.

Part 1 (``--part tda``), load → persistence diagrams:

    canns.analyzer.data.asa.embed_spike_trains(data, SpikeEmbeddingConfig())   # defaults
    canns.analyzer.data.asa.tda_vis(embed, TDAConfig(maxdim=1, show=False,
                                                     do_shuffle=False, progress_bar=False))

with positions converted from the file's cm to the metres canns' speed filter expects, and every other
parameter at canns' defaults (10 ms bins, 50 ms smoothing, speed filter 2.5 cm/s, every 5th
bin, 15,000 most active bins, PCA 6, k=1000 → 1,200 points, 800 neighbours, cosine, Z/47, cocycles on).

Part 2 (``--part views`` or ``all``, the default), on the first (cold) run's own TDA output, each call with
its defaults, in the order and the way canns' own ASA GUI chains them (``canns.pipeline.asa_gui``: decode
"v2", EcohoMap, GridScore in "fr" mode on the preprocessed matrix and the speed-filtered positions):

    decode   canns.analyzer.data.asa.decode_circular_coordinates_multi(tda_result,
                                                                      {**data, "spike": embed})  # num_circ=2
    cohomap  canns.analyzer.data.asa.cohomap(decoding, {"x": xx, "y": yy, "t": tt})   # bins=101, σ=1, aligned
    figure   canns.analyzer.data.asa.plot_cohomap(cohomap_result, save_path=<tmp>.png, show=False)
    rate maps  canns.analyzer.data.asa.compute_frm(embed, xx, yy, i) for every unit i   # 50×50 bins
    grid scores  canns.analyzer.data.cell_classification.GridnessAnalyzer().compute_gridness_score(
                     compute_2d_autocorrelation(frm)) for every unit                   # no shuffles

(``embed, xx, yy, tt`` are what ``embed_spike_trains`` returned in part 1.)

To split ``tda_vis`` into stages it wraps (never replaces) the module-level helpers that ``tda_vis`` looks up
at call time with a timer; if those names are gone in another canns version the split is simply left out.

Memory: peak RSS of the process so far after every stage (``peak_rss_gib_after``); for every part-2 stage
also the peak *during* that stage alone (``stage_peak_rss_gib``: Linux's high-water mark is reset through
``/proc/self/clear_refs`` at the stage's start; it includes what the process already held then), and the
process-lifetime peak is kept across those resets.

Prints exactly one line ``BENCH_JSON {...}`` on stdout (everything else canns prints goes before it), and
exits 0 even when the pipeline fails (``"ok": false`` with the error).

Usage: python _reference_runner.py DATA.npz [REPEAT] [--part tda|views|all]

REPEAT > 1 runs embedding + TDA again in the same process and reports those (JIT-warm) runs under
``warm_runs``; the main figures are always the first, cold run (part 2 runs once, right after it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback

os.environ.setdefault("MPLBACKEND", "Agg")  # tda_vis calls plt.close(); never open a window

T_START = time.perf_counter()
_PEAK = [0.0]  # process-lifetime peak RSS (GiB), kept across high-water-mark resets


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far, in GiB (Linux reports ru_maxrss in KiB)."""
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
    """Record the lifetime peak, then reset the kernel's RSS high-water mark (Linux ≥ 4.0)."""
    peak_rss_gib()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main(path: str, repeat: int = 1, part: str = "all") -> dict:
    out: dict = {"side": "reference", "ok": False, "part": part, "timings_s": {}, "peak_rss_gib_after": {}}
    timings = out["timings_s"]
    rss = out["peak_rss_gib_after"]

    def mark(name: str, began: float) -> None:
        timings[name] = time.perf_counter() - began
        rss[name] = peak_rss_gib()

    try:
        began = time.perf_counter()
        import canns
        import numpy as np
        from canns.analyzer.data.asa import SpikeEmbeddingConfig, TDAConfig, embed_spike_trains, tda_vis

        mark("import", began)
        out["canns_version"] = getattr(canns, "__version__", "?")
        out["numpy_version"] = np.__version__

        # Optional stage split inside tda_vis: wrap its helpers with timers.
        split: dict[str, float] = {}
        try:
            from canns.analyzer.data.asa import tda as tda_mod

            def timed(name: str, fn):
                def wrapper(*args, **kwargs):
                    t = time.perf_counter()
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        split[name] = split.get(name, 0.0) + time.perf_counter() - t
                        rss.setdefault("tda." + name, peak_rss_gib())  # first (cold) run only

                return wrapper

            for attr, name in (
                ("_select_active_timepoints", "select_active"),
                ("_apply_pca_reduction", "pca"),
                ("_apply_denoising", "fuzzy_downsample"),
                ("_second_build", "distance_matrix"),
                ("ripser", "ripser"),
            ):
                if hasattr(tda_mod, attr):
                    setattr(tda_mod, attr, timed(name, getattr(tda_mod, attr)))
        except Exception as exc:  # the split is a nicety; the coarse timings still stand
            out["split_error"] = repr(exc)

        # Load the recording the way canns' ASA GUI does (np.load, allow_pickle, to a plain dict).
        began = time.perf_counter()
        with np.load(path, allow_pickle=True) as f:
            data = {k: f[k] for k in f.files}
        # canns' speed filter (embed_spike_trains → _load_pos) multiplies position steps by 100 to get cm,
        # i.e. it expects positions in metres; our ASA files hold cm. Convert, so that its 2.5 cm/s
        # threshold means 2.5 cm/s as on our side (fed cm, it would keep nearly every bin).
        for key in ("x", "y"):
            if key in data:
                data[key] = np.asarray(data[key], dtype=np.float64) / 100.0
        out["positions_given_in"] = "m (converted from the file's cm)"
        mark("load", began)

        emb_cfg = SpikeEmbeddingConfig()  # res=1e5, dt=1000 (10 ms), sigma=5000 (50 ms), speed > 2.5 cm/s
        tda_cfg = TDAConfig(maxdim=1, show=False, do_shuffle=False, progress_bar=False)
        out["embed_config"] = {k: getattr(emb_cfg, k) for k in vars(emb_cfg)}
        out["tda_config"] = {k: getattr(tda_cfg, k) for k in vars(tda_cfg) if k != "shuffle_shifts"}
        out["warm_runs"] = []
        for run in range(repeat):
            split.clear()
            began = time.perf_counter()
            embed, xx, yy, tt = embed_spike_trains(data, emb_cfg)
            t_embed = time.perf_counter() - began
            rss.setdefault("embed", peak_rss_gib())
            began = time.perf_counter()
            result = tda_vis(embed, tda_cfg)
            t_tda = time.perf_counter() - began
            if run == 0:  # the first run in a fresh process: what a user waits for
                timings["embed"], timings["tda"] = t_embed, t_tda
                rss["tda"] = peak_rss_gib()
                out["tda_split_s"] = dict(split)
                timings["total"] = timings["load"] + t_embed + t_tda
                out["cold_wall_s"] = time.perf_counter() - T_START
                out["peak_rss_gib"] = peak_rss_gib()  # peak of the cold run (load included)
                out["embed_shape"] = list(np.shape(embed))
                dgms = result["persistence"]["dgms"]  # copy now: decoding sets infinite deaths to 0 in place
                out["diagrams"] = {
                    f"h{d}": [
                        [float(b), None if not np.isfinite(e) else float(e)] for b, e in np.asarray(dgm)
                    ]
                    for d, dgm in enumerate(dgms)
                    if d >= 1
                }
                out["n_bars"] = {f"h{d}": int(len(dgm)) for d, dgm in enumerate(dgms)}
                out["n_points"] = int(len(result["indstemp"]))
                if part in ("views", "all"):
                    out["views"] = run_views(data, embed, xx, yy, tt, result, timings, rss)
                    if out["views"]["ok"]:
                        timings["total_views"] = timings["total"] + sum(timings[k] for k in VIEW_STAGES)
            else:  # later runs in the same process: JIT caches warm
                out["warm_runs"].append(
                    {"embed": t_embed, "tda": t_tda, "total": t_embed + t_tda, "tda_split_s": dict(split)}
                )
            if run < repeat - 1:
                del result, embed, xx, yy, tt
        out["ok"] = True
    except BaseException as exc:  # report, never crash without a JSON line
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    out["wall_s"] = time.perf_counter() - T_START
    out.setdefault("cold_wall_s", out["wall_s"])
    out["peak_rss_gib_all_runs"] = peak_rss_gib()
    out.setdefault("peak_rss_gib", out["peak_rss_gib_all_runs"])
    return out


# Part-2 stages, in order; "total_views" adds these to part 1's total (imports excluded, as in part 1).
VIEW_STAGES = ("decode", "cohomap", "cohomap_figure", "rate_maps", "grid_scores")


def run_views(data: dict, embed, xx, yy, tt, tda_result: dict, timings: dict, rss: dict) -> dict:
    """Decoding, CohoMap and grid scores with canns' public functions on the cold run's own TDA output.

    Never raises: part 1 stands when part 2 fails (``ok`` false and the error in the returned dict).
    """
    info: dict = {"stage_peak_rss_gib": {}, "rss_at_start_gib": {}, "hwm_reset": None, "ok": False}
    try:
        _run_views(info, data, embed, xx, yy, tt, tda_result, timings, rss)
        info["ok"] = True
    except BaseException as exc:
        info["error"] = f"{type(exc).__name__}: {exc}"
        info["traceback"] = traceback.format_exc()[-4000:]
    return info


def _run_views(info: dict, data: dict, embed, xx, yy, tt, tda_result: dict, timings: dict, rss: dict) -> None:
    import numpy as np

    stage_peak, at_start = info["stage_peak_rss_gib"], info["rss_at_start_gib"]

    def stage(name: str, fn):
        at_start[name] = current_rss_gib()
        info["hwm_reset"] = reset_peak()
        began = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - began
        if info["hwm_reset"]:
            stage_peak[name] = since_reset_gib()
        rss[name] = peak_rss_gib()
        return value

    began = time.perf_counter()
    import matplotlib.pyplot as plt
    from canns.analyzer.data.asa import cohomap, compute_frm, decode_circular_coordinates_multi, plot_cohomap
    from canns.analyzer.data.cell_classification import GridnessAnalyzer, compute_2d_autocorrelation

    timings["import_views"] = time.perf_counter() - began

    # Decoding "v2" as canns' ASA GUI runs it: the preprocessed (binned, smoothed, speed-filtered) matrix
    # stands in for the spikes; num_circ=2 (the default) circular coordinates.
    spike_data = dict(data)
    spike_data["spike"] = embed
    decoding = stage("decode", lambda: decode_circular_coordinates_multi(tda_result, spike_data))
    coords = np.asarray(decoding["coords"])
    info["decoded_shape"] = list(coords.shape)

    position = {"x": xx, "y": yy, "t": tt}  # aligned with embed's rows (speed-filtered)
    cmap = stage("cohomap", lambda: cohomap(decoding, position))
    info["cohomap"] = {
        "phase_maps_shape": list(np.shape(cmap["phase_maps"])),
        "aligned": bool(cmap.get("aligned")),
        "align_error": cmap.get("align_error"),
    }

    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "cohomap.png")

        def figure():
            fig = plot_cohomap(cmap, save_path=png, show=False)
            plt.close(fig)
            return os.path.getsize(png) if os.path.exists(png) else 0

        info["cohomap_png_bytes"] = stage("cohomap_figure", figure)

    n_units = int(embed.shape[1])
    frms = stage("rate_maps", lambda: [compute_frm(embed, xx, yy, i).frm for i in range(n_units)])
    info["rate_map_shape"] = list(np.shape(frms[0]))
    info["rate_map_empty_bins"] = int(np.isnan(frms[0]).sum())

    def grid_scores():
        analyzer = GridnessAnalyzer()
        return np.array(
            [float(analyzer.compute_gridness_score(compute_2d_autocorrelation(m)).score) for m in frms]
        )

    scores = stage("grid_scores", grid_scores)
    finite = scores[np.isfinite(scores)]
    info["grid_scores"] = {
        "n_units": n_units,
        "n_shuffles": 0,  # canns computes no shuffle threshold for grid scores
        "median": float(np.median(finite)) if finite.size else None,
        "n_finite": int(finite.size),
        "n_above_0.3": int((finite > 0.3).sum()),  # the GUI's default score_thr
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="canns reference ASA pipeline, timed (child of asa_vs_canns.py)")
    p.add_argument("data")
    p.add_argument("repeat", nargs="?", type=int, default=1)
    p.add_argument("--part", choices=("tda", "views", "all"), default="all")
    args = p.parse_args()
    report = main(args.data, args.repeat, args.part)
    sys.stdout.flush()
    print("BENCH_JSON " + json.dumps(report), flush=True)
