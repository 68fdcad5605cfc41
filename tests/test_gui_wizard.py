"""The desktop app, offscreen: the wizard on a recording, cancel, a bad file, presets keep typed values."""

import time

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QMessageBox

from canns_gui.main_window import MainWindow
from core import synthetic
from core.io import save_recording_npz


@pytest.fixture(scope="module")
def ring_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "ring.npz"
    save_recording_npz(synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=3), path)
    return str(path)


@pytest.mark.slow
def test_wizard_runs_import_to_decode_on_a_ring(qtbot, window, ring_file):
    window.open_recording(ring_file)
    wait_idle(qtbot, window)
    assert window.session.recording.n_units == 16
    assert "16 units" in window.import_page.summary.text()
    preprocess, tda, decode = window.pages[1], window.pages[2], window.pages[3]
    preprocess.preset.setCurrentText("auto")
    preprocess.apply_preset()
    assert window.session.config.preset.startswith("auto (16 units")
    assert window.session.config.preprocess.speed_min_cm_s is None
    preprocess.start()
    wait_idle(qtbot, window)
    assert "units kept" in preprocess.status.text()
    tda.start()
    wait_idle(qtbot, window)
    assert "ring" in tda.verdict.text()
    decode.start()
    wait_idle(qtbot, window)
    assert "head direction: circular correlation" in decode.metrics.text()
    # changing a parameter marks the result stale, visibly
    tda.forms["point_cloud"].fields["n_points"].editor.setValue(500)
    assert window.session.is_stale("significance")
    assert not tda.banner.isHidden() and "Run" in tda.banner.text()
    assert not window.grab().isNull()


def test_preset_keeps_a_value_the_user_typed(window):
    preprocess = window.pages[1]
    preprocess.forms["preprocess"].fields["sigma_s"].editor.setValue(0.2)
    preprocess.preset.setCurrentText("hd")
    preprocess.apply_preset()
    assert window.session.config.preprocess.sigma_s == pytest.approx(0.2)
    assert window.session.config.preprocess.speed_min_cm_s is None  # from the preset
    assert "kept your values" in preprocess.status.text()


def test_a_bad_file_shows_a_dialog_and_keeps_the_loaded_recording(qtbot, window, ring_file, tmp_path):
    window.open_recording(ring_file)
    wait_idle(qtbot, window)
    before = window.session.recording
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip file")
    window.open_recording(str(bad))
    wait_idle(qtbot, window)
    dialog = window.findChild(QMessageBox, "error_dialog")
    assert dialog is not None and dialog.isVisible()
    assert "broken.npz" in dialog.text()
    assert window.session.recording is before
    dialog.close()


@pytest.mark.slow
def test_cancel_stops_a_running_tda_and_leaves_the_app_usable(qtbot, window):
    recording = synthetic.grid_module(n_units=60, duration_s=600.0, seed=0)
    from canns_gui.session import Loaded

    window.session.set_loaded(Loaded(recording, [], "grid"))
    tda = window.pages[2]
    tda.start()
    qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=60000)
    started = time.monotonic()
    window.cancel()
    wait_idle(qtbot, window, timeout_s=60)
    assert time.monotonic() - started < 60
    assert "cancelled" in window.log.toPlainText()
    assert window.session.result("significance") is None
    # still usable: the next stage runs
    window.pages[1].start()
    wait_idle(qtbot, window)
    assert window.session.result("preprocess") is not None
    assert np.isfinite(window.session.result("preprocess").rates).all()


@pytest.mark.slow
def test_save_and_reopen_a_project_restores_parameters_and_results(qtbot, window, ring_file, tmp_path):
    window.open_recording(ring_file)
    wait_idle(qtbot, window)
    preprocess, tda = window.pages[1], window.pages[2]
    preprocess.preset.setCurrentText("hd")
    preprocess.apply_preset()
    tda.forms["point_cloud"].fields["n_points"].editor.setValue(450)
    tda.start()
    wait_idle(qtbot, window)
    saved = window.save_project(tmp_path / "ring.canns.json")

    fresh = MainWindow()
    qtbot.addWidget(fresh)
    fresh.open_project(saved)
    qtbot.waitUntil(lambda: fresh.session.result("significance") is not None, timeout=300000)
    wait_idle(qtbot, fresh)
    assert fresh.session.config == window.session.config
    assert fresh.session.config.point_cloud.n_points == 450
    assert fresh.pages[2].forms["point_cloud"].fields["n_points"].editor.value() == 450
    assert "ring" in fresh.pages[2].verdict.text()


def test_a_broken_project_file_is_refused_with_a_message(window, tmp_path):
    bad = tmp_path / "bad.canns.json"
    bad.write_text("{ not json")
    window.open_project(bad)
    dialog = window.findChild(QMessageBox, "error_dialog")
    assert dialog is not None and "bad.canns.json" in dialog.text()
