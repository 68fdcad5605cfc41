"""The window as a keyboard user drives it: Ctrl+1…6 for the pages, F5 to run the page, Run all, Esc to
cancel, ←/→ for units and Space to play PathCompare in Views; Help; the project in the title, recent
projects, the autosave offered back, file dialogs that remember their folder."""

from __future__ import annotations

import dataclasses

import pytest
from gui_helpers import wait_idle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core import synthetic


@pytest.fixture
def focused(qtbot, window):
    window.activateWindow()
    qtbot.waitExposed(window)
    window.setFocus()
    return window


def press(qtbot, window, key, modifier=Qt.NoModifier) -> None:
    qtbot.keyClick(window, key, modifier)
    QApplication.processEvents()


def load(window, rec=None):
    from canns_gui.session import Loaded

    rec = rec or dataclasses.replace(synthetic.head_direction_cells(n_units=12, duration_s=120.0, seed=2))
    window.session.set_loaded(Loaded(rec, [], "hd cells"))
    return rec


def action(window, text: str):
    return next(a for a in window.actions if a.text().replace("&", "").startswith(text))


def test_ctrl_number_goes_to_each_page(qtbot, focused):
    window = focused
    for i in range(len(window.pages)):
        press(qtbot, window, getattr(Qt, f"Key_{i + 1}"), Qt.ControlModifier)
        assert window.stack.currentIndex() == i
    assert action(window, "Run this page").shortcuts()[0].toString() == "F5"


def test_f5_runs_the_page_shown_and_run_all_reaches_the_views(qtbot, focused):
    window = focused
    load(window)
    press(qtbot, window, Qt.Key_2, Qt.ControlModifier)  # Preprocess
    press(qtbot, window, Qt.Key_F5)
    wait_idle(qtbot, window)
    assert window.session.result("preprocess") is not None
    press(qtbot, window, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)  # Run all
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.views_page, timeout=300000)
    qtbot.waitUntil(lambda: window.views_page.data is not None and not window.busy, timeout=300000)
    assert window.session.result("significance") is not None and "decoding" in window.session.results
    assert "run all" in window.log.toPlainText()


def test_esc_cancels_the_whole_run_all(qtbot, focused):
    window = focused
    load(window, synthetic.grid_module(n_units=60, duration_s=600.0, seed=1))
    window.run_all()
    qtbot.waitUntil(lambda: window.busy, timeout=10000)
    press(qtbot, window, Qt.Key_Escape)
    wait_idle(qtbot, window)
    QApplication.processEvents()
    assert "cancelled" in window.log.toPlainText()
    assert window.stack.currentWidget() is not window.views_page  # the chain stopped


def test_views_keys_step_units_and_play(qtbot, focused):
    window = focused
    load(window)
    window.run_all()
    qtbot.waitUntil(lambda: window.views_page.data is not None and not window.busy, timeout=300000)
    page = window.views_page
    page.tabs.setCurrentWidget(page.tab("FRM"))
    QApplication.processEvents()
    page.tabs.currentWidget().setFocus()
    before = page.selection.index
    press(qtbot, page.tabs.currentWidget(), Qt.Key_Right)
    assert page.selection.index != before
    press(qtbot, page.tabs.currentWidget(), Qt.Key_Left)
    assert page.selection.index == before
    path = page.tab("PathCompare")
    page.tabs.setCurrentWidget(path)
    QApplication.processEvents()
    if path.has_content:
        path.setFocus()
        press(qtbot, path, Qt.Key_Space)
        assert path.play_button.isChecked()
        press(qtbot, path, Qt.Key_Space)
        assert not path.play_button.isChecked()


def test_help_guide_and_shortcut_sheet(qtbot, focused):
    window = focused
    press(qtbot, window, Qt.Key_F1)
    assert "gap test" in window.help_dialog.text.toPlainText()
    action(window, "Keyboard shortcuts").trigger()
    sheet = window.help_dialog.text.toPlainText()
    assert "Ctrl+1" in sheet and "F5" in sheet and "Esc" in sheet and "Space" in sheet


def test_project_in_the_title_recent_projects_and_the_autosave_offer(qtbot, window, tmp_path):
    from canns_gui.main_window import MainWindow, autosave_path

    load(window)
    assert "hd cells" in window.windowTitle()
    window.save_project(tmp_path / "mine.canns.json")
    assert "mine.canns.json" in window.windowTitle()
    window._fill_recent_projects()
    assert [a.text() for a in window.recent_menu.actions()] == ["mine.canns.json"]
    window.autosave()
    assert autosave_path().is_file()
    second = MainWindow()
    qtbot.addWidget(second)
    second.offer_autosave()
    assert second.autosave_offer.isVisible() or second.autosave_offer.text().startswith("The last session")


def test_file_dialogs_remember_their_folder(tmp_path):
    from canns_gui.dialogs import last_folder, remember_folder

    remember_folder("project", str(tmp_path / "a.canns.json"))
    assert last_folder("project") == str(tmp_path)
    remember_folder("export", str(tmp_path / "gone" / "x"))  # a folder that no longer exists: home
    assert last_folder("export") != str(tmp_path / "gone")


def test_nothing_runs_while_a_field_is_red(qtbot, focused):
    window = focused
    load(window)
    page = window.views_page
    page.forms["cohomap"].fields["bin_size_cm"].set_value(-5.0)
    assert not page.forms["cohomap"].valid
    assert page.compute_views() is False
    assert "marked in red" in page.banner.text() and page.settings_button.isChecked()
    form = window.session.forms["preprocess"]
    form.fields["dt_s"].set_value(10.0)
    window.run_all()
    assert not window.busy and window.session.result("preprocess") is None


def test_a_stage_does_not_run_while_its_fields_are_red_and_run_stays_in_view(qtbot, focused):
    window = focused
    load(window)
    window.steps.setCurrentRow(2)  # TDA
    tda = window.pages[2]
    QApplication.processEvents()
    assert tda.run_button.isVisible() and tda.run_button.geometry().bottom() <= tda.height()
    tda.forms["persistence"].fields["coeff"].set_value(4)  # not a prime
    tda.start()
    assert not window.busy and "marked in red" in tda.banner.text()
