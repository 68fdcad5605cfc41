"""Shared pytest setup. Qt must see QT_QPA_PLATFORM before it is first imported (no display on CI)."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_user_folders(tmp_path_factory, monkeypatch):
    """Settings, autosaves and the results cache of every test go to its own folders, never the user's."""
    root = tmp_path_factory.mktemp("user")
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(root / name.lower()))


@pytest.fixture
def window(qtbot):
    """The main window, shown offscreen; a task still running at the end is cancelled and waited for."""
    from PySide6.QtCore import QSettings

    from canns_gui.main_window import MainWindow

    QSettings().clear()  # Qt reads its settings path once per process: forget the earlier tests' recent files
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.busy:
        w.runner.cancel()
        w.runner.wait(60)
