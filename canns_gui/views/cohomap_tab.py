"""CohoMap: each decoded circle's phase over the arena (cm), with the lattice parallelogram on a torus."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from canns_gui.views.common import (
    PI_TICKS,
    TWO_PI,
    ViewTab,
    colormap,
    fmt,
    hover,
    image_item,
    ink,
    pixel,
    plot_widget,
    set_image,
)

MODES = {"phase (rad)": "phase", "cos θ": "cos", "sin θ": "sin"}


class CohoMapTab(ViewTab):
    title = "CohoMap"
    key = "cohomap"

    def view_state(self) -> dict:
        """What is shown (phase, cos or sin), for a project file."""
        return {"mode": self.mode.currentText()}

    def set_view_state(self, state: dict) -> None:
        if state.get("mode") in MODES:
            self.mode.setCurrentText(state["mode"])

    def build(self) -> None:
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.setToolTip(
            "phase: circular mean of the decoded phase per spatial bin; cos/sin: its components"
        )
        self.mode.currentIndexChanged.connect(lambda _: self.refresh())
        self.tools.addWidget(QLabel("Show"))
        self.tools.addWidget(self.mode)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.content_layout.addWidget(self.summary)
        self.row = QHBoxLayout()
        self.content_layout.addLayout(self.row, 1)
        self.plots: list[pg.PlotWidget] = []
        self.images: list[pg.ImageItem] = []
        self.overlays: list[list] = []
        # one colour bar for every panel, in its own narrow view at the right
        self.bar = pg.ColorBarItem(
            values=(0.0, TWO_PI), colorMap=colormap("twilight"), interactive=False, width=14
        )
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.setBackground(pg.getConfigOption("background"))
        self.bar_view.addItem(self.bar)
        self.bar_view.setFixedWidth(95)
        self.row.addWidget(self.bar_view)
        self._ensure_plots(2)

    def _ensure_plots(self, n: int) -> None:
        while len(self.plots) < n:
            i = len(self.plots)
            plot = plot_widget("", "x (cm)", "y (cm)" if i == 0 else "")
            plot.getPlotItem().setAspectLocked(True)
            img = image_item(plot, (0.0, TWO_PI), colormap("twilight"))
            self.plots.append(plot)
            self.images.append(img)
            self.overlays.append([])
            self.row.insertWidget(i, plot, 1)
            self.bar.setImageItem(self.images)
            hover(plot, lambda x, y, c=i: self.describe(c, x, y), self.readout)
        for i, plot in enumerate(self.plots):
            plot.setVisible(i < n)

    def maps(self) -> tuple[np.ndarray, tuple[float, float], str, str]:
        view = self.data.views["cohomap"]
        mode = MODES[self.mode.currentText()]
        if mode == "phase":
            return view.phase_maps, (0.0, TWO_PI), "twilight", "decoded phase (rad)"
        maps = view.cos_maps if mode == "cos" else view.sin_maps
        return maps, (-1.0, 1.0), "RdBu_r", f"mean {mode} θ"

    def draw(self) -> None:
        view = self.data.views["cohomap"]
        n = view.n_circles
        self._ensure_plots(n)
        maps, levels, cmap_name, label = self.maps()
        mode_is_phase = cmap_name == "twilight"
        cmap = colormap(cmap_name)
        for i in range(n):
            plot, img = self.plots[i], self.images[i]
            img.setColorMap(cmap)
            set_image(img, maps[i], view.x_edges, view.y_edges, levels)
            k = view.wave_vectors[i]
            norm = float(np.hypot(*k)) if np.all(np.isfinite(k)) else float("nan")
            period = f"period {TWO_PI / norm:.1f} cm" if np.isfinite(norm) and norm > 0 else "no gradient"
            plot.getPlotItem().setTitle(
                f"θ{i + 1}: {period}, fit {fmt(view.fit_quality[i])}", color=ink(), size="10pt"
            )
            for item in self.overlays[i]:
                plot.removeItem(item)
            self.overlays[i] = self._lattice_items(plot, view) if view.has_lattice else []
            plot.getPlotItem().setRange(
                xRange=(view.x_edges[0], view.x_edges[-1]),
                yRange=(view.y_edges[0], view.y_edges[-1]),
                padding=0.02,
            )
        self.bar.setColorMap(cmap)
        self.bar.setLevels(levels)
        axis = self.bar.getAxis("right")
        axis.setLabel(label, color=ink())
        axis.setTicks([PI_TICKS, []] if mode_is_phase else None)
        text = (
            f"{n} decoded circle(s) over the arena; bins of {view.config.bin_size_cm:g} cm, "
            "unvisited bins blank."
        )
        if view.has_lattice:
            text += (
                f"  Lattice: spacing {view.spacing_cm:.1f} cm, angle {view.lattice_angle_deg:.1f}° "
                "(60° for a hexagonal grid); the parallelogram spans one turn of each circle."
            )
        self.summary.setText(text)

    @staticmethod
    def _lattice_items(plot: pg.PlotWidget, view) -> list:
        a1, a2 = view.lattice_vectors
        o = view.lattice_origin_cm
        corners = np.array([o, o + a1, o + a1 + a2, o + a2, o])
        items = [
            plot.plot(corners[:, 0], corners[:, 1], pen=pg.mkPen("w", width=4)),
            plot.plot(corners[:, 0], corners[:, 1], pen=pg.mkPen("k", width=1.5)),
        ]
        for vec, name in ((a1, "a₁"), (a2, "a₂")):
            text = pg.TextItem(name, color="k", fill=pg.mkBrush(255, 255, 255, 180), anchor=(0.5, 0.5))
            tip = o + 1.1 * vec
            text.setPos(tip[0], tip[1])
            plot.addItem(text)
            items.append(text)
        return items

    def describe(self, circle: int, x: float, y: float) -> str | None:
        if self.data is None or "cohomap" not in self.data.views:
            return None
        view = self.data.views["cohomap"]
        where = pixel(view.phase_maps[0], view.x_edges, view.y_edges, x, y)
        if where is None:
            return f"x {x:.1f} cm, y {y:.1f} cm (outside the arena)"
        r, c = where
        parts = [f"θ{i + 1} {fmt(view.phase_maps[i, r, c], '.2f', 'rad')}" for i in range(view.n_circles)]
        occ = view.occupancy[r, c]
        return f"x {x:.1f} cm, y {y:.1f} cm: " + ", ".join(parts) + f"  ({occ:.0f} time bins)"

    def export_job(self):
        return self.export_with(mode=MODES[self.mode.currentText()])
