"""FRM: the selected unit's firing-rate map over the arena (cm, Hz) and, with head direction, its tuning
curve (deg, Hz). Follows the unit chosen in GridScore or CohoSpace."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout

from canns_gui.views.common import (
    BLUE,
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


class RateMapsTab(ViewTab):
    title = "FRM"
    key = "frm"
    compares_behaviour = True

    def build(self) -> None:
        self.info = self.add_unit_browser()
        row = QHBoxLayout()
        self.map_plot = plot_widget("", "x (cm)", "y (cm)")
        self.map_plot.getPlotItem().setAspectLocked(True)
        self.tuning_plot = plot_widget("", "head direction (deg)", "rate (Hz)")
        self.tuning_plot.getAxis("bottom").setTicks([[(d, f"{d}") for d in range(0, 361, 90)], []])
        row.addWidget(self.map_plot, 1)
        row.addWidget(self.tuning_plot, 1)
        self.content_layout.addLayout(row, 1)
        self.cmap = colormap("viridis")
        self.image = image_item(self.map_plot, (0.0, 1.0), self.cmap)
        self.bar = colour_bar(self.image, self.map_plot, (0.0, 1.0), self.cmap, "rate (Hz)")
        self.curve = self.tuning_plot.plot([], [], pen=pg.mkPen(BLUE, width=2), connect="finite")
        self.preferred = pg.InfiniteLine(angle=90, pen=pg.mkPen(RED, width=1.5))
        self.tuning_plot.addItem(self.preferred)
        hover(self.map_plot, self.describe_map, self.readout)
        hover(self.tuning_plot, self.describe_tuning, self.readout)

    @property
    def maps(self):
        frm = self.data.views.get("frm")
        return frm.maps if frm is not None else None

    @property
    def tuning(self):
        frm = self.data.views.get("frm")
        return frm.tuning if frm is not None else None

    def set_data(self, data) -> None:
        super().set_data(data)
        if data is None or not self.has_content:
            return
        keys: dict = {}
        maps, tuning = self.maps, self.tuning
        grid = data.views.get("gridscore")
        if maps is not None:
            keys["spatial information"] = (maps.spatial_information_bits_per_spike, ".2f", "bit/spk")
        if grid is not None:
            keys["gridness"] = (grid.gridness, ".2f", "")
        if tuning is not None:
            keys["mean vector length"] = (tuning.mean_vector_length, ".2f", "")
        keys["peak rate"] = ((maps or tuning).peak_rate_hz, ".1f", "Hz")
        keys["recording order"] = (None, "", "")
        self.browser.set_units(data.unit_ids, keys)

    def draw(self) -> None:
        maps, tuning = self.maps, self.tuning
        j = self.page.selection.index
        self.map_plot.setVisible(maps is not None)
        self.tuning_plot.setVisible(tuning is not None)
        uid = self.data.unit_ids[j]
        parts = [f"unit {uid}"]
        if maps is not None:
            m = maps.maps[j]
            levels = level_range(m)
            set_image(self.image, m, maps.x_edges, maps.y_edges, levels)
            self.bar.setLevels(levels)
            self.map_plot.getPlotItem().setTitle(
                f"Rate map of unit {uid} ({maps.bin_size_cm:g} cm bins, "
                f"σ {maps.config.smoothing_sigma_cm:g} cm)",
                color=ink(),
                size="10pt",
            )
            self.map_plot.getPlotItem().setRange(
                xRange=(maps.x_edges[0], maps.x_edges[-1]),
                yRange=(maps.y_edges[0], maps.y_edges[-1]),
                padding=0.02,
            )
            parts.append(
                f"peak {fmt(maps.peak_rate_hz[j], '.1f', 'Hz')}, "
                f"mean {fmt(maps.mean_rate_hz[j], '.2f', 'Hz')}, "
                f"spatial information {fmt(maps.spatial_information_bits_per_spike[j], '.2f', 'bit/spike')} "
                f"({fmt(maps.spatial_information_bits_per_s[j], '.2f', 'bit/s')})"
            )
        if tuning is not None:
            deg = np.rad2deg(np.append(tuning.bin_centres_rad, tuning.bin_centres_rad[0] + 2 * np.pi))
            curve = np.append(tuning.curves[j], tuning.curves[j, 0])
            self.curve.setData(deg, curve, connect="finite")
            pref = tuning.preferred_direction_rad[j]
            self.preferred.setVisible(bool(np.isfinite(pref)))
            if np.isfinite(pref):
                self.preferred.setPos(float(np.rad2deg(pref)))
            title = f"Head-direction tuning of unit {uid}"
            decoding = self.data.decoding
            agreement = (decoding.metrics.get("head_direction") if decoding is not None else None) or {}
            if agreement:
                rho, error = agreement["circular_correlation"], agreement["median_error_deg"]
                title += f" (decoded ring vs head direction: ρ = {rho:.2f}, median error {error:.0f}°)"
            self.tuning_plot.getPlotItem().setTitle(title, color=ink(), size="10pt")
            hi = level_range(curve)[1]
            self.tuning_plot.getPlotItem().setRange(xRange=(0, 360), yRange=(0, hi), padding=0.03)
            parts.append(
                f"preferred direction {fmt(np.rad2deg(pref), '.0f', '°')}, mean vector length "
                f"{fmt(tuning.mean_vector_length[j])}"
            )
        self.info.setText("; ".join(parts))

    def describe_map(self, x: float, y: float) -> str | None:
        maps = self.maps if self.data is not None else None
        if maps is None:
            return None
        j = self.page.selection.index
        where = pixel(maps.maps[j], maps.x_edges, maps.y_edges, x, y)
        if where is None:
            return f"x {x:.1f} cm, y {y:.1f} cm (outside the arena)"
        r, c = where
        return (
            f"x {x:.1f} cm, y {y:.1f} cm: unit {maps.unit_ids[j]} {fmt(maps.maps[j, r, c], '.2f', 'Hz')} "
            f"(occupancy {maps.occupancy_s[r, c]:.2f} s)"
        )

    def describe_tuning(self, x: float, y: float) -> str | None:
        tuning = self.tuning if self.data is not None else None
        if tuning is None or not 0 <= x < 360:
            return None
        j = self.page.selection.index
        b = min(int(x / 360 * tuning.curves.shape[1]), tuning.curves.shape[1] - 1)
        return f"head direction {x:.0f}°: unit {tuning.unit_ids[j]} {fmt(tuning.curves[j, b], '.2f', 'Hz')}"

    def export_job(self):
        units = [self.data.unit_ids[i] for i in self.browser.ordered_from_current(16)]
        return self.export_with(units=units)
