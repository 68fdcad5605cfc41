"""Application settings: compute device, worker processes, theme; kept in QSettings between runs."""

from __future__ import annotations

import importlib.util
import os

import pyqtgraph as pg
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
)

THEMES = ("light", "dark")


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
    """Device, worker processes and theme."""

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
        layout.addRow("Compute device", self.device)
        layout.addRow("Worker processes (shuffles)", self.workers)
        layout.addRow("Theme (plots follow on the next start)", self.theme)
        note = QLabel("GPU: ripser++ computes H2 when installed; simulations use JAX on the chosen device.")
        note.setWordWrap(True)
        layout.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def accept(self) -> None:
        self.settings.device = self.device.currentText()
        self.settings.workers = self.workers.value()
        self.settings.theme = self.theme.currentText()
        apply_theme(self.settings.theme)
        super().accept()
