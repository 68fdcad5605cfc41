"""The Simulate page's plots: the live network (ring curve or sheet image, the trajectory so far) while a run
goes, then the model analysis of the finished run (bump vs stimulus, path integration, u over space and time).

Drawing only: frames come from ``core.simulation.live.LiveFeed`` and analyses from
``core.simulation.analysis.analyse``, both computed on the worker.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from canns_gui.views.common import BLUE, GREY, ORANGE, RED, colormap, image_item, plot_widget, set_image
from core.simulation.analysis import PathIntegration, SpaceTime, TrackingError

DASH = pg.QtCore.Qt.DashLine


def _broken(angle: np.ndarray) -> np.ndarray:
    """Angles (rad) with NaN where they wrap, so that a curve has no vertical jump across the plot."""
    y = np.asarray(angle, dtype=np.float64).copy()
    y[1:][np.abs(np.diff(y)) > np.pi] = np.nan
    return y


class LiveView(QWidget):
    """The network while it runs: u over the ring (with the stimulus), or the sheet as an image (with the
    stimulus on a CANN2D torus) beside the arena trajectory so far."""

    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.ring = plot_widget("network activity", "preferred position (rad)", "u")
        self.curve = self.ring.plot(pen=pg.mkPen(BLUE, width=2))
        self.stim_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(GREY, width=1.5, style=DASH))
        self.ring.addItem(self.stim_line)
        self.ring.setXRange(-np.pi, np.pi, padding=0)
        self.sheet = plot_widget("network sheet", "neuron x", "neuron y")
        self.sheet.setAspectLocked(True)
        self.image = image_item(self.sheet, (0.0, 1.0), colormap("viridis"))
        self.stim_dot = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=2), brush=None, symbol="o")
        self.sheet.addItem(self.stim_dot)
        self.stack.addWidget(self.ring)
        self.stack.addWidget(self.sheet)
        self.arena = plot_widget("trajectory so far", "x (cm)", "y (cm)")
        self.arena.setAspectLocked(True)
        self.path = self.arena.plot(pen=pg.mkPen(GREY, width=1))
        self.here = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(*RED), pen=None)
        self.arena.addItem(self.here)
        layout.addWidget(self.stack, 3)
        layout.addWidget(self.arena, 2)
        self.extent: tuple[float, float] = (0.0, 1.0)
        self.peak = 0.0

    def reset(
        self, sheet: bool, extent: tuple[float, float], axis: str, has_path: bool, stimulus_on_sheet: bool
    ) -> None:
        """Prepare a run's view: ring or sheet (``extent``: sheet coordinates; ``axis``: their name and unit,
        e.g. "preferred x (rad)"), whether there is a trajectory and a stimulus to mark on the sheet."""
        self.stack.setCurrentWidget(self.sheet if sheet else self.ring)
        self.sheet.getPlotItem().setLabel("bottom", axis)
        self.sheet.getPlotItem().setLabel("left", axis.replace(" x", " y"))
        self.extent, self.peak = extent, 0.0
        self.curve.setData([], [])
        self.path.setData([], [])
        self.here.setData([], [])
        self.stim_dot.setData([], [])
        self.stim_dot.setVisible(stimulus_on_sheet)
        self.arena.setVisible(has_path)
        self.sheet.setXRange(*extent, padding=0)
        self.sheet.setYRange(*extent, padding=0)

    def show_frame(self, frame: dict) -> None:
        state = frame["state"]
        title = f"network at t = {frame['t_s']:.1f} s"
        if state is not None:
            self.peak = max(self.peak, float(np.nanmax(state)) if state.size else 0.0)
            if state.ndim == 1:
                self.curve.setData(np.linspace(-np.pi, np.pi, state.size, endpoint=False), state)
                self.ring.setYRange(0.0, max(self.peak * 1.05, 1e-9))
                self.ring.getPlotItem().setTitle(title)
            else:
                edges = np.linspace(*self.extent, state.shape[0] + 1)
                set_image(self.image, state, edges, edges, levels=(0.0, max(self.peak, 1e-9)))
                self.sheet.getPlotItem().setTitle(title)
        stim = frame["stimulus"]
        if stim is not None and np.ndim(stim) == 0:
            self.stim_line.setPos(float(stim))
        self.stim_line.setVisible(stim is not None and np.ndim(stim) == 0)
        if stim is not None and np.ndim(stim) == 1 and self.stim_dot.isVisible():
            self.stim_dot.setData([float(stim[0])], [float(stim[1])])
        path = frame["path"]
        if path is not None and len(path):
            self.path.setData(path[:, 0], path[:, 1])
            self.here.setData([path[-1, 0]], [path[-1, 1]])


class ResultView(QWidget):
    """The finished run: the decoded bump against the stimulus (or the integrated path against the true one)
    with its error over time."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel("Run a simulation to see the bump against its stimulus.")
        self.main = plot_widget("bump vs stimulus", "time (s)", "position (rad)")
        self.main.addLegend(offset=(-10, 10))
        self.error = plot_widget("", "time (s)", "error")
        layout.addWidget(self.note)
        layout.addWidget(self.main, 2)
        layout.addWidget(self.error, 1)

    def clear(self) -> None:
        for plot in (self.main, self.error):
            plot.clear()
        legend = self.main.getPlotItem().legend
        if legend is not None:
            legend.clear()

    def show_analyses(self, analyses: dict, stimulus: np.ndarray | None, bump: np.ndarray) -> None:
        self.clear()
        pi, tr = analyses.get("path_integration"), analyses.get("tracking")
        if isinstance(pi, PathIntegration):
            self._path_integration(pi)
        elif isinstance(tr, TrackingError) and stimulus is not None:
            self._tracking(tr, stimulus, bump)
        else:
            self.note.setText("This run has no stimulus or trajectory to compare the bump with.")

    def _tracking(self, tr: TrackingError, stimulus: np.ndarray, bump: np.ndarray) -> None:
        stim, pos = np.atleast_2d(stimulus.T).T, np.atleast_2d(bump.T).T
        item = self.main.getPlotItem()
        item.setTitle("decoded bump vs stimulus")
        item.setLabel("left", "position (rad)")
        for j in range(pos.shape[1]):
            axis = "" if pos.shape[1] == 1 else (" x", " y")[j]
            style = DASH if j else pg.QtCore.Qt.SolidLine
            self.main.plot(
                tr.t_s, _broken(stim[:, j]), pen=pg.mkPen(GREY, width=3, style=style), name=f"stimulus{axis}"
            )
            self.main.plot(
                tr.t_s,
                _broken(pos[:, j]),
                pen=pg.mkPen(BLUE if j == 0 else ORANGE, width=1),
                name=f"bump{axis}",
            )
        self.error.plot(tr.t_s, tr.distance, pen=pg.mkPen(RED, width=1))
        self.error.getPlotItem().setLabel("left", "error (rad)")
        self.note.setText(
            f"Tracking error after {tr.transient_s:.1f} s: mean {tr.mean_distance:.3g} rad, max "
            f"{tr.max_distance:.3g} rad; the bump lags the stimulus by {tr.lag_s * 1e3:.0f} ms."
        )

    def _path_integration(self, pi: PathIntegration) -> None:
        item = self.main.getPlotItem()
        if pi.unit == "rad":
            item.setTitle("integrated vs true head direction")
            item.setLabel("bottom", "time (s)")
            item.setLabel("left", "turned since start (rad)")
            self.main.plot(pi.t_s, pi.truth, pen=pg.mkPen(GREY, width=3), name="true")
            self.main.plot(pi.t_s, pi.estimate, pen=pg.mkPen(BLUE, width=1), name="integrated")
        else:
            item.setTitle("integrated vs true path")
            item.setLabel("bottom", "x from start (cm)")
            item.setLabel("left", "y from start (cm)")
            self.main.plot(pi.truth[:, 0], pi.truth[:, 1], pen=pg.mkPen(GREY, width=3), name="true")
            self.main.plot(
                pi.estimate[:, 0], pi.estimate[:, 1], pen=pg.mkPen(BLUE, width=1), name="integrated"
            )
        self.error.plot(pi.t_s, np.abs(pi.error), pen=pg.mkPen(RED, width=1))
        self.error.getPlotItem().setLabel("left", f"error ({pi.unit})")
        self.note.setText(
            f"Path-integration error: final {pi.final_error:.3g} {pi.unit}, max {pi.max_error:.3g} {pi.unit}."
        )


