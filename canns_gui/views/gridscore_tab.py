"""GridScore: the selected unit's rate map (cm, Hz), autocorrelogram (lag in cm, r) with its annulus and
lattice peaks, and shuffled gridness; below, every unit's gridness and spacing (cm) vs orientation (deg).
Click a unit in the lower plots (or use the browser) and FRM and CohoSpace follow."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QWidget

from canns_gui.views.common import (
    BLUE,
    GREY,
    MODULE_COLOURS,
    RED,
    ViewTab,
    colormap,
    colour_bar,
    fmt,
    hover,
    image_item,
    ink,
    level_range,
    pixel,
    plot_widget,
    set_image,
)

CIRCLE = np.linspace(0, 2 * np.pi, 121)


class GridScoreTab(ViewTab):
    title = "GridScore"
    key = "gridscore"

    def build(self) -> None:
        self.summary = self.add_unit_browser()
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("font-weight: bold;")
        self.content_layout.addWidget(self.info)
        self.map_plot = plot_widget("Rate map", "x (cm)", "y (cm)")
        self.ac_plot = plot_widget("Autocorrelogram", "lag x (cm)", "lag y (cm)")
        self.shuffle_plot = plot_widget("Shuffled gridness", "gridness (no unit)", "shuffles")
        self.units_plot = plot_widget("", "unit (recording order)", "gridness")
        self.spacing_plot = plot_widget("", "orientation (deg)", "spacing (cm)")
        for plot in (self.map_plot, self.ac_plot):
            plot.getPlotItem().setAspectLocked(True)
        # the selected unit above, every unit below; the splitter lets the user give either more room
        self.splitter = QSplitter(Qt.Vertical)
        for plots in ((self.map_plot, self.ac_plot, self.shuffle_plot), (self.units_plot, self.spacing_plot)):
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            for plot in plots:
                layout.addWidget(plot, 2 if plot is self.units_plot else 1)
            self.splitter.addWidget(row)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.content_layout.addWidget(self.splitter, 1)

        self.viridis, self.rdbu = colormap("viridis"), colormap("RdBu_r")
        self.map_image = image_item(self.map_plot, (0.0, 1.0), self.viridis)
        self.ac_image = image_item(self.ac_plot, (-1.0, 1.0), self.rdbu)
        self.map_bar = colour_bar(self.map_image, self.map_plot, (0.0, 1.0), self.viridis, "rate (Hz)")
        self.ac_bar = colour_bar(self.ac_image, self.ac_plot, (-1.0, 1.0), self.rdbu, "correlation r")
        self.rings = [
            self.ac_plot.plot([], [], pen=pg.mkPen("k", width=1.2, style=Qt.DashLine)) for _ in range(2)
        ]
        self.peaks = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("k", width=1), brush=pg.mkBrush("k"))
        self.ac_plot.addItem(self.peaks)
        self.hist = self.shuffle_plot.plot(
            [], [], stepMode="center", fillLevel=0, brush=(150, 150, 150, 160), pen=GREY
        )
        self.threshold_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("k", width=1.5, style=Qt.DashLine))
        self.observed_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(RED, width=2.5))
        self.shuffle_plot.addItem(self.threshold_line)
        self.shuffle_plot.addItem(self.observed_line)
        self.units_scatter = pg.ScatterPlotItem(size=8, pen=None)
        self.units_scatter.sigClicked.connect(self._clicked)
        self.threshold_marks = pg.ScatterPlotItem(symbol="_", size=10, pen=None, brush=pg.mkBrush(ink()))
        self.units_plot.addItem(self.threshold_marks)
        self.units_plot.addItem(self.units_scatter)
        self.units_highlight = pg.ScatterPlotItem(size=17, pen=pg.mkPen(RED, width=2), brush=None)
        self.units_plot.addItem(self.units_highlight)
        self.spacing_scatter = pg.ScatterPlotItem(size=9, pen=pg.mkPen(60, 60, 60, 120))
        self.spacing_scatter.sigClicked.connect(self._clicked)
        self.spacing_plot.addItem(self.spacing_scatter)
        self.spacing_highlight = pg.ScatterPlotItem(size=17, pen=pg.mkPen(RED, width=2), brush=None)
        self.spacing_plot.addItem(self.spacing_highlight)
        hover(self.map_plot, self.describe_map, self.readout)
        hover(self.ac_plot, self.describe_ac, self.readout)
        hover(self.units_plot, self.describe_unit_at, self.readout)
        hover(self.spacing_plot, self.describe_spacing_at, self.readout)
        self.shuffle_plot.getPlotItem().getViewBox().setMouseEnabled(y=False)
        self._all_for = None

    @property
    def scores(self):
        return self.data.views["gridscore"]

    def set_data(self, data) -> None:
        super().set_data(data)
        if data is not None and self.has_content:
            s = data.views["gridscore"]
            self.browser.set_units(
                s.unit_ids,
                {
                    "gridness": (s.gridness, ".2f", ""),
                    "spacing": (s.spacing_cm, ".1f", "cm"),
                    "spatial information": (s.rate_maps.spatial_information_bits_per_spike, ".2f", "bit/spk"),
                    "recording order": (None, "", ""),
                },
            )

    def draw(self) -> None:
        s = self.scores
        if self._all_for is not s:  # a first draw in two turns of the event loop: all units, then the unit
            self._draw_all(s)
            self.dirty = True  # still owed: the selected unit, drawn on the next turn (or the next show)
            QTimer.singleShot(0, self._draw_if_dirty)
            return
        self._draw_unit(s, self.page.selection.index)

    def _draw_all(self, s) -> None:
        if self._all_for is s:
            return
        self._all_for = s
        n_grid = int(np.sum(s.is_grid))
        modules = sorted({int(m) for m in s.module if m >= 0})
        grid_spacing = s.spacing_cm[s.is_grid]
        text = (
            f"{n_grid} of {s.n_units} units are grid cells (gridness above the {s.config.percentile:g}th "
            f"percentile of {s.config.n_shuffles} time-shift shuffles)"
        )
        if n_grid and np.isfinite(grid_spacing).any():
            text += f"; median spacing {np.nanmedian(grid_spacing):.1f} cm"
        text += f"; {len(modules)} module(s)." if modules else "."
        if s.config.n_shuffles == 0:
            text += " No shuffles were run, so no unit can be called a grid cell: set shuffles in Settings."
        self.summary.setText(text)
        x = np.arange(s.n_units)
        g = s.gridness
        ok = np.isfinite(g)
        brushes = [pg.mkBrush(BLUE if s.is_grid[i] else GREY) for i in range(s.n_units)]
        self.units_scatter.setData(x=x[ok], y=g[ok], brush=[brushes[i] for i in x[ok]], data=x[ok])
        th = np.isfinite(s.threshold)
        self.threshold_marks.setData(x=x[th], y=s.threshold[th])
        self.units_plot.getPlotItem().setTitle(
            "Gridness per unit (blue: grid cell, grey: other, dash: its shuffle threshold)",
            color=ink(),
            size="9pt",
        )
        ok2 = np.isfinite(s.spacing_cm) & np.isfinite(s.orientation_deg)
        colours = [
            pg.mkBrush(MODULE_COLOURS[int(m) % len(MODULE_COLOURS)] if m >= 0 else (200, 200, 200))
            for m in s.module
        ]
        self.spacing_scatter.setData(
            x=s.orientation_deg[ok2], y=s.spacing_cm[ok2], brush=[colours[i] for i in x[ok2]], data=x[ok2]
        )
        self.spacing_plot.getPlotItem().setXRange(0, 60, padding=0.02)
        title = f"Spacing vs orientation ({len(modules)} module(s) by colour)"
        self.spacing_plot.getPlotItem().setTitle(title, color=ink(), size="9pt")

    def _draw_unit(self, s, j: int) -> None:
        rm = s.rate_maps
        m = rm.maps[j]
        levels = level_range(m)
        set_image(self.map_image, m, rm.x_edges, rm.y_edges, levels)
        self.map_bar.setLevels(levels)
        self.map_plot.getPlotItem().setTitle(
            f"Rate map, unit {s.unit_ids[j]} (peak {fmt(rm.peak_rate_hz[j], '.1f', 'Hz')})",
            color=ink(),
            size="9pt",
        )
        half = rm.bin_size_cm / 2
        lx, ly = s.lag_x_cm, s.lag_y_cm
        x_edges, y_edges = (lx[0] - half, lx[-1] + half), (ly[0] - half, ly[-1] + half)
        set_image(self.ac_image, s.autocorrelograms[j], x_edges, y_edges, (-1.0, 1.0))
        for ring, radius in zip(self.rings, (s.inner_radius_cm[j], s.outer_radius_cm[j]), strict=True):
            if np.isfinite(radius):
                ring.setData(radius * np.cos(CIRCLE), radius * np.sin(CIRCLE))
            else:
                ring.setData([], [])
        pk = s.peaks_cm[j]
        if len(pk):
            self.peaks.setData(pk[:, 0], pk[:, 1])
        else:
            self.peaks.setData([], [])
        annulus = f"{fmt(s.inner_radius_cm[j], '.0f')}–{fmt(s.outer_radius_cm[j], '.0f', 'cm')}"
        self.ac_plot.getPlotItem().setTitle(
            f"Autocorrelogram (annulus {annulus})",
            color=ink(),
            size="9pt",
        )
        self.ac_plot.getPlotItem().setRange(xRange=x_edges, yRange=y_edges, padding=0)
        self._draw_shuffles(s, j)
        verdict = "grid cell" if s.is_grid[j] else "not a grid cell"
        module = f", module {int(s.module[j])}" if s.module[j] >= 0 else ""
        self.info.setText(
            f"unit {s.unit_ids[j]}: gridness {fmt(s.gridness[j])} (threshold {fmt(s.threshold[j])}) → "
            f"{verdict}{module}; spacing {fmt(s.spacing_cm[j], '.1f', 'cm')}, orientation "
            f"{fmt(s.orientation_deg[j], '.1f', '°')}, field size {fmt(s.field_size_cm[j], '.1f', 'cm')}"
        )
        ok = np.isfinite(s.gridness[j])
        self.units_highlight.setData([j] if ok else [], [s.gridness[j]] if ok else [])
        ok = np.isfinite(s.spacing_cm[j]) and np.isfinite(s.orientation_deg[j])
        self.spacing_highlight.setData([s.orientation_deg[j]] if ok else [], [s.spacing_cm[j]] if ok else [])

    def _draw_shuffles(self, s, j: int) -> None:
        sh = s.shuffled_gridness[j]
        sh = sh[np.isfinite(sh)]
        if sh.size:
            counts, edges = np.histogram(sh, bins=min(30, max(5, sh.size // 4)))
            self.hist.setData(edges, counts)
        else:
            self.hist.setData([0, 1], [0])
        th, g = s.threshold[j], s.gridness[j]
        self.threshold_line.setVisible(bool(np.isfinite(th)))
        self.observed_line.setVisible(bool(np.isfinite(g)))
        if np.isfinite(th):
            self.threshold_line.setPos(th)
        if np.isfinite(g):
            self.observed_line.setPos(g)
        values = np.concatenate([sh, [v for v in (th, g) if np.isfinite(v)]])
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            self.shuffle_plot.getPlotItem().setXRange(lo, hi + 1e-6, padding=0.08)
        self.shuffle_plot.getPlotItem().enableAutoRange(axis="y")
        if sh.size:
            title = f"{sh.size} shuffles; dashed: {s.config.percentile:g}th pct, red: observed"
        else:
            title = "no shuffles (set them in Settings)"
        self.shuffle_plot.getPlotItem().setTitle(title, color=ink(), size="9pt")

    def _clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.browser.select(int(points[0].data()))

    # read-outs ---------------------------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self.data is not None and "gridscore" in self.data.views

    def describe_map(self, x: float, y: float) -> str | None:
        if not self._ready():
            return None
        rm, j = self.scores.rate_maps, self.page.selection.index
        where = pixel(rm.maps[j], rm.x_edges, rm.y_edges, x, y)
        if where is None:
            return f"x {x:.1f} cm, y {y:.1f} cm (outside the arena)"
        return f"x {x:.1f} cm, y {y:.1f} cm: unit {rm.unit_ids[j]} {fmt(rm.maps[j][where], '.2f', 'Hz')}"

    def describe_ac(self, x: float, y: float) -> str | None:
        if not self._ready():
            return None
        s, j = self.scores, self.page.selection.index
        half = s.rate_maps.bin_size_cm / 2
        x_edges = (s.lag_x_cm[0] - half, s.lag_x_cm[-1] + half)
        y_edges = (s.lag_y_cm[0] - half, s.lag_y_cm[-1] + half)
        where = pixel(s.autocorrelograms[j], x_edges, y_edges, x, y)
        if where is None:
            return None
        r = s.autocorrelograms[j][where]
        return f"lag x {x:.1f} cm, lag y {y:.1f} cm (distance {np.hypot(x, y):.1f} cm): r {fmt(r)}"

    def _describe_unit(self, i: int) -> str:
        s = self.scores
        return (
            f"unit {s.unit_ids[i]}: gridness {fmt(s.gridness[i])}, threshold {fmt(s.threshold[i])}, spacing "
            f"{fmt(s.spacing_cm[i], '.1f', 'cm')}, orientation {fmt(s.orientation_deg[i], '.1f', '°')}"
        )

    def describe_unit_at(self, x: float, y: float) -> str | None:
        if not self._ready():
            return None
        i = int(round(x))
        return self._describe_unit(i) if 0 <= i < self.scores.n_units else None

    def describe_spacing_at(self, x: float, y: float) -> str | None:
        if not self._ready():
            return None
        s = self.scores
        d = np.hypot((s.orientation_deg - x) / 60.0, (s.spacing_cm - y) / max(np.nanmax(s.spacing_cm), 1.0))
        if not np.isfinite(d).any():
            return None
        return self._describe_unit(int(np.nanargmin(d)))

    def export_job(self):
        return self.export_with(unit_index=self.page.selection.index)
