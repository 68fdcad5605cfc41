"""Screenshots of every page of the app, offscreen, on the demo recording (a 10-minute synthetic grid module).

    python docs/screenshots.py [--out docs/screenshots] [--minutes 10]

Walks Import, Preprocess, TDA, Decode, each Views tab (and the views' settings) and Simulate, running each
stage as a user would, and saves ``window.grab()`` of each as 01-import.png, 02-preprocess.png, … in --out.
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


def wait_idle(app, window, timeout_s: float = 600.0) -> None:
    """Let the event loop run until no task is running (and the last result was drawn)."""
    began = time.monotonic()
    while window.busy:
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() - began > timeout_s:
            raise TimeoutError(f"'{window.runner.current}' still running after {timeout_s:.0f} s")
    settle(app)


def settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "screenshots"))
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the demo recording (min)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="canns-shots-")
    os.environ["XDG_DATA_HOME"] = os.path.join(scratch, "data")  # autosave goes here, not the user's folder
    os.environ["XDG_CONFIG_HOME"] = os.path.join(scratch, "config")
    os.environ["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")

    from PySide6.QtWidgets import QApplication

    from canns_gui.main_window import MainWindow
    from canns_gui.pages.import_page import make_demo

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1280, 820)
    window.show()
    shots: list[Path] = []

    def shoot(name: str) -> None:
        settle(app)
        path = out / f"{len(shots) + 1:02d}-{name}.png"
        window.grab().save(str(path))
        shots.append(path)
        print(f"saved {path}")

    def go(row: int) -> None:
        window.steps.setCurrentRow(row)
        settle(app)

    if args.minutes == 10.0:
        window.open_recording(":demo:")
    else:
        window.run("load", make_demo(args.minutes), lambda loaded: window.session.set_loaded(loaded))
    wait_idle(app, window)
    go(0)
    shoot("import")
    for row, name in ((1, "preprocess"), (2, "tda"), (3, "decode")):
        go(row)
        window.pages[row].start()
        wait_idle(app, window)
        shoot(name)
    go(4)  # the Views page computes its views when shown
    settle(app)
    wait_idle(app, window)
    views = window.views_page
    grid = views.tab("GridScore")
    if grid.has_content:  # show a clear grid cell: the highest gridness
        import numpy as np

        scores = views.data.views["gridscore"]
        grid.browser.select(int(np.nanargmax(scores.gridness)))
    path = views.tab("PathCompare")
    for tab in views.view_tabs:
        views.tabs.setCurrentWidget(tab)
        settle(app)
        if tab is path and tab.has_content:
            tab.slider.setValue(tab.slider.maximum() // 3)
        shoot(f"views-{tab.title.lower()}")
    views.settings_button.setChecked(True)  # the view parameters beside the last tab
    shoot("views-settings")
    views.settings_button.setChecked(False)
    go(5)  # Simulate: a ring CANN tracking head direction, then the grid sheet path-integrating a walk
    sim = window.pages[5]
    for model, duration_s, tabs in (
        ("cann1d", 20.0, ("Live", "Bump vs stimulus", "Space–time")),
        ("grid-torus", 60.0, ("Live", "Bump vs stimulus")),
    ):
        sim.model_box.setCurrentIndex(sim.model_box.findData(model))
        sim.panel.task.form.fields["duration_s"].set_value(duration_s)
        sim.start()
        wait_idle(app, window)
        for title in tabs:
            sim.tabs.setCurrentIndex([sim.tabs.tabText(i) for i in range(sim.tabs.count())].index(title))
            shoot(f"simulate-{model}-{title.split()[0].lower().replace('–', '')}")
    window.close()
    print(f"{len(shots)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
