"""The Simulate page's plots: the live network (ring curve or sheet image, the trajectory so far) while a run
goes, a replay of the finished run over its records, then the model analysis of the finished run (bump vs
stimulus, path integration, u over space and time).

Drawing only: frames come from ``core.simulation.live.LiveFeed`` and analyses from
``core.simulation.analysis.analyse``, both computed on the worker, as is what the replay and the plots of a
long run need (:func:`replay_of`, :func:`thin_space_time`): the GUI thread only slices and draws.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from canns_gui.views.common import BLUE, GREY, ORANGE, RED, colormap, image_item, plot_widget, set_image
from core.simulation.analysis import PathIntegration, SpaceTime, TrackingError

DASH = pg.QtCore.Qt.DashLine
MAX_LINE_POINTS = 20_000  # points of a line drawn over a whole run (longer runs are thinned for drawing)
MAX_IMAGE_COLUMNS = 4_000  # time columns of the space–time image drawn (longer runs are thinned)
MAX_PATH_POINTS = 4_000  # points of the replayed trajectory
REPLAY_TICK_MS = 40
REPLAY_SPEEDS = (1.0, 5.0, 20.0, 100.0, 1000.0, 10000.0)  # simulated seconds per second of replay
REPLAY_LENGTH_S = 20.0  # the default speed replays a run in about this long


def _broken(angle: np.ndarray) -> np.ndarray:
    """Angles (rad) with NaN where they wrap, so that a curve has no vertical jump across the plot."""
    y = np.asarray(angle, dtype=np.float64).copy()
    y[1:][np.abs(np.diff(y)) > np.pi] = np.nan
    return y


def _stride(n: int, most: int) -> int:
    """Every how many samples of ``n`` to draw so that at most ``most`` are drawn."""
    return max(1, -(-n // most))


@dataclass
class Replay:
    """A finished run as the Live tab replays it, record by record (prepared on the worker).

    t_s: (n,) record times (s). states: the kept state of every record ((n, N) ring, (n, L, L) sheet) or
    None when it was too large to keep (then only ``bump`` moves). peak: the largest state value (colour
    scale, y range). stimulus: (n,) or (n, 2) stimulus / true position (rad) or None. bump: (n,) or (n, 2)
    decoded bump position (rad) where it is a place on the plotted network, else None (the grid sheet's is
    a displacement). path_t, path_xy: the arena trajectory (s; (k, 2) cm) thinned to ``MAX_PATH_POINTS``,
    or None."""

    t_s: np.ndarray
    states: np.ndarray | None
    peak: float
    stimulus: np.ndarray | None
    bump: np.ndarray | None
    path_t: np.ndarray | None = None
    path_xy: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.t_s.size)

    def frame(self, k: int) -> dict:
        """Record ``k`` as a live frame (``LiveView.show_frame``), with the decoded bump."""
        k = min(max(int(k), 0), self.n - 1)
        t = float(self.t_s[k])
        path = None
        if self.path_t is not None:
            j = int(np.searchsorted(self.path_t, t, side="right"))
            here = [np.interp(t, self.path_t, self.path_xy[:, a]) for a in (0, 1)]
            path = np.vstack([self.path_xy[:j], np.array([here])])
        return {
            "t_s": t,
            "state": None if self.states is None else self.states[k],
            "stimulus": None if self.stimulus is None else self.stimulus[k],
            "bump": None if self.bump is None else self.bump[k],
            "path": path,
        }


def replay_of(result, bump_on_network: bool) -> Replay:
    """The replay of a finished :class:`~core.simulation.base.SimulationResult` (worker thread).
    ``bump_on_network``: the decoded bump is a place on the plotted ring or sheet (rad)."""
    states = result.state_trace
    peak = float(np.nanmax(states)) if states is not None and states.size else 0.0
    path_t = path_xy = None
    task = result.task
    if task is not None and task.x_cm is not None and task.y_cm is not None:
        path_t = np.linspace(
            float(result.t_s[0]), float(result.t_s[-1]), min(MAX_PATH_POINTS, result.t_s.size)
        )
        path_xy = np.stack([task.at("x_cm", path_t), task.at("y_cm", path_t)], axis=1)
    return Replay(
        t_s=np.asarray(result.t_s, dtype=np.float64),
        states=states,
        peak=max(peak, 1e-9),
        stimulus=result.stimulus,
        bump=np.asarray(result.bump_position) if bump_on_network else None,
        path_t=path_t,
        path_xy=path_xy,
    )


def thin_space_time(st: SpaceTime | None, max_columns: int = MAX_IMAGE_COLUMNS) -> SpaceTime | None:
    """``st`` with at most ``max_columns`` time columns (the largest u of each group kept, so a bump never
    disappears between columns) for drawing; as it is when short enough (worker thread)."""
    if st is None or st.t_s.size <= max_columns:
        return st
    k = _stride(st.t_s.size, max_columns)
    n = st.t_s.size // k * k
    u = np.asarray(st.u[:n]).reshape(n // k, k, -1).max(axis=1)
    stim = None if st.stimulus is None else st.stimulus[k - 1 : n : k]
    return replace(st, t_s=st.t_s[k - 1 : n : k], u=u, bump=st.bump[k - 1 : n : k], stimulus=stim)


class ReplayBar(QWidget):
    """▶ Replay, a slider over the records of the finished run, the time shown and the replay speed."""

    def __init__(self, show_record) -> None:
        super().__init__()
        self.show_record = show_record
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.play_button = QPushButton("▶ Replay")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("replay the finished run from its recorded states")
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("record of the finished run shown")
        self.slider.valueChanged.connect(self._moved)
        self.time_label = QLabel("t = – s")
        self.time_label.setMinimumWidth(130)
        self.speed = QComboBox()
        for speed in REPLAY_SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setToolTip("simulated seconds per second of replay")
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        row.addWidget(QLabel("speed"))
        row.addWidget(self.speed)
        self.timer = QTimer(self)
        self.timer.setInterval(REPLAY_TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.replay: Replay | None = None

    def set_replay(self, replay: Replay | None) -> None:
        """A finished run to replay (shown at its last record), or None (hidden)."""
        self.stop()
        self.replay = replay
        self.setVisible(replay is not None)
        if replay is None:
            return
        duration = float(replay.t_s[-1] - replay.t_s[0]) if replay.n > 1 else 0.0
        fast = [i for i, v in enumerate(REPLAY_SPEEDS) if duration / v <= REPLAY_LENGTH_S]
        self.speed.setCurrentIndex(fast[0] if fast else len(REPLAY_SPEEDS) - 1)
        self.slider.blockSignals(True)
        self.slider.setRange(0, replay.n - 1)
        self.slider.setValue(replay.n - 1)
        self.slider.blockSignals(False)
        self._moved(replay.n - 1)

    def _moved(self, k: int) -> None:
        if self.replay is not None:
            self.time_label.setText(f"t = {self.replay.t_s[k]:.2f} s")
            self.show_record(k)

    def _play(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Replay")
        if on and self.replay is not None:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        r = self.replay
        if r is None:
            self.stop()
            return
        dt = float(r.t_s[1] - r.t_s[0]) if r.n > 1 else 1.0
        step = max(1, int(round(self.speed.currentData() * REPLAY_TICK_MS / 1000.0 / dt)))
        value = min(self.slider.value() + step, self.slider.maximum())
        self.slider.setValue(value)
        if value >= self.slider.maximum():
            self.play_button.setChecked(False)

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)
        self.timer.stop()


class LiveView(QWidget):
    """The network while it runs: u over the ring (with the stimulus), or the sheet as an image (with the
    stimulus on a CANN2D torus) beside the arena trajectory so far; once the run is done, the same plots
    replay it record by record (:class:`ReplayBar`)."""

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout()
        self.stack = QStackedWidget()
        self.ring = plot_widget("network activity", "preferred position (rad)", "u")
        self.curve = self.ring.plot(pen=pg.mkPen(BLUE, width=2))
        self.stim_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(GREY, width=1.5, style=DASH))
        self.ring.addItem(self.stim_line)
        self.bump_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ORANGE, width=2))
        self.bump_line.setVisible(False)
        self.ring.addItem(self.bump_line)
        self.ring.setXRange(-np.pi, np.pi, padding=0)
        self.sheet = plot_widget("network sheet", "neuron x", "neuron y")
        self.sheet.setAspectLocked(True)
        self.image = image_item(self.sheet, (0.0, 1.0), colormap("viridis"))
        self.stim_dot = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=2), brush=None, symbol="o")
        self.sheet.addItem(self.stim_dot)
        self.bump_dot = pg.ScatterPlotItem(size=12, pen=pg.mkPen(ORANGE, width=2.5), brush=None, symbol="+")
        self.sheet.addItem(self.bump_dot)
        self.stack.addWidget(self.ring)
        self.stack.addWidget(self.sheet)
        self.arena = plot_widget("trajectory so far", "x (cm)", "y (cm)")
        self.arena.setAspectLocked(True)
        self.path = self.arena.plot(pen=pg.mkPen(GREY, width=1))
        self.here = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(*RED), pen=None)
        self.arena.addItem(self.here)
        layout.addWidget(self.stack, 3)
        layout.addWidget(self.arena, 2)
        outer.addLayout(layout, 1)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        outer.addWidget(self.note)
        self.replay_bar = ReplayBar(self.show_record)
        self.replay_bar.hide()
        outer.addWidget(self.replay_bar)
        self.extent: tuple[float, float] = (0.0, 1.0)
        self.peak = 0.0
        self.stimulus_on_sheet = False

    def reset(
        self, sheet: bool, extent: tuple[float, float], axis: str, has_path: bool, stimulus_on_sheet: bool
    ) -> None:
        """Prepare a run's view: ring or sheet (``extent``: sheet coordinates; ``axis``: their name and unit,
        e.g. "preferred x (rad)"), whether there is a trajectory and a stimulus to mark on the sheet. Any
        replay ends."""
        self.replay_bar.set_replay(None)
        self.note.setText("")
        self.stack.setCurrentWidget(self.sheet if sheet else self.ring)
        self.sheet.getPlotItem().setLabel("bottom", axis)
        self.sheet.getPlotItem().setLabel("left", axis.replace(" x", " y"))
        self.extent, self.peak = extent, 0.0
        self.stimulus_on_sheet = stimulus_on_sheet
        self.curve.setData([], [])
        self.path.setData([], [])
        self.here.setData([], [])
        self.stim_dot.setData([], [])
        self.bump_dot.setData([], [])
        self.bump_line.setVisible(False)
        self.stim_line.setVisible(False)
        self.image.clear()
        self.stim_dot.setVisible(stimulus_on_sheet)
        self.arena.setVisible(has_path)
        self.sheet.setXRange(*extent, padding=0)
        self.sheet.setYRange(*extent, padding=0)
        self.ring.setYRange(0.0, 1.0)
        self.ring.getPlotItem().setTitle("network activity")
        self.sheet.getPlotItem().setTitle("network sheet")

    def set_replay(self, replay: Replay | None) -> None:
        """Replay a finished run (shown at its last record); None: no replay."""
        if replay is not None:
            self.peak = replay.peak if replay.states is not None else self.peak
            marks = "orange: the decoded bump" if replay.bump is not None else ""
            if replay.stimulus is not None and self.stack.currentWidget() is self.ring:
                marks += ("; " if marks else "") + "grey dashed: the stimulus"
            kept = (
                "from the state of every record"
                if replay.states is not None
                else "from the decoded bump only (the full state was too large to keep)"
            )
            self.note.setText(
                f"Replay of the finished run, {kept}" + (f". {marks.capitalize()}." if marks else ".")
            )
        self.replay_bar.set_replay(replay)

    @property
    def replay(self) -> Replay | None:
        return self.replay_bar.replay

    def show_record(self, k: int) -> None:
        if self.replay is not None:
            self.show_frame(self.replay.frame(k), replay=True)

    def show_frame(self, frame: dict, replay: bool = False) -> None:
        """A live frame (``core.simulation.live``), or a replayed record (``replay``: the finished run's
        colour scale, and the decoded bump marked)."""
        state = frame["state"]
        what = "replay" if replay else "network"
        title = f"{what} at t = {frame['t_s']:.2f} s"
        sheet = self.stack.currentWidget() is self.sheet
        if state is not None:
            if not replay:
                self.peak = max(self.peak, float(np.nanmax(state)) if state.size else 0.0)
            if state.ndim == 1:
                self.curve.setData(np.linspace(-np.pi, np.pi, state.size, endpoint=False), state)
                self.ring.setYRange(0.0, max(self.peak * 1.05, 1e-9))
            else:
                edges = np.linspace(*self.extent, state.shape[0] + 1)
                set_image(self.image, state, edges, edges, levels=(0.0, max(self.peak, 1e-9)))
        elif replay:
            self.curve.setData([], [])
            if sheet:
                self.image.clear()
        (self.sheet if sheet else self.ring).getPlotItem().setTitle(title)
        stim = frame["stimulus"]
        ring_stim = stim is not None and np.ndim(stim) == 0 and not sheet
        if ring_stim:
            self.stim_line.setPos(float(stim))
        self.stim_line.setVisible(ring_stim)
        if stim is not None and np.ndim(stim) == 1 and self.stimulus_on_sheet:
            self.stim_dot.setData([float(stim[0])], [float(stim[1])])
        bump = frame.get("bump") if replay else None
        self.bump_line.setVisible(bump is not None and np.ndim(bump) == 0 and not sheet)
        if bump is not None and np.ndim(bump) == 0:
            self.bump_line.setPos(float(bump))
            if state is None:
                self.ring.setYRange(0.0, 1.0)
        if bump is not None and np.ndim(bump) == 1 and sheet:
            lo, hi = self.extent
            self.bump_dot.setData([(bump[0] - lo) % (hi - lo) + lo], [(bump[1] - lo) % (hi - lo) + lo])
        else:
            self.bump_dot.setData([], [])
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
        k = _stride(tr.t_s.size, MAX_LINE_POINTS)  # a long run: every k-th record drawn (views, no copies)
        stim, pos = np.atleast_2d(stimulus.T).T[::k], np.atleast_2d(bump.T).T[::k]
        t_s, distance = tr.t_s[::k], tr.distance[::k]
        item = self.main.getPlotItem()
        item.setTitle("decoded bump vs stimulus")
        item.setLabel("left", "position (rad)")
        for j in range(pos.shape[1]):
            axis = "" if pos.shape[1] == 1 else (" x", " y")[j]
            style = DASH if j else pg.QtCore.Qt.SolidLine
            self.main.plot(
                t_s, _broken(stim[:, j]), pen=pg.mkPen(GREY, width=3, style=style), name=f"stimulus{axis}"
            )
            self.main.plot(
                t_s,
                _broken(pos[:, j]),
                pen=pg.mkPen(BLUE if j == 0 else ORANGE, width=1),
                name=f"bump{axis}",
            )
        self.error.plot(t_s, distance, pen=pg.mkPen(RED, width=1))
        self.error.getPlotItem().setLabel("left", "error (rad)")
        self.note.setText(
            f"Tracking error after {tr.transient_s:.1f} s: mean {tr.mean_distance:.3g} rad, max "
            f"{tr.max_distance:.3g} rad; the bump lags the stimulus by {tr.lag_s * 1e3:.0f} ms."
        )

    def _path_integration(self, pi: PathIntegration) -> None:
        k = _stride(pi.t_s.size, MAX_LINE_POINTS)
        pi = replace(pi, t_s=pi.t_s[::k], estimate=pi.estimate[::k], truth=pi.truth[::k], error=pi.error[::k])
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
