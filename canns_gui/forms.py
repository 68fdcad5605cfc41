"""Parameter forms generated from the core's frozen config dataclasses (one source for defaults, ranges,
units and help text). Fields read ``metadata`` keys: ``min``, ``max``, ``unit``, ``help``, ``choices``.

The form remembers which fields the user changed, so applying a preset never silently overwrites them.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)


def _base_type(annotation: Any) -> tuple[type, bool]:
    """(underlying type, optional?) of an annotation such as ``float | None``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0])[0], True
    if origin is tuple:
        return tuple, False
    return annotation, False


def _label(name: str, meta: Any) -> str:
    """The field's help text as its label ('bin width' → 'Bin width'), else its name without unit suffixes."""
    text = (
        meta.get("label")
        or meta.get("help")
        or " ".join(w for w in name.split("_") if w not in ("s", "cm", "hz", "deg", "rad"))
    )
    return text[:1].upper() + text[1:]


class _Field(QWidget):
    """One field: an editor, an optional 'use' checkbox for ``X | None`` fields, and change tracking."""

    changed = Signal()

    def __init__(self, name: str, kind: type, optional: bool, meta: dict, default: Any) -> None:
        super().__init__()
        self.name, self.kind, self.optional = name, kind, optional
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.enabled_box = QCheckBox("on") if optional else None
        choices = meta.get("choices")
        unit = meta.get("unit", "")
        if choices:
            self.editor = QComboBox()
            self.editor.addItems([str(c) for c in choices])
            self.editor.currentIndexChanged.connect(self._user_changed)
        elif kind is bool:
            self.editor = QCheckBox()
            self.editor.toggled.connect(self._user_changed)
        elif kind is int:
            self.editor = QSpinBox()
            self.editor.setRange(int(meta.get("min", -(10**9))), int(meta.get("max", 10**9)))
            self.editor.valueChanged.connect(self._user_changed)
        elif kind is float:
            self.editor = QDoubleSpinBox()
            self.editor.setDecimals(4)
            self.editor.setRange(float(meta.get("min", -1e9)), float(meta.get("max", 1e9)))
            self.editor.setSingleStep(_step(default))
            self.editor.valueChanged.connect(self._user_changed)
        else:
            self.editor = QLineEdit()
            self.editor.textEdited.connect(self._user_changed)
        if unit and isinstance(self.editor, QSpinBox | QDoubleSpinBox):
            self.editor.setSuffix(f" {unit}")
        layout.addWidget(self.editor, 1)
        if self.enabled_box is not None:
            self.enabled_box.toggled.connect(self.editor.setEnabled)
            self.enabled_box.toggled.connect(self._user_changed)
            layout.addWidget(self.enabled_box)
        self.setToolTip(f"{name}" + (f" ({unit})" if unit else ""))
        self.user_edited = False
        self._setting = False

    def _user_changed(self, *_: Any) -> None:
        if not self._setting:
            self.user_edited = True
            self.changed.emit()

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            if self.enabled_box is not None:
                self.enabled_box.setChecked(value is not None)
                self.editor.setEnabled(value is not None)
            if value is None:
                return
            if isinstance(self.editor, QComboBox):
                self.editor.setCurrentText(str(value))
            elif isinstance(self.editor, QCheckBox):
                self.editor.setChecked(bool(value))
            elif isinstance(self.editor, QSpinBox | QDoubleSpinBox):
                self.editor.setValue(value)
            else:
                self.editor.setText(", ".join(map(str, value)) if isinstance(value, tuple) else str(value))
        finally:
            self._setting = False

    def value(self) -> Any:
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            return None
        if isinstance(self.editor, QComboBox):
            text = self.editor.currentText()
            return self.kind(text) if self.kind in (int, float) else text
        if isinstance(self.editor, QCheckBox):
            return self.editor.isChecked()
        if isinstance(self.editor, QSpinBox | QDoubleSpinBox):
            return self.editor.value()
        text = self.editor.text()
        if self.kind is tuple:
            return tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
        return text


def _step(default: Any) -> float:
    if isinstance(default, int | float) and default:
        return 10 ** (int(f"{abs(default):e}".split("e")[1]) - 1)
    return 0.1


class ConfigForm(QWidget):
    """A form for one config dataclass; ``config()`` returns a new instance with the form's values."""

    changed = Signal()

    def __init__(self, config: Any, title: str = "") -> None:
        super().__init__()
        self.config_type = type(config)
        hints = typing.get_type_hints(self.config_type)
        layout = QFormLayout(self)
        layout.setRowWrapPolicy(QFormLayout.WrapLongRows)  # a long label gets its own line above its field
        if title:
            layout.addRow(QLabel(f"<b>{title}</b>"))
        self.fields: dict[str, _Field] = {}
        for f in dataclasses.fields(self.config_type):
            kind, optional = _base_type(hints[f.name])
            if kind not in (int, float, bool, str, tuple):
                continue  # nested configs get their own form
            widget = _Field(f.name, kind, optional, dict(f.metadata), getattr(config, f.name))
            widget.changed.connect(self.changed)
            label = QLabel(_label(f.name, f.metadata))
            help_text = f.metadata.get("help", "") if "label" in f.metadata else ""
            widget.setToolTip(f"{help_text}\n{widget.toolTip()}".strip())
            label.setToolTip(widget.toolTip())
            layout.addRow(label, widget)
            self.fields[f.name] = widget
        self.set_config(config, respect_user=False)

    def set_config(self, config: Any, respect_user: bool = True) -> list[str]:
        """Show ``config``'s values; with ``respect_user`` fields the user edited are kept. Returns those."""
        kept = []
        for name, widget in self.fields.items():
            if respect_user and widget.user_edited:
                if widget.value() != getattr(config, name):
                    kept.append(name)
                continue
            widget.set_value(getattr(config, name))
            if not respect_user:
                widget.user_edited = False
        return kept

    def config(self) -> Any:
        """A new config instance holding the form's values."""
        values = {name: widget.value() for name, widget in self.fields.items()}
        return dataclasses.replace(self.config_type(), **values)
