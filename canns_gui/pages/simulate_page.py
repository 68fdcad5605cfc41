"""Simulate: pick an attractor model and a task, run it on a worker with a live view, look at its model
analysis, export the run, and take its spikes to Import with one click ("Analyse this recording").

The page gathers parameters (forms generated from the core's config types) and draws; the run, the frames,
the analyses and the files all come from ``core.simulation``.
"""

from __future__ import annotations

import time
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
from canns_gui.pages.simulate_views import SimulationTabs
from canns_gui.settings import compute_devices
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


def run_simulation(model, network, task_config, options, device, show, progress, cancel):
    """Worker: build the task, run the model with a live feed, analyse it. Returns (run, analyses)."""
    from core.simulation.analysis import analyse
    from core.simulation.live import LiveFeed
    from core.simulation.recording import run_model

    spec = model_spec(model)
    task = spec.make_task(task_config, network)
    run = run_model(
        model,
        network,
        task,
        n_units=options.n_units,
        seed=options.seed,
        device=device,
        peak_rate_hz=options.peak_rate_hz,
        progress=progress,
        cancel=cancel,
        on_chunk=LiveFeed(task, show),
    )
    return run, analyse(run.result)


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
        "path-integrates a random walk. Run one, watch it, then press “Analyse this recording” to send its "
        "Poisson spikes (with the trajectory) through the same analysis as an imported file."
    )
    frame_ready = Signal(object)  # live frames from the worker (queued to the GUI thread)

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.window = window
        self.run_result: SimulationRun | None = None
        self.analyses: dict = {}
        row = QHBoxLayout()
        controls = QVBoxLayout()
        top = QFormLayout()
        self.model_box = QComboBox()
        for name, spec in MODELS.items():
            self.model_box.addItem(f"{spec.title} ({name})", name)
            self.model_box.setItemData(self.model_box.count() - 1, spec.help, Qt.ToolTipRole)
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", *compute_devices()])
        self.device_box.setCurrentText(window.settings.device)
        top.addRow("Model", self.model_box)
        top.addRow("", self.model_note)
        top.addRow("Device", self.device_box)
        controls.addLayout(top)
        self.panels = QStackedWidget()
        self.panel_of = {name: ModelPanel(name) for name in MODELS}
        for panel in self.panel_of.values():
            self.panels.addWidget(panel)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.start)
        self.analyse_button = QPushButton("Analyse this recording →")
        self.analyse_button.clicked.connect(self.analyse_recording)
        self.export_button = QPushButton("Export run…")
        self.export_button.clicked.connect(self.choose_export)
        buttons = QHBoxLayout()  # above the long forms, where they are seen without scrolling
        for button in (self.run_button, self.analyse_button, self.export_button):
            buttons.addWidget(button)
        controls.addLayout(buttons)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        controls.addWidget(self.status)
        controls.addWidget(self.panels)
        controls.addStretch(1)
        row.addWidget(parameter_column(controls))
        self.tabs = SimulationTabs()
        row.addWidget(self.tabs, 1)
        self.body.addLayout(row, 1)
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.frame_ready.connect(self.tabs.live.show_frame)
        window.runner.failed.connect(lambda name, *_: self._ended(name, "failed"))
        window.runner.cancelled.connect(lambda name: self._ended(name, "was cancelled"))
        self._model_changed()
        self._set_has_run(False)

    # parameters --------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.model_box.currentData()

    @property
    def panel(self) -> ModelPanel:
        return self.panel_of[self.model]

    def _model_changed(self) -> None:
        spec = model_spec(self.model)
        self.panels.setCurrentWidget(self.panel)
        self.model_note.setText(f"{spec.help}. Manifold: {spec.manifold}. Tasks: {', '.join(spec.tasks)}.")

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
        spec = model_spec(model)
        neurons = spec.coordinates == "neurons"  # sheet coordinates in neurons, else preferred angles
        self.tabs.live.reset(
            spec.stimulus_dims == 2,
            (0.0, float(network.n)) if neurons else (-np.pi, np.pi),
            "neuron x" if neurons else "preferred x (rad)",
            has_path=TASKS[task.kind].arena,
            stimulus_on_sheet="tracking" in spec.analyses,  # its stimulus sits on the network's own sheet
        )
        self.tabs.setCurrentWidget(self.tabs.live)
        fn = partial(
            run_simulation,
            model,
            network,
            task,
            options,
            self.device_box.currentText(),
            self.frame_ready.emit,
        )
        if self.window.run(f"simulate {model}", fn, self.show_run):
            length = getattr(task, "duration_s", None)  # tracking and external tasks have their own length
            of = f" of {length:g} s" if length is not None else ""
            self.status.setText(f"Running {model} on a {task.kind} task{of}…")

    def _ended(self, name: str, how: str) -> None:
        if name.startswith("simulate "):
            self.status.setText(f"The simulation {how}; the previous run (if any) is kept.")

    def show_run(self, value) -> None:
        """The finished run: summary, model analysis plots, buttons."""
        from core.simulation.analysis import summary_lines

        run, analyses = value
        self.run_result, self.analyses = run, analyses
        result = run.result
        self.tabs.result.show_analyses(analyses, result.stimulus, result.bump_position)
        self.tabs.space_time.show_space_time(analyses.get("space_time"))
        lines = [run.recording.describe(), *summary_lines(result, analyses)]
        lines += [f"trajectory: {w}" for w in (result.task.warnings if result.task is not None else [])]
        if run.device_message:
            lines.append(f"note: {run.device_message}")
        if result.state_trace is None:
            lines.append("The full state was too large to keep: no space–time plot or animation.")
        self.status.setText("\n".join(lines))
        self.log(f"simulated {run.model}: " + "; ".join(lines))
        self._set_has_run(True)

    # using the run -----------------------------------------------------------------------------------
    def analyse_recording(self) -> None:
        """Save the run's recording and open it on the Import page, like any file."""
        if self.run_result is None:
            return

        def opened(path: Path) -> None:
            self.log(f"saved the simulated recording to {path}")
            self.window.open_recording(str(path), then=lambda: self.window.steps.setCurrentRow(0))

        self.window.run("save simulation", partial(save_for_analysis, self.run_result), opened)

    def choose_export(self) -> None:
        if self.run_result is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export the run into a folder")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Export the run (recording, arrays, figures, animation) into ``folder`` on a worker."""
        from core.simulation.export import export_run

        run = self.run_result

        def fn(progress, cancel):
            return export_run(run, folder, ("png", "svg"), progress=progress, cancel=cancel)

        self.window.run(
            "export simulation",
            fn,
            lambda paths: self.log(
                f"exported {len(paths)} files to {folder}: {', '.join(p.name for p in paths)}"
            ),
        )
