"""PathCompare: the animal's path (cm) beside its decoded path (torus square in rad, or ring angle against
head direction over time) in a trailing window; a time slider, Play, window length and speed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider

from canns_gui.views.common import BLUE, GREEN, GREY, RED, TWO_PI, ViewTab, hover, ink, pi_ticks, plot_widget
from core.views.pathcompare import PathCompareConfig

STEP_S = 0.02  # slider resolution (s)
TICK_MS = 40
SPEEDS = {"1×": 1.0, "5×": 5.0, "20×": 20.0, "100×": 100.0}


class PathCompareTab(ViewTab):
    title = "PathCompare"
    key = "pathcompare"
    compares_behaviour = True

    def build(self) -> None:
        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.valueChanged.connect(lambda _: self.update_window())
        self.time_label = QLabel("t = – s")
        self.time_label.setMinimumWidth(120)
        self.window_s = QDoubleSpinBox()
        self.window_s.setRange(0.5, 3600.0)
        self.window_s.setValue(30.0)
        self.window_s.setSuffix(" s")
        self.window_s.setToolTip("length of the trailing window drawn")
        self.window_s.valueChanged.connect(lambda _: self.update_window())
        self.speed = QComboBox()
        self.speed.addItems(list(SPEEDS))
        self.speed.setCurrentText("5×")
        self.tools.addWidget(self.play_button)
        self.tools.addWidget(self.slider, 1)
        self.tools.addWidget(self.time_label)
        self.tools.addWidget(QLabel("window"))
        self.tools.addWidget(self.window_s)
        self.tools.addWidget(QLabel("speed"))
        self.tools.addWidget(self.speed)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

        row = QHBoxLayout()
        self.phys_plot = plot_widget("Animal's path", "x (cm)", "y (cm)")
        self.phys_plot.getPlotItem().setAspectLocked(True)
        self.dec_plot = plot_widget("Decoded path on the torus", "decoded θ1 (rad)", "decoded θ2 (rad)")
        row.addWidget(self.phys_plot, 1)
        row.addWidget(self.dec_plot, 1)
        self.content_layout.addLayout(row, 1)
        self.phys_trail = self.phys_plot.plot([], [], pen=pg.mkPen(BLUE, width=1.5), connect="finite")
        self.phys_start = pg.ScatterPlotItem(size=9, symbol="s", brush=pg.mkBrush(GREEN), pen=pg.mkPen("k"))
        self.phys_now = pg.ScatterPlotItem(size=12, brush=pg.mkBrush(RED), pen=pg.mkPen("k"))
        self.phys_plot.addItem(self.phys_start)
        self.phys_plot.addItem(self.phys_now)
        self.dec_trail = self.dec_plot.plot([], [], pen=pg.mkPen(BLUE, width=1.5), connect="finite")
        self.hd_trail = self.dec_plot.plot([], [], pen=pg.mkPen(GREY, width=3), connect="finite")
        self.dec_start = pg.ScatterPlotItem(size=9, symbol="s", brush=pg.mkBrush(GREEN), pen=pg.mkPen("k"))
        self.dec_now = pg.ScatterPlotItem(size=12, brush=pg.mkBrush(RED), pen=pg.mkPen("k"))
        self.dec_plot.addItem(self.dec_start)
        self.dec_plot.addItem(self.dec_now)
        self.legend = self.dec_plot.getPlotItem().addLegend(offset=(-10, 10))
        hover(self.phys_plot, lambda x, y: f"x {x:.1f} cm, y {y:.1f} cm", self.readout)
        hover(self.dec_plot, self._describe_decoded, self.readout)
        self._clock = np.zeros(0)
        self._drawn_for = None
        self._restore_time_s: float | None = None  # a saved time (s) shown on the next first draw

    @property
    def view(self):
        return self.data.views["pathcompare"]

    @property
    def torus(self) -> bool:
        return self.view.n_circles >= 2

    def draw(self) -> None:
        v = self.view
        if self._drawn_for is not v:
            self._drawn_for = v
            # a non-decreasing clock over the rows (break rows hold NaN): windows are found by bisection
            self._clock = np.fmax.accumulate(np.where(np.isfinite(v.t), v.t, -np.inf))
            n_steps = max(int(np.ceil((v.t1_s - v.t0_s) / STEP_S)), 1)
            self.slider.blockSignals(True)
            self.slider.setRange(0, n_steps)
            if self._restore_time_s is not None:
                self.slider.setValue(
                    min(max(int(round((self._restore_time_s - v.t0_s) / STEP_S)), 0), n_steps)
                )
                self._restore_time_s = None
            else:
                self.slider.setValue(min(int(self.window_s.value() / STEP_S), n_steps))
            self.slider.blockSignals(False)
            has_xy = v.x is not None and v.y is not None
            self.phys_plot.setVisible(has_xy)
            if has_xy:
                self.phys_plot.getPlotItem().setRange(
                    xRange=(np.nanmin(v.x), np.nanmax(v.x)),
                    yRange=(np.nanmin(v.y), np.nanmax(v.y)),
                    padding=0.05,
                )
            item = self.dec_plot.getPlotItem()
            self.legend.clear()
            if self.torus:
                item.setTitle("Decoded path on the torus", color=ink(), size="10pt")
                item.setLabel("bottom", "decoded θ1 (rad)", color=ink())
                item.setLabel("left", "decoded θ2 (rad)", color=ink())
                item.setAspectLocked(True)
                pi_ticks(item.getAxis("bottom"))
                item.setRange(xRange=(0, TWO_PI), yRange=(0, TWO_PI), padding=0.02)
                self.hd_trail.setVisible(False)
            else:
                al = v.hd_alignment
                title = "Decoded ring angle over time"
                if al is not None:
                    title += f" vs head direction ({al.describe()})"
                    self.legend.addItem(self.hd_trail, "head direction")
                    sign = "+" if al.sign > 0 else "−"
                    self.legend.addItem(self.dec_trail, f"decoded ({sign}θ + {al.offset_rad:.2f} rad)")
                item.setTitle(title, color=ink(), size="10pt")
                item.setLabel("bottom", "time (s)", color=ink())
                item.setLabel("left", "angle (rad)", color=ink())
                item.setAspectLocked(False)
                item.getAxis("bottom").setTicks(None)
                self.hd_trail.setVisible(al is not None)
            pi_ticks(item.getAxis("left"))
        self.update_window()

    def current_time(self) -> float:
        v = self.view
        return min(v.t0_s + self.slider.value() * STEP_S, v.t1_s)

    def window_rows(self) -> slice:
        t = self.current_time()
        lo = int(np.searchsorted(self._clock, t - self.window_s.value(), side="left"))
        hi = int(np.searchsorted(self._clock, t, side="right"))
        return slice(lo, hi)

    def update_window(self) -> None:
        if self.data is None or "pathcompare" not in self.data.views or self._drawn_for is not self.view:
            return
        v = self.view
        t = self.current_time()
        self.time_label.setText(f"t = {t:.1f} s")
        rows = self.window_rows()
        last = rows.stop - 1
        first = rows.start if rows.stop > rows.start else -1
        if v.x is not None and v.y is not None:
            self.phys_trail.setData(v.x[rows], v.y[rows], connect="finite")
            self.phys_now.setData(*self._point(v.x, v.y, last))
            self.phys_start.setData(*self._point(v.x, v.y, first))
        if self.torus:
            self.dec_start.setData(*self._point(v.theta[:, 0], v.theta[:, 1], first))
            self.dec_trail.setData(v.theta[rows, 0], v.theta[rows, 1], connect="finite")
            self.dec_now.setData(*self._point(v.theta[:, 0], v.theta[:, 1], last))
        else:
            ring = v.theta_hd if v.theta_hd is not None else v.theta[:, 0]
            self.dec_trail.setData(v.t[rows], ring[rows], connect="finite")
            if v.hd is not None and v.theta_hd is not None:
                self.hd_trail.setData(v.t[rows], v.hd[rows], connect="finite")
            self.dec_start.setData([], [])
            self.dec_now.setData(*self._point(v.t, ring, last))
            self.dec_plot.getPlotItem().setRange(
                xRange=(t - self.window_s.value(), t), yRange=(0, TWO_PI), padding=0.02
            )
        self.readout.setText(self._describe_now(last, t))

    @staticmethod
    def _point(a: np.ndarray, b: np.ndarray, row: int) -> tuple[list, list]:
        """([a], [b]) at ``row``, or empty lists when there is none or it is a line break (NaN)."""
        if row < 0 or not (np.isfinite(a[row]) and np.isfinite(b[row])):
            return [], []
        return [a[row]], [b[row]]

    def _describe_now(self, row: int, t: float) -> str:
        v = self.view
        if row < 0:
            return f"t = {t:.1f} s"
        parts = [f"t = {t:.1f} s"]
        if v.x is not None and np.isfinite(v.x[row]):
            parts.append(f"x {v.x[row]:.1f} cm, y {v.y[row]:.1f} cm")
        parts.append(", ".join(f"θ{c + 1} {v.theta[row, c]:.2f} rad" for c in range(v.n_circles)))
        if v.hd is not None and np.isfinite(v.hd[row]):
            parts.append(f"hd {v.hd[row]:.2f} rad")
        return "; ".join(parts)

    def _describe_decoded(self, x: float, y: float) -> str:
        if self.data is not None and "pathcompare" in self.data.views and not self.torus:
            return f"t {x:.2f} s, angle {y:.2f} rad"
        return f"θ1 {x:.2f} rad, θ2 {y:.2f} rad"

    def _play(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        if on and self.has_content:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(int(self.window_s.value() / STEP_S))
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        step = max(int(round(SPEEDS[self.speed.currentText()] * TICK_MS / 1000 / STEP_S)), 1)
        value = self.slider.value() + step
        if value >= self.slider.maximum():
            value = self.slider.maximum()
            self.play_button.setChecked(False)
        self.slider.setValue(value)

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)

    def view_state(self) -> dict:
        """The time shown (s), the trailing window (s) and the play speed, for a project file."""
        state = {"window_s": self.window_s.value(), "speed": self.speed.currentText()}
        if self._restore_time_s is not None:
            state["time_s"] = self._restore_time_s
        elif self.data is not None and "pathcompare" in self.data.views and self._drawn_for is self.view:
            state["time_s"] = self.current_time()
        return state

    def set_view_state(self, state: dict) -> None:
        """Restore :meth:`view_state` (the time when the view is next drawn, or now if it is drawn)."""
        if isinstance(state.get("window_s"), (int, float)):
            self.window_s.setValue(float(state["window_s"]))
        if state.get("speed") in SPEEDS:
            self.speed.setCurrentText(state["speed"])
        if isinstance(state.get("time_s"), (int, float)):
            self._restore_time_s = float(state["time_s"])
            if self.data is not None and "pathcompare" in self.data.views and self._drawn_for is self.view:
                v = self.view
                self.slider.setValue(int(round((self._restore_time_s - v.t0_s) / STEP_S)))
                self._restore_time_s = None

    def export_job(self):
        t1 = self.current_time()
        t0 = max(t1 - self.window_s.value(), self.view.t0_s)
        return self.export_with(window=PathCompareConfig(t0_s=t0, duration_s=max(t1 - t0, 0.01)))
