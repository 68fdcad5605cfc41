"""FR: the population's rates (Hz) as units × time (s), units sorted by decoded preferred phase; a window
start slider, window length, and the sort order."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSlider, QSpinBox

from canns_gui.views.common import (
    ViewTab,
    colormap,
    colour_bar,
    fmt,
    hover,
    image_item,
    ink,
    plot_widget,
    set_image,
)

SORTS = {"preferred phase": "phase", "torus (bands)": "torus", "recording order": "none"}


class FiringTab(ViewTab):
    title = "FR"
    key = "fr"

    def build(self) -> None:
        self.start = QSlider(Qt.Horizontal)
        self.start.setToolTip("window start")
        self.start.valueChanged.connect(lambda _: self.refresh())
        self.start_label = QLabel("from – s")
        self.start_label.setMinimumWidth(110)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(1.0, 600.0)
        self.duration.setValue(30.0)
        self.duration.setSuffix(" s")
        self.duration.valueChanged.connect(lambda _: self.refresh())
        self.sort = QComboBox()
        self.sort.addItems(list(SORTS))
        self.sort.currentIndexChanged.connect(lambda _: self.refresh())
        self.circle = QSpinBox()
        self.circle.setRange(1, 2)
        self.circle.setPrefix("θ")
        self.circle.setToolTip("circle to sort by")
        self.circle.valueChanged.connect(lambda _: self.refresh())
        for widget in (QLabel("Window"), self.start, self.start_label, QLabel("length"), self.duration):
            self.tools.addWidget(widget, 1 if widget is self.start else 0)
        for widget in (QLabel("sort"), self.sort, self.circle):
            self.tools.addWidget(widget)
        self.plot = plot_widget("", "time (s)", "unit (row)")
        self.plot.getPlotItem().invertY(True)
        self.cmap = colormap("viridis")
        self.image = image_item(self.plot, (0.0, 1.0), self.cmap)
        self.bar = colour_bar(self.image, self.plot, (0.0, 1.0), self.cmap, "rate (Hz)")
        self.content_layout.addWidget(self.plot, 1)
        hover(self.plot, self.describe, self.readout)
        self.order = np.zeros(0, dtype=int)
        self.sort_phase = np.zeros(0)
        self._cols = slice(0, 0)
        self._set_for = None
        self._restore_start_s: float | None = None  # a saved window start (s) used on the next first draw

    @property
    def view(self):
        return self.data.views["fr"]

    def draw(self) -> None:
        from core.views.firing import unit_order

        fm = self.view
        if self._set_for is not fm:
            self._set_for = fm
            n_steps = max(fm.t.size - 1, 0)
            self.start.blockSignals(True)
            self.start.setRange(0, n_steps)
            self.start.setSingleStep(max(int(1.0 / fm.dt_s), 1))
            self.start.setPageStep(max(int(10.0 / fm.dt_s), 1))
            self.start.setValue(self._start_column(fm))
            self.start.blockSignals(False)
            self.circle.setMaximum(fm.unit_phase.shape[1] if fm.unit_phase is not None else 1)
        sort = SORTS[self.sort.currentText()]
        n = fm.rates.shape[0]
        self.circle.setEnabled(fm.unit_phase is not None and sort != "none")
        circle = min(self.circle.value(), fm.unit_phase.shape[1]) - 1 if fm.unit_phase is not None else 0
        self.order, self.sort_phase = unit_order(n, fm.unit_phase, sort, circle)
        c0 = self.start.value()
        width = max(int(round(self.duration.value() / fm.dt_s)), 1)
        self._cols = slice(c0, min(c0 + width, fm.t.size))
        heat = fm.rates[self.order, self._cols]
        finite = heat[np.isfinite(heat)]
        unit = "z-score" if fm.value_unit == "z" else "Hz"
        if fm.value_unit == "z":
            levels = tuple(np.percentile(finite, [1, 99])) if finite.size else (-1.0, 1.0)
        else:
            levels = (0.0, float(np.percentile(finite, 99)) if finite.size else 1.0)
        levels = (float(levels[0]), max(float(levels[1]), float(levels[0]) + 1e-6))
        t = fm.t[self._cols]
        x_edges = (t[0] - fm.dt_s / 2, t[-1] + fm.dt_s / 2)
        set_image(self.image, heat, x_edges, (-0.5, n - 0.5), levels)
        self.bar.setLevels(levels)
        self.bar.getAxis("right").setLabel(f"rate ({unit})", color=ink())
        self.start_label.setText(f"from {t[0]:.1f} s")
        if sort == "none" or fm.unit_phase is None:
            label = "recording order"
        elif sort == "torus" and fm.unit_phase.shape[1] >= 2:
            label = f"sorted by θ{circle + 1} band, then the other circle"
        else:
            label = f"sorted by preferred θ{circle + 1}"
        item = self.plot.getPlotItem()
        item.setLabel("left", f"unit ({label})", color=ink())
        item.setTitle(
            f"Population rates, {x_edges[0]:.1f}–{x_edges[1]:.1f} s ({n} units; blank: bins removed by the "
            "speed filter)",
            color=ink(),
            size="10pt",
        )
        item.setRange(xRange=x_edges, yRange=(-0.5, n - 0.5), padding=0)

    def _start_column(self, fm) -> int:
        """The column of a restored window start (0 when none), forgetting it."""
        start_s, self._restore_start_s = self._restore_start_s, None
        if start_s is None or not fm.t.size:
            return 0
        return int(min(np.searchsorted(fm.t, start_s - fm.dt_s / 2), fm.t.size - 1))

    def view_state(self) -> dict:
        """Window start and length (s), sort order and circle, for a project file."""
        state = {
            "duration_s": self.duration.value(),
            "sort": self.sort.currentText(),
            "circle": self.circle.value(),
        }
        if self._restore_start_s is not None:
            state["start_s"] = self._restore_start_s
        elif self.data is not None and "fr" in self.data.views and self._set_for is self.view:
            t = self.view.t
            if t.size:
                state["start_s"] = float(t[min(self.start.value(), t.size - 1)])
        return state

    def set_view_state(self, state: dict) -> None:
        """Restore :meth:`view_state` (the window start when the view is next drawn, or now if drawn)."""
        if isinstance(state.get("duration_s"), (int, float)):
            self.duration.setValue(float(state["duration_s"]))
        if state.get("sort") in SORTS:
            self.sort.setCurrentText(state["sort"])
        if isinstance(state.get("circle"), int):
            self.circle.setValue(state["circle"])
        if isinstance(state.get("start_s"), (int, float)):
            self._restore_start_s = float(state["start_s"])
            if self.data is not None and "fr" in self.data.views and self._set_for is self.view:
                self.start.setValue(self._start_column(self.view))

    def describe(self, x: float, y: float) -> str | None:
        if self.data is None or "fr" not in self.data.views or not self.order.size:
            return None
        fm = self.view
        row = int(round(y))
        col = int(round((x - fm.t[0]) / fm.dt_s))
        if not (0 <= row < self.order.size and self._cols.start <= col < self._cols.stop):
            return f"t {x:.2f} s"
        j = int(self.order[row])
        value = fm.rates[j, col]
        text = f"t {fm.t[col]:.2f} s, row {row}: unit {fm.unit_ids[j]}: {fmt(value, '.2f', fm.value_unit)}"
        if fm.unit_phase is not None:
            text += (
                "  (preferred "
                + ", ".join(
                    f"θ{c + 1} {fmt(fm.unit_phase[j, c], '.2f', 'rad')}"
                    for c in range(fm.unit_phase.shape[1])
                )
                + ")"
            )
        return text

    def export_job(self):
        from core.views.firing import FiringConfig

        fm = self.view
        t0 = float(fm.t[self._cols.start]) - fm.dt_s / 2 if self._cols.stop > self._cols.start else None
        circle = 1
        if fm.unit_phase is not None:
            circle = min(self.circle.value(), fm.unit_phase.shape[1])
        sort = SORTS[self.sort.currentText()]
        config = FiringConfig(t0_s=t0, duration_s=self.duration.value(), sort=sort, sort_circle=circle)
        return self.export_with(window=config)
