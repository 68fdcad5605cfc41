"""How long does the GUI thread stall while the app works? (a benchmark, not a test)

    python benchmarks/gui_stall.py [--minutes 10] [--skip PHASE,...] [--trace] [--profile]

Runs the app offscreen through every phase that once stalled it: load the demo recording (a synthetic grid
module, 100 units), Preprocess, TDA with 20 shuffles, Decode, the Views page (which computes every view,
grid-score shuffles included) and each view tab, PathCompare playing, File → Export all…, TDA again while
the user switches pages, loading a head-direction recording (19 cells, 35 min, with gaps, as a lab exports
it), a 20,000-point scatter drawn by the TDA page's point-cloud view and by ``views.common.draw_scatter``,
and a Simulate run with its replay. A heartbeat QTimer fires every 10 ms on the GUI thread: the gap between
two beats is how long the GUI could not respond (target: < 50 ms). Prints, per step and per phase, the
longest gap, how many gaps exceeded 50 ms, and the task running then; the worst overall last.

--trace samples the GUI thread's Python stack (and the other threads') during every gap over 30 ms and prints
where the GUI thread was: a slot of the app, pyqtgraph drawing, or only Qt's event loop (C++ painting or
layout, or waiting for the GIL that a worker thread holds: the worker's frame is shown then).
--profile prints the GUI thread's cProfile of each phase with a gap over 50 ms.
The machine's load (os.getloadavg) is printed at the start and the end: timings on a busy machine are longer.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERIOD_MS = 10
TARGET_MS = 50.0
TRACE_MS = 30.0  # the tracer samples stacks while the GUI thread has not beaten for this long
SCATTER_POINTS = 20_000
# frames of threads that wait (on a lock, a pipe, a timer): not what holds the GUI thread up
IDLE_FRAMES = (
    "wait",
    "select",
    "_send",
    "_recv",
    "recv",
    "poll",
    "sleep",
    "acquire",
    "accept",
    "get",
    "_handle_tasks",
    "_handle_workers",
)
PHASES = ("wizard", "views", "play", "export", "tda-switching", "hd-load", "scatter", "simulate")


class Heartbeat:
    """Records the gap between consecutive beats of a 10 ms timer, per step, and what was going on."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.window = window
        self.step = "start"
        self.last = time.perf_counter()
        self.worst: dict[str, tuple[float, str]] = {}  # step → (longest gap in ms, task running then)
        self.n_over: dict[str, int] = {}
        # (step, start, end, CPU time of the GUI thread, of the whole process) of every gap over TRACE_MS
        self.gaps: list[tuple[str, float, float, float, float]] = []
        self.cpu = (time.thread_time(), time.process_time())
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(PERIOD_MS)
        self.timer.timeout.connect(self.beat)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.cpu = (time.thread_time(), time.process_time())
        self.timer.start()

    def beat(self) -> None:
        now = time.perf_counter()
        cpu = (time.thread_time(), time.process_time())
        gui_cpu, process_cpu = cpu[0] - self.cpu[0], cpu[1] - self.cpu[1]
        self.cpu = cpu
        gap_ms = (now - self.last) * 1000.0
        began, self.last = self.last, now
        task = self.window.runner.current or "GUI thread (drawing, events)"
        if gap_ms > self.worst.get(self.step, (-1.0, ""))[0]:
            self.worst[self.step] = (gap_ms, task)
        if gap_ms > TARGET_MS:
            self.n_over[self.step] = self.n_over.get(self.step, 0) + 1
        if gap_ms > TRACE_MS:
            self.gaps.append((self.step, began, now, gui_cpu, process_cpu))


