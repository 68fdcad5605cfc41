"""The Views page, offscreen: every view drawn from a small grid module, linked unit selection, export of one
view and of the whole report, and plain-word messages for views a recording cannot give."""

import dataclasses
import json

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication

from canns_gui.session import Loaded
from core import synthetic
from core.cache import StageCache

N_SHUFFLES = 12  # grid-score shuffles in these tests (the default 100 is for real data)


@pytest.fixture(scope="module")
def cache():
    """One stage cache for the module: later tests reuse the TDA of earlier ones."""
    return StageCache(max_items=32)


@pytest.fixture(scope="module")
def grid_recording():
    return synthetic.grid_module(n_units=49, duration_s=300.0, seed=0)


@pytest.fixture(scope="module")
def ring_recording():
    """Head-direction cells with head direction but no position (as a head-fixed or HD-only recording)."""
    rec = synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=3)
    return dataclasses.replace(rec, x=None, y=None)


def run_to_views(qtbot, window, recording, cache, preset="grid"):
    """Load ``recording``, run Preprocess, TDA and Decode, then open the Views page (which computes)."""
    window.session.cache = cache
    window.session.set_loaded(Loaded(recording, [], "test recording"))
    preprocess = window.pages[1]
    preprocess.preset.setCurrentText(preset)
    preprocess.apply_preset()
    page = window.views_page
    page.forms["grid_scores"].fields["n_shuffles"].editor.setValue(N_SHUFFLES)
    for stage_page in window.pages[1:4]:
        window.steps.setCurrentRow(window.pages.index(stage_page))
        stage_page.start()
        wait_idle(qtbot, window)
    window.steps.setCurrentRow(window.pages.index(page))  # showing the page starts "Compute views"
    qtbot.waitUntil(lambda: page.data is not None and not window.busy, timeout=300000)
    QApplication.processEvents()
    return page


def show(qtbot, page, title):
    tab = page.tab(title)
    page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.isVisible() and not tab.dirty, timeout=5000)
    return tab


def test_views_page_before_any_analysis_says_what_to_run(window):
    page = window.views_page
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Barcode", "CohoMap", "CohoSpace", "PathCompare", "FR", "FRM", "GridScore"
    ]  # fmt: skip
    for tab in page.view_tabs:
        assert not tab.has_content
        assert "Compute views" in tab.message.text()
        assert not tab.export_button.isEnabled()
    assert page.compute_views() is False  # no recording: nothing starts
    assert "Load a recording" in page.banner.text()


