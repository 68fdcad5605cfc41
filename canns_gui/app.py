"""``canns-gui``: the main window. For now a minimal shell over the headless core (the wizard comes later)."""

from __future__ import annotations

import argparse
import sys

from core import __version__

STEPS = ("Import", "Preprocess", "TDA", "Decode", "Views", "Simulate")


def build_window():
    """The main window: the wizard's step list beside a page that says what each step will do."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QMainWindow, QWidget

    window = QMainWindow()
    window.setWindowTitle(f"canns-gui {__version__}")
    central = QWidget()
    layout = QHBoxLayout(central)
    steps = QListWidget()
    steps.addItems(STEPS)
    steps.setFixedWidth(150)
    page = QLabel(
        "<h2>canns-gui</h2>"
        "<p>Attractor structure analysis of neural recordings.</p>"
        "<p>The analysis runs today from the command line:<br>"
        "<code>canns-asa run RECORDING.npz</code> or <code>canns-asa demo</code>.</p>"
        "<p>The wizard pages (Import → Preprocess → TDA → Decode → Views, Simulate) are being built.</p>"
    )
    page.setWordWrap(True)
    layout.addWidget(steps)
    layout.addWidget(page, 1)
    window.setCentralWidget(central)
    window.resize(900, 560)
    return window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="canns-gui", description="Attractor structure analysis desktop app")
    parser.add_argument("--version", action="version", version=f"canns-gui {__version__}")
    parser.add_argument("file", nargs="?", help="recording to open (not yet used)")
    args = parser.parse_args(argv)
    del args
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = build_window()
    window.show()
    return app.exec()
