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


def test_the_buttons_act_on_the_run_on_screen_after_a_model_switch(qtbot, window, tmp_path):
    page = simulate_page(window)
    choose(page, "cann1d", 2.0, 8)
    page.start()
    wait_idle(qtbot, window)
    assert page.run_result.model == "cann1d" and page.export_button.isEnabled()
    page.model_box.setCurrentIndex(page.model_box.findData("hd-ring"))  # no hd-ring run yet
    assert page.run_result is None
    assert not page.analyse_button.isEnabled() and not page.export_button.isEnabled()
    assert "No hd-ring run" in page.run_label.text() and "cann1d" in page.status.text()
    assert page.tabs.live.replay is None and page.tabs.live.curve.getData()[0] is None  # cleared
    page.export_to(tmp_path / "none")  # nothing on screen: nothing exported
    assert not window.busy and not (tmp_path / "none").exists()
    choose(page, "hd-ring", 2.0, 6)
    page.start()
    wait_idle(qtbot, window)
    page.export_to(tmp_path / "hd")
    wait_idle(qtbot, window)
    page.model_box.setCurrentIndex(page.model_box.findData("cann1d"))  # its run comes back on screen
    assert page.run_result.model == "cann1d" and "cann1d run" in page.run_label.text()
    assert page.export_button.isEnabled() and page.tabs.live.replay is not None
    page.export_to(tmp_path / "ring")
    wait_idle(qtbot, window)
    for folder, model, units in (("hd", "hd-ring", 6), ("ring", "cann1d", 8)):
        provenance = json.loads((tmp_path / folder / "recording.json").read_text())
        assert provenance["model"] == model and provenance["settings"]["n_units"] == units


def test_the_run_button_stays_in_place_whatever_the_model_description(qtbot, window):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QScrollArea

    page = simulate_page(window)
    places = set()
    for i in range(page.model_box.count()):
        page.model_box.setCurrentIndex(i)
        qtbot.wait(20)
        places.add(page.run_button.mapTo(page, QPoint(0, 0)).toTuple())
        assert page.run_button.isVisible()
    assert len(places) == 1
    parent = page.run_button.parentWidget()
    while parent is not None:  # never inside the scrolling part of the column
        assert not isinstance(parent, QScrollArea)
        parent = parent.parentWidget()


def test_a_finished_ring_run_replays_its_recorded_states(qtbot, window):
    page = simulate_page(window)
    choose(page, "cann1d", 2.0, 8)
    page.start()
    wait_idle(qtbot, window)
    live, result = page.tabs.live, page.run_result.result
    bar = live.replay_bar
    assert bar.isVisible() and bar.slider.maximum() == result.t_s.size - 1 == 199
    assert bar.slider.value() == bar.slider.maximum()  # the run's last record on screen
    bar.slider.setValue(50)
    np.testing.assert_allclose(live.curve.getData()[1], result.state_trace[50])
    assert live.stim_line.value() == pytest.approx(result.stimulus[50])
    assert live.bump_line.isVisible() and live.bump_line.value() == pytest.approx(result.bump_position[50])
    assert f"{result.t_s[50]:.2f} s" in bar.time_label.text()
    bar.slider.setValue(bar.slider.maximum())
    bar.play_button.setChecked(True)  # at the end: the replay starts again from the first record
    assert bar.slider.value() == 0
    seen = []
    bar.slider.valueChanged.connect(seen.append)
    for _ in range(1000):
        if not bar.play_button.isChecked():
            break
        bar._tick()
    assert seen == sorted(seen) and seen[-1] == bar.slider.maximum() and len(seen) > 5
    assert not bar.play_button.isChecked()  # the replay stops at the end


def test_a_sheet_run_replays_the_decoded_bump_when_its_state_was_not_kept(qtbot, window, monkeypatch):
    from core.simulation import recording

    monkeypatch.setattr(recording, "KEEP_STATE_BYTES", 0)
    page = simulate_page(window)
    choose(page, "cann2d", 1.0, 8)
    page.start()
    wait_idle(qtbot, window)
    live, result = page.tabs.live, page.run_result.result
    assert result.state_trace is None and live.replay.states is None
    assert "decoded bump only" in live.note.text()
    live.replay_bar.slider.setValue(40)
    x, y = live.bump_dot.getData()
    assert (x[0], y[0]) == pytest.approx(tuple(result.bump_position[40]), abs=1e-6)
    assert live.image.image is None  # no state to draw


def test_cancel_returns_within_the_grace_even_from_a_step_that_checks_no_cancel(qtbot, window, monkeypatch):
    import threading

    from core.simulation import registry

    release, entered = threading.Event(), threading.Event()
    build = registry.ModelSpec.make_task

    def stuck(self, *args, **kwargs):  # building a very long task: no cancel check for a long while
        entered.set()
        release.wait(60)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(registry.ModelSpec, "make_task", stuck)
    page = simulate_page(window)
    choose(page, "cann1d", 2.0, 8)
    page.start()
    qtbot.waitUntil(entered.is_set)
    window.cancel()
    wait_idle(qtbot, window, 30)
    assert not release.is_set()  # the step is still going: the run was left to end on its own
    assert "cancelled" in page.status.text() and page.run_result is None
    release.set()


def test_interruptible_raises_cancelled_and_drops_the_abandoned_result():
    import threading

    from canns_gui.pages.simulate_page import interruptible
    from core.errors import Cancelled

    release, finished = threading.Event(), threading.Event()

    def step():
        release.wait(60)
        finished.set()
        return "result"

    with pytest.raises(Cancelled):
        interruptible(step, cancel=lambda: True)
    assert not finished.is_set()
    release.set()
    assert interruptible(lambda: 42, cancel=lambda: False) == 42
    with pytest.raises(ZeroDivisionError):  # errors of the function reach the caller
        interruptible(lambda: 1 / 0, cancel=lambda: False)
