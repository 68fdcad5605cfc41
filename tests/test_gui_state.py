"""What the stage pages show belongs to the current recording and parameters; the GUI starts at the CLI's
``auto`` preset and resolves it per recording as the CLI does; the verdict in words with its next steps,
which run with one click; a decoded ring that does not follow head direction is flagged."""

import os
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from gui_helpers import wait_idle
from PySide6.QtWidgets import QApplication

from canns_gui.session import Loaded
from core import synthetic
from core.cli import build_parser, config_from_args
from core.guidance import SHUFFLES
from core.pipeline import AnalysisConfig, resolve_preset
from core.recording import Recording


@pytest.fixture(scope="module")
def ring_a():
    return synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=3)


@pytest.fixture(scope="module")
def noise_b():
    """No shared structure: the verdict is 'none'."""
    return synthetic.independent_units(n_units=12, duration_s=120.0, seed=1)


def load(window, recording, label):
    window.session.set_loaded(Loaded(recording, [], label))
    QApplication.processEvents()


def run(qtbot, window, page):
    window.steps.setCurrentRow(window.pages.index(page))
    page.start()
    wait_idle(qtbot, window)


def shot(widget, tmp_path, name: str) -> None:
    """Save what ``widget`` shows (into $GUI_SHOTS when set, to look at; else the test's folder)."""
    folder = Path(os.environ.get("GUI_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(folder / name))


def items(plot) -> list:
    return plot.getPlotItem().listDataItems()


def test_the_gui_starts_at_auto_and_resolves_it_as_the_cli(window):
    session = window.session
    assert session.config == AnalysisConfig.from_preset("auto")
    assert window.pages[1].preset.currentText() == "auto"
    rec = synthetic.head_direction_cells(n_units=19, duration_s=300.0, seed=2)
    load(window, rec, "hd19")
    cli = resolve_preset(config_from_args(build_parser().parse_args(["run", "hd19.npz"])), rec)
    assert session.config == cli
    assert session.config.preset.startswith("auto (19 units")
    assert session.config.preprocess.speed_min_cm_s is None  # a small head-direction ensemble
    assert "preset auto: settings chosen for 19 units" in window.pages[1].status.text()
    # a value typed in the GUI is what --set is to the CLI: kept, and the rest resolved around it
    window.pages[1].forms["preprocess"].fields["dt_s"].editor.setValue(0.02)
    other = synthetic.head_direction_cells(n_units=30, duration_s=200.0, seed=4)
    load(window, other, "hd30")
    args = build_parser().parse_args(["run", "hd30.npz", "--set", "preprocess.dt_s=0.02"])
    cli = resolve_preset(config_from_args(args), other)
    assert session.config == replace(cli, pinned=())
    assert session.config.preprocess.dt_s == 0.02
    assert session.config.preset.startswith("auto (30 units")
    for section, form in session.forms.items():  # the forms show the session's parameters
        shown, held = asdict(form.config()), asdict(getattr(session.config, section))
        for name, value in held.items():  # a spin box holds 12 decimals
            close = isinstance(value, float) and shown[name] == pytest.approx(value, rel=1e-9)
            assert close or shown[name] == value, f"{section}.{name}"


@pytest.mark.slow
def test_a_new_recording_clears_every_page(qtbot, window, ring_a, noise_b, tmp_path):
    preprocess, tda, decode, views = window.pages[1:5]
    load(window, ring_a, "ring A")
    for page in (preprocess, tda, decode):
        assert not page.placeholder.isHidden() and "ring A" in page.placeholder.text()
        run(qtbot, window, page)
        assert page.placeholder.isHidden()
    window.steps.setCurrentRow(window.pages.index(views))  # showing the page computes the views
    qtbot.waitUntil(lambda: views.data is not None and not window.busy, timeout=300000)
    QApplication.processEvents()
    assert preprocess.image.image is not None
    assert tda.verdict.text().startswith("Ring: one significant loop")
    assert items(tda.barcode_plot) and items(decode.phase_plot)
    assert "circle(s) decoded" in decode.metrics.text()
    assert any(tab.has_content for tab in views.view_tabs)
    window.steps.setCurrentRow(window.pages.index(tda))
    qtbot.waitUntil(lambda: bool(items(tda.cloud_plot)), timeout=10000)
    shot(window, tmp_path, "a_tda.png")

    load(window, noise_b, "noise B")
    QApplication.processEvents()
    assert window.session.results == {}
    assert preprocess.image.image is None
    assert tda.verdict.text() == "" and tda.test_note.text() == ""
    assert not items(tda.barcode_plot) and not items(tda.cloud_plot) and tda.steps_box.isHidden()
    assert decode.metrics.text() == "" and not items(decode.phase_plot) and decode.warning.isHidden()
    for page, run_label in (
        (preprocess, "Compute rate matrix"),
        (tda, "Compute barcode"),
        (decode, "Decode"),
    ):
        assert not page.placeholder.isHidden()
        assert "noise B" in page.placeholder.text() and run_label in page.placeholder.text()
        assert page.banner.isHidden()  # nothing shown, so nothing stale
    for tab in views.view_tabs:
        assert not tab.has_content and "Compute views" in tab.message.text()
    assert views.banner.isHidden()
    shot(window, tmp_path, "b_tda.png")
    # results of B, then a parameter change: the stale banner, not a silent mismatch
    run(qtbot, window, tda)
    assert tda.verdict.text().startswith("No ring or torus")
    tda.forms["point_cloud"].fields["n_points"].editor.setValue(500)
    assert not tda.banner.isHidden() and "Compute barcode" in tda.banner.text()


def test_a_result_of_the_previous_recording_is_dropped(qtbot, window, ring_a, noise_b):
    """A stage still running when another recording is loaded does not show its result for the new one."""
    tda = window.pages[2]
    load(window, noise_b, "noise B")
    tda.start()
    load(window, ring_a, "ring A")  # loaded while the TDA of B runs (a test shortcut: no load task)
    wait_idle(qtbot, window)
    assert "significance" not in window.session.results
    assert tda.verdict.text() == "" and not tda.placeholder.isHidden()
    assert "result of the previous recording dropped" in window.log.toPlainText()


@pytest.mark.slow
def test_none_suggests_next_steps_that_rerun_with_their_parameters(qtbot, window, noise_b, tmp_path):
    tda = window.pages[2]
    load(window, noise_b, "noise B")
    run(qtbot, window, tda)
    assert tda.verdict.text().startswith("No ring or torus: no loop stands out from the noise (gap test")
    assert "p = " in tda.verdict.text()
    assert not tda.steps_box.isHidden()
    labels = [b.text() for b in tda.step_buttons]
    assert labels == [
        "Try the hd preset",
        "Try the grid preset",
        f"Run the shuffle test ({SHUFFLES} shuffles)",
    ]
    tda.resize(1100, 800)
    shot(tda, tmp_path, "tda_none_steps.png")

    tda.step_button("Try the hd preset").click()
    wait_idle(qtbot, window)
    session = window.session
    assert session.config.preset == "hd" and window.pages[1].preset.currentText() == "hd"
    hd = AnalysisConfig.from_preset("hd")
    assert session.config.preprocess == hd.preprocess and session.config.point_cloud == hd.point_cloud
    key, shown = session.results["significance"]
    assert key == session.key("significance")  # the rerun used the suggested parameters
    assert shown.cloud.config == hd.point_cloud
    assert tda.banner.isHidden()
    assert "Try the hd preset" not in [
        b.text() for b in tda.step_buttons
    ]  # the current preset is not offered

    tda.step_button(f"Run the shuffle test ({SHUFFLES} shuffles)").click()
    assert session.config.significance.n_shuffles == SHUFFLES
    assert tda.forms["significance"].fields["n_shuffles"].editor.value() == SHUFFLES
    wait_idle(qtbot, window, timeout_s=600)
    key, shown = session.results["significance"]
    assert key == session.key("significance")
    assert (
        shown.significance.method == "shuffle test" and len(shown.significance.null_maxima["h1"]) == SHUFFLES
    )
    assert "shuffle test" in tda.test_note.text()


@pytest.mark.slow
def test_a_ring_that_does_not_follow_the_recorded_head_direction_is_flagged(qtbot, window, ring_a, tmp_path):
    _, unrelated = synthetic.head_direction_walk(240.0, seed=11)
    rec = Recording(
        ring_a.unit_ids, ring_a.spike_times, ring_a.t, ring_a.x, ring_a.y, unrelated[: ring_a.t.size]
    )
    decode = window.pages[3]
    load(window, rec, "ring, other head direction")
    run(qtbot, window, decode)
    dec = window.session.result("decoding")
    rho = dec.metrics["head_direction"]["circular_correlation"]
    assert rho < 0.5
    assert not decode.warning.isHidden()
    assert (
        f"ρ = {rho:.2f}" in decode.warning.text()
        and "may not be the head-direction ring" in decode.warning.text()
    )
    decode.resize(1100, 700)
    shot(decode, tmp_path, "decode_warning.png")
    load(window, ring_a, "ring A")  # the real head direction: no warning
    run(qtbot, window, decode)
    assert window.session.result("decoding").metrics["head_direction"]["circular_correlation"] > 0.5
    assert decode.warning.isHidden()
