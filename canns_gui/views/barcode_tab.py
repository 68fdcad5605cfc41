"""Barcode: H1 (and H2) bars of the persistence diagram, significant bars thick, with the verdict."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel

from canns_gui.views.common import BLUE, GREEN, ORANGE, ViewTab, hover, plot_widget
from core.significance import format_p, verdict_sentence
from core.views.barcode import MAX_BARS, barcode_rows, dimension_label

DIM_COLOURS = {0: (120, 120, 120), 1: BLUE, 2: ORANGE, 3: GREEN}


def draw_barcode(plot: pg.PlotWidget, pers, sig, max_bars: int = MAX_BARS) -> list[dict]:
    """Draw the bars of H1 (and H2) into ``plot``, longest first: significant bars thick, alive bars ending
    in a triangle, each dimension labelled with its count, threshold and p-values. Returns the rows drawn
    (:func:`core.views.barcode.barcode_rows`). The one barcode renderer of the GUI (TDA page, Barcode tab)."""
    plot.clear()
    rows = barcode_rows(pers, sig, max_bars)
    for dim in sorted({r["dim"] for r in rows}):
        mine = [r for r in rows if r["dim"] == dim]
        colour = DIM_COLOURS.get(dim, BLUE)
        for significant, width in ((True, 5), (False, 1.5)):
            part = [r for r in mine if r["significant"] == significant]
            if part:
                x = np.array([[r["birth"], r["death"]] for r in part]).ravel()
                y = np.repeat([r["row"] for r in part], 2)
                plot.plot(x, y, connect="pairs", pen=pg.mkPen(colour, width=width))
        alive = [r for r in mine if r["alive"]]
        if alive:
            plot.plot(
                [r["death"] for r in alive], [r["row"] for r in alive], pen=None, symbol="t2", symbolSize=8,
                symbolBrush=colour, symbolPen=None,
            )  # fmt: skip
        label = pg.TextItem(dimension_label(sig, dim), color=colour, anchor=(0, 0))
        label.setPos(0, mine[-1]["row"] - 0.6)
        plot.addItem(label)
    plot.getPlotItem().setXRange(0, max(pers.threshold, 1e-6) * 1.02)
    lowest = min((r["row"] for r in rows), default=0.0)
    plot.getPlotItem().setYRange(lowest - 5.0, 1.0, padding=0)  # room for the last label
    return rows


class BarcodeTab(ViewTab):
    title = "Barcode"
    key = "barcode"

    def build(self) -> None:
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-size: 14px; font-weight: bold;")
        self.plot = plot_widget(
            "Barcode (longest bars first; thick = significant)", "filtration value (−log membership, no unit)"
        )
        self.plot.getAxis("left").setTicks([[]])
        self.plot.getPlotItem().setMouseEnabled(x=True, y=False)
        self.content_layout.addWidget(self.verdict)
        self.content_layout.addWidget(self.plot, 1)
        self.rows: list[dict] = []
        hover(self.plot, self.describe, self.readout)

    def draw(self) -> None:
        view = self.data.views["barcode"]
        sig = view.significance
        self.verdict.setText(verdict_sentence(sig) if sig is not None else "")
        self.rows = draw_barcode(self.plot, view.persistence, sig)

    def describe(self, x: float, y: float) -> str | None:
        if not self.rows:
            return None
        near = min(self.rows, key=lambda r: abs(r["row"] - y))
        if abs(near["row"] - y) > 0.6:
            return f"filtration value {x:.3f}"
        end = "alive at the end of the filtration" if near["alive"] else f"dies {near['death']:.3f}"
        tag = "significant" if near["significant"] else "not significant"
        if near.get("p_value") is not None:
            tag += f", p = {format_p(near['p_value'])}"
        return (
            f"H{near['dim']} bar: born {near['birth']:.3f}, {end}, lifetime {near['lifetime']:.3f} ({tag}); "
            f"filtration value under cursor {x:.3f}"
        )

    def export_job(self):
        return self.export_with()
