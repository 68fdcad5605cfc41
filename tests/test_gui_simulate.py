"""The Simulate page, offscreen: run a model with a live view, read its analysis, export it, analyse it."""

import json

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QMessageBox


def simulate_page(window):
    page = window.pages[-1]
    window.steps.setCurrentRow(len(window.pages) - 1)
    return page


def choose(page, model, duration_s, units):
    page.model_box.setCurrentIndex(page.model_box.findData(model))
    page.panel.task.form.fields["duration_s"].set_value(duration_s)
    page.panel.recording.fields["n_units"].set_value(units)


def test_each_model_offers_only_the_tasks_it_can_run(window):
    page = simulate_page(window)
    kinds = page.panel_of["grid-torus"].task.kind_box
    assert [kinds.itemText(i) for i in range(kinds.count())] == ["arena_walk", "external"]
    assert page.panel_of["hd-ring"].task.config().kind == "head_direction"
    assert not page.analyse_button.isEnabled()  # nothing to analyse yet


def test_the_task_form_shows_only_the_fields_of_the_chosen_kind(window):
    from core.simulation.tasks import HeadDirectionTask, RotationTask

    task = simulate_page(window).panel_of["hd-ring"].task
    shown = [kind for kind, form in task.forms.items() if not form.isHidden()]
    assert shown == ["head_direction"]
    assert set(task.form.fields) == {"duration_s", "cue_amplitude", "amplitude", "seed"}
    assert isinstance(task.config(), HeadDirectionTask)
    task.form.fields["duration_s"].set_value(7.0)
    task.set_kind("rotation")
    assert [kind for kind, form in task.forms.items() if not form.isHidden()] == ["rotation"]
    assert set(task.form.fields) == {"duration_s", "omega_rad_s"}
    assert task.config() == RotationTask(duration_s=7.0)  # the shared length carried over


def test_ring_run_shows_live_bump_tracking_and_space_time_then_exports(qtbot, window, tmp_path):
    page = simulate_page(window)
    choose(page, "cann1d", 5.0, 12)
    frames = []
    page.frame_ready.connect(frames.append)
    page.start()
    wait_idle(qtbot, window)
    assert page.run_result is not None, page.status.text()
    assert frames and frames[-1]["t_s"] == pytest.approx(5.0)
    x, u = page.tabs.live.curve.getData()
    assert len(u) == 512 and np.nanmax(u) > 0  # the bump, drawn
    assert "steps/s" in page.status.text() and "tracking: mean error" in page.status.text()
    assert "lags the stimulus" in page.tabs.result.note.text()
    assert page.tabs.space_time.image.image.shape == (512, 500)  # positions × records
    assert page.analyse_button.isEnabled() and page.export_button.isEnabled()

    page.export_to(tmp_path / "run")
    wait_idle(qtbot, window)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"recording.npz", "recording.json", "simulation.npz", "tracking.png", "space_time.svg"} <= names
    assert "animation.gif" in names
    provenance = json.loads((tmp_path / "run" / "recording.json").read_text())
    assert provenance["model"] == "cann1d" and provenance["settings"]["n_units"] == 12


def test_analyse_this_recording_opens_it_on_the_import_page(qtbot, window):
    page = simulate_page(window)
    choose(page, "hd-ring", 5.0, 10)
    page.start()
    wait_idle(qtbot, window)
    assert "path integration: final error" in page.status.text()
    page.analyse_recording()
    qtbot.waitUntil(lambda: window.session.recording is not None, timeout=60000)
    wait_idle(qtbot, window)
    assert window.session.recording.n_units == 10
    assert window.steps.currentRow() == 0
    assert window.session.loaded.source.endswith(".npz")
    assert window.session.recording.hd is not None


def test_cancel_stops_a_sheet_run_and_keeps_the_page_usable(qtbot, window):
    page = simulate_page(window)
    choose(page, "cann2d", 600.0, 20)
    page.start()
    qtbot.waitUntil(lambda: window.progress.value() > 20, timeout=120000)
    window.cancel()
    wait_idle(qtbot, window, 30)
    assert page.run_result is None
    assert "cancelled" in page.status.text()
    assert page.tabs.live.image.image is not None  # the live sheet was drawn before the cancel


def test_bad_parameters_are_named_in_a_dialog(qtbot, window):
    page = simulate_page(window)
    choose(page, "cann2d", 5.0, 20)
    page.panel.task.set_kind("tracking")
    page.panel.task.form.fields["positions"].set_value("0, 1")  # a sheet needs x:y pairs
    page.start()
    wait_idle(qtbot, window)
    dialog = window.findChild(QMessageBox, "error_dialog")
    assert dialog is not None and dialog.isVisible()
    assert "x:y pairs" in dialog.text()
    assert "failed" in page.status.text()
    dialog.close()
