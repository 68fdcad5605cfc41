"""Import: open a recording (dialog, drag and drop, recent files) or the demo, and see what was loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from canns_gui.dialogs import open_file
from canns_gui.pages.base import Page
from canns_gui.session import Loaded

FILE_FILTER = "Recordings (*.npz *.mat *.nwb);;All files (*)"
MAX_RECENT = 8


def load_file(path: str, reader: Callable | None = None):
    """Task: load and validate a file (worker thread). The file is read in a process of its own under a
    memory cap (:func:`core.interruptible.call_isolated`): a crash or a runaway allocation there ends the
    load with a message, and the window and everything loaded before stay as they were. ``reader``: a
    picklable stand-in for :func:`core.io.load_recording` (tests)."""

    def run(progress, cancel):
        from core.errors import Cancelled
        from core.interruptible import call_isolated
        from core.io import load_recording

        def check() -> None:
            if cancel():
                raise Cancelled("loading cancelled")

        name = Path(path).name
        progress(0.1, f"reading {name}")
        result = call_isolated(reader or load_recording, (path,), check, f"reading {name}")
        return Loaded(result.recording, result.warnings, name)

    return run


def make_demo(minutes: float = 10.0):
    """Task: the built-in synthetic grid module (worker thread)."""

    def run(progress, cancel):
        from core.synthetic import grid_module

        progress(0.1, "generating the demo recording (synthetic grid module)")
        return Loaded(
            grid_module(n_units=100, duration_s=minutes * 60.0), [], f"demo grid module ({minutes:g} min)"
        )

    return run


class ImportPage(Page):
    title = "Import"
    help_text = (
        "Open a recording: an ASA .npz (spike, t, x, y, hd), a MATLAB .mat or an NWB file, or drop it on "
        "this window. Spike times in seconds, positions in cm, head direction in radians. Problems found "
        "while loading are listed below; a file is never executed."
    )
    request_open = Signal(str)

    def __init__(self, session, runner, log) -> None:
        super().__init__(session, runner, log)
        self.setAcceptDrops(True)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open recording…")
        self.demo_button = QPushButton("Open demo recording")
        self.open_button.clicked.connect(self.choose_file)
        self.demo_button.clicked.connect(self.open_demo)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.body.addLayout(buttons)

        grid = QGridLayout()
        left = QVBoxLayout()
        self.summary = QLabel("No recording loaded.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        left.addWidget(self.summary)
        left.addWidget(QLabel("<b>Loader messages</b>"))
        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        left.addWidget(self.warnings, 1)
        left.addWidget(QLabel("<b>Recent files</b>"))
        self.recent = QListWidget()
        self.recent.itemActivated.connect(lambda item: self.open_path(item.text()))
        left.addWidget(self.recent, 1)
        grid.addLayout(left, 0, 0, 2, 1)

        self.rate_plot = pg.PlotWidget(title="Mean firing rates")
        self.rate_plot.setLabel("bottom", "mean rate", units="Hz")
        self.rate_plot.setLabel("left", "units")
        self.path_plot = pg.PlotWidget(title="Trajectory")
        self.path_plot.setLabel("bottom", "x", units="cm")
        self.path_plot.setLabel("left", "y", units="cm")
        self.path_plot.setAspectLocked(True)
        self.hd_plot = pg.PlotWidget(title="Head direction")
        self.hd_plot.setLabel("bottom", "time", units="s")
        self.hd_plot.setLabel("left", "hd", units="rad")
        grid.addWidget(self.rate_plot, 0, 1)
        grid.addWidget(self.path_plot, 0, 2)
        grid.addWidget(self.hd_plot, 1, 1, 1, 2)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 3)
        self.body.addLayout(grid, 1)
        self.refresh_recent()
        session.recording_changed.connect(self.show_recording)

    # opening -------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path = open_file(self, "recording", "Open recording", FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        self.request_open.emit(path)

    def open_demo(self) -> None:
        self.request_open.emit(":demo:")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    # recent files ----------------------------------------------------------------------------------------
    def remember(self, path: str) -> None:
        settings = QSettings()
        recent = [p for p in (settings.value("recent_files") or []) if p != path]
        settings.setValue("recent_files", [path, *recent][:MAX_RECENT])
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent.clear()
        self.recent.addItems([p for p in (QSettings().value("recent_files") or []) if Path(p).exists()])

    # display -----------------------------------------------------------------------------------------
    def show_recording(self) -> None:
        loaded = self.session.loaded
        if loaded is None:
            return
        rec = loaded.recording
        lines = [
            f"<b>{loaded.label or Path(rec.source).name}</b>",
            f"{rec.n_units} units, {rec.duration_s:.1f} s ({rec.duration_s / 60:.1f} min)",
            f"{rec.n_spikes:,} spikes" if rec.rates is None else "dense rate matrix",
            "position: yes (cm)" if rec.has_position else "position: none (speed filter off)",
            "head direction: yes (rad)" if rec.hd is not None else "head direction: none",
        ]
        if rec.sha256:
            lines.append(f"<small>sha256 {rec.sha256[:16]}…</small>")
        self.summary.setText("<br>".join(lines))
        self.warnings.clear()
        self.warnings.addItems(loaded.warnings or ["No problems found."])
        self._plot(rec)

    def _plot(self, rec) -> None:
        self.rate_plot.clear()
        if rec.rates is None and rec.duration_s > 0:
            means = np.array([len(s) for s in rec.spike_times]) / rec.duration_s
        else:
            means = np.asarray(rec.rates).mean(axis=0)
        counts, edges = np.histogram(means, bins=min(30, max(5, rec.n_units // 3)))
        self.rate_plot.addItem(
            pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush=(76, 114, 176, 200))
        )
        self.path_plot.clear()
        if rec.has_position:
            step = max(1, rec.t.size // 20000)
            self.path_plot.plot(rec.x[::step], rec.y[::step], pen=pg.mkPen((85, 168, 104), width=1))
        self.hd_plot.clear()
        self.hd_plot.setTitle("Head direction" if rec.hd is not None else "Head direction: not recorded")
        self.path_plot.setTitle("Trajectory" if rec.has_position else "Trajectory: no position recorded")
        if rec.hd is not None:
            step = max(1, rec.t.size // 20000)
            # a line broken where the angle wraps: 20,000 symbols held the GUI thread ~0.25 s
            hd = rec.hd[::step].astype(float).copy()
            hd[1:][np.abs(np.diff(hd)) > np.pi] = np.nan
            self.hd_plot.plot(rec.t[::step], hd, pen=pg.mkPen((221, 132, 82), width=1), connect="finite")
