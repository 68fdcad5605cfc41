"""Parameter forms generated from the core's frozen config dataclasses (one source for defaults, ranges,
units and help text). Fields read ``metadata`` keys: ``min``, ``max``, ``unit``, ``help``, ``choices``,
``label``, through :mod:`core.config`, which also checks what :meth:`ConfigForm.config` returns: the form
accepts exactly the values that Python and the command line accept (spin boxes hold the declared range and
keep the value they are given, combo boxes offer the declared choices).

The form remembers which fields the user changed, so applying a preset never silently overwrites them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
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

from core import config as config_layer
from core.errors import ConfigError

INT_RANGE = (-(2**31), 2**31 - 1)  # what a QSpinBox holds
FLOAT_DECIMALS = 12  # a QDoubleSpinBox rounds to this many decimals; shown in the shortest form
PARTIAL_NUMBER = re.compile(r"[+-]?\d*\.?\d*(?:[eE][+-]?\d*)?")


class FormError(ConfigError, ValueError):
    """A form's values break a rule of its config (or a value is half typed)."""


def _short(value: float) -> str:
    """The shortest text that reads back as ``value`` ("0.05", "1e-06", "3")."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class _FloatBox(QDoubleSpinBox):
    """A QDoubleSpinBox that keeps the value it is given (to 12 decimals, not 2 or 4) and shows it in its
    shortest form, so that a bound such as 1e-06 is what the form holds and reads back."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(FLOAT_DECIMALS)

    def _number(self, text: str) -> str:
        body = text.strip()
        if self.prefix() and body.startswith(self.prefix()):
            body = body[len(self.prefix()) :]
        if self.suffix() and body.endswith(self.suffix().strip()):
            body = body[: len(body) - len(self.suffix().strip())]
        return body.strip()

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return _short(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(self._number(text))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        body = self._number(text)
        try:
            value = float(body)
        except ValueError:
            partial = PARTIAL_NUMBER.fullmatch(body) is not None
            return QValidator.Intermediate if partial else QValidator.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.Invalid, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return QValidator.Acceptable if inside else QValidator.Intermediate, text, pos


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

    def __init__(self, spec: config_layer.FieldSpec, default: Any) -> None:
        super().__init__()
        self.spec = spec
        name, kind, optional, meta = spec.name, spec.kind, spec.optional, dict(spec.meta)
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
            lo, hi = meta.get("min", -(10**9)), meta.get("max", 10**9)
            self.editor.setRange(max(int(lo), INT_RANGE[0]), min(int(hi), INT_RANGE[1]))
            self.editor.valueChanged.connect(self._user_changed)
        elif kind is float:
            self.editor = _FloatBox()
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
            elif isinstance(self.editor, QSpinBox):  # clamped here: a QSpinBox cannot even take a larger int
                self.editor.setValue(min(max(value, self.editor.minimum()), self.editor.maximum()))
            elif isinstance(self.editor, QDoubleSpinBox):
                self.editor.setValue(value)
            else:
                self.editor.setText(", ".join(map(str, value)) if isinstance(value, tuple) else str(value))
        finally:
            self._setting = False

    def value(self) -> Any:
        """The editor's value; FormError when its text is not one (a line edit being typed)."""
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            return None
        if isinstance(self.editor, QComboBox):
            text = self.editor.currentText()
            return self.kind(text) if self.kind in (int, float) else text
        if isinstance(self.editor, QCheckBox):
            return self.editor.isChecked()
        if isinstance(self.editor, QSpinBox | QDoubleSpinBox):
            return self.editor.value()
        spec = self.spec
        try:
            return config_layer.parse_text(self.editor.text(), spec.annotation, spec.meta, spec.name)
        except ConfigError as exc:
            raise FormError(str(exc)) from exc


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
        layout = QFormLayout(self)
        layout.setRowWrapPolicy(QFormLayout.WrapLongRows)  # a long label gets its own line above its field
        if title:
            layout.addRow(QLabel(f"<b>{title}</b>"))
        self.fields: dict[str, _Field] = {}
        for spec in config_layer.field_specs(self.config_type):
            if spec.kind not in (int, float, bool, str, tuple):
                continue  # nested configs get their own form
            widget = _Field(spec, getattr(config, spec.name))
            widget.changed.connect(self.changed)
            label = QLabel(_label(spec.name, spec.meta))
            help_text = spec.meta.get("help", "") if "label" in spec.meta else ""
            widget.setToolTip(f"{help_text}\n{widget.toolTip()}".strip())
            label.setToolTip(widget.toolTip())
            layout.addRow(label, widget)
            self.fields[spec.name] = widget
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
        """A new config instance holding the form's values (other fields at their defaults), checked by
        :mod:`core.config`; FormError (a ConfigError and a ValueError) when they break a rule."""
        values = {name: widget.value() for name, widget in self.fields.items()}
        try:
            return config_layer.with_values(self.config_type(), values)
        except ConfigError as exc:
            raise FormError(str(exc)) from exc
