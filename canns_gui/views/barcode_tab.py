"""Barcode: H1 (and H2) bars of the persistence diagram, significant bars thick, with the verdict."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel

from canns_gui.views import exporting
from canns_gui.views.common import BLUE, GREEN, ORANGE, ViewTab, hover, plot_widget
from core.significance import format_p, p_value_text

DIM_COLOURS = {0: (120, 120, 120), 1: BLUE, 2: ORANGE, 3: GREEN}
MAX_BARS = 40


def barcode_rows(pers, sig, max_bars: int = MAX_BARS) -> list[dict]:
    """Bars to draw, longest first per dimension (H1, H2 …): dim, birth, death (cut at the filtration's end),
    lifetime, significant, p_value (None past the tested bars), row (y position), alive (never died within
    the computed filtration)."""
    rows: list[dict] = []
    y = 0.0
    for dim in range(1, len(pers.diagrams)):
        dgm = np.asarray(pers.diagrams[dim])
        end = pers.threshold_h2 if dim == 2 else pers.threshold
        if dgm.size == 0:
            y -= 3
            continue
        death = np.minimum(dgm[:, 1], end)
        life = death - dgm[:, 0]
        n_sig = sig.significant.get(f"h{dim}", 0) if sig is not None else 0
        p_values = (sig.bar_p_values.get(f"h{dim}") if sig is not None else None) or []
        for rank, i in enumerate(np.argsort(-life)[:max_bars]):
            rows.append(
                {
                    "dim": dim,
                    "birth": float(dgm[i, 0]),
                    "death": float(death[i]),
                    "lifetime": float(life[i]),
                    "significant": rank < n_sig,
                    "p_value": p_values[rank] if rank < len(p_values) else None,
                    "alive": bool(not np.isfinite(dgm[i, 1]) or dgm[i, 1] > end),
                    "row": y,
                }
            )
            y -= 1
        y -= 3
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
        inputs = self.data.inputs
        pers, sig = inputs.persistence, inputs.significance
        self.verdict.setText(f"Verdict: {sig.verdict} — {sig.evidence}" if sig is not None else "")
        self.plot.clear()
        self.rows = barcode_rows(pers, sig)
        for dim in sorted({r["dim"] for r in self.rows}):
            mine = [r for r in self.rows if r["dim"] == dim]
            for significant, width in ((True, 5), (False, 1.5)):
                part = [r for r in mine if r["significant"] == significant]
                if not part:
                    continue
                x = np.array([[r["birth"], r["death"]] for r in part]).ravel()
                y = np.repeat([r["row"] for r in part], 2)
                self.plot.plot(x, y, connect="pairs", pen=pg.mkPen(DIM_COLOURS.get(dim, BLUE), width=width))
            alive = [r for r in mine if r["alive"]]
            if alive:
                self.plot.plot(
                    [r["death"] for r in alive],
                    [r["row"] for r in alive],
                    pen=None,
                    symbol="t2",
                    symbolSize=8,
                    symbolBrush=DIM_COLOURS.get(dim, BLUE),
                    symbolPen=None,
                )
            n_sig = sum(r["significant"] for r in mine)
            p_text = p_value_text(sig, dim)
            label = pg.TextItem(
                f"H{dim}: {n_sig} significant" + (f"; longest bars {p_text}" if p_text else ""),
                color=DIM_COLOURS.get(dim, BLUE),
                anchor=(0, 0),
            )
            label.setPos(0, mine[-1]["row"] - 0.6)
            self.plot.addItem(label)
            threshold = sig.thresholds.get(f"h{dim}") if sig is not None else None
            if threshold is not None and np.isfinite(threshold):
                label.setText(
                    f"H{dim}: {n_sig} significant (needs lifetime > {threshold:.2f})"
                    + (f"; longest bars {p_text}" if p_text else "")
                )
        self.plot.getPlotItem().setXRange(0, max(pers.threshold, 1e-6) * 1.02)
        lowest = min((r["row"] for r in self.rows), default=0.0)
        self.plot.getPlotItem().setYRange(lowest - 5.0, 1.0, padding=0)  # room for the last label

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
        pers, sig = self.data.inputs.persistence, self.data.inputs.significance
        rows = [{k: v for k, v in r.items() if k != "row"} for r in barcode_rows(pers, sig, max_bars=10**9)]
        return partial(exporting.export_barcode, pers, sig, rows)
