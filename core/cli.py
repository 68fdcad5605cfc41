"""``canns-asa``: the analysis from the command line.

    canns-asa run INPUT [--preset grid|hd|auto] [--maxdim 1|2] [--shuffles N] [--seed S] [--out DIR]
                        [--backend auto|ripser|canns-lib|ripser++] [--device cpu|gpu]
                        [--set STAGE.FIELD=VALUE …]
    canns-asa demo [--out DIR]
    (both take --views all|none|VIEW,VIEW,… with the views of core.views.registry)
    canns-asa simulate MODEL [--duration S] [--units N] [--seed S] [--device auto|cpu|gpu|gpu:N]
                       [--trajectory FILE] --out REC.npz
    (MODEL: cann1d, cann2d, hd-ring, grid-torus; writes an ASA .npz that ``run`` analyses and, beside it,
    REC.json with the provenance: model, parameters, task, device)

Progress goes to stderr. Exit codes: 0 success, 2 bad input or parameters (one line on stderr), 1 internal
error (one line; ``--debug`` shows the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from core import __version__
from core.errors import AsaError
from core.pipeline import PRESETS, AnalysisConfig, AnalysisResult, run_analysis
from core.significance import p_value_text


def _escapes(keep_newlines: bool) -> dict[int, str]:
    table = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})
    # text direction overrides and line separators (they reorder or split what a terminal shows), and the
    # lone surrogates that undecodable bytes of a file name become (they cannot be written as UTF-8)
    for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029):
        table[c] = f"\\u{c:04x}"
    table.update({c: f"\\u{c:04x}" for c in range(0xD800, 0xE000)})
    if keep_newlines:
        del table[ord("\n")]
    return table


_ESCAPES, _ESCAPES_KEEP_LINES = _escapes(False), _escapes(True)


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: control characters (C0, DEL, C1, so ESC and every ANSI/OSC
    sequence), direction overrides and lone surrogates become visible escapes such as ``\\x1b``, as
    ``repr`` writes them; newlines too unless ``keep_newlines``. Everything the CLI prints that came from
    outside (file names, messages naming them) goes through it."""
    return str(text).translate(_ESCAPES_KEEP_LINES if keep_newlines else _ESCAPES)


class Parser(argparse.ArgumentParser):
    """argparse, with what it prints (usage, errors quoting the arguments) made :func:`printable`."""

    def _print_message(self, message: str, file=None) -> None:
        super()._print_message(printable(message, keep_newlines=True) if message else message, file)


