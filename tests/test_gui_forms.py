"""The parameter forms say no: a typed value that breaks a rule stays as typed, is marked red with the rule,
and keeps ``config()`` from returning; the wheel changes no field without the focus; edits undo and redo;
a field (or the form) goes back to its preset; tooltips say the meaning, unit, range and paper."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from canns_gui.forms import ConfigForm, FormError
from core.homology import PersistenceConfig
from core.pointcloud import PointCloudConfig
from core.preprocess import PreprocessConfig
from core.significance import SignificanceConfig
from core.views.gridscore import GridScoreConfig


@pytest.fixture
def show(qtbot):
    """A form for ``config`` in a scroll area (as on the pages), shown and active."""

    def make(config):
        form = ConfigForm(config, type(config).__name__)
        area = QScrollArea()
        area.setWidget(form)
        area.setWidgetResizable(True)
        area.resize(460, 200)  # shorter than the form: the page can scroll
        qtbot.addWidget(area)
        area.show()
        qtbot.waitExposed(area)
        area.activateWindow()
        form.area = area
        return form

    return make


def type_into(qtbot, form, name, text):
    """Click into a field, select what it holds and type ``text`` over it, as a user does."""
    editor = form.fields[name].editor
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    return editor


def assert_refused(form, name, rule):
    field = form.fields[name]
    assert not form.valid
    assert field.problem and rule in field.message.text()
    assert field.message.isVisible()
    assert "border" in field.editor.styleSheet()  # marked red
    with pytest.raises(FormError, match=name):
        form.config()
    assert any(rule in p for p in form.problems())


def assert_clear(form, name):
    field = form.fields[name]
    assert field.problem == "" and not field.message.isVisible() and field.editor.styleSheet() == ""


# --------------------------------------------------------------------------- values that break a rule


def test_an_out_of_range_number_stays_as_typed_is_marked_and_refused(qtbot, show):
    form = show(PointCloudConfig())
    editor = type_into(qtbot, form, "n_points", "99999999")
    editor.clearFocus()
    assert editor.text() == "99999999"  # not rewritten to 5000 (nor to 999)
    assert_refused(form, "n_points", "must be in [50, 5000]")
    assert form.fields["n_points"].message.text() == "must be in [50, 5000], got 99999999"
    assert form.problems() == ["Points kept for homology: must be in [50, 5000], got 99999999"]
    type_into(qtbot, form, "n_points", "800")
    assert form.valid and form.problems() == []
    assert_clear(form, "n_points")
    assert form.config().n_points == 800


@pytest.mark.parametrize("text", ["0", "-5", "99999", "1e9"])
def test_a_bin_width_out_of_its_range_is_refused_with_the_rule(qtbot, show, text):
    form = show(PreprocessConfig())
    assert type_into(qtbot, form, "dt_s", text).text() == text
    assert_refused(form, "dt_s", "must be in [0.0001, 1] s")


def test_a_float_out_of_range_keeps_its_text(qtbot, show):
    form = show(SignificanceConfig())
    assert type_into(qtbot, form, "min_shift_s", "1e9").text() == "1e9"  # not 19, nor 3600
    assert_refused(form, "min_shift_s", "must be in [0, 3600] s")


def test_text_that_is_no_number_is_refused(qtbot, show):
    form = show(SignificanceConfig())
    type_into(qtbot, form, "min_shift_s", "abc")
    assert_refused(form, "min_shift_s", "must be a number in [0, 3600] s, got 'abc'")
    form = show(PointCloudConfig())
    type_into(qtbot, form, "n_points", "12.5")
    assert_refused(form, "n_points", "must be a whole number in [50, 5000]")


@pytest.mark.parametrize(
    "text, rule",
    [
        ("abc", "item 1 must be a number in [0.01, 1], got 'abc'"),
        ("5, -1", "item 1 must be in [0.01, 1], got 5"),
        ("0.5, -1", "item 2 must be in [0.01, 1], got -1"),
    ],
)
def test_a_list_element_that_is_wrong_is_named(qtbot, show, text, rule):
    form = show(PersistenceConfig())
    assert type_into(qtbot, form, "threshold_quantiles", text).text() == text
    assert_refused(form, "threshold_quantiles", rule)
    type_into(qtbot, form, "threshold_quantiles", "0.3, 1")
    assert form.valid and form.config().threshold_quantiles == (0.3, 1.0)


def test_a_rule_of_the_config_marks_the_field_it_names(qtbot, show):
    """Z/p must be prime: a rule of PersistenceConfig.check(), not of the field's range."""
    form = show(PersistenceConfig())
    type_into(qtbot, form, "coeff", "4")
    assert_refused(form, "coeff", "must be a prime number, got 4")
    type_into(qtbot, form, "threshold_quantiles", "abc")  # another field wrong as well: both are said
    assert len(form.problems()) == 2 and "prime" in form.fields["coeff"].problem
    type_into(qtbot, form, "coeff", "5")
    type_into(qtbot, form, "threshold_quantiles", "1")
    assert form.valid and form.config().coeff == 5


