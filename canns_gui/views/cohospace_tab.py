"""CohoSpace: the selected unit's rate over decoded phase (θ1 × θ2 in rad, or θ1 on a ring), beside every
unit's phase centre coloured by its concentration; click a centre to select that unit."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout

from canns_gui.views.common import (
    BLUE,
    ORANGE,
    TWO_PI,
    ViewTab,
    colormap,
    colour_bar,
    fmt,
    hover,
    image_item,
    ink,
    level_range,
    pi_ticks,
    pixel,
    plot_widget,
    set_image,
)


class CohoSpaceTab(ViewTab):
    title = "CohoSpace"
    key = "cohospace"

    def build(self) -> None:
        self.info = self.add_unit_browser()
        row = QHBoxLayout()
        self.unit_plot = plot_widget("", "θ1 (rad)", "θ2 (rad)")
        self.centres_plot = plot_widget("", "centre θ1 (rad)", "centre θ2 (rad)")
        row.addWidget(self.unit_plot, 3)
        row.addWidget(self.centres_plot, 2)
        self.content_layout.addLayout(row, 1)
        self.viridis = colormap("viridis")
        self.image = image_item(self.unit_plot, (0.0, 1.0), self.viridis)
        self.bar = colour_bar(self.image, self.unit_plot, (0.0, 1.0), self.viridis, "rate (Hz)")
        self.curve = self.unit_plot.plot([], [], pen=pg.mkPen(BLUE, width=2))
        self.centre_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ORANGE, width=1.5))
        self.unit_plot.addItem(self.centre_line)
        self.centre_mark = pg.ScatterPlotItem(symbol="+", size=16, pen=pg.mkPen("w", width=2.5), brush=None)
        self.unit_plot.addItem(self.centre_mark)
        self.scatter = pg.ScatterPlotItem(size=9, pen=pg.mkPen(80, 80, 80, 160))
        self.scatter.sigClicked.connect(self._clicked)
        self.centres_plot.addItem(self.scatter)
        self.highlight = pg.ScatterPlotItem(size=18, pen=pg.mkPen("r", width=2), brush=None)
        self.centres_plot.addItem(self.highlight)
        for plot in (self.unit_plot, self.centres_plot):
            pi_ticks(plot.getAxis("bottom"))
        hover(self.unit_plot, self.describe, self.readout)
        hover(self.centres_plot, self.describe_centre, self.readout)
        self._units_of = None

    @property
    def view(self):
        return self.data.views["cohospace"]

    def set_data(self, data) -> None:
        super().set_data(data)
        if data is not None and "cohospace" in data.views:
            v = data.views["cohospace"]
            peaks = np.array([np.nanmax(m) if np.isfinite(m).any() else np.nan for m in v.rate_maps])
            self.browser.set_units(
                v.unit_ids,
                {
                    "concentration": (v.concentration, ".2f", ""),
                    "recording order": (None, "", ""),
                    "peak rate": (peaks, ".1f", v.rate_unit),
                },
            )

    def draw(self) -> None:
        v = self.view
        j = min(self.page.selection.index, v.n_units - 1)
        m = v.rate_maps[j]
        ring = v.n_axes == 1
        lo, hi = level_range(m, low=None if v.rate_unit == "z" else 0.0)
        self.image.setVisible(not ring)
        self.curve.setVisible(ring)
        self.centre_line.setVisible(ring)
        self.centre_mark.setVisible(not ring)
        self.bar.setVisible(not ring)
        c = v.centres[j]
        if ring:
            mids = 0.5 * (v.phase_edges[:-1] + v.phase_edges[1:])
            self.curve.setData(mids, m, connect="finite")
            self.centre_line.setPos(c[0])
            self.unit_plot.getPlotItem().setLabel("left", f"rate ({v.rate_unit})", color=ink())
            self.unit_plot.getPlotItem().setAspectLocked(False)
            self.unit_plot.getPlotItem().setRange(xRange=(0, TWO_PI), yRange=(min(lo, 0), hi), padding=0.05)
        else:
            set_image(self.image, m, v.phase_edges, v.phase_edges, (lo, hi))
            self.bar.setLevels((lo, hi))
            self.bar.getAxis("right").setLabel(f"rate ({v.rate_unit})", color=ink())
            self.centre_mark.setData([c[0]], [c[1]])
            self.unit_plot.getPlotItem().setAspectLocked(True)
            pi_ticks(self.unit_plot.getAxis("left"))
            self.unit_plot.getPlotItem().setRange(xRange=(0, TWO_PI), yRange=(0, TWO_PI), padding=0.02)
        self.unit_plot.getPlotItem().setTitle(
            f"unit {v.unit_ids[j]} over decoded phase (occupancy-normalised)", color=ink(), size="10pt"
        )
        self.info.setText(
            f"unit {v.unit_ids[j]}: centre "
            + ", ".join(f"θ{a + 1} {c[a]:.2f} rad" for a in range(v.n_axes))
            + f"; concentration {fmt(v.concentration[j])} (0 untuned … 1 one phase); "
            f"peak {fmt(np.nanmax(m) if np.isfinite(m).any() else np.nan, '.1f', v.rate_unit)}, "
            f"mean {fmt(v.mean_rate[j], '.2f', v.rate_unit)}"
        )
        self._draw_centres(j)

    def _draw_centres(self, j: int) -> None:
        v = self.view
        if self._units_of is not v:
            self._units_of = v
            cmap = colormap("magma_r")
            lo, hi = level_range(v.concentration, low=None)
            conc = np.clip((np.nan_to_num(v.concentration, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
            brushes = [pg.mkBrush(cmap.map(float(c), mode="qcolor")) for c in conc]
            if v.n_axes == 2:
                x, y = v.centres[:, 0], v.centres[:, 1]
                self.centres_plot.getPlotItem().setLabel("left", "centre θ2 (rad)", color=ink())
                pi_ticks(self.centres_plot.getAxis("left"))
                self.centres_plot.getPlotItem().setAspectLocked(True)
                self.centres_plot.getPlotItem().setRange(xRange=(0, TWO_PI), yRange=(0, TWO_PI), padding=0.03)
            else:
                x, y = v.centres[:, 0], v.concentration
                self.centres_plot.getPlotItem().setLabel("left", "concentration (0..1)", color=ink())
                self.centres_plot.getAxis("left").setTicks(None)
                self.centres_plot.getPlotItem().setRange(xRange=(0, TWO_PI), yRange=(0, 1), padding=0.03)
            self.scatter.setData(x=x, y=y, brush=brushes, data=np.arange(v.n_units))
            self.centres_plot.getPlotItem().setTitle(
                f"{v.n_units} unit centres (concentration {lo:.2f} light – {hi:.2f} dark)",
                color=ink(),
                size="9pt",
            )
        y = v.centres[j, 1] if v.n_axes == 2 else v.concentration[j]
        self.highlight.setData([v.centres[j, 0]], [y])

    def _clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.browser.select(int(points[0].data()))

    def describe(self, x: float, y: float) -> str | None:
        if self.data is None or "cohospace" not in self.data.views:
            return None
        v = self.view
        j = min(self.page.selection.index, v.n_units - 1)
        m = v.rate_maps[j]
        if v.n_axes == 1:
            if not 0 <= x < TWO_PI:
                return None
            b = min(int(x / TWO_PI * m.size), m.size - 1)
            return f"θ1 {x:.2f} rad: unit {v.unit_ids[j]} {fmt(m[b], '.2f', v.rate_unit)}"
        where = pixel(m, v.phase_edges, v.phase_edges, x, y)
        if where is None:
            return None
        r, c = where
        return (
            f"θ1 {x:.2f} rad, θ2 {y:.2f} rad: unit {v.unit_ids[j]} {fmt(m[r, c], '.2f', v.rate_unit)} "
            f"({v.occupancy[r, c]:.0f} time bins)"
        )

    def describe_centre(self, x: float, y: float) -> str | None:
        if self.data is None or "cohospace" not in self.data.views:
            return None
        v = self.view
        ys = v.centres[:, 1] if v.n_axes == 2 else v.concentration
        d = np.hypot(v.centres[:, 0] - x, ys - y)
        if not np.isfinite(d).any():
            return None
        j = int(np.nanargmin(d))
        return (
            f"nearest: unit {v.unit_ids[j]}, centre "
            + ", ".join(f"θ{a + 1} {v.centres[j, a]:.2f} rad" for a in range(v.n_axes))
            + f", concentration {fmt(v.concentration[j])} (click to select)"
        )

    def export_job(self):
        return self.export_with(units=self.browser.ordered_from_current(16))
