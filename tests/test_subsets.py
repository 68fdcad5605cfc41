"""Unit subsets: the unit table, the query language (parsed, never evaluated), the subset recording, the
CLI's --units / --module / --query, and the GUI's Units dialog analysing one module of a two-module session
as a named analysis beside the full one (kept in the project file)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication

from core import synthetic
from core.cli import main
from core.errors import ConfigError
from core.io import save_recording_npz
from core.recording import Recording
from core.subsets import by_ids, check_query, select, subset, unit_table


def two_modules(duration_s: float = 900.0) -> Recording:
    """Two grid modules (40 and 75 cm spacing) recorded together: one trajectory, 49 + 49 units (each alone
    is a torus; together they are not one)."""
    a = synthetic.grid_module(n_units=49, duration_s=duration_s, spacing_cm=40.0, seed=0)
    b = synthetic.grid_module(n_units=49, duration_s=duration_s, spacing_cm=75.0, orientation_rad=0.1, seed=0)
    return dataclasses.replace(
        a, unit_ids=[f"a{u}" for u in a.unit_ids] + [f"b{u}" for u in b.unit_ids],
        spike_times=a.spike_times + b.spike_times, metadata={"generator": "two modules"},
    )  # fmt: skip


def test_queries_select_rows_and_refuse_what_they_cannot_read():
    table = [
        {"unit": i, "rate_hz": r, "module": m} for i, (r, m) in enumerate([(1, 0), (3, 1), (5, 1), (0.2, -1)])
    ]
    assert select(table, "module == 1") == [1, 2]
    assert select(table, "module == 1 and rate_hz > 4 or rate_hz < 0.5") == [2, 3]
    for bad in ("module = 1", "__import__('os').system('x') == 1", "module == one", "nope > 1"):
        with pytest.raises(ConfigError):
            select(table, bad)
    with pytest.raises(ConfigError, match="no column"):
        check_query("speed > 3")


def test_a_subset_keeps_its_units_and_tracking():
    rec = two_modules(60.0)
    part = subset(rec, by_ids(rec, ["b0", "b1", "b2"]), "three")
    assert part.unit_ids == ["b0", "b1", "b2"] and part.metadata["subset"]["name"] == "three"
    np.testing.assert_array_equal(part.spike_times[1], rec.spike_times[50])
    assert part.x is rec.x
    with pytest.raises(ConfigError, match="no unit zz"):
        by_ids(rec, ["zz"])
    rows = unit_table(rec)
    assert len(rows) == 98 and {"unit", "rate_hz", "spikes"} <= rows[0].keys()


@pytest.mark.slow
def test_the_cli_analyses_one_module_of_two(tmp_path):
    path = tmp_path / "two.npz"
    save_recording_npz(two_modules(), path)
    out = tmp_path / "m1"
    assert main(["run", str(path), "--module", "1", "--views", "none", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "torus"
    assert "49 units" in summary["input"]["description"]
    assert main(["run", str(path), "--units", "a0,a1,zz", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert main(["run", str(path), "--query", "speed > 1", "--out", str(tmp_path / "y"), "--quiet"]) == 2


@pytest.mark.slow
def test_the_units_dialog_analyses_a_module_beside_the_full_recording(qtbot, window, tmp_path):
    from canns_gui.main_window import FULL
    from canns_gui.session import Loaded

    rec = two_modules()
    window.analyses = {FULL: Loaded(rec, [], "two modules")}
    window.session.set_loaded(window.analyses[FULL])
    page = window.views_page
    page.forms["grid_scores"].fields["n_shuffles"].editor.setValue(20)
    window.run_all()
    qtbot.waitUntil(lambda: page.data is not None and not window.busy, timeout=600000)
    page.units_button.click()
    dialog = page.units_dialog
    assert dialog.table.rowCount() == 98 and "module" in [
        dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())
    ]
    qtbot.keyClicks(dialog.query, "module == 1")
    chosen = dialog.selected()
    assert 30 <= len(chosen) <= 49 and all(rec.unit_ids[i].startswith("b") for i in chosen)
    dialog.name.setText("module 1")
    dialog.run_button.click()
    qtbot.waitUntil(lambda: window.session.loaded is window.analyses.get("module 1"), timeout=5000)
    qtbot.waitUntil(lambda: page.data is not None and not window.busy, timeout=600000)
    wait_idle(qtbot, window)
    assert window.session.recording.n_units == len(chosen)
    assert window.session.result("significance").significance.verdict == "torus"
    assert [page.analysis_box.itemText(i) for i in range(page.analysis_box.count())] == [FULL, "module 1"]
    saved = window.save_project(tmp_path / "p.canns.json")
    assert json.loads(saved.read_text())["views"]["subsets"]["module 1"] == [rec.unit_ids[i] for i in chosen]
    window.switch_analysis(FULL)
    QApplication.processEvents()
    assert window.session.recording is rec