class StderrProgress:
    """Prints '[ 42%] stage message' lines on stderr, at most a few per second (messages made printable)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last = ("", -1.0)
        self._start = time.perf_counter()

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if message == self._last[0] and now - self._last[1] < 0.5:
            return
        self._last = (message, now)
        line = f"[{fraction:4.0%}] {now - self._start:6.1f} s  {printable(message)}"
        print(line, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    from core.views.registry import VIEWS

    parser = Parser(prog="canns-asa", description="Attractor structure analysis of neural recordings")
    parser.add_argument("--version", action="version", version=f"canns-asa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--preset", choices=PRESETS, default="auto", help="parameter set (default: auto)")
        p.add_argument("--maxdim", type=int, choices=(1, 2), default=1, help="highest homology dimension")
        p.add_argument(
            "--shuffles",
            type=int,
            default=0,
            help="shuffle test with N shuffles (0: gap test; α = 0.05 needs ≥ 60)",
        )
        p.add_argument("--seed", type=int, default=0, help="seed of the shuffles")
        p.add_argument("--jobs", type=int, default=2, help="parallel processes for shuffles")
        p.add_argument(
            "--backend",
            choices=("auto", "ripser", "canns-lib", "ripser++"),
            default="auto",
            help="persistent homology engine (default: ripser.py)",
        )
        p.add_argument(
            "--device", choices=("cpu", "gpu"), default="cpu", help="gpu: ripser++ computes H2 when installed"
        )
        p.add_argument("--out", type=Path, default=None, help="output folder (default: ./asa-<input name>)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            dest="set_values",
            metavar="PATH=VALUE",
            help="set one analysis parameter on top of the preset and the options above, e.g. "
            "--set preprocess.dt_s=0.05 --set significance.alpha=0.01 (repeatable; PATH as in report.json's "
            "parameters; 'none' turns an optional value off; lists comma separated). A value set here is "
            "kept when the auto preset chooses the others per recording",
        )
        p.add_argument(
            "--units", default="", metavar="ID,ID,…", help="analyse only these units (ids as in the file)"
        )
        p.add_argument(
            "--module", type=int, default=None, help="analyse only the grid cells of this module (0: the "
            "smallest spacing), found by grid scores of the whole recording first",
        )  # fmt: skip
        p.add_argument(
            "--query", default="", metavar="QUERY", help="analyse only the units whose scores satisfy QUERY, "
            "e.g. 'is_grid == 1 and rate_hz > 0.5' (columns: rate_hz, spikes, spatial_info, gridness, "
            "is_grid, module, spacing_cm, hd_mvl)",
        )  # fmt: skip
        p.add_argument(
            "--views",
            default="all",
            help="views to export: all (those the data support), a comma list of "
            f"{','.join(VIEWS)}, or 'none' (the barcode is always written)",
        )

    run = sub.add_parser("run", help="analyse a recording (.npz, .mat, .nwb)")
    run.add_argument("input", type=Path)
    run.add_argument("--position-unit", choices=("auto", "cm", "m", "mm"), default="auto", help="x, y unit")
    run.add_argument("--hd-unit", choices=("auto", "rad", "deg"), default="auto", help="unit of hd")
    common(run)
    demo = sub.add_parser("demo", help="analyse a built-in synthetic grid module (100 units, 30 min)")
    demo.add_argument("--minutes", type=float, default=30.0, help="length of the synthetic recording")
    common(demo)
    from core.simulation.registry import MODELS

    sim = sub.add_parser("simulate", help="simulate an attractor network and save its spikes as a recording")
    sim.add_argument("model", choices=MODELS.names(), help="network to simulate")
    sim.add_argument("--duration", type=float, default=None, help="simulated seconds (default: 600)")
    units = ", ".join(f"{spec.default_units} for {name}" for name, spec in MODELS.items())
    sim.add_argument("--units", type=int, default=None, help=f"recorded units (default: {units})")
    sim.add_argument(
        "--seed", type=int, default=0, help="seed of the task, the recorded units and the spikes"
    )
    sim.add_argument(
        "--device", default="auto", help="auto, cpu, gpu or gpu:N (GPU failures fall back to CPU)"
    )
    sim.add_argument(
        "--trajectory",
        type=Path,
        default=None,
        help="drive with an external trajectory (.npz/.csv: t, x, y [, hd])",
    )
    sim.add_argument("--out", type=Path, required=True, help="recording to write (.npz)")
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def simulate(args: argparse.Namespace) -> int:
    from core.io import save_recording_npz
    from core.simulation.recording import simulate_recording
    from core.simulation.tasks import load_trajectory

    progress = StderrProgress(args.quiet)
    task = load_trajectory(args.trajectory) if args.trajectory is not None else None
    for w in task.warnings if task is not None else ():
        print(f"warning: {printable(args.trajectory.name)}: {printable(w)}", file=sys.stderr)
    recording, result, message = simulate_recording(
        args.model,
        duration_s=args.duration,
        n_units=args.units,
        seed=args.seed,
        device=args.device,
        progress=progress,
        task=task,
    )
    if message:
        print(f"warning: {printable(message)}", file=sys.stderr)
    out = args.out if args.out.suffix else args.out.with_suffix(".npz")
    save_recording_npz(recording, out)
    # the ASA .npz layout has no room for provenance: it goes beside it (model, parameters, task, device)
    sidecar = out.with_suffix(".json")
    sidecar.write_text(json.dumps(recording.metadata, indent=1, default=str))
    what = f"{recording.describe()} ({args.model} on {recording.metadata['device']}"
    print(f"wrote {printable(out)} and {printable(sidecar.name)}: {printable(what)}, "
          f"{result.steps_per_s:,.0f} steps/s)")  # fmt: skip
    return 0


def config_from_args(args: argparse.Namespace) -> AnalysisConfig:
    """The preset, the options (--maxdim, --shuffles, ...), then each ``--set PATH=VALUE``, pinned so that the
    auto preset keeps it; ConfigError (exit code 2) for an unknown path or a value out of its bounds."""
    from core.config import parse_assignments, with_values

    options = {
        "persistence.maxdim": args.maxdim,
        "persistence.backend": args.backend,
        "significance.n_shuffles": args.shuffles,
        "significance.seed": args.seed,
        "significance.n_jobs": args.jobs,
    }
    config = with_values(AnalysisConfig.from_preset(args.preset), options)
    values = parse_assignments(AnalysisConfig, getattr(args, "set_values", []))
    return replace(config, pinned=tuple(values.items())) if values else config


def unit_subset(args: argparse.Namespace, recording, config: AnalysisConfig, progress):
    """The recording of the units asked for by ``--units``, ``--module`` or ``--query`` (all when none);
    module and query read the units' scores (rate maps and grid scores of the whole recording)."""
    from core import subsets

    query = args.query.strip() or (f"module == {args.module}" if args.module is not None else "")
    if args.units.strip():
        ids = [u.strip() for u in args.units.split(",") if u.strip()]
        return subsets.subset(recording, subsets.by_ids(recording, ids), f"units {args.units.strip()}")
    if not query:
        return recording
    subsets.check_query(query)  # a typo fails now, not after the scores
    from core.pipeline import StagedAnalysis, resolve_preset
    from core.progress import Reporter
    from core.views.registry import ViewSources, compute_views

    progress(0.0, "scoring every unit for the subset (rate maps, grid scores)")
    rates = StagedAnalysis(recording).rates(resolve_preset(config, recording), Reporter(progress))
    scores = compute_views(ViewSources(rates), only=["frm", "gridscore"], report=Reporter(progress))
    chosen = subsets.select(subsets.unit_table(recording, scores.views), query)
    progress(0.0, f"subset {query!r}: {len(chosen)} of {recording.n_units} units")
    return subsets.subset(recording, chosen, query)