@pytest.mark.slow
def test_every_view_of_a_grid_module_is_drawn_with_units(qtbot, window, grid_recording, cache):
    page = run_to_views(qtbot, window, grid_recording, cache)
    assert "views: started" in window.log.toPlainText()  # computed by a task on the worker
    assert all(tab.has_content for tab in page.view_tabs), {t.title: t.message.text() for t in page.view_tabs}
    assert page.data.views["gridscore"].config.n_shuffles == N_SHUFFLES  # the settings form was used

    barcode = show(qtbot, page, "Barcode")
    assert "torus" in barcode.verdict.text()
    assert "H1 bar" in barcode.describe(0.5 * barcode.rows[0]["death"], barcode.rows[0]["row"])

    cohomap = show(qtbot, page, "CohoMap")
    assert len([p for p in cohomap.plots if p.isVisible()]) == 2
    assert all(img.image is not None and img.image.ndim == 2 for img in cohomap.images)
    assert "spacing" in cohomap.summary.text() and "cm" in cohomap.summary.text()
    view = page.data.views["cohomap"]
    x, y = view.x_edges.mean(), view.y_edges.mean()
    text = cohomap.describe(0, x, y)
    assert "cm" in text and "θ1" in text and "rad" in text
    assert cohomap.plots[0].getPlotItem().getAxis("bottom").labelText == "x (cm)"

    cohospace = show(qtbot, page, "CohoSpace")
    assert cohospace.image.image is not None
    assert "concentration" in cohospace.info.text()
    assert "rad" in cohospace.describe(1.0, 1.0)

    path = show(qtbot, page, "PathCompare")
    assert path.slider.maximum() > 0
    path.slider.setValue(path.slider.maximum() // 2)
    assert len(path.dec_trail.xData) > 10 and len(path.phys_trail.xData) > 10
    assert "cm" in path.readout.text() and "rad" in path.readout.text()
    path.play_button.setChecked(True)
    before = path.slider.value()
    qtbot.waitUntil(lambda: path.slider.value() > before, timeout=5000)
    page.tabs.setCurrentWidget(page.tab("FR"))  # hiding the tab stops playing
    assert not path.timer.isActive() and not path.play_button.isChecked()

    fr = show(qtbot, page, "FR")
    assert fr.image.image.shape[0] == 49
    assert "preferred θ1" in fr.plot.getPlotItem().getAxis("left").labelText
    assert "Hz" in fr.describe(float(page.data.views["fr"].t[5]), 3.0)

    frm = show(qtbot, page, "FRM")
    assert frm.image.image is not None and np.isfinite(frm.image.image).any()
    assert "bit/spike" in frm.info.text()
    assert "Hz" in frm.describe_map(x, y)

    grid = show(qtbot, page, "GridScore")
    assert "spacing" in grid.info.text() and "cm" in grid.info.text()
    assert "grid cells" in grid.summary.text()
    assert grid.ac_image.image is not None and grid.map_image.image is not None
    assert "lag x" in grid.describe_ac(10.0, 5.0)


@pytest.mark.slow
def test_choosing_a_unit_in_gridscore_selects_it_in_frm_and_cohospace(qtbot, window, grid_recording, cache):
    page = run_to_views(qtbot, window, grid_recording, cache)
    grid = show(qtbot, page, "GridScore")
    ids = page.data.unit_ids
    k = 17
    grid.browser.combo.setCurrentIndex(grid.browser.combo.findData(k))  # as a user picks it in the list
    assert page.selection.index == k
    assert f"unit {ids[k]}:" in grid.info.text()
    frm = show(qtbot, page, "FRM")
    assert frm.browser.combo.currentData() == k
    assert frm.info.text().startswith(f"unit {ids[k]};")
    np.testing.assert_array_equal(frm.image.image, page.data.views["frm"].maps.maps[k].astype(np.float32))
    cohospace = show(qtbot, page, "CohoSpace")
    assert cohospace.browser.combo.currentData() == k
    assert cohospace.info.text().startswith(f"unit {ids[k]}:")
    # ▶ steps through GridScore's order (by gridness), and the others follow
    grid = show(qtbot, page, "GridScore")
    grid.browser.next_button.click()
    nxt = int(grid.browser.order[(int(np.flatnonzero(grid.browser.order == k)[0]) + 1) % len(ids)])
    assert page.selection.index == nxt != k
    assert cohospace.browser.combo.currentData() == nxt

    # clicking a unit in the spacing plot selects it too
    class Point:
        def data(self):
            return 3

    grid._clicked(None, [Point()])
    assert page.selection.index == 3 and frm.browser.combo.currentData() == 3


@pytest.mark.slow
def test_export_one_view_and_export_all(qtbot, window, grid_recording, cache, tmp_path):
    page = run_to_views(qtbot, window, grid_recording, cache)
    cohomap = show(qtbot, page, "CohoMap")
    assert cohomap.export_to(tmp_path / "one")
    wait_idle(qtbot, window)
    names = {p.name for p in (tmp_path / "one").iterdir()}
    assert {f"cohomap.{ext}" for ext in ("png", "svg", "pdf", "npz", "csv", "json")} <= names
    record = json.loads((tmp_path / "one" / "cohomap.json").read_text())
    assert record["view"] == "cohomap" and "sha256" in record["input"]
    assert record["parameters"]["analysis"]["preprocess"]["dt_s"] > 0 and "views" in record["parameters"]
    assert "cohomap exported" in window.log.toPlainText().lower()

    grid = show(qtbot, page, "GridScore")
    grid.browser.select(5)
    assert grid.export_to(tmp_path / "grid")
    wait_idle(qtbot, window)
    uid = page.data.unit_ids[5]
    names = {p.name for p in (tmp_path / "grid").iterdir()}
    assert {
        "gridscores.csv",
        "gridscores.png",
        f"gridscore_unit_{uid}.pdf",
        f"gridscore_unit_{uid}.npz",
    } <= names

    assert page.export_all(tmp_path / "report")
    wait_idle(qtbot, window)
    report = tmp_path / "report"
    for name in ("gridscores.csv", "summary.json", "barcode.png", "decoding.npz", "cohomap.svg", "frm.png"):
        assert (report / name).is_file(), name
    rows = (report / "gridscores.csv").read_text().splitlines()
    assert rows[0].startswith("unit,gridness") and len(rows) == 1 + 49
    assert "views" in json.loads((report / "summary.json").read_text())


@pytest.mark.slow
def test_a_head_direction_recording_says_gridscore_needs_position(qtbot, window, ring_recording, cache):
    page = run_to_views(qtbot, window, ring_recording, cache, preset="hd")
    grid = show(qtbot, page, "GridScore")
    assert not grid.has_content and grid.isVisible()
    assert "needs position" in grid.message.text()
    assert "needs position" in page.tab("CohoMap").message.text()
    frm = show(qtbot, page, "FRM")  # head direction: tuning curves instead of rate maps
    assert frm.has_content and frm.tuning_plot.isVisible() and not frm.map_plot.isVisible()
    assert "preferred direction" in frm.info.text()
    path = show(qtbot, page, "PathCompare")  # ring angle against head direction over time
    assert path.has_content and not path.phys_plot.isVisible()
    assert len(path.hd_trail.xData) > 10
    assert show(qtbot, page, "CohoSpace").has_content
    assert show(qtbot, page, "Barcode").has_content
    assert "ring" in page.tab("Barcode").verdict.text()


@pytest.mark.slow
def test_cancelling_compute_views_keeps_the_shown_views(qtbot, window, grid_recording, cache):
    page = run_to_views(qtbot, window, grid_recording, cache)
    before = page.data
    page.forms["grid_scores"].fields["n_shuffles"].editor.setValue(5000)
    assert "Compute views" in page.banner.text()  # the settings changed: the views are stale
    assert page.compute_views()
    qtbot.waitUntil(lambda: window.progress.value() > 300, timeout=60000)  # in the shuffles
    window.cancel()
    wait_idle(qtbot, window, timeout_s=60)
    assert "cancelled" in window.log.toPlainText()
    assert page.data is before and all(tab.has_content for tab in page.view_tabs)
    assert "not computed" in page.status.text()
    window.steps.setCurrentRow(0)
    window.steps.setCurrentRow(window.pages.index(page))  # showing the page again does not restart it
    QApplication.processEvents()
    assert not window.busy
