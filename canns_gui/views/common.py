"""What the view tabs share: the tab frame (message or content, Export…, read-out), the unit browser, the
linked unit selection, colour maps, images placed in physical units, and hover read-outs.

Drawing only: every number shown comes from a core view result computed on a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.angles import TWO_PI
from core.behaviour import head_direction_warning

PI_TICKS = [(0.0, "0"), (np.pi / 2, "π/2"), (np.pi, "π"), (1.5 * np.pi, "3π/2"), (TWO_PI, "2π")]
BLUE, ORANGE, GREEN, RED, GREY = (
    (76, 114, 176),
    (221, 132, 82),
    (85, 168, 104),
    (196, 78, 82),
    (150, 150, 150),
)
MODULE_COLOURS = (BLUE, ORANGE, GREEN, RED, (129, 114, 179), (147, 120, 96), (218, 139, 195))

# An export job, picklable (``functools.partial`` of ``core.views.registry.export_one``), runs in the export
# process: (folder, provenance record) → files written.
ExportJob = Callable[[Path, dict], list[Path]]


def colormap(name: str) -> pg.ColorMap:
    """A colour map by matplotlib name (twilight for phases, viridis for rates, RdBu_r for correlations)."""
    cmap = pg.colormap.get(name, source="matplotlib")
    return cmap if cmap is not None else pg.colormap.get("viridis")


def ink() -> str:
    """The theme's text colour for plot titles and labels."""
    return pg.getConfigOption("foreground")


def plot_widget(title: str = "", x_label: str = "", y_label: str = "") -> pg.PlotWidget:
    """A white-background plot with labelled axes; units are written in the labels, e.g. "x (cm)"."""
    widget = pg.PlotWidget()  # background and ink from the theme (pg config options)
    item = widget.getPlotItem()
    if title:
        item.setTitle(title, color=ink(), size="10pt")
    for side, text in (("bottom", x_label), ("left", y_label)):
        if text:
            item.setLabel(side, text, color=ink())
    item.hideButtons()
    return widget


def pi_ticks(axis: pg.AxisItem) -> None:
    """Ticks at 0, π/2, π, 3π/2 and 2π on an axis in radians."""
    axis.setTicks([PI_TICKS, []])


def image_item(plot: pg.PlotWidget, levels: tuple[float, float], cmap: pg.ColorMap) -> pg.ImageItem:
    """An empty image on ``plot`` coloured with ``cmap``; NaN pixels stay transparent."""
    img = pg.ImageItem(axisOrder="row-major")
    img.setColorMap(cmap)
    img.setLevels(levels)
    plot.addItem(img)
    return img


def set_image(img: pg.ImageItem, values: np.ndarray, x_edges, y_edges, levels=None) -> None:
    """Show ``values`` (ny, nx), rows along y, over x_edges[0]..x_edges[-1] and y_edges[0]..y_edges[-1]."""
    values = np.asarray(values, dtype=np.float32)
    img.setImage(values, autoLevels=False)
    if levels is not None:
        img.setLevels(levels)
    x0, x1, y0, y1 = float(x_edges[0]), float(x_edges[-1]), float(y_edges[0]), float(y_edges[-1])
    img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))


def pixel(values: np.ndarray, x_edges, y_edges, x: float, y: float) -> tuple[int, int] | None:
    """(row, col) of ``values`` (ny, nx) under (x, y) in the edges' units, or None outside."""
    ny, nx = values.shape[-2:]
    fx = (x - x_edges[0]) / (x_edges[-1] - x_edges[0]) * nx
    fy = (y - y_edges[0]) / (y_edges[-1] - y_edges[0]) * ny
    if not (0 <= fx < nx and 0 <= fy < ny):
        return None
    return int(fy), int(fx)


def colour_bar(
    img: pg.ImageItem, plot: pg.PlotWidget, levels, cmap: pg.ColorMap, label: str
) -> pg.ColorBarItem:
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, interactive=False, width=14)
    bar.setImageItem(img, insert_in=plot.getPlotItem())
    bar.getAxis("right").setLabel(label, color=ink())
    return bar