@pytest.mark.parametrize("cls", [SignificanceConfig, GridScoreConfig])
def test_a_negative_seed_is_refused_in_the_form(qtbot, show, cls):
    form = show(cls())
    type_into(qtbot, form, "seed", "-1")
    assert_refused(form, "seed", "must be in [0, 2147483647]")


def test_validity_is_signalled_and_a_half_typed_form_keeps_the_last_valid_config(qtbot, show):
    form = show(PointCloudConfig())
    seen = []
    form.validity_changed.connect(seen.append)
    type_into(qtbot, form, "omega", "-")
    assert seen == [False] and not form.valid
    qtbot.keyClicks(form.fields["omega"].editor, "1")
    assert seen == [False] and "must be in [0, 10]" in form.fields["omega"].problem
    form.fields["omega"].editor.selectAll()
    qtbot.keyClicks(form.fields["omega"].editor, "2.5")
    assert seen == [False, True] and form.config().omega == 2.5


def test_set_value_shows_a_value_outside_the_range_as_it_is(qtbot, show):
    form = show(PointCloudConfig())
    form.fields["n_points"].set_value(10**8)
    assert form.fields["n_points"].editor.text() == "100000000"
    assert_refused(form, "n_points", "must be in [50, 5000]")


def test_the_spin_box_api_still_sets_a_value_as_the_user(qtbot, show):
    form = show(PointCloudConfig())
    with qtbot.waitSignal(form.changed):
        form.fields["n_points"].editor.setValue(450)
    assert form.fields["n_points"].editor.value() == 450 and form.fields["n_points"].user_edited
    assert form.config().n_points == 450


def test_up_and_down_step_a_number_within_its_range(qtbot, show):
    form = show(PointCloudConfig(n_points=4999))
    editor = type_into(qtbot, form, "n_points", "4999")
    qtbot.keyClick(editor, Qt.Key_Up)
    qtbot.keyClick(editor, Qt.Key_Up)
    assert editor.text() == "5000" and form.valid
    qtbot.keyClick(editor, Qt.Key_Down)
    assert editor.text() == "4999"


# --------------------------------------------------------------------------- the wheel


