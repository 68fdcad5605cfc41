"""Project files keep the cache folder, the stage result keys and the Views page state; reopening restores
the tab, the unit and the per-view controls, reading the results from the disk cache (no recomputation).
Settings: the cache folder defaults to the user cache dir and the dialog shows and clears its size."""

import json

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication

from canns_gui.main_window import MainWindow
from canns_gui.project import load_project, read_project, save_project
from canns_gui.settings import Settings, SettingsDialog
from core import synthetic
from core.cache import DiskCache
from core.io import save_recording_npz
from core.pipeline import AnalysisConfig

N_SHUFFLES = 8  # grid-score shuffles (the default 100 is for real data)
KEY = "ab" * 32  # a sha256-like hex key


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Settings, autosave and the result cache all under the test's folder."""
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    return tmp_path


def new_window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def close(window):
    if window.busy:
        window.runner.cancel()
        window.runner.wait(60)


# the file itself ------------------------------------------------------------------------------------------
def test_cache_and_views_sections_round_trip(tmp_path):
    config = AnalysisConfig.from_preset("hd")
    views = {"tab": "CohoSpace", "unit_index": 3, "unit_id": "7", "tabs": {"fr": {"sort": "recording order"}}}
    path = save_project(
        tmp_path / "p.canns.json",
        "rec.npz",
        "00ff",
        config,
        ["preprocess", "significance"],
        cache_folder=tmp_path / "cache",
        cache_keys={"preprocess": KEY, "significance": KEY[::-1], "bogus": KEY},
        views=views,
    )
    project = read_project(path)
    assert project.config == config
    assert project.stages == ["preprocess", "significance"]
    assert project.cache_folder == str(tmp_path / "cache")
    assert project.cache_keys == {"preprocess": KEY, "significance": KEY[::-1]}
    assert project.views == views
    assert load_project(path) == ("rec.npz", "00ff", config, ["preprocess", "significance"])


def test_an_old_project_without_cache_or_views_still_opens(tmp_path):
    old = {
        "format": "canns-gui project",
        "version": "0.1.0",
        "input": {"path": "rec.npz", "sha256": "abc"},
        "parameters": {"preset": "hd"},
        "stages_run": ["preprocess"],
    }
    path = tmp_path / "old.canns.json"
    path.write_text(json.dumps(old))
    project = read_project(path)
    assert (project.source, project.stages, project.config.preset) == ("rec.npz", ["preprocess"], "hd")
    assert project.cache_folder == "" and project.cache_keys == {} and project.views == {}
    # malformed sections are ignored, not fatal
    old.update(cache=["x"], views="tab")
    path.write_text(json.dumps(old))
    project = read_project(path)
    assert project.cache_keys == {} and project.views == {}
    old.update(cache={"folder": 3, "keys": {"preprocess": "../../etc"}})
    path.write_text(json.dumps(old))
    assert read_project(path).cache_keys == {} and read_project(path).cache_folder == ""


# settings -------------------------------------------------------------------------------------------------
def test_the_cache_folder_defaults_to_the_user_cache_dir(home, qtbot):
    settings = Settings()
    settings.store.remove("cache_folder")
    assert settings.cache_folder == home / "cache" / "canns-gui" / "results"
    assert settings.cache_max_bytes == 2 * 1024**3
    window = new_window(qtbot)
    assert window.session.cache_folder == settings.cache_folder


def test_the_settings_dialog_shows_clears_and_sets_the_cache(home, qtbot, monkeypatch):
    folder = home / "elsewhere"
    DiskCache(folder).put(KEY, np.zeros(1000))
    settings = Settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(
        "canns_gui.settings.QFileDialog.getExistingDirectory", lambda *a, **k: str(folder)
    )  # "Browse…"
    dialog.choose_cache_folder()
    assert dialog.cache_folder.text() == str(folder)
    assert "1 result" in dialog.cache_size.text() and "kB" in dialog.cache_size.text()
    assert dialog.clear_button.isEnabled()
    dialog.clear_button.click()
    assert DiskCache(folder).size_bytes() == 0
    assert "freed" in dialog.cache_size.text() and "0 result" in dialog.cache_size.text()
    dialog.cache_max_gb.setValue(0.5)
    try:
        dialog.accept()
        assert settings.cache_folder == folder
        assert settings.cache_max_bytes == 1024**3 // 2
    finally:
        settings.store.remove("cache_folder")
        settings.store.remove("cache_max_gb")


