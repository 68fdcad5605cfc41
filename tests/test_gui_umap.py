"""TDA page, offscreen: the point-cloud view switches from PCA to a UMAP computed on the worker."""

import numpy as np
import pytest
from gui_helpers import wait_idle

from canns_gui.session import Loaded
from core import synthetic


def scatter_points(page) -> np.ndarray:
    items = page.cloud_plot.getPlotItem().listDataItems()
    assert len(items) == 1
    x, y = items[0].getData()
    return np.column_stack([x, y])


@pytest.mark.slow  # a TDA run and the first UMAP fit of the process (numba compiles, up to ~1 min)
def test_tda_page_switches_the_point_cloud_view_to_umap_and_back(qtbot, window):
    recording = synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=3)
    window.session.set_loaded(Loaded(recording, [], "ring"))
    preprocess, tda, decode = window.pages[1], window.pages[2], window.pages[3]
    preprocess.preset.setCurrentText("hd")
    preprocess.apply_preset()
    tda.forms["point_cloud"].fields["n_points"].editor.setValue(400)
    window.steps.setCurrentRow(2)
    for page in (preprocess, tda):
        page.start()
        wait_idle(qtbot, window)
    assert "ring" in tda.verdict.text()
    pca = scatter_points(tda)
    assert pca.shape == (400, 2) and np.isfinite(pca).all()
    assert "PCA" in tda.cloud_plot.getPlotItem().titleLabel.text
    assert "time (s)" in tda.cloud_bar.getAxis("bottom").labelText

    tda.view_choice.setCurrentText("UMAP")  # starts the embedding on the worker
    assert window.busy and window.runner.current == "UMAP view"
    assert "compiles" in tda.cloud_note.text()
    wait_idle(qtbot, window)
    umap = scatter_points(tda)
    assert umap.shape == (400, 2) and np.isfinite(umap).all() and umap.std(axis=0).min() > 0
    assert "UMAP" in tda.cloud_plot.getPlotItem().titleLabel.text
    assert tda.cloud_plot.getPlotItem().getAxis("bottom").labelText == "UMAP 1 (a.u.)"
    assert "UMAP view: started" in window.log.toPlainText()

    decode.start()  # a decoded phase recolours the shown view, without recomputing the UMAP
    wait_idle(qtbot, window)
    assert "decoded phase" in tda.cloud_bar.getAxis("bottom").labelText
    assert np.array_equal(scatter_points(tda), umap)
    tda.grab().save("/tmp/tda_umap.png")

    tda.view_choice.setCurrentText("PCA")
    assert not window.busy and np.array_equal(scatter_points(tda), pca)
