"""Project files keep the cache folder, the stage result keys and the Views page state; reopening restores
the tab, the unit and the per-view controls, reading the results from the disk cache (no recomputation).
Settings: the cache folder defaults to the user cache dir and the dialog shows and clears its size."""

import json

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication, QMessageBox

from canns_gui.main_window import MainWindow
from canns_gui.project import load_project, read_project, save_project
from canns_gui.settings import Settings, SettingsDialog
from core import synthetic
from core.cache import DiskCache
from core.errors import AsaError, RecordingError
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
    # stages and result keys this version does not know are ignored (files of other versions open)
    old.update(stages_run=["preprocess", "someday"], cache={"keys": {"someday": "x"}})
    path.write_text(json.dumps(old))
    assert read_project(path).stages == ["preprocess"] and read_project(path).cache_keys == {}


BASE = {"format": "canns-gui project", "input": {"path": "rec.npz", "sha256": ""}, "stages_run": []}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cache": ["x"]}, r"cache must be a table"),
        ({"views": "tab"}, r"views must be a table"),
        ({"cache": {"folder": 3}}, r"cache\.folder must be text, got 3"),
        ({"cache": {"keys": {"preprocess": "../../etc"}}}, r"cache\.keys\.preprocess must be a result key"),
        ({"cache": {"folder": "a\x00b"}}, r"cache\.folder must be a file path .*no NUL"),
        ({"input": "rec.npz"}, r"input must be a table"),
        ({"input": {"path": ["a"]}}, r"input\.path must be text"),
        ({"input": {"path": "r", "sha256": "zz"}}, r"input\.sha256 must be a sha256 digest"),
        ({"stages_run": "preprocess"}, r"stages_run must be a list"),
        ({"stages_run": [None]}, r"stages_run\[0\] must be the name of a stage"),
        ({"parameters": []}, r"parameters must be a table"),
        ({"parameters": {"preprocess": {"dt_s": "fast"}}}, r"parameters\.preprocess\.dt_s must be a number"),
        ({"parameters": {"preprocess": {"dt_s": 1e-7}}},
         r"parameters\.preprocess\.dt_s must be in \[0\.0001, 1\] s"),
        ({"parameters": {"persistence": {"coeff": 2**61 - 1}}}, r"persistence\.coeff must be in \[2, 997\]"),
        ({"parameters": {"persistence": {"coeff": 2**89 - 1}}}, r"persistence\.coeff is 6189\d+, too large"),
        ({"views": {"unit_index": -1}}, r"views\.unit_index must be a whole number"),
        ({"views": {"tabs": {"pathcompare": {"time_s": 1e300}}}}, r"time_s must be a number within"),
        ({"views": {"tabs": {"fr": {"circle": 2**40}}}}, r"views\.tabs\.fr\.circle must be a whole number"),
        ({"views": {"settings": {"grid_scores": {"n_shuffles": -3}}}},
         r"views\.settings\.grid_scores\.n_shuffles"),
    ],
)  # fmt: skip
def test_a_malformed_project_is_one_message_naming_the_file_and_field(tmp_path, changes, message):
    path = tmp_path / "bad.canns.json"
    path.write_text(json.dumps({**BASE, **changes}))
    with pytest.raises(AsaError, match=message) as refused:
        read_project(path)
    assert str(refused.value).startswith("bad.canns.json: ")


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"format": "canns-gui project", "parameters": {"preprocess": {"sigma_s": NaN}}}',
         r"parameters\.preprocess\.sigma_s is nan, not a finite number"),
        ('{"format": "canns-gui project", "views": {"tabs": {"x": {"t": -Infinity}}}}',
         r"views\.tabs\.x\.t is -inf"),
        ('{"format": "canns-gui project", "views": {"unit_index": 1e999}}', r"views\.unit_index is inf"),
        ('{"format": "canns-gui project", "x": ' + "9" * 5000 + "}", r"a number thousands of digits long"),
        ('{"format": "canns-gui project", "views": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}",
         r"nested 50002 levels deep, more than a project file may be \(32\)"),
        ("[1, 2]", r"not a canns-gui project file"),
        ('{"format": "something else"}', r"not a canns-gui project file"),
        ("{", r"not a readable project file"),
    ],
    ids=["nan", "minus-infinity", "overflow", "huge-int", "deep", "list", "other-format", "truncated"],
)  # fmt: skip
def test_numbers_and_nesting_a_project_cannot_hold(tmp_path, text, message):
    path = tmp_path / "bad.canns.json"
    path.write_text(text)
    with pytest.raises(AsaError, match=message):
        read_project(path)