def fmt(value: float, spec: str = ".2f", unit: str = "") -> str:
    """A number for a label, "–" when undefined."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:{spec}}" + (f" {unit}" if unit else "")


def level_range(values: np.ndarray, low: float | None = 0.0) -> tuple[float, float]:
    """(low, max) of the finite values for a colour scale; (0, 1) when there are none."""
    finite = np.asarray(values)[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo = float(finite.min()) if low is None else low
    hi = float(finite.max())
    return lo, max(hi, lo + 1e-9)


def hover(plot: pg.PlotWidget, describe: Callable[[float, float], str | None], label: QLabel) -> None:
    """Write ``describe(x, y)`` (data coordinates under the mouse) into ``label`` while over ``plot``."""
    item = plot.getPlotItem()

    def moved(pos) -> None:
        if not item.vb.sceneBoundingRect().contains(pos):
            return
        point = item.vb.mapSceneToView(pos)
        text = describe(point.x(), point.y())
        if text:
            label.setText(text)

    plot.scene().sigMouseMoved.connect(moved)


class UnitSelection(QObject):
    """The unit (index into the recording's unit list) that GridScore, FRM and CohoSpace show."""

    changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.index = 0

    def set(self, index: int) -> None:
        if index != self.index:
            self.index = int(index)
            self.changed.emit(self.index)


class UnitBrowser(QWidget):
    """◀ [unit combo] ▶ and a sort order; follows (and sets) a shared :class:`UnitSelection`."""

    def __init__(self, selection: UnitSelection) -> None:
        super().__init__()
        self.selection = selection
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.prev_button = QToolButton()
        self.prev_button.setText("◀")
        self.prev_button.setToolTip("previous unit in this order")
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.next_button.setToolTip("next unit in this order")
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.sort = QComboBox()
        self.sort.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        layout.addWidget(QLabel("Unit"))
        layout.addWidget(self.prev_button)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.next_button)
        layout.addWidget(QLabel("sort by"))
        layout.addWidget(self.sort)
        self.unit_ids: list = []
        self.keys: dict[str, tuple[np.ndarray | None, str, str]] = {}
        self.order = np.zeros(0, dtype=int)
        self._updating = False
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.sort.currentIndexChanged.connect(lambda _: self._fill())
        selection.changed.connect(self.show_unit)

    def set_units(self, unit_ids: list, keys: dict[str, tuple[np.ndarray | None, str, str]]) -> None:
        """Units and sort keys: name → (values or None for recording order, format, unit); high first."""
        self.unit_ids = list(unit_ids)
        self.keys = keys
        current = self.sort.currentText()
        self._updating = True
        self.sort.clear()
        self.sort.addItems(list(keys))
        if current in keys:
            self.sort.setCurrentText(current)
        self._updating = False
        self._fill()

    def _fill(self) -> None:
        if self._updating or not self.unit_ids:
            return
        values, spec, unit = self.keys.get(self.sort.currentText(), (None, "", ""))
        n = len(self.unit_ids)
        if values is None:
            self.order = np.arange(n)
        else:
            v = np.asarray(values, dtype=np.float64)
            self.order = np.lexsort((np.arange(n), np.where(np.isfinite(v), -v, np.inf)))
        self._updating = True
        self.combo.clear()
        for j in self.order:
            text = f"unit {self.unit_ids[j]}"
            if values is not None:
                text += f"  ({fmt(values[j], spec, unit)})"
            self.combo.addItem(text, int(j))
        self._updating = False
        self.show_unit(self.selection.index)

    def show_unit(self, index: int) -> None:
        """Show unit ``index`` as the current one (no signal)."""
        pos = np.flatnonzero(self.order == index)
        if pos.size:
            self._updating = True
            self.combo.setCurrentIndex(int(pos[0]))
            self._updating = False

    def _combo_changed(self, pos: int) -> None:
        if not self._updating and pos >= 0:
            self.selection.set(int(self.combo.itemData(pos)))

    def step(self, delta: int) -> None:
        if self.combo.count():
            self.combo.setCurrentIndex((self.combo.currentIndex() + delta) % self.combo.count())

    def select(self, index: int) -> None:
        """Make unit ``index`` (position in the recording's unit list) the selected one everywhere."""
        self.selection.set(int(index))

    def ordered_from_current(self, count: int) -> list[int]:
        """Up to ``count`` unit indices in this browser's order, starting at the selected one."""
        if not self.order.size:
            return []
        start = (
            int(np.flatnonzero(self.order == self.selection.index)[0])
            if self.selection.index in self.order
            else 0
        )
        return [int(self.order[(start + i) % self.order.size]) for i in range(min(count, self.order.size))]


