"""Child process of ``sim_vs_canns.py``: one reference model of the ``canns`` package (1.5.x), timed.

Runs under the benchmark environment's Python (the one that has ``canns`` installed), never under the
project's, and cannot import the project. It only *calls* canns' public model classes, the way canns' own
docs and model gallery (``canns.pipeline.gallery.runner``) run them: ``bm.set_dt(dt)``, build the model,
then one ``brainpy.math.for_loop`` (a compiled ``lax.scan``) over a per-step function that feeds the
step's input and returns ``model.r.value`` (every neuron, every step)::

    def run_step(x):
        model(model.get_stimulus_by_pos(x))   # CANN1D / CANN2D (gallery "firing_field" / "manifold")
        model(x)                              # GridCell2DVelocity (gallery "path_integration")
        return model.r.value
    rs = np.asarray(bm.for_loop(run_step, operands=(inputs,), progress_bar=False))

Models (canns defaults unless stated; time in ms for the CANNs, in s for the grid model as canns uses it):

* ``cann1d``: ``CANN1D(num=512, tau=10.0)`` with ``bm.set_dt(1.0)`` (dt/τ = 0.1 as ours); k, a, A, J0 at
  canns' defaults; input: a stimulus moving through the same knots as ours.
* ``cann2d``: ``CANN2D(length=100, tau=10.0)`` with ``bm.set_dt(1.0)``; dense 10,000 × 10,000 weights.
* ``grid``: ``GridCell2DVelocity(length=40)`` (Burak & Fiete; τ = 0.01 s) with ``bm.set_dt(5e-4)``
  (dt/τ = 0.05 as ours), healed with ``model.heal_network()`` (its defaults) before the runs; input: a
  constant velocity (0.1, 0.05) m/s.

``--record none`` makes the step return nothing (the run then waits for the model's final state), to
separate the cost of returning ``r`` every step from the model's own. ``--accl fast|fft`` (CANNs only)
runs canns' optional accelerated recurrent input instead of its default dense one (``"fft"`` with the
``endpoint=False`` grid canns' docs prescribe for it).

Timing: the first ``for_loop`` call in the process (tracing + XLA compilation included), then ``repeat``
more calls with the same inputs; each call includes ``np.asarray`` of the output. ``bm.for_loop`` traces
and compiles its scan again on every call, so the seconds of XLA compilation and lowering inside each call
are summed from JAX's own timing events (``jax.monitoring``) into ``compile_s``; the parent subtracts them
for the steady state.
Memory: ``rss_baseline_bytes`` is the resident set after the imports and a warm-up of the JAX runtime
(``warm_up_jax``, the same as on our side); the kernel's RSS high-water mark is then reset
(``/proc/self/clear_refs``, Linux ≥ 4.0) and
reset again after each stage (build + healing, first run, warm runs), so ``stage_peak_rss_bytes`` holds
the peak during each stage (what the process held then included) and ``peak_rss_bytes`` the peak from
model construction to the end; ``lifetime_peak_rss_bytes`` is the process's peak, imports included.

Prints exactly one line ``BENCH_JSON {...}`` on stdout (everything else goes before it) and exits 0 even
when the run fails (``"ok": false`` with the error).

Usage: python _sim_reference_runner.py MODEL STEPS [--repeat 3] [--accl normal|fast|fft] [--record r|none]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from _memory import (
    _COMPILE_S,
    current_rss_bytes,
    end_stage,
    lifetime_peak_bytes,
    reset_peak,
    warm_up_jax,
    watch_compilation,
)

if TYPE_CHECKING:
    import numpy as np

T_START = time.perf_counter()
MODELS = ("cann1d", "cann2d", "grid")
# The same knots (rad) as ours, all steps within (-π, π) so that no side wraps differently.
KNOTS_1D = (0.0, 1.5, -1.0, 0.5)
KNOTS_2D = ((0.0, 0.0), (1.5, 1.0), (-1.0, -1.5), (0.5, 0.5))
VELOCITY_M_S = (0.1, 0.05)


def knot_path(knots: Sequence, n_steps: int) -> np.ndarray:
    """(n_steps,) or (n_steps, 2) positions (rad) moving linearly through ``knots`` in equal segments."""
    import numpy as np

    k = np.asarray(knots, dtype=np.float64)
    s = np.linspace(0.0, len(k) - 1, n_steps)
    if k.ndim == 1:
        return np.interp(s, np.arange(len(k)), k)
    return np.stack([np.interp(s, np.arange(len(k)), k[:, d]) for d in range(k.shape[1])], axis=1)


def build(model: str, n_steps: int, accl: str, record: bool, info: dict) -> tuple[Any, Callable, Any]:
    """(model object, per-step function, operands) for ``model``; fills ``info`` with its description.

    ``record``: the step returns ``model.r.value`` (canns' documented pattern); otherwise nothing."""
    import brainpy.math as bm
    import numpy as np
    from canns.models.basic import CANN1D, CANN2D, GridCell2DVelocity

    if model in ("cann1d", "cann2d"):
        bm.set_dt(1.0)
        if model == "cann1d":
            net = CANN1D(num=512, tau=10.0)
            info.update(model_class="canns.models.basic.CANN1D", size="512 neurons", n_neurons=512)
            path = knot_path(KNOTS_1D, n_steps)
        else:
            net = CANN2D(length=100, tau=10.0)
            info.update(model_class="canns.models.basic.CANN2D", size="100 × 100", n_neurons=10000)
            path = knot_path(KNOTS_2D, n_steps)
        if accl == "fft":  # canns' documented setup: endpoint=False grid, rebuild, then switch
            n = net.x.shape[0]
            net.x = bm.linspace(-bm.pi, bm.pi, n, endpoint=False)
            net.conn_mat = net.make_conn()
            net.set_accl_mode("fft")
        elif accl != "normal":
            net.set_accl_mode(accl)
        info.update(
            dt="1.0 (model time units; τ = 10.0)",
            dt_ms=1.0,
            params={"tau": net.tau, "k": net.k, "a": net.a, "A": net.A, "J0": net.J0},
            accl_mode=net.accl_mode,
            weights_shape=list(np.shape(net.conn_mat)),
            weights_dtype=str(getattr(net.conn_mat, "dtype", "?")),
        )

        def run_step(x):
            net(net.get_stimulus_by_pos(x))
            return net.r.value if record else None

        return net, run_step, bm.asarray(path.astype(np.float32))

    if accl != "normal":
        raise ValueError("GridCell2DVelocity has no accl_mode; use --accl normal")
    bm.set_dt(5e-4)
    net = GridCell2DVelocity(length=40)
    info.update(
        model_class="canns.models.basic.GridCell2DVelocity",
        size="40 × 40",
        n_neurons=1600,
        dt="5e-4 s (τ = 0.01 s)",
        dt_ms=0.5,
        params={
            "tau_s": net.tau,
            "alpha": net.alpha,
            "A": net.A,
            "W_a": net.W_a,
            "W_l": net.W_l,
            "lambda_net": net.lambda_net,
            "e": net.e,
        },
        accl_mode="dense (no accl_mode on this model)",
        weights_shape=list(np.shape(net.conn_mat)),
        weights_dtype=str(getattr(net.conn_mat, "dtype", "?")),
    )
    velocity = np.tile(np.asarray(VELOCITY_M_S, dtype=np.float32), (n_steps, 1))

    def run_step(v):
        net(v)
        return net.r.value if record else None

    return net, run_step, bm.asarray(velocity)


def main(model: str, n_steps: int, repeat: int = 3, accl: str = "normal", record: str = "r") -> dict:
    """Build, (for the grid model) heal, then run ``n_steps`` once cold and ``repeat`` times warm.

    ``record``: "r" (the step returns ``model.r.value``, every neuron, every step) or "none"."""
    out: dict = {"side": "reference", "ok": False, "model": model, "steps": n_steps, "accl": accl}
    out["record"] = record
    try:
        began = time.perf_counter()
        import brainpy
        import brainpy.math as bm
        import canns
        import jax
        import numpy as np
        from canns.models.basic import CANN1D  # noqa: F401  (the import cost belongs here)

        bm.zeros(1).block_until_ready()  # JAX backend up: part of the baseline, as on our side
        warm_up_jax()
        out["import_s"] = time.perf_counter() - began
        out["versions"] = {
            "canns": getattr(canns, "__version__", "?"),
            "brainpy": getattr(brainpy, "__version__", "?"),
            "jax": jax.__version__,
            "numpy": np.__version__,
        }
        out["device"] = str(jax.devices()[0])
        watch_compilation()
        out["rss_baseline_bytes"] = current_rss_bytes()
        out["import_peak_rss_bytes"] = lifetime_peak_bytes()
        out["hwm_reset"] = reset_peak()

        began = time.perf_counter()
        net, run_step, operands = build(model, n_steps, accl, record == "r", out)
        out["build_s"] = time.perf_counter() - began

        out["setup_s"] = 0.0
        if model == "grid":  # canns' recommended initialisation before a run
            began = time.perf_counter()
            net.heal_network()
            out["setup_s"] = time.perf_counter() - began
            out["setup"] = "heal_network() with its defaults"
        end_stage(out, "build")

        runs, compile_s = [], []
        for i in range(1 + repeat):
            _COMPILE_S[0] = 0.0
            began = time.perf_counter()
            rs = bm.for_loop(run_step, operands=(operands,), progress_bar=False)
            rs = np.asarray(rs) if rs is not None else np.asarray(net.r.value)  # waits for the result
            runs.append(time.perf_counter() - began)
            compile_s.append(_COMPILE_S[0])
            if i == 0:
                end_stage(out, "first_run")
        end_stage(out, "warm_runs")
        out["first_run_s"] = runs[0]
        out["warm_runs_s"] = runs[1:]
        out["compile_s"] = compile_s  # per call: bm.for_loop traces and compiles its scan on every call
        out["output_shape"] = list(rs.shape) if record == "r" else []
        out["output_bytes"] = int(rs.nbytes) if record == "r" else 0
        out["output_finite"] = bool(np.isfinite(rs).all())
        out["ok"] = True
    except BaseException as exc:  # report, never crash without a JSON line
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    stages = out.get("stage_peak_rss_bytes", {})
    out["peak_rss_bytes"] = max([lifetime_peak_bytes(), *stages.values()])  # since the baseline
    out["lifetime_peak_rss_bytes"] = max(out["peak_rss_bytes"], out.get("import_peak_rss_bytes", 0))
    out["wall_s"] = time.perf_counter() - T_START
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="one canns reference model, timed (child of sim_vs_canns.py)")
    p.add_argument("model", choices=MODELS)
    p.add_argument("steps", type=int)
    p.add_argument("--repeat", type=int, default=3, help="warm runs after the first (default: 3)")
    p.add_argument("--accl", choices=("normal", "fast", "fft"), default="normal")
    p.add_argument(
        "--record", choices=("r", "none"), default="r", help="what the step returns (default: model.r.value)"
    )
    args = p.parse_args()
    report = main(args.model, args.steps, args.repeat, args.accl, args.record)
    sys.stdout.flush()
    print("BENCH_JSON " + json.dumps(report), flush=True)