# the window -----------------------------------------------------------------------------------------------
@pytest.fixture
def ring_file(home):
    path = home / "ring.npz"
    save_recording_npz(synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=3), path)
    return str(path)


@pytest.mark.slow
def test_reopening_restores_tab_unit_and_views_from_the_disk_cache(qtbot, home, ring_file):
    window = new_window(qtbot)
    try:
        window.open_recording(ring_file)
        wait_idle(qtbot, window)
        preprocess = window.pages[1]
        preprocess.preset.setCurrentText("hd")
        preprocess.apply_preset()
        page = window.views_page
        page.forms["grid_scores"].fields["n_shuffles"].editor.setValue(N_SHUFFLES)
        for stage_page in window.pages[1:4]:
            stage_page.start()
            wait_idle(qtbot, window)
        assert window.session.analysis.computed == ["preprocess", "point_cloud", "persistence",
                                                    "significance", "decoding"]  # fmt: skip
        window.steps.setCurrentRow(window.pages.index(page))  # showing the page computes the views
        qtbot.waitUntil(lambda: page.data is not None and not window.busy, timeout=300000)

        path_tab = page.tab("PathCompare")
        page.tabs.setCurrentWidget(path_tab)
        qtbot.waitUntil(lambda: path_tab.isVisible() and not path_tab.dirty, timeout=5000)
        path_tab.window_s.setValue(12.0)
        path_tab.slider.setValue(path_tab.slider.maximum() // 2)
        saved_time = path_tab.current_time()
        page.tab("FR").sort.setCurrentText("recording order")
        page.tab("CohoMap").mode.setCurrentText("cos θ")
        space = page.tab("CohoSpace")
        page.tabs.setCurrentWidget(space)
        space.browser.sort.setCurrentText("peak rate")
        space.browser.select(5)
        unit_id = str(page.data.unit_ids[5])
        saved = window.save_project(home / "ring.canns.json")
    finally:
        close(window)

    data = json.loads(saved.read_text())
    assert data["views"]["tab"] == "CohoSpace" and data["views"]["unit_index"] == 5
    assert data["views"]["page"] == "Views"
    assert data["cache"]["folder"] == str(home / "cache" / "canns-gui" / "results")
    assert set(data["cache"]["keys"]) == {"preprocess", "significance", "decoding"}
    assert all(f"{k}.npz" in {p.name for p in DiskCache(data["cache"]["folder"]).folder.iterdir()}
               for k in data["cache"]["keys"].values())  # fmt: skip

    fresh = new_window(qtbot)
    try:
        fresh.open_project(saved)
        page = fresh.views_page
        qtbot.waitUntil(lambda: page.data is not None and not fresh.busy, timeout=300000)
        QApplication.processEvents()
        assert fresh.session.analysis.computed == []  # every stage read from the disk cache
        assert fresh.session.cache.disk_hits >= 3
        assert "all read from the cache" in fresh.log.toPlainText()
        assert fresh.stack.currentWidget() is page
        assert page.tabs.currentWidget() is page.tab("CohoSpace")
        assert page.selection.index == 5 and str(page.data.unit_ids[5]) == unit_id
        space = page.tab("CohoSpace")
        assert space.browser.sort.currentText() == "peak rate"
        assert space.browser.combo.currentData() == 5
        assert page.settings().grid_scores.n_shuffles == N_SHUFFLES
        assert page.data.views["gridscore"].config.n_shuffles == N_SHUFFLES
        assert page.tab("FR").sort.currentText() == "recording order"
        assert page.tab("CohoMap").mode.currentText() == "cos θ"
        path_tab = page.tab("PathCompare")
        assert path_tab.window_s.value() == pytest.approx(12.0)
        page.tabs.setCurrentWidget(path_tab)
        qtbot.waitUntil(lambda: path_tab.isVisible() and not path_tab.dirty, timeout=5000)
        assert path_tab.current_time() == pytest.approx(saved_time, abs=0.05)
        assert fresh.pages[2].verdict.text() == window.pages[2].verdict.text()
    finally:
        close(fresh)
