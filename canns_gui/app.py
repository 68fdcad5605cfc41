"""``canns-gui``: start the desktop application (optionally opening a file or the demo recording).

``canns-gui --headless ARGS…`` runs ``canns-asa ARGS…`` instead (same behaviour and exit codes), so the
installed app, which has no ``canns-asa`` beside it, can be scripted too.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import sys
import time

from core import __version__

HEADLESS = "--headless"


def build_window():
    """The main window (a QApplication must exist)."""
    from canns_gui.main_window import MainWindow

    return MainWindow()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canns-gui",
        description="Attractor structure analysis desktop app",
        epilog=f"{HEADLESS} ARGS...: run the analysis without a window, as canns-asa ARGS... "
        f"(e.g. canns-gui {HEADLESS} run FILE --out DIR; canns-gui {HEADLESS} --help)",
    )
    parser.add_argument("--version", action="version", version=f"canns-gui {__version__}")
    parser.add_argument("file", nargs="?", help="recording to open (.npz, .mat, .nwb)")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo recording")
    # for the smoke test and the startup benchmark: save the first window as a picture, print when, and quit
    parser.add_argument("--screenshot", metavar="PNG", default=None, help=argparse.SUPPRESS)
    return parser


def _screenshot_when_idle(app, window, path: str) -> None:
    """Print when the first window is up; once no task runs (``--demo`` loads on a worker), save a picture of
    the window to ``path`` and quit."""
    from PySide6.QtCore import QTimer

    print(f"first-window {time.time():.3f}", flush=True)
    timer = QTimer(window)

    def check() -> None:
        runner = getattr(window, "runner", None)
        if runner is not None and runner.busy:
            return
        timer.stop()
        window.grab().save(path)
        app.quit()

    timer.timeout.connect(check)
    timer.start(100)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a no-op unless frozen, where worker processes divert here
    from canns_gui import frozen

    if frozen.is_frozen():
        frozen.setup_environment()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == [HEADLESS]:
        from core.cli import main as cli_main

        if {"run", "demo", "simulate"} & set(argv[1:]) and not {"-h", "--help", "--version"} & set(argv[1:]):
            frozen.headless_first_launch_notice()
        return cli_main(argv[1:])
    args = build_parser().parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("canns-gui")
    app.setApplicationName("canns-gui")
    app.setDesktopFileName("canns-gui")  # matches canns-gui.desktop: the icon on Wayland docks
    app.setWindowIcon(frozen.app_icon())
    splash = frozen.first_launch_notice(app)
    window = build_window()
    window.show()
    gc.freeze()  # the objects made so far live as long as the app: full collections then take ms, not 0.1 s
    if splash is not None:
        splash.finish(window)
    if args.file:
        window.open_recording(args.file)
    elif args.demo:
        window.open_recording(":demo:")
    else:
        QTimer.singleShot(0, window.offer_autosave)  # nothing asked for: offer the last session back
    if args.screenshot:
        QTimer.singleShot(0, lambda: _screenshot_when_idle(app, window, args.screenshot))
    return app.exec()
