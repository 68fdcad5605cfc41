"""Parameter forms generated from the core's frozen config dataclasses (one source for defaults, ranges,
units, help text and the papers the parameters come from). Fields read ``metadata`` keys ``min``, ``max``,
``unit``, ``help``, ``choices``, ``label`` and ``ref`` through :mod:`core.config`, which also checks every
value the form holds: the form accepts exactly the values that Python and the command line accept.

A form never rewrites what was typed. Numbers, lists of numbers and text are line edits that keep their text;
a value that breaks a rule of its field (out of range, not a number, a list element out of range) or of its
config (``check()``, e.g. a Z/p that is not prime) marks the field red and says the rule under it, and
:meth:`ConfigForm.config` refuses (:class:`FormError`) while any does: :attr:`ConfigForm.valid`,
:meth:`ConfigForm.problems` and the ``validity_changed`` signal tell the pages. Choices are combo boxes,
booleans check boxes, ``X | None`` fields have an "on" box.

The wheel changes no field that has not the focus (the page scrolls instead). Each form keeps an undo stack of
its edits (Ctrl+Z, Ctrl+Shift+Z while it has the focus); a field that differs from the value the preset (or a
project) set shows a reset button, and the form a "Reset" button for all of them. The form remembers which
fields the user changed, so applying a preset never silently overwrites them.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from core import config as config_layer
from core.errors import ConfigError

WRONG = "#d93025"  # the red of a value that breaks a rule (readable on the light and the dark theme)
MIN_CHARS = 6  # digits a number field shows at least
WRONG_STYLE = f"border: 2px solid {WRONG}; border-radius: 3px;"
LEADING_FIELD = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?\s+(.*)", re.S)


class FormError(ConfigError, ValueError):
    """A form's values break a rule of its config (or a value is half typed)."""


def _short(value: float) -> str:
    """The shortest text that reads back as ``value`` ("0.05", "1e-06", "3")."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _text_of(value: Any) -> str:
    """The text a line edit shows for ``value`` (tuples comma separated)."""
    if isinstance(value, tuple):
        return ", ".join(_text_of(v) for v in value)
    if isinstance(value, float):
        return _short(value)
    return str(value)


def _label(name: str, meta: Any) -> str:
    """The field's help text as its label ('bin width' → 'Bin width'), else its name without unit suffixes."""
    text = (
        meta.get("label")
        or meta.get("help")
        or " ".join(w for w in name.split("_") if w not in ("s", "cm", "hz", "deg", "rad"))
    )
    return text[:1].upper() + text[1:]


def tooltip(spec: config_layer.FieldSpec) -> str:
    """What a field means, with its unit, range and the paper it comes from: "Points kept for homology
    (whole number in [50, 5000]). From: Gardner et al. 2022. Field: n_points"."""
    meta = spec.meta
    help_text = meta.get("help") or _label(spec.name, meta)
    if meta.get("label") and meta.get("help") and meta["help"].lower() != meta["label"].lower():
        help_text = f"{meta['label']}: {meta['help']}"
    help_text = help_text[:1].upper() + help_text[1:]
    kinds = {int: "whole number", float: "number", bool: "on or off"}
    items = spec.items[0] if spec.kind is tuple and spec.items else None
    what = kinds.get(items if spec.kind is tuple else spec.kind, "")
    if spec.kind is tuple and what:
        what = f"comma-separated {what}s"
    rule = config_layer.allowed({k: v for k, v in meta.items() if k != "unit"})
    if rule and not rule.startswith("one of"):
        rule = f"{what} {rule}".strip()
    elif not rule:
        rule = what
    parts = [p for p in (meta.get("unit"), rule) if p]
    if spec.optional:
        parts.append("optional: untick “on” for none")
    text = help_text + (f" ({', '.join(parts)})" if parts else "") + "."
    if meta.get("ref"):
        text += f" From: {meta['ref']}."
    return f"{text} Field: {spec.name}"


def _step(default: Any) -> float:
    if isinstance(default, int | float) and default:
        return 10 ** (int(f"{abs(default):e}".split("e")[1]) - 1)
    return 0.1


def _is_undo(event: Any) -> bool:
    return event.matches(QKeySequence.StandardKey.Undo)


