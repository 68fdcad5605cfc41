"""File dialogs that remember where the user last was, one folder per purpose ("recording", "project",
"export"), kept in QSettings between runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget


def last_folder(purpose: str) -> str:
    """The folder last used for ``purpose`` (the home folder at first, or when it is gone)."""
    folder = QSettings().value(f"folders/{purpose}", "")
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def remember_folder(purpose: str, path: str) -> None:
    if path:
        p = Path(path)
        QSettings().setValue(f"folders/{purpose}", str(p if p.is_dir() else p.parent))


def open_file(parent: QWidget, purpose: str, title: str, filters: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, last_folder(purpose), filters)
    remember_folder(purpose, path)
    return path


def save_file(parent: QWidget, purpose: str, title: str, name: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(last_folder(purpose)) / name), filters)
    remember_folder(purpose, path)
    return path


def choose_folder(parent: QWidget, purpose: str, title: str) -> str:
    folder = QFileDialog.getExistingDirectory(parent, title, last_folder(purpose))
    remember_folder(purpose, folder)
    return folder
