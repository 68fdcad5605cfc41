"""Application settings: compute device, worker processes, result cache folder and size, theme; kept in
QSettings between runs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from core.cache import DEFAULT_MAX_BYTES, DiskCache, default_cache_folder

THEMES = ("light", "dark")
GB = 1024**3


def describe_size(n_bytes: int) -> str:
    """``n_bytes`` in kB, MB or GB (powers of 1024)."""
    for unit, scale in (("GB", GB), ("MB", 1024**2), ("kB", 1024)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def compute_devices() -> list[str]:
    """'cpu' always; JAX's GPUs when JAX is installed and sees one (never imports JAX otherwise)."""
    devices = ["cpu"]
    if importlib.util.find_spec("jax") is not None:
        try:
            import jax

            devices += [f"gpu:{d.id}" for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]
        except RuntimeError:  # no GPU backend: CPU only
            pass
    return devices


class Settings:
    """Typed access to the stored settings."""

    def __init__(self) -> None:
        self.store = QSettings()

    @property
    def device(self) -> str:
        return str(self.store.value("device", "cpu"))

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("device", value)

    @property
    def workers(self) -> int:
        return int(self.store.value("workers", min(2, os.cpu_count() or 1)))

    @workers.setter
    def workers(self, value: int) -> None:
        self.store.setValue("workers", int(value))

    @property
    def cache_folder(self) -> Path:
        """Where stage results are kept between runs; default ``<user cache dir>/canns-gui/results``."""
        value = str(self.store.value("cache_folder", "") or "")
        return Path(value).expanduser() if value.strip() else default_cache_folder()

    @cache_folder.setter
    def cache_folder(self, value: str | os.PathLike) -> None:
        self.store.setValue("cache_folder", str(value))

    @property
    def cache_max_bytes(self) -> int:
        """Size cap of the cache folder (bytes); the least recently used results go first."""
        try:
            return max(int(float(self.store.value("cache_max_gb", DEFAULT_MAX_BYTES / GB)) * GB), 0)
        except (TypeError, ValueError):
            return DEFAULT_MAX_BYTES

    @cache_max_bytes.setter
    def cache_max_bytes(self, value: int) -> None:
        self.store.setValue("cache_max_gb", float(value) / GB)

    @property
    def theme(self) -> str:
        return str(self.store.value("theme", "light"))

    @theme.setter
    def theme(self, value: str) -> None:
        self.store.setValue("theme", value)


def apply_theme(theme: str) -> None:
    """Light or dark Qt palette (Fusion style) and matching plot colours."""
    app = QApplication.instance()
    app.setStyle("Fusion")
    palette = QPalette()
    if theme == "dark":
        colours = {
            QPalette.Window: "#2b2b2b",
            QPalette.WindowText: "#e6e6e6",
            QPalette.Base: "#1e1e1e",
            QPalette.AlternateBase: "#2b2b2b",
            QPalette.Text: "#e6e6e6",
            QPalette.Button: "#3a3a3a",
            QPalette.ButtonText: "#e6e6e6",
            QPalette.Highlight: "#4c72b0",
            QPalette.HighlightedText: "#ffffff",
            QPalette.ToolTipBase: "#3a3a3a",
            QPalette.ToolTipText: "#e6e6e6",
        }
        for role, colour in colours.items():
            palette.setColor(role, QColor(colour))
        pg.setConfigOptions(background="k", foreground="#d0d0d0")
    else:
        palette = app.style().standardPalette()
        pg.setConfigOptions(background="w", foreground="#303030")
    app.setPalette(palette)


class SettingsDialog(QDialog):
    """Device, worker processes, cache folder (Browse…, Clear cache with its size) and theme."""

    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        layout = QFormLayout(self)
        self.device = QComboBox()
        self.device.addItems(compute_devices())
        self.device.setCurrentText(settings.device)
        self.workers = QSpinBox()
        self.workers.setRange(1, max(1, os.cpu_count() or 1))
        self.workers.setValue(settings.workers)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        self.cache_folder = QLineEdit(str(settings.cache_folder))
        self.cache_folder.setToolTip("Stage results are kept here, so reopening a project does not recompute")
        self.cache_folder.editingFinished.connect(self.update_cache_size)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_cache_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.cache_folder, 1)
        folder_row.addWidget(browse)
        self.cache_max_gb = QDoubleSpinBox()
        self.cache_max_gb.setRange(0.1, 1024.0)
        self.cache_max_gb.setDecimals(1)
        self.cache_max_gb.setSuffix(" GB")
        self.cache_max_gb.setValue(settings.cache_max_bytes / GB)
        self.cache_size = QLabel("")
        self.clear_button = QPushButton("Clear cache")
        self.clear_button.setToolTip("Delete the cached results in this folder (recomputed when needed)")
        self.clear_button.clicked.connect(self.clear_cache)
        size_row = QHBoxLayout()
        size_row.addWidget(self.cache_size, 1)
        size_row.addWidget(self.clear_button)
        layout.addRow("Compute device", self.device)
        layout.addRow("Worker processes (shuffles)", self.workers)
        layout.addRow("Cache folder", folder_row)
        layout.addRow("Cache size limit", self.cache_max_gb)
        layout.addRow("Cached results", size_row)
        layout.addRow("Theme (plots follow on the next start)", self.theme)
        note = QLabel("GPU: ripser++ computes H2 when installed; simulations use JAX on the chosen device.")
        note.setWordWrap(True)
        layout.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)
        self.update_cache_size()

    def folder(self) -> Path:
        """The cache folder typed or chosen (the default when left empty)."""
        text = self.cache_folder.text().strip()
        return Path(text).expanduser() if text else default_cache_folder()

    def choose_cache_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Cache folder", str(self.folder()))
        if folder:
            self.cache_folder.setText(folder)
            self.update_cache_size()

    def update_cache_size(self) -> None:
        """Show how much the cached results in the chosen folder hold."""
        entries = DiskCache(self.folder()).entries()
        size = sum(e[2] for e in entries)
        self.cache_size.setText(f"{describe_size(size)} in {len(entries)} result(s)")
        self.clear_button.setText(f"Clear cache ({describe_size(size)})")
        self.clear_button.setEnabled(bool(entries))

    def clear_cache(self) -> None:
        """Delete the cached results in the chosen folder (only the cache's own files)."""
        freed = DiskCache(self.folder()).clear()
        self.update_cache_size()
        self.cache_size.setText(f"{describe_size(freed)} freed; " + self.cache_size.text())

    def accept(self) -> None:
        self.settings.device = self.device.currentText()
        self.settings.workers = self.workers.value()
        self.settings.cache_folder = str(self.folder())
        self.settings.cache_max_bytes = int(self.cache_max_gb.value() * GB)
        self.settings.theme = self.theme.currentText()
        apply_theme(self.settings.theme)
        super().accept()
