"""How long does the GUI thread stall while the app works? (a benchmark, not a test)

    python benchmarks/gui_stall.py [--minutes 10] [--export]

Runs the whole wizard offscreen on the demo recording (a synthetic grid module, 100 units): load, Preprocess,
TDA, Decode, the Views page (which computes every view, grid-score shuffles included), then shows each view
tab, plays PathCompare for two seconds and (with --export) writes the report folder (File → Export all…).
A heartbeat QTimer fires every 10 ms on the GUI thread; the gap between two beats, minus the 10 ms period,
is how long the GUI could not respond. Prints the longest stall and the step during which it happened
(target < 50 ms), and the longest per step.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERIOD_MS = 10
TARGET_MS = 50.0


class Heartbeat:
    """Records the gap between consecutive beats of a 10 ms timer and what was going on."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.window = window
        self.step = "start"
        self.last = time.perf_counter()
        self.worst: dict[str, tuple[float, str]] = {}  # step → (longest stall in ms, task running then)
        self.n_over: dict[str, int] = {}
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(PERIOD_MS)
        self.timer.timeout.connect(self.beat)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def beat(self) -> None:
        now = time.perf_counter()
        stall_ms = (now - self.last) * 1000.0 - PERIOD_MS
        self.last = now
        task = self.window.runner.current or "GUI thread (drawing, events)"
        if stall_ms > self.worst.get(self.step, (-1.0, ""))[0]:
            self.worst[self.step] = (stall_ms, task)
        if stall_ms > TARGET_MS:
            self.n_over[self.step] = self.n_over.get(self.step, 0) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the demo recording (min)")
    parser.add_argument("--export", action="store_true", help="also run File → Export all…")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="canns-stall-"))
    os.environ["XDG_DATA_HOME"] = str(scratch / "data")  # autosave stays out of the user's folder
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "cache")  # a real run: no results from an earlier one

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

    def goto(row: int) -> None:
        window.steps.setCurrentRow(row)

    def show_tab(tab) -> None:
        views.tabs.setCurrentWidget(tab)

    def play() -> None:
        tab = views.tab("PathCompare")
        show_tab(tab)
        tab.play_button.setChecked(True)

    # (name, action, seconds to wait at least after it; the next step also waits until no task runs)
    steps: list[tuple[str, object, float]] = [
        ("idle", lambda: None, 0.5),
        ("load", lambda: window.run("load", make_demo(args.minutes), window.session.set_loaded), 0.0),
        ("preprocess", lambda: (goto(1), window.pages[1].start()), 0.0),
        ("tda", lambda: (goto(2), window.pages[2].start()), 0.0),
        ("decode", lambda: (goto(3), window.pages[3].start()), 0.0),
        ("views: compute", lambda: goto(4), 0.5),
    ]
    for tab in views.view_tabs:
        steps.append((f"views: show {tab.title}", lambda tab=tab: show_tab(tab), 0.3))
    steps.append(("views: play PathCompare", play, 2.0))
    if args.export:
        steps.append(("export all", lambda: views.export_all(scratch / "report"), 0.0))
    steps.append(("done", lambda: views.tab("PathCompare").stop(), 0.2))

    t_start = time.perf_counter()
    state = {"i": -1, "until": 0.0, "began": t_start}
    durations: dict[str, float] = {}

    def advance() -> None:
        now = time.perf_counter()
        if window.busy or now < state["until"]:
            return
        if state["i"] >= 0:
            durations[steps[state["i"]][0]] = now - state["began"]
        state["i"] += 1
        if state["i"] >= len(steps):
            poll.stop()
            app.quit()
            return
        name, action, wait_s = steps[state["i"]]
        beat.step = name
        print(f"{time.perf_counter() - t_start:7.1f} s  {name}", flush=True)
        state["began"] = now
        state["until"] = now + wait_s + 0.05
        action()

    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(advance)
    beat.start()
    poll.start()
    app.exec()
    beat.timer.stop()
    window.close()

    print(f"GUI stalls (heartbeat {PERIOD_MS} ms; stall = gap − {PERIOD_MS} ms), demo {args.minutes:g} min")
    print(f"{'step':28s} {'took (s)':>9s} {'longest stall (ms)':>19s} {'stalls > 50 ms':>15s}  task then")
    for name, _, _ in steps:
        if name in beat.worst:
            stall, task = beat.worst[name]
            took = durations.get(name, float("nan"))
            print(f"{name:28s} {took:9.1f} {stall:19.1f} {beat.n_over.get(name, 0):15d}  {task}")
    step, (stall, task) = max(beat.worst.items(), key=lambda kv: kv[1][0])
    verdict = "meets" if stall < TARGET_MS else "misses"
    print(
        f"\nlongest GUI stall: {stall:.1f} ms during '{step}' ({task}); {verdict} the {TARGET_MS:g} ms target"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
