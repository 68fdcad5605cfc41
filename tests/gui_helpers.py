"""What the GUI tests share besides the ``window`` fixture (in conftest.py)."""

from PySide6.QtWidgets import QApplication


def wait_idle(qtbot, window, timeout_s: float = 300) -> None:
    """Let the event loop run until the window's task is done (and its result drawn)."""
    qtbot.waitUntil(lambda: not window.busy, timeout=int(timeout_s * 1000))
    QApplication.processEvents()
