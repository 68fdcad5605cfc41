"""One registration reaches every place a view is listed: the CLI's --views (help and parsing), the report
folder (files and summary.json), the GUI's tabs, its settings panel and "Export all" (with the user's
settings). The view registered here lives in tests/throwaway_view.py and tests/throwaway_tab.py."""

from __future__ import annotations

import dataclasses
import json

import pytest
import throwaway_view
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication

from core import synthetic
from core.cli import build_parser, main
from core.errors import ConfigError
from core.export_report import export_views, parse_views
from core.pipeline import AnalysisConfig, run_analysis
from core.views.registry import SETTINGS, VIEWS, ViewSettings, register, unregister, view_names


@pytest.fixture
def throwaway():
    view, setting = throwaway_view.spec(tab="throwaway_tab:MeanRateTab")
    register(view, setting)
    yield view
    unregister(view.key)
    assert view.key not in VIEWS and view.key not in SETTINGS


@pytest.fixture(scope="module")
def ring_analysis():
    rec = synthetic.head_direction_cells(n_units=16, duration_s=120.0, seed=3)
    rec = dataclasses.replace(rec, x=None, y=None)  # head direction only
    return rec, run_analysis(rec, AnalysisConfig.from_preset("hd"))


def test_the_cli_lists_and_parses_a_registered_view(throwaway, ring_analysis, tmp_path):
    help_text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    assert "meanrate" in help_text.replace("\n", "")
    assert view_names("meanrate,fr") == ["meanrate", "fr"]
    with pytest.raises(ConfigError, match="unknown view"):
        view_names("meanrat")
    rec, result = ring_analysis
    assert "meanrate" in parse_views("all", result)
    assert parse_views("meanrate", result) == ["barcode", "meanrate"]  # the barcode is always written
    code = main(["demo", "--minutes", "1", "--views", "meanrate", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert (tmp_path / "meanrate.png").exists() and (tmp_path / "barcode.png").exists()
    assert not (tmp_path / "cohomap.png").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["views"]["meanrate"]["scale"] == 1.0


def test_the_report_writes_a_registered_view_with_the_given_settings(throwaway, ring_analysis, tmp_path):
    rec, result = ring_analysis
    settings = ViewSettings(meanrate=throwaway_view.MeanRateConfig(scale=3.0))
    paths, metrics = export_views(rec, result, tmp_path, ["barcode", "meanrate"], settings=settings)
    assert {p.name for p in paths} >= {"meanrate.png", "meanrate.npz", "meanrate.json", "barcode.csv"}
    assert metrics["meanrate"]["scale"] == 3.0
    record = json.loads((tmp_path / "meanrate.json").read_text())
    assert record["view"] == "meanrate" and record["parameters"]["views"]["meanrate"]["scale"] == 3.0


def test_a_view_the_data_cannot_support_is_refused_with_its_reason(ring_analysis):
    rec, result = ring_analysis
    with pytest.raises(ConfigError, match="GridScore needs position"):
        parse_views("gridscore", result)
    assert "gridscore" not in parse_views("all", result)


def test_the_gui_shows_a_registered_view_and_exports_it_with_the_users_settings(
    throwaway, ring_analysis, qtbot, tmp_path
):
    from canns_gui.main_window import MainWindow
    from canns_gui.session import Loaded

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    try:
        page = window.views_page
        assert "MeanRate" in [page.tabs.tabText(i) for i in range(page.tabs.count())]
        assert "meanrate" in page.forms  # its settings group is in the settings panel
        page.forms["meanrate"].fields["scale"].editor.setValue(2.0)

        rec, _ = ring_analysis
        window.session.set_loaded(Loaded(rec, [], "test recording"))
        preprocess = window.pages[1]
        preprocess.preset.setCurrentText("hd")
        preprocess.apply_preset()
        for stage_page in window.pages[1:4]:
            window.steps.setCurrentRow(window.pages.index(stage_page))
            stage_page.start()
            wait_idle(qtbot, window)
        window.steps.setCurrentRow(window.pages.index(page))
        qtbot.waitUntil(lambda: page.data is not None and not window.busy, timeout=300000)
        QApplication.processEvents()
        tab = page.tab("MeanRate")
        page.tabs.setCurrentWidget(tab)
        qtbot.waitUntil(lambda: "× 2" in tab.label.text(), timeout=5000)

        assert page.export_all(tmp_path)
        wait_idle(qtbot, window)
        summary = json.loads((tmp_path / "summary.json").read_text())
        assert summary["views"]["meanrate"]["scale"] == 2.0  # as computed and shown, not the default
        assert (tmp_path / "meanrate.png").exists() and (tmp_path / "barcode.png").exists()
    finally:
        if window.busy:
            window.runner.cancel()
            window.runner.wait(60)
