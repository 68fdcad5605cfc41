"""``canns-gui``: start the desktop application (optionally opening a file or the demo recording)."""

from __future__ import annotations

import argparse
import sys

from core import __version__


def build_window():
    """The main window (a QApplication must exist)."""
    from canns_gui.main_window import MainWindow

    return MainWindow()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="canns-gui", description="Attractor structure analysis desktop app")
    parser.add_argument("--version", action="version", version=f"canns-gui {__version__}")
    parser.add_argument("file", nargs="?", help="recording to open (.npz, .mat, .nwb)")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo recording")
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("canns-gui")
    app.setApplicationName("canns-gui")
    window = build_window()
    window.show()
    if args.file:
        window.open_recording(args.file)
    elif args.demo:
        window.open_recording(":demo:")
    return app.exec()
