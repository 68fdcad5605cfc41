"""Benchmark: our simulation models (``core.simulation``) against the ``canns`` package's (1.5.x).

Three models, each run for the same number of steps at the same network size and dt on both sides:

* ``cann1d``: ring of 512 neurons, dt = 1 ms (τ = 10 ms), a stimulus moving through four knots;
* ``cann2d``: 100 × 100 torus, dt = 1 ms (τ = 10 ms), a stimulus moving through four knot points;
* ``grid``: Burak–Fiete grid-cell sheet 40 × 40, dt = 0.5 ms (τ = 10 ms), constant velocity (0.1, 0.05) m/s.

Each (model, side) runs alone in its own child process, one after the other, so that its peak RSS is its
own: ours is this script with ``--child ours`` under the project's Python; the reference is
``benchmarks/_sim_reference_runner.py`` under the benchmark environment's Python (the only place where
``canns`` is installed). In each child: imports, JAX backend start and a warm-up of the JAX runtime
(``warm_up_jax``: one tiny compiled scan with a matmul, an FFT and random numbers) → baseline RSS, high-water
mark reset;
build the model (and form its pattern: the grid models); then the first run (tracing + compilation
included) and ``--repeat`` warm runs of the same task (steady state: the best of them).

Ours: ``Model().simulate(task)`` with its defaults (all neurons' rates recorded every 10 ms; the grid sheet
started from ``initial_state(0)`` and run with ``calibrated=False``); the reference: one
``brainpy.math.for_loop`` over its per-step update returning ``model.r.value`` (see the runner's doc).

Usage (from the repository root)::

    .venv/bin/python benchmarks/sim_vs_canns.py [--models cann1d,cann2d,grid] [--steps N] [--repeat 3]
        [--json OUT.json] [--reference-python /work/bench-venv/bin/python] [--reference-accl normal]
        [--reference-record r|none] [--skip-reference]

Create the reference environment once (outside the repository)::

    python3.11 -m venv /work/bench-venv && /work/bench-venv/bin/pip install "canns==1.5.*"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _memory import (
    _COMPILE_S,
    current_rss_bytes,
    end_stage,
    lifetime_peak_bytes,
    reset_peak,
    warm_up_jax,
    watch_compilation,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE_RUNNER = HERE / "_sim_reference_runner.py"
DEFAULT_REFERENCE_PYTHON = "/work/bench-venv/bin/python"
INSTALL_HINT = 'python3.11 -m venv /work/bench-venv && /work/bench-venv/bin/pip install "canns==1.5.*"'
MARK = "BENCH_JSON "
MIB = 1024**2

MODELS = ("cann1d", "cann2d", "grid")
# Default steps per model: the reference's dense CANN2D runs ~25–70 steps/s on 2 cores, hence its 500;
# ~2 minutes in all on this machine.
DEFAULT_STEPS = {"cann1d": 20_000, "cann2d": 500, "grid": 10_000}
DT_MS = {"cann1d": 1.0, "cann2d": 1.0, "grid": 0.5}
RECORD_MS = 10.0  # our default record interval; a run is a whole number of records
# Targets (issue): speed ours/reference, steady state; memory reference/ours (model RSS), CANN2D only.
SPEED_TARGET = {"cann1d": 2.0, "cann2d": 10.0, "grid": 2.0}
MEMORY_TARGET = {"cann2d": 50.0}
# Same inputs as the runner's (kept in step by hand; the runner cannot import this file's siblings).
KNOTS_1D = (0.0, 1.5, -1.0, 0.5)
KNOTS_2D = ((0.0, 0.0), (1.5, 1.0), (-1.0, -1.5), (0.5, 0.5))
VELOCITY_M_S = (0.1, 0.05)


def steps_per_record(model: str) -> int:
    return int(round(RECORD_MS / DT_MS[model]))


def whole_steps(model: str, steps: int) -> int:
    """``steps`` rounded down to whole records of ours (10 ms), at least one record."""
    per = steps_per_record(model)
    return max(per, steps // per * per)


# --------------------------------------------------------------------------------------------- memory


# --------------------------------------------------------------------------------------------- our child


def child_ours(model: str, n_steps: int, repeat: int) -> dict:
    """Our ``model`` for ``n_steps`` steps, cold then ``repeat`` times warm; the child's JSON record."""
    t_start = time.perf_counter()
    out: dict = {"side": "ours", "ok": False, "model": model, "steps": n_steps}
    try:
        began = time.perf_counter()
        sys.path.insert(0, str(ROOT))
        import jax
        import jax.numpy as jnp
        import numpy as np

        from core.simulation import CANN1D, CANN2D, GridNetwork, tasks

        jnp.zeros(1).block_until_ready()  # JAX backend up: part of the baseline, as on the reference side
        warm_up_jax()
        out["import_s"] = time.perf_counter() - began
        out["versions"] = {"jax": jax.__version__, "numpy": np.__version__}
        out["device"] = str(jax.devices()[0])
        watch_compilation()
        out["rss_baseline_bytes"] = current_rss_bytes()
        out["import_peak_rss_bytes"] = lifetime_peak_bytes()
        out["hwm_reset"] = reset_peak()

        duration_s = n_steps * DT_MS[model] / 1000.0
        began = time.perf_counter()
        state = None
        if model == "cann1d":
            net = CANN1D()
            task = tasks.tracking(list(KNOTS_1D), segment_s=duration_s / (len(KNOTS_1D) - 1))
            out.update(
                model_class="core.simulation.CANN1D", size=f"{net.config.n} neurons", n_neurons=net.config.n
            )
        elif model == "cann2d":
            net = CANN2D()
            task = tasks.tracking([list(k) for k in KNOTS_2D], segment_s=duration_s / (len(KNOTS_2D) - 1))
            n = net.config.n
            out.update(model_class="core.simulation.CANN2D", size=f"{n} × {n}", n_neurons=n * n)
        else:
            net = GridNetwork()
            task = tasks.constant_velocity(VELOCITY_M_S, duration_s)
            n = net.config.n
            out.update(model_class="core.simulation.GridNetwork", size=f"{n} × {n}", n_neurons=n * n)
        out["build_s"] = time.perf_counter() - began
        out["dt_ms"] = net.config.dt_ms
        out["params"] = {k: v for k, v in vars(net.config).items() if isinstance(v, int | float | str)}

        out["setup_s"] = 0.0
        if model == "grid":  # the pattern forms from noise (settle_ms) before a run: ours' healing
            began = time.perf_counter()
            state = net.initial_state(seed=0)
            out["setup_s"] = time.perf_counter() - began
            out["setup"] = f"initial_state(seed=0): {net.config.settle_ms:g} ms settle from noise"

        def run() -> Any:  # a SimulationResult
            if model == "grid":
                return net.simulate(task, state=state, calibrated=False)
            return net.simulate(task)

        end_stage(out, "build")

        runs, compiled_s, compile_s = [], [], []
        for i in range(1 + repeat):
            _COMPILE_S[0] = 0.0
            began = time.perf_counter()
            result = run()
            runs.append(time.perf_counter() - began)
            compile_s.append(_COMPILE_S[0])
            compiled_s.append(float(result.wall_s))
            if i == 0:
                end_stage(out, "first_run")
        end_stage(out, "warm_runs")
        if result.n_steps != n_steps:
            raise RuntimeError(f"ran {result.n_steps} steps, asked for {n_steps}")
        out["first_run_s"] = runs[0]
        out["warm_runs_s"] = runs[1:]
        out["compile_s"] = compile_s  # per call: XLA compilation + lowering inside simulate()
        out["compiled_call_s"] = compiled_s  # SimulationResult.wall_s: the jitted calls alone
        out["output_shape"] = list(result.rates.shape)
        arrays = (result.rates, result.bump_position, result.bump_width, result.bump_amplitude, result.t_s)
        out["output_bytes"] = int(sum(np.asarray(a).nbytes for a in arrays))
        out["output_finite"] = bool(np.isfinite(result.rates).all())
        out["ok"] = True
    except BaseException as exc:  # report, never crash without a JSON line
        import traceback

        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    stages = out.get("stage_peak_rss_bytes", {})
    out["peak_rss_bytes"] = max([lifetime_peak_bytes(), *stages.values()])  # since the baseline
    out["lifetime_peak_rss_bytes"] = max(out["peak_rss_bytes"], out.get("import_peak_rss_bytes", 0))
    out["wall_s"] = time.perf_counter() - t_start
    return out