def wheel(widget, steps=-1):
    event = QWheelEvent(
        QPointF(5, 5),
        QPointF(widget.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.NoButton,
        Qt.NoModifier,
        Qt.ScrollUpdate,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event


def test_the_wheel_changes_no_field_without_the_focus(qtbot, show):
    form = show(PointCloudConfig())
    metric, points = form.fields["metric"].editor, form.fields["n_points"].editor
    form.fields["n_pca"].editor.setFocus()
    qtbot.waitUntil(form.fields["n_pca"].editor.hasFocus, timeout=2000)
    for editor in (metric, points):
        event = wheel(editor)
        assert not event.isAccepted()  # ignored: Qt passes it on to the scroll area, the page scrolls
        assert not editor.hasFocus()  # nor does the wheel take the focus
    assert metric.currentText() == "cosine" and points.text() == "1200"
    assert not form.fields["n_pca"].user_edited and form.undo_stack.count() == 0
    metric.setFocus()
    qtbot.waitUntil(metric.hasFocus, timeout=2000)
    wheel(metric)
    assert metric.currentText() == "euclidean"  # with the focus, the wheel is the field's
    points.setFocus()
    qtbot.waitUntil(points.hasFocus, timeout=2000)
    wheel(points, steps=1)
    assert points.text() == "1201"


# --------------------------------------------------------------------------- undo, redo, reset


def test_edits_undo_and_redo_with_the_keyboard(qtbot, show):
    form = show(PointCloudConfig())
    points = type_into(qtbot, form, "n_points", "800")  # one typing session: one undo step
    omega = type_into(qtbot, form, "omega", "3")
    assert form.undo_stack.count() == 2
    with qtbot.waitSignal(form.changed):
        qtbot.keyClick(omega, Qt.Key_Z, Qt.ControlModifier)
    assert omega.text() == "1" and points.text() == "800"
    qtbot.keyClick(omega, Qt.Key_Z, Qt.ControlModifier)
    assert points.text() == "1200" and form.config() == PointCloudConfig()
    assert not form.fields["n_points"].user_edited
    qtbot.keyClick(omega, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert points.text() == "800" and form.fields["n_points"].user_edited
    qtbot.keyClick(points, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert omega.text() == "3" and form.config().omega == 3.0


def test_undo_brings_back_a_wrong_value_and_its_mark(qtbot, show):
    form = show(PersistenceConfig())
    coeff = type_into(qtbot, form, "coeff", "4")
    qtbot.keyClick(coeff, Qt.Key_Tab)  # leaving the field ends the typing session: the next is a new step
    type_into(qtbot, form, "coeff", "5")
    assert form.undo_stack.count() == 2
    assert form.valid
    qtbot.keyClick(coeff, Qt.Key_Z, Qt.ControlModifier)
    assert coeff.text() == "4" and not form.valid and "prime" in form.fields["coeff"].message.text()


def test_a_choice_and_a_tick_are_undone_too(qtbot, show):
    form = show(PointCloudConfig())
    form.fields["metric"].editor.setCurrentText("euclidean")
    form.fields["sqrt"].editor.setChecked(True)
    form.undo()
    assert not form.fields["sqrt"].editor.isChecked()
    form.undo()
    assert form.fields["metric"].editor.currentText() == "cosine"
    form.redo()
    assert form.config().metric == "euclidean"


def test_reset_a_field_to_its_preset(qtbot, show):
    form = show(PointCloudConfig())
    field = form.fields["n_points"]
    assert not field.reset_button.isVisible() and not form.reset_button.isVisible()
    type_into(qtbot, form, "n_points", "99999999")
    assert field.reset_button.isVisible() and form.reset_button.isVisible()
    assert "1200" in field.reset_button.toolTip()
    with qtbot.waitSignal(form.changed):
        qtbot.mouseClick(field.reset_button, Qt.LeftButton)
    assert field.editor.text() == "1200" and form.valid and not field.user_edited
    assert not field.reset_button.isVisible()
    form.undo()  # the reset is one undo step
    assert field.editor.text() == "99999999" and not form.valid


def test_reset_goes_to_the_values_the_preset_set(qtbot, show):
    form = show(PointCloudConfig())
    form.set_config(PointCloudConfig(n_points=600, omega=2.0), respect_user=False)  # a preset
    assert not form.reset_button.isVisible() and form.undo_stack.count() == 0
    type_into(qtbot, form, "n_points", "900")
    type_into(qtbot, form, "omega", "abc")
    type_into(qtbot, form, "n_pca", "6")  # typed, but the preset's value: nothing to reset there
    assert not form.fields["n_pca"].reset_button.isVisible()
    qtbot.mouseClick(form.reset_button, Qt.LeftButton)
    assert form.config() == PointCloudConfig(n_points=600, omega=2.0)
    assert not any(f.user_edited for f in form.fields.values())
    assert not form.reset_button.isVisible()
    form.undo()
    assert form.fields["n_points"].editor.text() == "900" and form.fields["omega"].editor.text() == "abc"


def test_a_preset_keeps_what_the_user_typed_and_is_one_undo_step(qtbot, show):
    form = show(PointCloudConfig())
    type_into(qtbot, form, "n_points", "900")
    kept = form.set_config(PointCloudConfig(n_points=600, omega=2.0), respect_user=True)
    assert kept == ["n_points"]
    assert form.config() == PointCloudConfig(n_points=900, omega=2.0)
    assert "600" in form.fields["n_points"].reset_button.toolTip()  # reset: to the new preset's value
    form.undo()
    assert form.config() == PointCloudConfig(n_points=900)
    assert "1200" in form.fields["n_points"].reset_button.toolTip()


# --------------------------------------------------------------------------- tooltips


def test_tooltips_say_meaning_unit_range_paper_and_field(show):
    form = show(PointCloudConfig())
    points = form.fields["n_points"]
    expected = (
        "Points kept for homology (whole number in [50, 5000]). From: Gardner et al. 2022, Nature 602:123. "
        "Field: n_points"
    )
    assert points.toolTip() == expected and points.editor.toolTip() == expected
    label = form.layout().labelForField(points)
    assert label.toolTip() == expected
    assert form.fields["metric"].toolTip().startswith("Metric (one of cosine, euclidean). From: Gardner")
    dt = show(PreprocessConfig()).fields["dt_s"].toolTip()
    assert dt.startswith("Bin width (s, number in [0.0001, 1]). From: Gardner et al. 2022")
    coeff = show(PersistenceConfig()).fields["coeff"].toolTip()
    assert "Prime field Z/p (whole number in [2, 997])" in coeff and "p = 47" in coeff
    alpha = show(SignificanceConfig()).fields["alpha"].toolTip()
    assert "Bobrowski & Skraba 2023" in alpha and alpha.endswith("Field: alpha")


@pytest.mark.parametrize("cls", [PreprocessConfig, PointCloudConfig, PersistenceConfig, SignificanceConfig])
def test_no_tooltip_is_a_bare_field_name(show, cls):
    form = show(cls())
    for name, field in form.fields.items():
        tip = field.toolTip()
        assert tip.endswith(f"Field: {name}") and len(tip) > len(name) + 20, tip


def test_copy_from_carries_what_was_typed_to_another_form(qtbot, show):
    old = show(PersistenceConfig())
    type_into(qtbot, old, "threshold_quantiles", "abc")
    new = show(PersistenceConfig())
    new.fields["threshold_quantiles"].copy_from(old.fields["threshold_quantiles"])
    assert new.fields["threshold_quantiles"].editor.text() == "abc" and not new.valid
    assert not new.fields["threshold_quantiles"].user_edited


def test_an_optional_field_is_checked_only_when_on(qtbot, show):
    form = show(PreprocessConfig())
    field = form.fields["max_gap_s"]  # None by default: "on" unticked, nothing typed
    assert form.valid and form.config().max_gap_s is None
    qtbot.mouseClick(field.enabled_box, Qt.LeftButton)
    assert not form.valid and "must be a number in [0.001, 3600] s" in field.message.text()
    type_into(qtbot, form, "max_gap_s", "0.5")
    assert form.config().max_gap_s == 0.5
    type_into(qtbot, form, "max_gap_s", "-1")
    qtbot.mouseClick(field.enabled_box, Qt.LeftButton)  # off again: its text is not a value
    assert form.valid and form.config().max_gap_s is None