class ViewTab(QWidget):
    """One view: a tool row (the tab's controls, then Export…), a message or the content, and a read-out."""

    title = ""
    key = ""  # the view's name in ViewData.views / reasons and the stem of its export

    compares_behaviour = False  # draws decoded phases against recorded behaviour: warn when they part

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page
        self.data = None
        self.dirty = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.toolbar = QWidget()  # hidden while the tab shows a message instead of the view
        self.tools = QHBoxLayout(self.toolbar)
        self.tools.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.toolbar)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Write this view's figure (PNG, SVG, PDF), data (NPZ, CSV) and provenance (JSON)"
        )
        self.export_button.clicked.connect(self.choose_export)
        self.stack = QStackedWidget()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setStyleSheet("font-size: 14px; padding: 24px;")
        self.content = QWidget()
        self.content_layout = QVBoxLayout(self.content)
        self.content_layout.setContentsMargins(0, 0, 0, 0)
        self.warning = QLabel("")  # e.g. a decoded ring that does not follow the recorded head direction
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("background: #f8d7da; color: #58151c; padding: 6px; border-radius: 4px;")
        self.warning.hide()
        self.content_layout.addWidget(self.warning)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.content)
        outer.addWidget(self.stack, 1)
        self.readout = QLabel(" ")
        self.readout.setStyleSheet("font-family: monospace;")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.readout)
        self.build()
        self.tools.addStretch(1)
        self.tools.addWidget(self.export_button)
        self.say(f"{self.title}: run the analysis (Preprocess, TDA, Decode), then press “Compute views”.")

    # to override -----------------------------------------------------------------------------------------
    def build(self) -> None:
        """Add the tab's controls to ``self.tools`` and its plots to ``self.content_layout``."""

    def draw(self) -> None:
        """Draw ``self.data`` (called on the GUI thread, only when the tab is visible)."""

    def export_job(self) -> ExportJob:
        """What Export… writes, captured now (selection, window) and run later on a worker."""
        return self.export_with()

    def export_with(self, **options) -> ExportJob:
        """This view's registered export with the tab's ``options`` (selected units, window, mode)."""
        from core.views.registry import VIEWS, export_one

        return partial(export_one, VIEWS[self.key], self.data.views[self.key], self.data.sources, **options)

    def stop(self) -> None:
        """Stop anything animated (the page hides or the data goes)."""

    # shared ----------------------------------------------------------------------------------------------
    def add_unit_browser(self) -> QLabel:
        """The ◀ unit ▶ browser of the page's shared selection in the toolbar (redraws on a change), and a
        wrapping info label above the plots, which is returned."""
        self.browser = UnitBrowser(self.page.selection)
        self.tools.addWidget(self.browser, 1)
        self.page.selection.changed.connect(lambda _: self.refresh())
        info = QLabel("")
        info.setWordWrap(True)
        self.content_layout.addWidget(info)
        return info

    @property
    def has_content(self) -> bool:
        return self.stack.currentWidget() is self.content

    def say(self, text: str) -> None:
        """Show a plain-words message instead of the view (why it cannot be shown)."""
        self.stop()
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self.toolbar.hide()
        self.export_button.setEnabled(False)
        self.readout.setText(" ")

    def set_data(self, data) -> None:
        """New results: show why this view is missing, or draw it (now if visible, else when shown)."""
        self.data = data
        reason = data.reasons.get(self.key) if data is not None else None
        if data is None or reason:
            self.say(reason or f"{self.title}: nothing computed yet.")
            return
        warning = head_direction_warning(data.decoding) if self.compares_behaviour else ""
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.stack.setCurrentWidget(self.content)
        self.toolbar.show()
        self.export_button.setEnabled(True)
        self.dirty = True  # drawn in full on the next turn of the event loop when visible, or when shown
        if self.isVisible():
            QTimer.singleShot(0, self._draw_if_dirty)

    def refresh(self) -> None:
        """Redraw now when visible (a user's change: one unit, one setting), else on the next show."""
        if not self.has_content:
            return
        if self.isVisible():
            self.dirty = False
            self.draw()
        else:
            self.dirty = True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        # draw on the next turn of the event loop: the tab switch paints first, so neither step alone holds
        # the GUI thread for long
        QTimer.singleShot(0, self._draw_if_dirty)

    def _draw_if_dirty(self) -> None:
        if self.dirty and self.has_content and self.isVisible():
            self.dirty = False
            self.draw()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.stop()
        super().hideEvent(event)

    def choose_export(self) -> None:
        from canns_gui.dialogs import choose_folder

        folder = choose_folder(self, "export", f"Export {self.title} into folder")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> bool:
        """Write this view's files into ``folder`` on a worker; False when nothing was started."""
        if not self.has_content or self.data is None:
            return False
        return self.page.run_export(self.title, self.export_job(), Path(folder))