def _is_redo(event: Any) -> bool:
    ctrl = Qt.KeyboardModifier.ControlModifier
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return (
        event.matches(QKeySequence.StandardKey.Redo)
        or (event.key() == Qt.Key.Key_Z and mods == ctrl | Qt.KeyboardModifier.ShiftModifier)
        or (event.key() == Qt.Key.Key_Y and mods == ctrl)
    )


class _Guard(QObject):
    """The event filter of every widget of a form: the wheel passes to the page (which scrolls) unless the
    widget has the focus, and the undo/redo keys go to the form's stack (not a line edit's own undo)."""

    def __init__(self, form: ConfigForm) -> None:
        super().__init__(form)
        self.form = form

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.Wheel:
            if not obj.hasFocus():
                event.ignore()  # ignored and filtered: Qt hands it to the parents, the scroll area scrolls
                return True
            return False
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and (
            _is_undo(event) or _is_redo(event)
        ):
            event.accept()  # an accepted override: no window shortcut takes it, the key press comes here
            if kind == QEvent.Type.KeyPress:
                self.form.redo() if _is_redo(event) else self.form.undo()
            return True
        if kind == QEvent.Type.FocusOut and isinstance(obj, QLineEdit):
            field = obj.property("field_name")
            if field in self.form.fields:
                self.form.fields[field].end_typing()
        return False