# --------------------------------------------------------------------------------------------- parent


def run_child(cmd: list[str], timeout_s: float, label: str, extra_env: dict | None = None) -> dict:
    """Run one side; its JSON line, or a failure record (timeout, crash, missing line)."""
    print(f"[{label}] {' '.join(cmd)}", flush=True)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", **(extra_env or {}))
    began = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"side": label, "ok": False, "error": f"timed out after {timeout_s:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            record = json.loads(line[len(MARK) :])
            record["process_wall_s"] = time.perf_counter() - began
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


def figures(record: dict) -> dict:
    """Derived figures of one side: steps/s (steady = best warm run, first run), memory (bytes)."""
    if not record or not record.get("ok"):
        return {}
    steps = record["steps"]
    warm = record.get("warm_runs_s") or []
    compile_s = record.get("compile_s") or [0.0] * (1 + len(warm))
    # steady state: the best warm call without the compilation it did (the reference compiles every call)
    steady = min(w - c for w, c in zip(warm, compile_s[1:], strict=False)) if warm else None
    per_call = min(warm) if warm else None
    base, peak = record.get("rss_baseline_bytes"), record.get("peak_rss_bytes")
    model_mem = peak - base if (base is not None and peak is not None and record.get("hwm_reset")) else None
    stage_peaks = record.get("stage_peak_rss_bytes", {})
    above = (
        {k: v - base for k, v in stage_peaks.items()} if base is not None and record.get("hwm_reset") else {}
    )
    return {
        "stage_rss_above_baseline_bytes": above,
        "steady_steps_per_s": steps / steady if steady else None,
        "warm_call_steps_per_s": steps / per_call if per_call else None,
        "first_steps_per_s": steps / record["first_run_s"],
        "first_compile_s": compile_s[0],
        "warm_compile_s": max(compile_s[1:]) if warm else None,
        "model_rss_bytes": model_mem,
        "peak_rss_bytes": peak,
        "lifetime_peak_rss_bytes": record.get("lifetime_peak_rss_bytes"),
        "rss_baseline_bytes": base,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def fnum(v: float | None, width: int, fmt: str = ",.0f") -> str:
    return f"{'—':>{width}}" if v is None else f"{v:>{width}{fmt}}"


def fx(v: float | None, width: int = 8) -> str:
    if v is None:
        return f"{'—':>{width}}"
    return f"{v:>{width - 1}.{0 if v >= 100 else 1}f}×"


def verdict(value: float | None, target: float | None) -> str:
    if target is None:
        return ""
    if value is None:
        return f"≥{target:g}× ?"
    return f"≥{target:g}× {'ok' if value >= target else 'MISSED'}"


def mib(v: float | None) -> float | None:
    return None if v is None else v / MIB


def print_report(report: dict) -> None:
    rows = report["models"]
    print()
    print(
        f"Machine: {report['machine']['platform']}, {report['machine']['cpus']} CPUs; "
        f"warm runs per side: {report['repeat']} (steady = the best of them)"
    )
    for name, row in rows.items():
        for side in ("ours", "reference"):
            rec = row.get(side) or {}
            if rec.get("ok") and rec.get("output_finite") is False:
                print(f"\n!! {name} / {side}: its output holds NaN or inf (the run diverged)")
            if rec and not rec.get("ok"):
                print(f"\n!! {name} / {side} FAILED: {rec.get('error')}")
                for key in ("traceback", "output"):
                    if rec.get(key):
                        print(rec[key])

    print()
    print("Speed (steps/s; ratio = ours / reference).")
    print("  steady   = the best warm call minus the XLA compilation it did (canns' bm.for_loop compiles")
    print("             again on every call; ours compiles once per process);")
    print("  1st      = the first call in a fresh process, compilation included;")
    print("  ref call = a warm reference call as a user sees it, its compilation included;")
    print("  compile  = seconds of XLA compilation + lowering in the first / a warm call (jax.monitoring).")
    head = (
        f"{'model':7s} {'size':>9s} {'dt':>6s} {'steps':>6s} | {'ours':>8s} {'ref':>6s} {'ratio':>7s} "
        f"{'target':>12s} | {'ours 1st':>8s} {'ref 1st':>7s} {'ratio':>7s} | {'ref call':>8s} | "
        f"{'compile ours':>12s} {'ref':>11s}"
    )
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        o, r = row["figures"]["ours"], row["figures"]["reference"]
        sr, fr = row["speed_ratio"], row["first_run_speed_ratio"]
        comp = [
            f"{fnum(f.get('first_compile_s'), 5, '.2f')}/{fnum(f.get('warm_compile_s'), 5, '.2f')}"
            for f in (o, r)
        ]
        print(
            f"{name:7s} {row['size']:>9s} {row['dt_ms']:>4g}ms {row['steps']:>6d} | "
            f"{fnum(o.get('steady_steps_per_s'), 8)} {fnum(r.get('steady_steps_per_s'), 6)} {fx(sr, 7)} "
            f"{verdict(sr, SPEED_TARGET.get(name)):>12s} | "
            f"{fnum(o.get('first_steps_per_s'), 8)} {fnum(r.get('first_steps_per_s'), 7)} {fx(fr, 7)} | "
            f"{fnum(r.get('warm_call_steps_per_s'), 8)} | {comp[0]:>12s} {comp[1]:>11s}"
        )

    print()
    print("Memory (MiB). model = peak RSS from model construction to the end minus the RSS after imports and")
    print(
        "JAX start (what the model needs: weights, compilation, inputs, recorded output); raw = the process's"
    )
    print("peak RSS, imports included; baseline = RSS after imports and JAX warm-up; ratio = reference/ours")
    head = (
        f"{'model':7s} | {'ours':>7s} {'ref':>7s} {'ratio':>8s} {'target':>12s} | {'ours raw':>8s} "
        f"{'ref raw':>8s} {'ratio':>8s} | {'baseline ours/ref':>17s} | {'output ours/ref':>15s}"
    )
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        o, r = row["figures"]["ours"], row["figures"]["reference"]
        oo, rr = row.get("ours") or {}, row.get("reference") or {}
        base = f"{fnum(mib(o.get('rss_baseline_bytes')), 7)} /{fnum(mib(r.get('rss_baseline_bytes')), 7)}"
        outb = (
            f"{fnum(mib(oo.get('output_bytes')), 6, ',.1f')} /{fnum(mib(rr.get('output_bytes')), 6, ',.1f')}"
        )
        print(
            f"{name:7s} | {fnum(mib(o.get('model_rss_bytes')), 7)} {fnum(mib(r.get('model_rss_bytes')), 7)} "
            f"{fx(row['memory_ratio'])} {verdict(row['memory_ratio'], MEMORY_TARGET.get(name)):>12s} | "
            f"{fnum(mib(o.get('lifetime_peak_rss_bytes')), 8)} "
            f"{fnum(mib(r.get('lifetime_peak_rss_bytes')), 8)} "
            f"{fx(row['raw_memory_ratio'])} | {base:>17s} | {outb:>15s}"
        )

    summary = []
    for name, row in rows.items():
        parts = [f"speed {verdict(row['speed_ratio'], SPEED_TARGET.get(name))}"]
        if name in MEMORY_TARGET:
            parts.append(f"memory {verdict(row['memory_ratio'], MEMORY_TARGET[name])}")
        summary.append(f"{name} " + ", ".join(parts))
    print("Targets (steady-state speed ours/reference; model memory reference/ours): " + "; ".join(summary))
    print(
        "Ours above ran with its compilation cache filled (a later launch on the same machine). The first"
        " launch on a machine, with an empty cache:"
    )
    for name, row in rows.items():
        cold = row["figures"]["ours"].get("cold") or {}
        ref_mem = row["figures"]["reference"].get("model_rss_bytes")
        print(
            f"  {name:7s} model memory {fnum(mib(cold.get('model_rss_bytes')), 5)} MiB "
            f"(ratio {fx(ratio(ref_mem, cold.get('model_rss_bytes'))).strip()}), first call "
            f"{fnum(cold.get('first_steps_per_s'), 8)} steps/s"
        )

    print()
    print("Memory by stage (MiB above the baseline; the peak during: model construction + pattern formation,")
    print(
        "the first run (compilation), the warm runs; what an earlier stage left resident counts again later)"
    )
    head = (
        f"{'model':7s} | {'ours: build':>11s} {'first':>7s} {'warm':>7s} | "
        f"{'ref: build':>10s} {'first':>7s} {'warm':>7s}"
    )
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        cells = []
        for side in ("ours", "reference"):
            st = row["figures"][side].get("stage_rss_above_baseline_bytes", {})
            w = 11 if side == "ours" else 10
            cells.append(
                f"{fnum(mib(st.get('build')), w)} {fnum(mib(st.get('first_run')), 7)} "
                f"{fnum(mib(st.get('warm_runs')), 7)}"
            )
        print(f"{name:7s} | {cells[0]} | {cells[1]}")

    print()
    print("Set-up (s; not in the speeds above): import + JAX start / model construction / pattern formation")
    for name, row in rows.items():
        parts = []
        for side in ("ours", "reference"):
            rec = row.get(side) or {}
            if rec.get("ok"):
                parts.append(
                    f"{side} {rec['import_s']:.1f} / {rec['build_s']:.2f} / {rec['setup_s']:.2f}"
                    f" (process {rec.get('process_wall_s', 0):.1f})"
                )
        print(f"  {name:7s} " + ";  ".join(parts))

    print()
    print("What ran, and where the two sides differ:")
    for name, row in rows.items():
        oo, rr = row.get("ours") or {}, row.get("reference") or {}
        simulated_s = row["steps"] * row["dt_ms"] / 1000
        print(f"  {name}: {row['steps']} steps of {row['dt_ms']:g} ms = {simulated_s:g} s simulated")
        if oo.get("ok"):
            print(
                f"    ours: {oo['model_class']} {oo['size']}, dt {oo['dt_ms']:g} ms; records "
                f"{oo['output_shape']} (every 10 ms, every neuron)"
                + (f"; {oo['setup']}" if oo.get("setup") else "")
            )
        if rr.get("ok"):
            print(
                f"    reference: {rr['model_class']} {rr['size']}, dt {rr['dt']}, accl {rr['accl_mode']}, "
                f"weights {rr['weights_shape']} {rr['weights_dtype']}; "
                + (
                    f"returns {rr['output_shape']} (r every step)"
                    if rr.get("record", "r") == "r"
                    else "returns nothing (--reference-record none)"
                )
                + (f"; {rr['setup']}" if rr.get("setup") else "")
            )
            print(f"    reference parameters: {rr.get('params')}")
        for note in NOTES.get(name, ()):
            print(f"    note: {note}")
    if report.get("reference_accl", "normal") != "normal":
        print(
            f"  note: this run used canns' accl_mode {report['reference_accl']!r} for CANN1D/CANN2D, not its "
            "default 'normal' (the notes above describe the default)"
        )
    if report.get("reference_record", "r") != "r":
        print("  note: the reference's step returned nothing (--reference-record none), not canns' usual r")
    if report.get("reference_skipped"):
        print(f"\nReference skipped: {report['reference_skipped']}.")
        print(f"Create its environment with:\n  {INSTALL_HINT}")


NOTES = {
    "cann1d": (
        "same equations (divisive global inhibition); recurrent input: ours a real FFT circular convolution, "
        "canns a dense 512 × 512 matvec at its default accl_mode 'normal' (see --reference-accl)",
        "parameters differ (ours J0 = 1, k = 0.5 k_c, a = 0.5, stimulus amplitude U₀; canns' defaults "
        "J0 = 4, k = 8.1, a = 0.5, A = 10; canns' ring has endpoint=True); the cost of a step does not "
        "depend on them",
    ),
    "cann2d": (
        "same equations; recurrent input: ours a 2-D real FFT (L × L), canns a dense (L² × L²) matvec at "
        "its default accl_mode 'normal'; parameters differ as for cann1d",
    ),
    "grid": (
        "both Burak & Fiete (2009) sheets with dt/τ = 0.05 and the same velocity input, but the reference "
        "uses 6 preferred directions, λ = 15, W_a = 1.5, α = 0.2 and a dense 1600 × 1600 matvec; ours 4 "
        "directions (N, S, E, W), λ = 11, γ/β = 1.15, a = 1, α = 0.10315 and one FFT per step",
        "pattern formation before the runs (set-up, not timed in the speeds): ours settles 500 ms from noise "
        "(1000 steps); canns' heal_network() runs 10,000 steps at dt = 1e-4 s",
    ),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--models",
        default=",".join(MODELS),
        help="comma-separated subset of %(default)s",
    )
    p.add_argument(
        "--steps",
        type=int,
        help="steps per run for every model, rounded down to whole 10 ms records (default: "
        + ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items())
        + ")",
    )
    p.add_argument("--repeat", type=int, default=3, help="warm runs per side after the first (default: 3)")
    p.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    p.add_argument(
        "--reference-python",
        default=DEFAULT_REFERENCE_PYTHON,
        help="Python of the environment where canns is installed (default: %(default)s)",
    )
    p.add_argument(
        "--reference-accl",
        choices=("normal", "fast", "fft"),
        default="normal",
        help="canns' accl_mode for its CANN1D/CANN2D (default: %(default)s, canns' own default)",
    )
    p.add_argument(
        "--reference-record",
        choices=("r", "none"),
        default="r",
        help="what the reference's step returns: r (model.r.value every step, canns' documented pattern; "
        "the default) or none (the model's cost alone)",
    )
    p.add_argument("--skip-reference", action="store_true", help="run ours only")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per child (default: %(default)s)")
    p.add_argument("--child", choices=["ours"], help=argparse.SUPPRESS)
    p.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child == "ours":
        record = child_ours(args.model, args.steps, args.repeat)
        sys.stdout.flush()
        print(MARK + json.dumps(record), flush=True)
        return 0

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown or args.repeat < 1:
        p.error(f"unknown model(s) {unknown}; choose from {MODELS}" if unknown else "--repeat must be ≥ 1")
    steps = {m: whole_steps(m, args.steps if args.steps else DEFAULT_STEPS[m]) for m in models}
    print("steps per run: " + ", ".join(f"{m} {n}" for m, n in steps.items()) + f"; warm runs: {args.repeat}")

    why = None if args.skip_reference else reference_available(args.reference_python)
    report: dict = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "repeat": args.repeat,
        "reference_accl": args.reference_accl,
        "reference_record": args.reference_record,
        "models": {},
    }
    if why:
        report["reference_skipped"] = why
    for name in models:
        n = steps[name]
        common = ["--repeat", str(args.repeat)]
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "ours", "--model", name]
        cmd += ["--steps", str(n), *common]
        # ours keeps compiled programs in the user's cache folder (core.devices.enable_compilation_cache):
        # the first launch on a machine compiles ("cold"), later launches load ("warm", the figures below)
        with tempfile.TemporaryDirectory(prefix="canns-bench-cache-") as cache:
            env = {"JAX_COMPILATION_CACHE_DIR": cache}
            cold = run_child(cmd, args.timeout, f"ours/{name}, empty compilation cache", env)
            ours = run_child(cmd, args.timeout, f"ours/{name}, compilation cache filled", env)
        ours["cold"] = figures(cold)
        ref = None
        if not args.skip_reference and not why:
            accl = args.reference_accl if name != "grid" else "normal"
            ref = run_child(
                [args.reference_python, str(REFERENCE_RUNNER), name, str(n), "--accl", accl]
                + ["--record", args.reference_record]
                + common,
                args.timeout,
                f"reference/{name}",
            )
        fo, fr = figures(ours), figures(ref or {})
        fo["cold"] = ours.get("cold")
        report["models"][name] = {
            "steps": n,
            "dt_ms": DT_MS[name],
            "size": (ours.get("size") or (ref or {}).get("size") or "?").replace(" neurons", ""),
            "ours": ours,
            "reference": ref,
            "figures": {"ours": fo, "reference": fr},
            "speed_ratio": ratio(fo.get("steady_steps_per_s"), fr.get("steady_steps_per_s")),
            "first_run_speed_ratio": ratio(fo.get("first_steps_per_s"), fr.get("first_steps_per_s")),
            "memory_ratio": ratio(fr.get("model_rss_bytes"), fo.get("model_rss_bytes")),
            "raw_memory_ratio": ratio(fr.get("lifetime_peak_rss_bytes"), fo.get("lifetime_peak_rss_bytes")),
            "speed_target": SPEED_TARGET.get(name),
            "memory_target": MEMORY_TARGET.get(name),
        }
    print_report(report)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"\nfigures written to {args.json}")
    failed = [
        s
        for row in report["models"].values()
        for s in (row["ours"], row["reference"])
        if s and not s.get("ok")
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