def execute(args: argparse.Namespace) -> int:
    if args.command == "simulate":
        return simulate(args)
    from core.export_report import export_views, parse_views, view_names
    from core.progress import Reporter
    from core.report import write_report, write_run_outputs

    if args.views.strip() != "none":
        view_names(args.views)  # a typo fails now, not after the analysis
    config = config_from_args(args)  # so does a parameter out of its bounds
    progress = StderrProgress(args.quiet)
    warnings: list[str] = []
    if args.command == "demo":
        from core.synthetic import grid_module

        progress(0.0, "generating the demo recording (synthetic grid module)")
        recording = grid_module(n_units=100, duration_s=args.minutes * 60.0)
        out = args.out or Path("asa-demo")
    else:
        from core.interruptible import call_isolated
        from core.io import load_recording

        progress(0.0, f"loading {args.input}")
        # in a process of its own under a memory cap: a damaged file cannot crash or exhaust this one
        read = partial(load_recording, position_unit=args.position_unit, hd_unit=args.hd_unit)
        loaded = call_isolated(read, (args.input,), lambda: None, f"reading {args.input.name}")
        recording, warnings = loaded.recording, loaded.warnings
        out = args.out or Path(f"asa-{args.input.stem}")
    recording = unit_subset(args, recording, config, progress)
    for w in warnings:
        print(f"warning: {printable(w)}", file=sys.stderr)
    progress(0.0, f"recording: {recording.describe()}")
    device = args.device
    reporter = Reporter(progress)
    result: AnalysisResult = run_analysis(
        recording, config, progress=reporter.sub(0.0, 0.8), gpu=device == "gpu"
    )
    views = parse_views(args.views, result)

    def write(folder: Path) -> list[Path]:  # into a temporary folder: the report appears whole or not at all
        paths, metrics = export_views(
            recording, result, folder, views, device, progress=reporter.sub(0.8, 1.0)
        )
        return paths + write_run_outputs(folder, recording, result, warnings, metrics, files=paths)

    paths = write_report(out, write)
    print_verdict(result, recording)
    print(f"wrote {len(paths)} files to {printable(out)}", file=sys.stderr)
    return 0


def print_verdict(result: AnalysisResult, recording=None) -> None:
    """The verdict in words with its p-values, the test, the p-values of the longest bars, on a ring with head
    direction recorded how well the decoded angle follows it (warned when it does not), and after a 'none'
    or a doubtful verdict the next steps as options of ``canns-asa run`` (fitted to ``recording``, when
    given)."""
    from core.behaviour import head_direction_warning
    from core.guidance import next_steps
    from core.presets import profile
    from core.significance import verdict_words

    sig = result.significance
    print(f"{result.verdict}: {verdict_words(sig)[1]}.")
    print(f"  test: {sig.test}")
    for dim in range(1, len(result.persistence.diagrams)):
        text = p_value_text(sig, dim)
        if text:
            print(f"  H{dim} longest bars: {text}")
    hd = (result.decoding.metrics.get("head_direction") if result.decoding is not None else None) or {}
    if hd:
        print(
            f"  decoded angle vs head direction: circular correlation {hd['circular_correlation']:.2f}, "
            f"median error {hd['median_error_deg']:.0f}°"
        )
    warning = head_direction_warning(result.decoding)
    if warning:
        print(f"  warning: {warning}")
    for step in next_steps(sig, result.config, profile(recording) if recording is not None else None):
        option = f" ({' '.join(step.cli_args())})" if step.actionable else ""
        print(f"  next: {step.label}{option}: {step.explanation}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return execute(args)
    except AsaError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback, unless asked
        if args.debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {printable(exc)} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