class _ValueEdit(QLineEdit):
    """A line edit for a number, a list of numbers or a text that keeps what is typed (a spin box clamps or
    drops it); ``setValue``/``value`` as a spin box's, and Up/Down (or the wheel, with the focus) step a
    number within its range."""

    def __init__(self, field: _Field, step: float | None) -> None:
        super().__init__()
        self._field = field
        self._step = step

    def setValue(self, value: Any) -> None:  # noqa: N802 (a spin box's name)
        """Show ``value`` (as typed by the user: the form's ``changed`` follows)."""
        self.setText(_text_of(value))

    def value(self) -> Any:
        """The typed value; FormError when the text is not one."""
        return self._field.parsed()

    def step_by(self, steps: int) -> None:
        if self._step is None:
            return
        try:
            value = self._field.parsed()
        except FormError:
            return
        meta = self._field.spec.meta
        new = value + steps * self._step
        if meta.get("min") is not None:
            new = max(new, meta["min"])
        if meta.get("max") is not None:
            new = min(new, meta["max"])
        self.setText(str(int(new)) if self._field.kind is int else _short(round(new, 12)))

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        if self._step is not None and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.step_by(1 if event.key() == Qt.Key.Key_Up else -1)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: Any) -> None:  # noqa: N802 (unfocused wheels never get here: _Guard)
        if self._step is not None and self.hasFocus() and event.angleDelta().y():
            self.step_by(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
            return
        event.ignore()

    def contextMenuEvent(self, event: Any) -> None:  # noqa: N802
        """The standard menu, with the form's undo/redo (not the line edit's own) and "Reset to preset"."""
        menu = self.createStandardContextMenu()
        form = self._field.form
        for action in menu.actions():
            if action.objectName() in ("edit-undo", "edit-redo"):
                action.setVisible(False)
        first = menu.actions()[0] if menu.actions() else None
        reset = menu.addAction(f"Reset to preset ({self._field.preset_text()})")
        reset.setEnabled(self._field.differs())
        reset.triggered.connect(self._field.reset)
        undo = menu.addAction("Undo parameter edit")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        undo.setEnabled(form is not None and form.undo_stack.canUndo())
        undo.triggered.connect(lambda: form.undo())
        redo = menu.addAction("Redo parameter edit")
        redo.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        redo.setEnabled(form is not None and form.undo_stack.canRedo())
        redo.triggered.connect(lambda: form.redo())
        if first is not None:
            for action in (reset, undo, redo):
                menu.removeAction(action)
            menu.insertActions(first, [reset, undo, redo])
            menu.insertSeparator(first)
        menu.exec(event.globalPos())
        menu.deleteLater()


class _Snapshot(NamedTuple):
    """What undo restores of one field: the editor's state, whether the user edited it, its preset state."""

    state: Any
    edited: bool
    preset: Any


class _Field(QWidget):
    """One field: an editor, its unit, an optional 'use' checkbox for ``X | None`` fields, a reset button
    (shown while the field differs from its preset value), the rule it breaks (red, under it) and change
    tracking. ``changed``: the user changed it; ``touched``: its state changed (the user or the program)."""

    changed = Signal()
    touched = Signal()

    def __init__(self, spec: config_layer.FieldSpec, default: Any) -> None:
        super().__init__()
        self._setting = True  # nothing the editors do while they are built is an edit
        self.spec = spec
        self.form: ConfigForm | None = None
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
        else:
            step = 1 if kind is int else _step(default) if kind is float else None
            self.editor = _ValueEdit(self, step)
            self.editor.setProperty("field_name", name)
            digits = self.editor.fontMetrics().horizontalAdvance("0" * MIN_CHARS)
            self.editor.setMinimumWidth(digits + 12)  # a number is seen whole (a long label wraps instead)
            self.editor.textChanged.connect(self._user_changed)
        self.editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel never gives the focus
        layout.addWidget(self.editor, 1)
        self.unit_label = QLabel(unit) if unit else None
        if self.unit_label is not None:
            layout.addWidget(self.unit_label)
        if self.enabled_box is not None:
            self.enabled_box.toggled.connect(self.editor.setEnabled)
            self.enabled_box.toggled.connect(self._user_changed)
            layout.addWidget(self.enabled_box)
        self.reset_button = QToolButton()
        self.reset_button.setText("↺")
        self.reset_button.setAutoRaise(True)
        self.reset_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.reset_button.clicked.connect(self.reset)
        keep = self.reset_button.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the row does not jump when it appears
        self.reset_button.setSizePolicy(keep)
        self.reset_button.hide()
        layout.addWidget(self.reset_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {WRONG};")
        self.message.hide()  # the form puts it on a row of its own under the field, the form's full width
        self.setToolTip(tooltip(spec))
        self.editor.setToolTip(self.toolTip())
        self.user_edited = False
        self.problem = ""  # the full message of the rule the value breaks ("" when it holds)
        self._setting = False
        self._typing = 0  # edits within one typing session (the focus stays) merge into one undo step
        self._preset_state: Any = None
        self._last = self.snapshot()

    # state -------------------------------------------------------------------------------------------------
    def state(self) -> Any:
        """The editor's raw state (its text, choice or tick, and the 'on' box), what undo restores."""
        if isinstance(self.editor, QComboBox):
            raw: Any = self.editor.currentText()
        elif isinstance(self.editor, QCheckBox):
            raw = self.editor.isChecked()
        else:
            raw = self.editor.text()
        return raw, self.enabled_box.isChecked() if self.enabled_box is not None else None

    def _set_state(self, state: Any) -> None:
        raw, on = state
        if isinstance(self.editor, QComboBox):
            self.editor.setCurrentText(raw)
        elif isinstance(self.editor, QCheckBox):
            self.editor.setChecked(raw)
        else:
            self.editor.setText(raw)
        if self.enabled_box is not None:
            self.enabled_box.setChecked(on)
            self.editor.setEnabled(on)

    def snapshot(self) -> _Snapshot:
        return _Snapshot(self.state(), self.user_edited, self._preset_state)

    def restore(self, snap: _Snapshot) -> None:
        """Put back a :meth:`snapshot` (undo, redo, reset); ``touched`` follows, ``changed`` does not."""
        self._setting = True
        try:
            self._set_state(snap.state)
        finally:
            self._setting = False
        self.user_edited, self._preset_state = snap.edited, snap.preset
        self._last = self.snapshot()
        self.end_typing()
        self.touched.emit()

    def end_typing(self) -> None:
        """The next edit starts a new undo step."""
        self._typing += 1

    def _user_changed(self, *_: Any) -> None:
        if self._setting:
            return
        before = self._last
        self.user_edited = True
        self._last = self.snapshot()
        if self.form is not None and before.state != self._last.state:
            merge = (self.name, self._typing) if isinstance(self.editor, QLineEdit) else None
            self.form._record(f"edit {self.name}", {self.name: (before, self._last)}, merge)
        if not isinstance(self.editor, QLineEdit):
            self.end_typing()
        self.touched.emit()
        self.changed.emit()

    def state_for(self, value: Any) -> Any:
        """The state that shows ``value`` (None: the 'on' box unticked, the editor as it is; a choice the
        combo box has not leaves it as it is)."""
        raw, _on = self.state()
        if value is not None:
            if isinstance(self.editor, QComboBox):
                raw = str(value) if self.editor.findText(str(value)) >= 0 else raw
            elif isinstance(self.editor, QCheckBox):
                raw = bool(value)
            else:
                raw = _text_of(value)
        return raw, (value is not None) if self.enabled_box is not None else None

    def set_value(self, value: Any) -> None:
        """Show ``value`` (not a user edit: ``changed`` does not follow); a value outside the field's rules is
        shown as it is, and marked."""
        self._setting = True
        try:
            self._set_state(self.state_for(value))
        finally:
            self._setting = False
        self._last = self.snapshot()
        self.end_typing()
        self.touched.emit()

    def copy_from(self, other: _Field) -> None:
        """Show what ``other`` (a field of the same name in another form) shows, as typed, a wrong value
        included (not a user edit, as :meth:`set_value`)."""
        if type(other.editor) is not type(self.editor) or (other.enabled_box is None) != (
            self.enabled_box is None
        ):
            with contextlib.suppress(FormError):
                self.set_value(other.value())
            return
        self._setting = True
        try:
            self._set_state(other.state())
        finally:
            self._setting = False
        self._last = self.snapshot()
        self.end_typing()
        self.touched.emit()

    def set_preset(self, value: Any) -> None:
        """``value`` is the preset's: the reset button brings it back."""
        self._preset_state = self.state_for(value)
        self._last = self.snapshot()
        self.touched.emit()

    # values ------------------------------------------------------------------------------------------------
    def parsed(self, state: Any = None) -> Any:
        """The value of ``state`` (default: the editor's), not checked against the rules; FormError when the
        text is not a value."""
        raw, on = self.state() if state is None else state
        if on is False:
            return None
        if isinstance(self.editor, QComboBox):
            return self.kind(raw) if self.kind in (int, float) else raw
        if isinstance(self.editor, QCheckBox):
            return bool(raw)
        try:
            return config_layer.parse_text(raw, self.spec.annotation, self.spec.meta, self.name)
        except ConfigError as exc:
            raise FormError(str(exc)) from exc

    def value(self) -> Any:
        """The editor's value; FormError when its text is not one (a line edit being typed)."""
        return self.parsed()

    def own_problem(self) -> str:
        """The full message of the rule of this field that its value breaks ("" when none)."""
        try:
            value = self.parsed()
            config_layer.check_value(self.name, value, self.spec.annotation, self.spec.meta)
        except ConfigError as exc:
            return str(exc)
        return ""

    def show_problem(self, problem: str) -> None:
        """Mark the field red with ``problem`` under it (its field name left out), or clear the mark."""
        self.problem = problem
        if isinstance(self.editor, QLineEdit | QComboBox):
            selector = "QComboBox" if isinstance(self.editor, QComboBox) else "QLineEdit"
            style = f"{selector} {{ {WRONG_STYLE} }}" if problem else ""
            if self.editor.styleSheet() != style:
                self.editor.setStyleSheet(style)
        self.message.setText(short_problem(self.name, problem))
        layout = self.form.layout() if self.form is not None else None
        if isinstance(layout, QFormLayout) and layout.indexOf(self.message) >= 0:
            layout.setRowVisible(self.message, bool(problem))
        else:
            self.message.setVisible(bool(problem))
        self.setProperty("invalid", bool(problem))

    def differs(self) -> bool:
        """Whether the field holds another value than its preset's."""
        if self._preset_state is None or self.state() == self._preset_state:
            return False
        try:
            return self.parsed() != self.parsed(self._preset_state)
        except FormError:
            return True

    def preset_text(self) -> str:
        if self._preset_state is None:
            return ""
        raw, on = self._preset_state
        return "none" if on is False else ("on" if raw is True else "off" if raw is False else str(raw))

    def reset(self) -> None:
        """Back to the preset's value (one undo step)."""
        if self.form is not None:
            self.form.reset([self.name])

    def refresh_reset(self) -> None:
        differs = self.differs()
        self.reset_button.setVisible(differs)
        self.reset_button.setToolTip(f"Reset to the preset's value ({self.preset_text()})" if differs else "")


def short_problem(name: str, problem: str) -> str:
    """``problem`` without its leading field name: "must be in [50, 5000], got 99999999"; a tuple element's
    "threshold_quantiles[1] must be …" reads "item 2 must be …"."""
    match = LEADING_FIELD.fullmatch(problem)
    if not match or match.group(1) != name:
        return problem
    index, rest = match.group(2), match.group(3)
    return f"item {int(index) + 1} {rest}" if index is not None else rest


class _Change(QUndoCommand):
    """One undoable change of some fields of a form: their snapshots before and after. Pushed after the change
    is made (its first redo does nothing); consecutive edits of one field in one typing session merge."""

    def __init__(self, form: ConfigForm, text: str, changes: dict, merge: Any = None) -> None:
        super().__init__(text)
        self.form = form
        self.before = {name: b for name, (b, _a) in changes.items()}
        self.after = {name: a for name, (_b, a) in changes.items()}
        self.merge = merge
        self._made = True

    def id(self) -> int:
        return 1 if self.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, _Change) or other.merge is None or other.merge != self.merge:
            return False
        self.after.update(other.after)
        if all(self.after[n].state == self.before[n].state for n in self.after):
            self.setObsolete(True)  # typed back to where it was: no step left
        return True

    def redo(self) -> None:
        if self._made:
            self._made = False
            return
        self.form._restore(self.after)

    def undo(self) -> None:
        self.form._restore(self.before)


class ConfigForm(QWidget):
    """A form for one config dataclass; ``config()`` returns a new instance with the form's values.

    ``changed``: the user changed a value (typing, undo, reset); ``validity_changed(bool)``: the form became
    valid or invalid. :attr:`valid` and :meth:`problems` say whether :meth:`config` would refuse, and why.
    """

    changed = Signal()
    validity_changed = Signal(bool)

    def __init__(self, config: Any, title: str = "") -> None:
        super().__init__()
        self.config_type = type(config)
        self.undo_stack = QUndoStack(self)
        self._guard = _Guard(self)
        self._valid = True
        self._problems: list[tuple[str, str]] = []  # (field name or "", full message)
        self._quiet = False
        layout = QFormLayout(self)
        layout.setRowWrapPolicy(QFormLayout.WrapLongRows)  # a long label gets its own line above its field
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        if title:
            header.addWidget(QLabel(f"<b>{title}</b>"))
        header.addStretch(1)
        self.undo_button = self._tool("↶", "Undo the last parameter edit (Ctrl+Z)", self.undo)
        self.redo_button = self._tool("↷", "Redo (Ctrl+Shift+Z)", self.redo)
        self.reset_button = self._tool(
            "Reset", "Reset every parameter of this form to the preset", self.reset
        )
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        for button in (self.undo_button, self.redo_button, self.reset_button):
            header.addWidget(button)
        layout.addRow(header)
        self.fields: dict[str, _Field] = {}
        for spec in config_layer.field_specs(self.config_type):
            if spec.kind not in (int, float, bool, str, tuple):
                continue  # nested configs get their own form
            widget = _Field(spec, getattr(config, spec.name))
            widget.form = self
            widget.changed.connect(self.changed)
            widget.touched.connect(self._touched)
            for child in (widget.editor, widget.enabled_box, widget.reset_button):
                if child is not None:
                    child.installEventFilter(self._guard)
            label = QLabel(_label(spec.name, spec.meta))
            label.setToolTip(widget.toolTip())
            layout.addRow(label, widget)
            layout.addRow(widget.message)
            layout.setRowVisible(widget.message, False)
            self.fields[spec.name] = widget
        self.message = QLabel()  # a rule of the config that no one field breaks
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {WRONG};")
        layout.addRow(self.message)
        layout.setRowVisible(self.message, False)
        self.set_config(config, respect_user=False)

    def _tool(self, text: str, tip: str, slot: Any) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(lambda: slot())
        button.installEventFilter(self._guard)
        return button

    # values ------------------------------------------------------------------------------------------------
    def set_config(self, config: Any, respect_user: bool = True) -> list[str]:
        """Show ``config``'s values (a preset's, a project's); with ``respect_user`` fields the user edited
        are kept (returned when they differ from ``config``). ``config``'s values become what the reset
        buttons bring back. Without ``respect_user`` the undo history starts again; with it the change is
        one undo step."""
        kept, changes = [], {}
        self._quiet = True
        try:
            for name, widget in self.fields.items():
                before = widget.snapshot()
                value = getattr(config, name)
                if respect_user and widget.user_edited:
                    try:
                        differs = widget.value() != value
                    except FormError:
                        differs = True
                    if differs:
                        kept.append(name)
                else:
                    widget.set_value(value)
                    widget.user_edited = False
                widget.set_preset(value)
                if widget.snapshot() != before:
                    changes[name] = (before, widget.snapshot())
        finally:
            self._quiet = False
        self._touched()
        if not respect_user:
            self.undo_stack.clear()
        elif changes:
            self._record("apply preset", changes)
        return kept

    def _values(self) -> dict[str, Any]:
        return {name: widget.value() for name, widget in self.fields.items()}

    def config(self) -> Any:
        """A new config instance holding the form's values (other fields at their defaults), checked by
        :mod:`core.config`; FormError (a ConfigError and a ValueError) when they break a rule."""
        self._validate()
        if self._problems:
            raise FormError(self._problems[0][1])
        try:
            return config_layer.with_values(self.config_type(), self._values())
        except ConfigError as exc:
            raise FormError(str(exc)) from exc

    # validity ----------------------------------------------------------------------------------------------
    @property
    def valid(self) -> bool:
        """Whether :meth:`config` would return a config (every value fits every rule)."""
        return self._valid

    def problems(self) -> list[str]:
        """What keeps :meth:`config` from returning a config, one line per broken rule, each naming the field
        by its label: ["Points kept for homology: must be in [50, 5000], got 99999999"]; [] when valid."""
        out = []
        for name, message in self._problems:
            if name:
                label = _label(name, self.fields[name].spec.meta)
                out.append(f"{label}: {short_problem(name, message)}")
            else:
                out.append(message)
        return out

    def _validate(self) -> None:
        problems = [(name, p) for name, w in self.fields.items() if (p := w.own_problem())]
        bad = {name for name, _p in problems}
        good = {name: w.value() for name, w in self.fields.items() if name not in bad}
        try:  # the config's own rules (check()), on the values that fit their fields (the others: defaults)
            config_layer.with_values(self.config_type(), good)
        except ConfigError as exc:  # on the field the message names, if it names one
            message = str(exc)
            match = LEADING_FIELD.fullmatch(message)
            name = match.group(1) if match and match.group(1) in self.fields else ""
            if name not in bad:
                order = list(self.fields)
                problems.append((name, message))
                problems.sort(key=lambda p: order.index(p[0]) if p[0] in order else len(order))
        self._problems = problems
        by_field = dict(problems)
        for name, widget in self.fields.items():
            widget.show_problem(by_field.get(name, ""))
        self.message.setText(by_field.get("", ""))
        self.layout().setRowVisible(self.message, "" in by_field)
        valid = not problems
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _touched(self) -> None:
        if self._quiet:
            return
        self._validate()
        any_differs = False
        for widget in self.fields.values():
            widget.refresh_reset()
            any_differs |= widget.differs()
        self.reset_button.setVisible(any_differs)

    # undo, redo, reset -------------------------------------------------------------------------------------
    def _record(self, text: str, changes: dict, merge: Any = None) -> None:
        self.undo_stack.push(_Change(self, text, changes, merge))

    def _restore(self, snapshots: dict[str, _Snapshot]) -> None:
        self._quiet = True
        try:
            for name, snap in snapshots.items():
                self.fields[name].restore(snap)
        finally:
            self._quiet = False
        self._touched()
        self.changed.emit()

    def undo(self) -> None:
        """Undo the last parameter edit of this form (Ctrl+Z while the form has the focus)."""
        self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the last undone edit (Ctrl+Shift+Z)."""
        self.undo_stack.redo()

    def reset(self, names: list[str] | None = None) -> None:
        """Put the fields ``names`` (default: all) back to the values the preset set (one undo step)."""
        changes = {}
        for name in names if names is not None else list(self.fields):
            widget = self.fields[name]
            if widget.differs() or widget.user_edited:
                before = widget.snapshot()
                after = _Snapshot(before.preset, False, before.preset)
                if after != before:
                    changes[name] = (before, after)
        if not changes:
            return
        self._restore({name: after for name, (_before, after) in changes.items()})
        self._record("reset to preset", changes)
