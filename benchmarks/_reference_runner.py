"""Child process of ``asa_vs_canns.py``: the reference ASA pipeline of the ``canns`` package, timed.

Runs under the benchmark environment's Python (the one that has ``canns`` installed), never under the
project's. It only *calls* canns' public ASA functions:

    canns.analyzer.data.asa.embed_spike_trains(data, SpikeEmbeddingConfig())   # defaults
    canns.analyzer.data.asa.tda_vis(embed, TDAConfig(maxdim=1, show=False,
                                                     do_shuffle=False, progress_bar=False))

with positions converted from the file's cm to the metres canns' speed filter expects, and every other
parameter at canns' defaults (10 ms bins, 50 ms smoothing, speed filter 2.5 cm/s, every 5th
bin, 15,000 most active bins, PCA 6, k=1000 → 1,200 points, 800 neighbours, cosine, Z/47, cocycles on).

To split ``tda_vis`` into stages it wraps (never replaces) the module-level helpers that ``tda_vis`` looks up
at call time with a timer; if those names are gone in another canns version the split is simply left out.

Prints exactly one line ``BENCH_JSON {...}`` on stdout (everything else canns prints goes before it), and
exits 0 even when the pipeline fails (``"ok": false`` with the error).

Usage: python _reference_runner.py DATA.npz [REPEAT]

REPEAT > 1 runs embedding + TDA again in the same process and reports those (JIT-warm) runs under
``warm_runs``; the main figures are always the first, cold run.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback

os.environ.setdefault("MPLBACKEND", "Agg")  # tda_vis calls plt.close(); never open a window

T_START = time.perf_counter()


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(path: str, repeat: int = 1) -> dict:
    out: dict = {"side": "reference", "ok": False, "timings_s": {}, "peak_rss_gib_after": {}}
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
            embed, *_ = embed_spike_trains(data, emb_cfg)
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
            else:  # later runs in the same process: JIT caches warm
                out["warm_runs"].append(
                    {"embed": t_embed, "tda": t_tda, "total": t_embed + t_tda, "tda_split_s": dict(split)}
                )
            if run < repeat - 1:
                del result, embed
        out["embed_shape"] = list(np.shape(embed))

        dgms = result["persistence"]["dgms"]
        out["diagrams"] = {
            f"h{d}": [[float(b), None if not np.isfinite(e) else float(e)] for b, e in np.asarray(dgm)]
            for d, dgm in enumerate(dgms)
            if d >= 1
        }
        out["n_bars"] = {f"h{d}": int(len(dgm)) for d, dgm in enumerate(dgms)}
        out["n_points"] = int(len(result["indstemp"]))
        out["ok"] = True
    except BaseException as exc:  # report, never crash without a JSON line
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    out["wall_s"] = time.perf_counter() - T_START
    out.setdefault("cold_wall_s", out["wall_s"])
    out["peak_rss_gib_all_runs"] = peak_rss_gib()
    out.setdefault("peak_rss_gib", out["peak_rss_gib_all_runs"])
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: _reference_runner.py DATA.npz [REPEAT]")
    report = main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 1)
    sys.stdout.flush()
    print("BENCH_JSON " + json.dumps(report), flush=True)
