"""Simulate: pick an attractor model and a task, run it on a worker with a live view, look at its model
analysis, export the run, and take its spikes to Import with one click ("Analyse this recording").

The page gathers parameters (forms generated from the core's config types) and draws; the run, the frames,
the analyses and the files all come from ``core.simulation``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from canns_gui.forms import ConfigForm
from canns_gui.pages.base import Page, parameter_column
from canns_gui.pages.simulate_views import Replay, SimulationTabs, replay_of, thin_space_time
from canns_gui.settings import compute_devices
from core.errors import Cancelled
from core.progress import Reporter
from core.simulation.recording import RecordingOptions, SimulationRun
from core.simulation.registry import MODELS, TASKS, ModelSpec, model_spec

GUI_DURATION_S = 120.0  # default task length on the page (long enough for the analysis, short to watch)


class TaskForms(QWidget):
    """The task of one model: a chooser of the task kinds it runs and the form of the chosen kind only (its
    config class in ``registry.TASKS``). Values of the fields two kinds share (length, amplitude, seed, ...)
    carry over when the kind changes."""

    def __init__(self, spec: ModelSpec, duration_s: float) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Task</b>"))
        row = QFormLayout()
        self.kind_box = QComboBox()
        row.addRow("Kind", self.kind_box)
        layout.addLayout(row)
        self.forms: dict[str, ConfigForm] = {}
        for kind in spec.tasks:
            entry = TASKS[kind]
            self.kind_box.addItem(kind, kind)
            self.kind_box.setItemData(
                self.kind_box.count() - 1, f"{entry.title}: {entry.help}", Qt.ToolTipRole
            )
            self.forms[kind] = ConfigForm(spec.task_config(duration_s, kind=kind))
            self.forms[kind].setVisible(False)
            layout.addWidget(self.forms[kind])
        self._shown = self.kind
        self.form.setVisible(True)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)

    @property
    def kind(self) -> str:
        return self.kind_box.currentData()

    @property
    def form(self) -> ConfigForm:
        """The form of the chosen task kind."""
        return self.forms[self.kind]

    def set_kind(self, kind: str) -> None:
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind))

    def config(self):
        """The chosen kind's task config, with the form's values."""
        return self.form.config()

    def _kind_changed(self) -> None:
        old, new = self.forms[self._shown], self.form
        for name, widget in new.fields.items():
            if name in old.fields:
                widget.set_value(old.fields[name].value())
        old.setVisible(False)
        new.setVisible(True)
        self._shown = self.kind


class ModelPanel(QWidget):
    """The three forms of one model: network parameters, task, recording."""

    def __init__(self, name: str) -> None:
        super().__init__()
        spec = model_spec(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.network = ConfigForm(spec.config, "Network")
        self.task = TaskForms(spec, GUI_DURATION_S)
        self.recording = ConfigForm(RecordingOptions(n_units=spec.default_units), "Recording")
        for form in (self.network, self.task, self.recording):
            layout.addWidget(form)


CANCEL_GRACE_S = 0.5  # a cancelled run that has not stopped by then is left to end on its own


@dataclass
class ShownRun:
    """A finished run as the page shows it: the run, its model analyses, and what the plots draw of it
    (replay, thinned space–time image), all prepared on the worker."""

    run: SimulationRun
    analyses: dict
    replay: Replay
    space_time: object
    task_kind: str
    finished_at: str


def interruptible(fn, cancel, poll_s: float = 0.05):
    """``fn()`` on a helper thread, polling ``cancel`` meanwhile (worker thread).

    A cancel request normally stops ``fn`` at its next check (between compiled chunks of a run); when it
    has not stopped ``CANCEL_GRACE_S`` after the request (it is in a step that checks no cancel, such as
    building a long task's arrays), ``Cancelled`` is raised here anyway and ``fn`` is left to end on its own
    at its next check, its result dropped. So a run is cancelled within about half a second."""
    box: dict = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the calling thread)
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="simulation", daemon=True).start()
    asked = None
    while not done.wait(poll_s):
        if cancel():
            asked = time.monotonic() if asked is None else asked
            if time.monotonic() - asked >= CANCEL_GRACE_S:
                raise Cancelled("cancelled by user")
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_simulation(model, network, task_config, options, device, show, progress, cancel) -> ShownRun:
    """Worker: build the task, run the model with a live feed, analyse it, prepare its replay."""
    from core.simulation.analysis import analyse
    from core.simulation.live import LiveFeed
    from core.simulation.recording import run_model

    spec = model_spec(model)
    abandoned = threading.Event()  # set once the run is left to end on its own: it reports nothing more

    def report(fraction: float, message: str) -> None:
        if not abandoned.is_set():
            progress(fraction, message)

    def frame(value: dict) -> None:
        if not abandoned.is_set():
            show(value)

    def work() -> ShownRun:
        report(0.0, f"{model}: building the task")
        task = spec.make_task(task_config, network)
        run = run_model(
            model,
            network,
            task,
            n_units=options.n_units,
            seed=options.seed,
            device=device,
            peak_rate_hz=options.peak_rate_hz,
            progress=report,
            cancel=cancel,
            on_chunk=LiveFeed(task, frame),
        )
        Reporter(None, cancel).check()
        analyses = analyse(run.result)
        replay = replay_of(run.result, bump_on_network=spec.coordinates != "neurons")
        st = thin_space_time(analyses.get("space_time"))
        return ShownRun(run, analyses, replay, st, task_config.kind, time.strftime("%H:%M:%S"))

    try:
        return interruptible(work, cancel)
    except Cancelled:
        abandoned.set()
        raise


def save_for_analysis(run: SimulationRun, progress, cancel) -> Path:
    """Worker: the run's recording as an ASA .npz (+ provenance .json) in the user's data folder."""
    import json

    from platformdirs import user_data_dir

    from core.io import save_recording_npz

    folder = Path(user_data_dir("canns-gui")) / "simulations"
    stem = f"{run.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    path = save_recording_npz(run.recording, folder / f"{stem}.npz")
    (folder / f"{stem}.json").write_text(json.dumps(run.recording.metadata, indent=1, default=str))
    return path


class SimulatePage(Page):
    title = "Simulate"
    help_text = (
        "Attractor network models (JAX, compiled once per run shape): a ring CANN, a 2-D CANN on a torus, a "
        "head-direction ring that integrates angular velocity, and a Burak–Fiete grid-cell sheet that "
        "path-integrates a random walk. Run one, watch it, replay it, then press “Analyse this recording” "
        "to send its Poisson spikes (with the trajectory) through the same analysis as an imported file."
    )
    frame_ready = Signal(object)  # live frames from the worker (queued to the GUI thread), "run": its id

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.window = window
        self.runs: dict[str, ShownRun] = {}  # the last finished run of each model
        self.shown: ShownRun | None = None  # the run on screen; the buttons act on it
        self._running: tuple[str, int] | None = None  # (model, run id) of the simulation on the worker
        self._run_id = 0
        row = QHBoxLayout()
        column = QWidget()  # the left column: model, device, buttons and status fixed; the forms scroll
        column.setFixedWidth(470)
        fixed = QVBoxLayout(column)
        fixed.setContentsMargins(0, 0, 0, 0)
        top = QFormLayout()
        self.model_box = QComboBox()
        for name, spec in MODELS.items():
            self.model_box.addItem(f"{spec.title} ({name})", name)
            self.model_box.setItemData(self.model_box.count() - 1, spec.help, Qt.ToolTipRole)
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", *compute_devices()])
        self.device_box.setCurrentText(window.settings.device)
        top.addRow("Model", self.model_box)
        top.addRow("Device", self.device_box)
        fixed.addLayout(top)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.start)
        self.analyse_button = QPushButton("Analyse this recording →")
        self.analyse_button.clicked.connect(self.analyse_recording)
        self.export_button = QPushButton("Export run…")
        self.export_button.clicked.connect(self.choose_export)
        buttons = QHBoxLayout()  # above everything that changes length: always in the same place
        for button in (self.run_button, self.analyse_button, self.export_button):
            buttons.addWidget(button)
        fixed.addLayout(buttons)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        fixed.addWidget(self.status)
        controls = QVBoxLayout()
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("color: palette(mid);")
        controls.addWidget(self.model_note)
        self.panels = QStackedWidget()
        self.panel_of = {name: ModelPanel(name) for name in MODELS}
        for panel in self.panel_of.values():
            self.panels.addWidget(panel)
        controls.addWidget(self.panels)
        controls.addStretch(1)
        fixed.addWidget(parameter_column(controls), 1)
        row.addWidget(column)
        right = QVBoxLayout()
        self.run_label = QLabel("")  # which run the plots and the buttons belong to
        self.run_label.setWordWrap(True)
        self.run_label.setStyleSheet("font-weight: bold;")
        right.addWidget(self.run_label)
        self.tabs = SimulationTabs()
        right.addWidget(self.tabs, 1)
        row.addLayout(right, 1)
        self.body.addLayout(row, 1)
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.frame_ready.connect(self._frame)
        window.runner.failed.connect(lambda name, *_: self._ended(name, "failed"))
        window.runner.cancelled.connect(lambda name: self._ended(name, "was cancelled"))
        self._model_changed()

    # parameters --------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.model_box.currentData()

    @property
    def panel(self) -> ModelPanel:
        return self.panel_of[self.model]

    @property
    def run_result(self) -> SimulationRun | None:
        """The run on screen (what Analyse and Export act on); None when none is."""
        return self.shown.run if self.shown is not None else None

    @property
    def analyses(self) -> dict:
        return self.shown.analyses if self.shown is not None else {}

    def _model_changed(self) -> None:
        spec = model_spec(self.model)
        self.panels.setCurrentWidget(self.panel)
        self.model_note.setText(f"{spec.help}. Manifold: {spec.manifold}. Tasks: {', '.join(spec.tasks)}.")
        if self._running is not None and self._running[0] == self.model:
            self._show_running(self.model)
        else:
            self._show(self.runs.get(self.model))

    def _network(self, model: str):
        """The network config of ``model``'s form, or the model's default while the form is not valid."""
        from core.errors import ConfigError

        try:
            return self.panel_of[model].network.config()
        except (ValueError, ConfigError):
            return model_spec(model).config

    def _geometry(self, model: str, network) -> dict:
        """The Live tab's layout for a run of ``model`` with ``network`` (ring or sheet, its coordinates)."""
        spec = model_spec(model)
        neurons = spec.coordinates == "neurons"  # sheet coordinates in neurons, else preferred angles
        task_kind = self.panel_of[model].task.kind
        return {
            "sheet": spec.stimulus_dims == 2,
            "extent": (0.0, float(network.n)) if neurons else (-np.pi, np.pi),
            "axis": "neuron x" if neurons else "preferred x (rad)",
            "has_path": TASKS[task_kind].arena,
            "stimulus_on_sheet": "tracking" in spec.analyses,  # its stimulus sits on the network's own sheet
        }

    # what is on screen -------------------------------------------------------------------------------
    def _show(self, shown: ShownRun | None) -> None:
        """Put a finished run on screen (plots, replay, summary, buttons), or none (all cleared)."""
        self.shown = shown
        self._set_has_run(shown is not None)
        if shown is None:
            self.tabs.live.reset(**self._geometry(self.model, self._network(self.model)))
            self.tabs.result.clear()
            self.tabs.result.note.setText("Run a simulation to see the bump against its stimulus.")
            self.tabs.space_time.show_space_time(None)
            others = [m for m in self.runs if m != self.model]
            kept = f"Kept: the last run of {', '.join(others)} (choose the model to see it again)."
            self.run_label.setText(f"No {self.model} run yet: press Run.")
            self.status.setText(kept if others else "")
            return
        run, result = shown.run, shown.run.result
        geometry = self._geometry(run.model, result.config)
        geometry["has_path"] = TASKS[shown.task_kind].arena
        self.tabs.live.reset(**geometry)
        self.tabs.live.set_replay(shown.replay)
        self.tabs.result.show_analyses(shown.analyses, result.stimulus, result.bump_position)
        self.tabs.space_time.show_space_time(shown.space_time)
        self.run_label.setText(
            f"Shown: the {run.model} run on a {shown.task_kind} task of {result.t_s[-1]:g} s "
            f"(finished at {shown.finished_at}); Analyse and Export act on it."
        )
        self.status.setText("\n".join(self._summary(shown)))

    def _show_running(self, model: str) -> None:
        self.shown = None
        self._set_has_run(False)
        self.tabs.result.clear()
        self.tabs.result.note.setText("The run is still going.")
        self.tabs.space_time.show_space_time(None)
        self.tabs.live.reset(**self._running_geometry)
        self.run_label.setText(f"Running {model}… (the previous {model} run, if any, is kept until it ends)")

    def _summary(self, shown: ShownRun) -> list[str]:
        from core.simulation.analysis import summary_lines

        run, result = shown.run, shown.run.result
        lines = [run.recording.describe(), *summary_lines(result, shown.analyses)]
        lines += [f"trajectory: {w}" for w in (result.task.warnings if result.task is not None else [])]
        if run.device_message:
            lines.append(f"note: {run.device_message}")
        if result.state_trace is None:
            lines.append(
                "The full state was too large to keep: no space–time plot; the replay shows the bump."
            )
        return lines

    def _set_has_run(self, has_run: bool) -> None:
        self.analyse_button.setEnabled(has_run)
        self.export_button.setEnabled(has_run)

    # running -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the chosen model and task on a worker; the Live tab follows it."""
        from core.errors import ConfigError

        model, panel = self.model, self.panel
        try:
            network, task, options = panel.network.config(), panel.task.config(), panel.recording.config()
        except (ValueError, ConfigError) as exc:
            self.status.setText(f"Check the parameters: {exc}")
            return
        self._run_id += 1
        run_id = self._run_id
        fn = partial(
            run_simulation,
            model,
            network,
            task,
            options,
            self.device_box.currentText(),
            lambda frame: self.frame_ready.emit({**frame, "run": run_id}),
        )
        self._running_geometry = self._geometry(model, network)
        if self.window.run(f"simulate {model}", fn, partial(self.show_run, run_id, model)):
            self._running = (model, run_id)
            self._show_running(model)
            self.tabs.setCurrentWidget(self.tabs.live)
            length = getattr(task, "duration_s", None)  # tracking and external tasks have their own length
            of = f" of {length:g} s" if length is not None else ""
            self.status.setText(f"Running {model} on a {task.kind} task{of}…")

    def _frame(self, frame: dict) -> None:
        running = self._running
        if running is not None and running == (self.model, frame.get("run")):  # the run on screen, going
            self.tabs.live.show_frame(frame)

    def _ended(self, name: str, how: str) -> None:
        if not name.startswith("simulate ") or self._running is None:
            return
        model = self._running[0]
        self._running = None
        if model == self.model and model in self.runs:
            self._show(self.runs[model])
        elif model == self.model:  # what the live view drew of it stays, with nothing to act on
            self.run_label.setText(f"The {model} run {how}: nothing to analyse or export.")
        self.status.setText(f"The {model} simulation {how}; the previous run (if any) is kept.")

    def show_run(self, run_id: int, model: str, shown: ShownRun) -> None:
        """A finished run: kept as its model's run, and put on screen when its model is the chosen one."""
        if self._running is not None and self._running[1] == run_id:
            self._running = None
        self.runs[model] = shown
        lines = self._summary(shown)
        self.log(f"simulated {model}: " + "; ".join(lines))
        if model == self.model:
            self._show(shown)
        else:
            self.status.setText(f"The {model} run finished: choose {model} to see it.")

    # using the run -----------------------------------------------------------------------------------
    def analyse_recording(self) -> None:
        """Save the run on screen's recording and open it on the Import page, like any file."""
        run = self.run_result
        if run is None:
            return

        def opened(path: Path) -> None:
            self.log(f"saved the simulated recording to {path}")
            self.window.open_recording(str(path), then=lambda: self.window.steps.setCurrentRow(0))

        self.window.run("save simulation", partial(save_for_analysis, run), opened)

    def choose_export(self) -> None:
        if self.run_result is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export the run into a folder")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Export the run on screen (recording, arrays, figures, animation) into ``folder`` on a worker."""
        from core.simulation.export import export_run

        run = self.run_result
        if run is None:
            return

        def fn(progress, cancel):
            return export_run(run, folder, ("png", "svg"), progress=progress, cancel=cancel)

        self.window.run(
            "export simulation",
            fn,
            lambda paths: self.log(
                f"exported {len(paths)} files of the {run.model} run to {folder}: "
                f"{', '.join(p.name for p in paths)}"
            ),
        )