def test_a_huge_or_binary_project_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.canns.json"
    with open(path, "wb") as fh:
        fh.write(b'{"format": "canns-gui project", "views": {"pad": "')
        fh.truncate(50 * 1024**2)  # 50 MB (sparse)
    with pytest.raises(RecordingError, match=r"50\.0 MiB is too large for a project file \(at most 4 MiB\)"):
        read_project(path)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(RecordingError, match="not UTF-8"):
        read_project(path)
    with pytest.raises(RecordingError, match="cannot read the project file"):
        read_project(tmp_path / "missing.canns.json")


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


def test_a_bad_project_is_one_dialog_and_keeps_what_was_loaded(qtbot, home, ring_file):
    from canns_gui.session import Loaded

    window = new_window(qtbot)
    try:
        rec = synthetic.head_direction_cells(n_units=8, duration_s=60.0, seed=1)
        window.session.set_loaded(Loaded(rec, [], "before", "before.npz"))
        config, cache_folder = window.session.config, window.session.cache_folder
        bad = home / "bad.canns.json"
        foreign_cache = home / "their-cache"
        foreign_cache.mkdir()
        bad.write_text(
            json.dumps(
                {
                    **BASE,
                    "input": {"path": ring_file, "sha256": ""},
                    "parameters": {"persistence": {"coeff": 2**61 - 1}},
                    "cache": {"folder": str(foreign_cache)},
                }
            )
        )
        window.open_project(bad)
        box = window.findChild(QMessageBox, "error_dialog")
        assert box is not None and box.isVisible()
        assert "bad.canns.json: parameters.persistence.coeff must be in [2, 997]" in box.text()
        assert not window.busy  # nothing started
        assert window.session.recording is rec and window.session.config == config
        assert window.session.cache_folder == cache_folder and window.session.cache.disk.read_also == ()
        assert "open project failed" in window.log.toPlainText()
    finally:
        close(window)


def test_a_project_shipping_another_users_cache_is_recomputed(qtbot, home, ring_file):
    """Results in a project's cache folder signed by someone else are misses: recomputed, never copied."""
    from core.io import load_recording
    from core.pipeline import StagedAnalysis

    config = AnalysisConfig.from_preset("hd")
    theirs = home / "their-cache"
    rec = load_recording(ring_file).recording
    other = StagedAnalysis(rec)
    other.cache.disk = DiskCache(theirs, secret=bytes(range(32)))  # another user's key
    other.rates(config)
    shipped = {p.name: p.read_bytes() for p in theirs.iterdir()}
    key = other.key("preprocess", config)
    path = save_project(
        home / "theirs.canns.json", ring_file, rec.sha256, config, ["preprocess"],
        cache_folder=theirs, cache_keys={"preprocess": key},
    )  # fmt: skip
    window = new_window(qtbot)
    try:
        window.open_project(path)
        qtbot.waitUntil(
            lambda: window.session.result("preprocess") is not None and not window.busy, timeout=120000
        )
        wait_idle(qtbot, window)
        assert window.session.analysis.computed == ["preprocess"]
        assert window.session.cache.disk.rejected == 1  # their entry was looked at, and refused
        assert "recomputed preprocess" in window.log.toPlainText()
        assert {p.name: p.read_bytes() for p in theirs.iterdir()} == shipped  # their folder as it was
        mine = DiskCache(window.session.cache_folder)
        assert mine.get(key) is not None  # the user's own result, signed by them
    finally:
        close(window)