MAX_SCATTER_POINTS = 100_000  # a larger scatter is drawn from a seeded random subset of this many points
SCATTER_CHUNK = 2_500  # points added per turn of the event loop (each turn ~10 ms of the GUI thread)


class ProgressiveScatter:
    """A large scatter coloured by a value, drawn on ``plot`` in parts over several turns of the event loop.

    Points are grouped into ``n_colours`` shared brushes (pyqtgraph renders one symbol per distinct brush)
    and added ``SCATTER_CHUNK`` at a time in a seeded random order, the first part at once and the others
    on the next turns of the event loop: the GUI thread never holds for the whole cloud (20,000 points drawn
    with one ``plot(symbolBrush=...)`` call hold it ~0.25 s), and the cloud fills in evenly meanwhile. Its
    items are updated with ``setData``, not recreated; a new ``set_data`` stops the parts still to come of
    the previous one. More than ``max_points`` points: a seeded random subset of that many is drawn.
    """

    def __init__(
        self,
        plot: pg.PlotItem,
        size: float = 5.0,
        alpha: int = 200,
        n_colours: int = 64,
        max_points: int = MAX_SCATTER_POINTS,
        chunk: int = SCATTER_CHUNK,
    ) -> None:
        self.plot, self.size, self.alpha, self.n_colours = plot, size, alpha, n_colours
        self.max_points, self.chunk = max_points, chunk
        self.items: list[pg.ScatterPlotItem] = []
        self._generation = 0
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_drawn = 0
        self.n_points = 0

    @property
    def done(self) -> bool:
        """Every part is drawn."""
        return self.n_drawn >= min(self.n_points, self.max_points)

    def set_data(self, x, y, values, cmap: pg.ColorMap, levels: tuple[float, float], seed: int = 0) -> None:
        """Draw points (x, y) coloured by ``values`` through ``cmap`` over ``levels`` (lo, hi)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        lo, hi = float(levels[0]), float(levels[1])
        hi = max(hi, lo + 1e-12)
        palette = cmap.map(np.linspace(0.0, 1.0, self.n_colours), mode="byte")
        palette[:, 3] = self.alpha
        brushes = np.empty(self.n_colours, dtype=object)
        brushes[:] = [pg.mkBrush(*c) for c in palette.tolist()]
        scaled = np.clip((np.nan_to_num(values, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
        level = np.rint(scaled * (self.n_colours - 1)).astype(np.intp)
        self.n_points = int(x.size)
        order = np.random.default_rng(seed).permutation(x.size)[: self.max_points]
        self._parts = [
            (x[part], y[part], brushes[level[part]])
            for part in np.array_split(order, max(1, -(-order.size // self.chunk)))
            if part.size
        ]
        self._generation += 1
        self.n_drawn = 0
        for item in self.items[len(self._parts) :]:  # fewer parts than last time
            item.setData([], [])
        self._draw_part(0, self._generation)

    def clear(self) -> None:
        self._generation += 1
        self._parts, self.n_drawn, self.n_points = [], 0, 0
        for item in self.items:
            item.setData([], [])

    def _item(self, i: int) -> pg.ScatterPlotItem:
        while len(self.items) <= i:
            self.items.append(pg.ScatterPlotItem(size=self.size, pen=None, symbol="o"))
        item = self.items[i]
        if item.scene() is None or item.getViewBox() is not self.plot.getViewBox():  # the plot was cleared
            self.plot.addItem(item)
        return item

    def _draw_part(self, i: int, generation: int) -> None:
        if generation != self._generation or i >= len(self._parts):
            return
        x, y, brushes = self._parts[i]
        self._item(i).setData(x=x, y=y, brush=brushes)
        self.n_drawn += x.size
        if i + 1 < len(self._parts):
            QTimer.singleShot(0, lambda: self._draw_part(i + 1, generation))


def draw_scatter(plot: pg.PlotItem, x, y, values, cmap: pg.ColorMap, levels, **options) -> ProgressiveScatter:
    """Draw a coloured scatter on ``plot`` progressively (:class:`ProgressiveScatter`, one per plot, reused
    by later calls); returns it."""
    scatter = getattr(plot, "_progressive_scatter", None)
    if scatter is None:
        scatter = ProgressiveScatter(plot, **options)
        plot._progressive_scatter = scatter
    scatter.set_data(x, y, values, cmap, levels)
    return scatter