def _where(frame, depth: int = 40) -> list[str]:
    """The frames of a stack, innermost first, as "file:line function" (paths shortened)."""
    out = []
    while frame is not None and len(out) < depth:
        code = frame.f_code
        path = code.co_filename
        for marker in ("site-packages/", "/work/main/", str(Path(__file__).resolve().parents[1]) + "/"):
            if marker in path:
                path = path.split(marker, 1)[1]
        out.append(f"{path}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return out


def _culprit(stack: list[str]) -> str:
    """The innermost frame of a stack that belongs to the app or pyqtgraph (else the top one); the GUI
    thread in ``app.exec()`` with no Python frame above is in Qt's event loop."""
    for entry in stack:
        if entry.startswith(("canns_gui/", "core/", "pyqtgraph/")):
            return entry
    if stack and stack[0].endswith(" main") and "gui_stall.py" in stack[0]:
        return "Qt's event loop (C++: painting, layout, or waiting)"
    return stack[0] if stack else "?"


class GcPauses:
    """The longest garbage collection of each generation per step (any thread's collection holds the GIL,
    so it stalls the GUI thread too)."""

    def __init__(self, beat: Heartbeat) -> None:
        self.beat = beat
        self.began = 0.0
        self.longest: dict[str, dict[int, float]] = {}

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.began = time.perf_counter()
            return
        ms = (time.perf_counter() - self.began) * 1000.0
        worst = self.longest.setdefault(self.beat.step, {})
        worst[info["generation"]] = max(worst.get(info["generation"], 0.0), ms)

    def line(self, step: str) -> str:
        worst = self.longest.get(step, {})
        return ", ".join(f"gen {g} {ms:.0f} ms" for g, ms in sorted(worst.items()) if ms >= 5.0)


class StallTracer(threading.Thread):
    """Samples every thread's stack every 2 ms while the GUI thread has not beaten for TRACE_MS."""

    def __init__(self, beat: Heartbeat) -> None:
        super().__init__(daemon=True, name="stall tracer")
        self.beat = beat
        self.gui = threading.main_thread().ident
        self.samples: list[tuple[float, list[str], dict[str, list[str]]]] = []
        self.running = True

    def run(self) -> None:
        names = {}
        while self.running:
            time.sleep(0.002)
            now = time.perf_counter()
            if (now - self.beat.last) * 1000.0 < TRACE_MS:
                continue
            frames = sys._current_frames()
            if not names or len(names) != len(frames):
                names = {t.ident: t.name for t in threading.enumerate()}
            gui = _where(frames.get(self.gui))
            others = {
                names.get(ident, str(ident)): _where(f, 12)
                for ident, f in frames.items()
                if ident not in (self.gui, self.ident)
            }
            self.samples.append((now, gui, others))

    def report(self, gaps: list[tuple[str, float, float, float, float]]) -> dict[str, list[str]]:
        """Per step, lines saying where the GUI thread was during its gaps over TARGET_MS: its CPU time in
        the gap (close to the gap: it was working; far below: it waited, for the GIL when the process's
        other threads used the CPU meanwhile, else for a CPU core that other processes held), and the
        frames sampled."""
        out: dict[str, list[str]] = {}
        for step, began, ended, gui_cpu, process_cpu in gaps:
            gap_ms = (ended - began) * 1000.0
            if gap_ms <= TARGET_MS:
                continue
            line = f"gap {gap_ms:.0f} ms, GUI thread on a CPU {gui_cpu * 1e3:.0f} ms"
            others_ms = (process_cpu - gui_cpu) * 1e3
            if gui_cpu * 1e3 < 0.5 * gap_ms:
                line += f" (waiting: its process's other threads ran {others_ms:.0f} ms"
                line += (
                    ", so mostly the GIL)" if others_ms > 0.3 * gap_ms else ", so mostly no free CPU core)"
                )
            during = [s for s in self.samples if began <= s[0] <= ended]
            if during:
                spots = collections.Counter(_culprit(gui) for _, gui, _ in during)
                spot, n = spots.most_common(1)[0]
                line += f"; at {spot} ({n}/{len(during)} samples)"
                if spot.startswith(("canns_gui/", "core/", "pyqtgraph/")):
                    outer = [e for e in during[0][1] if e.startswith(("canns_gui/", "core/"))]
                    if outer:
                        line += f" via {outer[-1]}"
                busy = collections.Counter(
                    f"{name}: {_culprit(stack)}"
                    for _, _, others in during
                    for name, stack in others.items()
                    if stack and not any(w in stack[0] for w in IDLE_FRAMES)
                )
                if busy:
                    line += "; other threads at " + ", ".join(f"{w} ×{k}" for w, k in busy.most_common(2))
            out.setdefault(step, []).append(line)
        return out


def head_direction_file(folder: Path) -> Path:
    """A 19-cell head-direction recording of 35 min as labs export it (10 ms counts, tracking at 39 Hz,
    100 gaps) from core.validation (RatInABox), else a synthetic one (core.synthetic); saved as .npz."""
    from core.io import save_recording_npz

    try:
        from core import validation as val

        rec, _ = val.head_direction_ensemble(n_units=19, duration_s=2100.0, arena="tanni", seed=11)
        rec = val.cut_gaps(val.sample_and_hold(val.rebin_spikes(rec), 39.0), n_gaps=100, seed=3)
    except ImportError:
        from core.synthetic import head_direction_cells

        rec = head_direction_cells(n_units=19, duration_s=2100.0)
    return save_recording_npz(rec, folder / "hd19.npz")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the demo recording (min)")
    parser.add_argument(
        "--skip", default="", help=f"phases to leave out, comma separated: {', '.join(PHASES)}"
    )
    parser.add_argument(
        "--export", action="store_true", help="(kept for old scripts: Export all always runs)"
    )
    parser.add_argument("--trace", action="store_true", help="say where the GUI thread was in long gaps")
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread of slow phases")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    scratch = Path(tempfile.mkdtemp(prefix="canns-stall-"))
    os.environ["XDG_DATA_HOME"] = str(scratch / "data")  # autosave stays out of the user's folder
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")  # a real run: no results from an earlier one
    load_at_start = os.getloadavg()
    hd_path = head_direction_file(scratch) if "hd-load" not in skip else None

    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from canns_gui.main_window import MainWindow
    from canns_gui.pages.import_page import make_demo

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1280, 820)
    window.show()
    beat = Heartbeat(window)
    views = window.views_page
    tda_page = window.pages[2]
    sim_page = window.pages[-1]

    def goto(row: int) -> None:
        window.steps.setCurrentRow(row)

    def show_tab(tab) -> None:
        views.tabs.setCurrentWidget(tab)

    def play() -> None:
        tab = views.tab("PathCompare")
        show_tab(tab)
        tab.play_button.setChecked(True)

    def significance(**changes) -> None:
        config = window.session.config
        window.session.set_config(replace(config, significance=replace(config.significance, **changes)))

    def tda(**changes) -> None:
        significance(**changes)
        goto(2)
        tda_page.start()

    switching = QTimer()
    switching.setInterval(250)
    switching.timeout.connect(lambda: goto((window.steps.currentRow() + 1) % len(window.pages)))

    def tda_while_switching() -> None:
        tda(n_shuffles=20, seed=1)  # a new seed: computed again, not taken from the cache
        switching.start()

    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(SCATTER_POINTS, 2)).astype(np.float32)
    colour = np.arctan2(cloud[:, 1], cloud[:, 0]) % (2 * np.pi)

    def scatter_on_tda_page() -> None:
        from core.embedding import Embedding2D

        goto(2)
        emb = Embedding2D(cloud, "pca", np.arange(SCATTER_POINTS), np.array([0.5, 0.3]))
        tda_page._point_colours = lambda: (colour, "decoded phase θ1 (rad)", True)  # its own data aside
        QTimer.singleShot(50, lambda: tda_page._draw_embedding(emb))

    def scatter_with_common() -> None:
        from canns_gui.views.common import colormap, draw_scatter

        goto(2)
        item = tda_page.cloud_plot.getPlotItem()
        QTimer.singleShot(
            50,
            lambda: draw_scatter(
                item, cloud[:, 0], cloud[:, 1], colour, colormap("twilight"), (0.0, 2 * np.pi)
            ),
        )

    def simulate() -> None:
        sim_page.model_box.setCurrentIndex(sim_page.model_box.findData("cann1d"))
        sim_page.panel.task.form.fields["duration_s"].set_value(60.0)
        sim_page.start()

    def replay() -> None:
        bar = sim_page.tabs.live.replay_bar
        bar.speed.setCurrentIndex(2)
        bar.play_button.setChecked(True)

    demo = make_demo(args.minutes)
    # (phase, step name, action, seconds to wait at least after it; the next step also waits until no task
    # runs)
    steps: list[tuple[str, str, object, float]] = [
        ("wizard", "idle", lambda: None, 0.5),
        (
            "wizard",
            "load demo",
            lambda: window.run("load", demo, window.session.set_loaded),
            0.0,
        ),
        ("wizard", "preprocess", lambda: (goto(1), window.pages[1].start()), 0.0),
        ("wizard", "tda (20 shuffles)", lambda: tda(n_shuffles=20), 0.0),
        ("wizard", "decode", lambda: (goto(3), window.pages[3].start()), 0.0),
        ("views", "views: compute", lambda: goto(4), 0.5),
    ]
    for tab in views.view_tabs:
        steps.append(("views", f"views: show {tab.title}", lambda tab=tab: show_tab(tab), 0.3))
    steps += [
        ("play", "views: play PathCompare", play, 3.0),
        ("play", "views: stop", lambda: views.tab("PathCompare").stop(), 0.2),
        ("export", "export all", lambda: views.export_all(scratch / "report"), 0.0),
        ("tda-switching", "tda while switching pages", tda_while_switching, 0.0),
        ("tda-switching", "stop switching", switching.stop, 0.3),
        ("hd-load", "load head-direction (19 cells)", lambda: window.open_recording(str(hd_path)), 1.0),
        ("scatter", "scatter 20k: TDA page", scatter_on_tda_page, 1.0),
        ("scatter", "scatter 20k: draw_scatter", scatter_with_common, 1.0),
        ("simulate", "simulate: show the page", lambda: goto(len(window.pages) - 1), 0.3),
        ("simulate", "simulate cann1d 60 s", simulate, 0.5),
        ("simulate", "simulate: replay", replay, 2.0),
        ("simulate", "done", lambda: sim_page.tabs.live.replay_bar.stop(), 0.2),
    ]
    steps = [s for s in steps if s[0] not in skip or s[1] == "idle"]

    t_start = time.perf_counter()
    state = {"i": -1, "until": 0.0, "began": t_start}
    durations: dict[str, float] = {}
    profiles: dict[str, cProfile.Profile] = {}

    def advance() -> None:
        now = time.perf_counter()
        if window.busy or now < state["until"]:
            return
        if state["i"] >= 0:
            durations[steps[state["i"]][1]] = now - state["began"]
        if args.profile and state["i"] >= 0:
            profiles[steps[state["i"]][1]].disable()
        state["i"] += 1
        if state["i"] >= len(steps):
            poll.stop()
            app.quit()
            return
        phase, name, action, wait_s = steps[state["i"]]
        beat.step = name
        print(f"{time.perf_counter() - t_start:7.1f} s  {phase:14s} {name}", flush=True)
        state["began"] = now
        state["until"] = now + wait_s + 0.05
        if args.profile:
            profiles[name] = cProfile.Profile()
            profiles[name].enable()
        action()

    tracer = StallTracer(beat) if args.trace else None
    pauses = GcPauses(beat)
    if args.trace:
        import gc

        gc.callbacks.append(pauses)
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(advance)
    beat.start()
    if tracer is not None:
        tracer.start()
    poll.start()
    app.exec()
    beat.timer.stop()
    if tracer is not None:
        tracer.running = False
    window.close()
    load_at_end = os.getloadavg()

    where = tracer.report(beat.gaps) if tracer is not None else {}
    print(
        f"\nGUI thread gaps (heartbeat every {PERIOD_MS} ms; gap = time between two beats), demo "
        f"{args.minutes:g} min; load average {load_at_start[0]:.2f} at the start, {load_at_end[0]:.2f} at "
        f"the end, {os.cpu_count()} CPUs"
    )
    columns = f"{'took (s)':>8s} {'longest gap (ms)':>17s} {'gaps > 50 ms':>13s}  task then"
    print(f"{'phase':14s} {'step':32s} {columns}")
    per_phase: dict[str, tuple[float, str]] = {}
    for phase, name, _, _ in steps:
        if name not in beat.worst:
            continue
        gap, task = beat.worst[name]
        took = durations.get(name, float("nan"))
        print(f"{phase:14s} {name:32s} {took:8.1f} {gap:17.1f} {beat.n_over.get(name, 0):13d}  {task}")
        for line in where.get(name, [])[:6]:
            print(f"{'':16s}· {line}")
        if args.trace and pauses.line(name):
            print(f"{'':16s}· longest garbage collections: {pauses.line(name)}")
        if gap > per_phase.get(phase, (-1.0, ""))[0]:
            per_phase[phase] = (gap, name)
    print("\nlongest gap per phase:")
    for phase, (gap, name) in per_phase.items():
        verdict = "ok" if gap < TARGET_MS else "over"
        print(f"  {phase:14s} {gap:7.1f} ms  ({name}; {verdict})")
    step, (gap, task) = max(beat.worst.items(), key=lambda kv: kv[1][0])
    verdict = "meets" if gap < TARGET_MS else "misses"
    print(f"\nlongest GUI gap: {gap:.1f} ms during '{step}' ({task}); {verdict} the {TARGET_MS:g} ms target")
    if args.profile:
        for name, prof in profiles.items():
            if beat.worst.get(name, (0.0, ""))[0] <= TARGET_MS:
                continue
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(12)
            print(f"\n--- GUI thread profile of '{name}' (by own time) ---")
            print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