class SpaceTimeView(QWidget):
    """u over the ring (y) and time (x) of a ring run that kept its state, with the stimulus on top."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(
            "Ring models that keep their state (runs up to ~1 hour) show u over space and time."
        )
        self.plot = plot_widget("u over space and time", "time (s)", "preferred position (rad)")
        self.image = image_item(self.plot, (0.0, 1.0), colormap("magma"))
        self.stim = self.plot.plot(pen=pg.mkPen("c", width=1))
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)

    def show_space_time(self, st: SpaceTime | None) -> None:
        if st is None:
            self.image.clear()
            self.stim.setData([], [])
            return
        dt = st.t_s[1] - st.t_s[0] if st.t_s.size > 1 else 0.01
        t_edges = np.append(st.t_s - dt, st.t_s[-1])
        half = (st.positions[1] - st.positions[0]) / 2
        p_edges = np.append(st.positions - half, st.positions[-1] + half)
        set_image(self.image, st.u.T, t_edges, p_edges, levels=(0.0, max(float(st.u.max()), 1e-9)))
        if st.stimulus is not None and st.stimulus.ndim == 1:
            self.stim.setData(st.t_s, _broken(st.stimulus))
        else:
            self.stim.setData([], [])
        self.plot.autoRange()


class SimulationTabs(QTabWidget):
    """Live | Bump vs stimulus | Space–time."""

    def __init__(self) -> None:
        super().__init__()
        self.live, self.result, self.space_time = LiveView(), ResultView(), SpaceTimeView()
        self.addTab(self.live, "Live")
        self.addTab(self.result, "Bump vs stimulus")
        self.addTab(self.space_time, "Space–time")
