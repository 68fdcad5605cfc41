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
