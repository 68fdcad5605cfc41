"""The main window: the wizard's step list, its pages, the progress bar with Cancel, and the log."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from canns_gui.dialogs import open_file, save_file
from canns_gui.pages.import_page import ImportPage, load_file, make_demo
from canns_gui.project import SUFFIX, read_project, save_project
from canns_gui.session import Loaded, Session
from canns_gui.settings import Settings, SettingsDialog, apply_theme
from canns_gui.tasks import TaskRunner
from core import __version__
from core.errors import AsaError

MAX_RECENT_PROJECTS = 8
FULL = "full recording"  # the analysis of every unit, beside the subsets


def autosave_path() -> Path:
    """Where the last state is kept to survive a crash (the user's data folder)."""
    return Path(user_data_dir("canns-gui", appauthor=False)) / f"autosave{SUFFIX}"


class LogPanel(QPlainTextEdit):
    """Time-stamped messages of what ran, how long it took, and what went wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setMaximumBlockCount(2000)

    def __call__(self, message: str) -> None:
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {message}")


class MainWindow(QMainWindow):
    """Import → Preprocess → TDA → Decode → Views, and Simulate."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"canns-gui {__version__}")
        self.settings = Settings()
        apply_theme(self.settings.theme)  # before any plot exists: pyqtgraph reads its colours at creation
        self.session = Session(self)
        self.session.gpu = self.settings.device != "cpu"
        self.session.set_cache_folder(self.settings.cache_folder, self.settings.cache_max_bytes)
        self.runner = TaskRunner(self)
        self.log = LogPanel()
        self._on_done: dict[str, Callable[[Any], None]] = {}
        self._started: dict[str, float] = {}

        self.pages = self._make_pages()
        self.steps = QListWidget()
        self.steps.addItems([page.title for page in self.pages])
        self.steps.setFixedWidth(160)
        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page)
        self.steps.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.steps.setCurrentRow(0)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.steps)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._make_status_bar()
        dock = QDockWidget("Log", self)
        dock.setObjectName("log")
        dock.setWidget(self.log)
        self.addDockWidget(Qt.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [130], Qt.Vertical)  # plots get the height; drag the log taller
        self._make_menus()

        self.runner.started.connect(self._task_started)
        self.runner.progress.connect(self._task_progress)
        self.runner.finished.connect(self._task_finished)
        self.runner.failed.connect(self._task_failed)
        self.runner.cancelled.connect(self._task_cancelled)
        self.project_path: Path | None = None
        self.analyses: dict[str, Loaded] = {}  # name → recording (the full one and unit subsets)
        self.session.recording_changed.connect(self.update_title)
        self.resize(1280, 820)
        self.log("ready")

    # construction ------------------------------------------------------------------------------------
    def _make_pages(self) -> list:
        from canns_gui.pages.analysis_pages import DecodePage, PreprocessPage, TdaPage
        from canns_gui.pages.simulate_page import SimulatePage
        from canns_gui.pages.views_page import ViewsPage

        self.import_page = ImportPage(self.session, self, self.log)
        self.import_page.request_open.connect(self.open_recording)
        self.views_page = ViewsPage(self.session, self, self.log)
        return [
            self.import_page,
            PreprocessPage(self.session, self, self.log),
            TdaPage(self.session, self, self.log),
            DecodePage(self.session, self, self.log),
            self.views_page,
            SimulatePage(self.session, self, self.log),
        ]

    def _make_status_bar(self) -> None:
        bar = QWidget()
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(4, 0, 4, 0)
        self.stage_label = QLabel("idle")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.eta_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.stage_label, 2)
        layout.addWidget(self.progress, 3)
        layout.addWidget(self.eta_label)
        layout.addWidget(self.cancel_button)
        self.statusBar().addPermanentWidget(bar, 1)

    def _make_menus(self) -> None:
        """File, Edit, Go (Ctrl+1…6), Run (F5 / Ctrl+R, Run all, Esc to cancel) and Help; every shortcut is
        shown beside its menu entry and in Help → Keyboard shortcuts."""
        self.actions: list[QAction] = []

        def add(menu, text: str, slot, *keys) -> QAction:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions.append(action)
            return action

        file_menu = self.menuBar().addMenu("&File")
        add(file_menu, "&Open recording…", self.import_page.choose_file, QKeySequence.Open)
        add(file_menu, "Open &demo recording", lambda: self.open_recording(":demo:"))
        add(file_menu, "Open &project…", self.choose_project, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu("Recent projects")
        self.recent_menu.aboutToShow.connect(self._fill_recent_projects)
        add(file_menu, "&Save project…", self.choose_save_project, QKeySequence.Save)
        add(file_menu, "&Export all…", lambda: self.views_page.choose_export_all(), "Ctrl+E")
        file_menu.addSeparator()
        add(file_menu, "&Quit", self.close, QKeySequence.Quit)
        add(self.menuBar().addMenu("&Edit"), "Se&ttings…", self.edit_settings, "Ctrl+,")
        go_menu = self.menuBar().addMenu("&Go")
        for i, page in enumerate(self.pages):
            add(go_menu, page.title, lambda _=False, row=i: self.steps.setCurrentRow(row), f"Ctrl+{i + 1}")
        run_menu = self.menuBar().addMenu("&Run")
        add(run_menu, "&Run this page", self.run_current_page, "F5", "Ctrl+R")
        add(run_menu, "Run &all (Preprocess → Views)", self.run_all, "Ctrl+Shift+R")
        add(run_menu, "&Cancel", self.cancel, "Esc")
        help_menu = self.menuBar().addMenu("&Help")
        add(help_menu, "&Guide: reading a barcode and the views", self.show_guide, QKeySequence.HelpContents)
        add(help_menu, "&Keyboard shortcuts", self.show_shortcuts)
        add(help_menu, "&About canns-gui", self.show_about)

    # help ----------------------------------------------------------------------------------------------
    def _help(self, title: str, markdown: str) -> None:
        from canns_gui.help import HelpDialog

        self.help_dialog = HelpDialog(title, markdown, self)
        self.help_dialog.show()

    def show_guide(self) -> None:
        from canns_gui.help import GUIDE

        self._help("Guide", GUIDE)

    def show_shortcuts(self) -> None:
        from canns_gui.help import shortcut_table

        self._help("Keyboard shortcuts", "# Keyboard shortcuts\n\n" + shortcut_table(self.actions))

    def show_about(self) -> None:
        self._help(
            "About canns-gui",
            f"# canns-gui {__version__}\n\nAttractor structure analysis of neural recordings: does a "
            "population live on a ring or a torus, and where is the animal on it? See Help → Guide for the "
            "methods and their papers.",
        )

    # running a page, or all of them ------------------------------------------------------------------
    def run_current_page(self) -> None:
        """F5 / Ctrl+R: run what the page shown computes (Views: compute the views)."""
        page = self.pages[self.stack.currentIndex()]
        if page is self.views_page:
            page.compute_views()
        elif hasattr(page, "start"):
            page.start()

    def run_all(self) -> None:
        """Preprocess, TDA and Decode with the current settings, then the Views page (which computes the
        views); Cancel stops the whole chain."""
        if self.session.analysis is None:
            self._tell("Run all", "Load a recording first (File → Open recording…).")
            return
        problems = [p for form in self.session.forms.values() for p in form.problems()]
        if problems:
            self._tell("Run all", "Fix the parameters marked in red first: " + "; ".join(problems))
            return
        stages = [p for p in self.pages if getattr(p, "stage", None)]
        views = self.pages.index(self.views_page)
        self.log("run all: Preprocess → TDA → Decode → Views")
        self._rerun(stages, then=lambda: self.steps.setCurrentRow(views))

    def _tell(self, title: str, text: str) -> None:
        """A message in the log and in a dialog that does not block (the GUI thread goes on)."""
        self.log(text)
        box = QMessageBox(QMessageBox.Information, title, text, QMessageBox.Ok, self)
        box.setObjectName("notice")
        box.open()
        self.notice = box

    # the title and recent projects -------------------------------------------------------------------
    def update_title(self) -> None:
        """'canns-gui 0.x — project or recording'."""
        shown = self.project_path.name if self.project_path is not None else ""
        if not shown and self.session.loaded is not None:
            shown = self.session.loaded.label
        self.setWindowTitle(f"canns-gui {__version__}" + (f" — {shown}" if shown else ""))

    def remember_project(self, path: Path) -> None:
        from PySide6.QtCore import QSettings

        self.project_path = Path(path)
        store = QSettings()
        recent = [p for p in (store.value("recent_projects") or []) if p != str(path)]
        store.setValue("recent_projects", [str(path), *recent][:MAX_RECENT_PROJECTS])
        self.update_title()

    def _fill_recent_projects(self) -> None:
        from PySide6.QtCore import QSettings

        self.recent_menu.clear()
        paths = [p for p in (QSettings().value("recent_projects") or []) if Path(p).is_file()]
        for p in paths:
            self.recent_menu.addAction(Path(p).name, lambda path=p: self.open_project(Path(path)))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def offer_autosave(self) -> None:
        """At start: when the last session left an autosave (it is written after every finished task),
        offer to restore it."""
        path = autosave_path()
        if not path.is_file():
            return
        box = QMessageBox(self)
        box.setObjectName("autosave_offer")
        box.setWindowTitle("Restore the last session?")
        box.setText("The last session left an autosave. Restore its recording, parameters and results?")
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.No)
        box.button(QMessageBox.Yes).setText("Restore")
        box.button(QMessageBox.No).setText("Start afresh")
        box.accepted.connect(lambda: self.open_project(path))
        box.open()
        self.autosave_offer = box

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.session.gpu = self.settings.device != "cpu"
            self.session.set_cache_folder(self.settings.cache_folder, self.settings.cache_max_bytes)
            if self.session.analysis is not None:
                self.session.analysis.gpu = self.session.gpu
            form = self.session.forms.get("significance")
            if form is not None and "n_jobs" in form.fields:
                form.fields["n_jobs"].set_value(self.settings.workers)
                self.session._sync("significance")
            self.log(
                f"settings: device {self.settings.device}, {self.settings.workers} workers, "
                f"{self.settings.theme} theme"
            )

    # running work ------------------------------------------------------------------------------------
    def run(self, name: str, fn, on_done: Callable[[Any], None]) -> bool:
        """Start ``fn(progress, cancel)`` on a worker; ``on_done(result)`` runs on the GUI thread."""
        if self.runner.busy:
            QMessageBox.information(
                self, "Busy", f"'{self.runner.current}' is still running. Wait for it or press Cancel first."
            )
            return False
        self._on_done[name] = on_done
        return self.runner.start(name, fn)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def cancel(self) -> None:
        if self.runner.busy:
            self.log(f"cancelling {self.runner.current}…")
            self.stage_label.setText(f"cancelling {self.runner.current}…")
            self.runner.cancel()

    def open_recording(self, path: str, then: Callable[[], None] | None = None) -> None:
        """Load ``path`` (or ":demo:") on a worker; on success replace the recording and call ``then``."""
        fn = make_demo() if path == ":demo:" else load_file(path)

        def done(loaded) -> None:
            loaded.source = path
            self.analyses = {FULL: loaded}
            self.session.set_loaded(loaded)
            if path != ":demo:":
                self.import_page.remember(path)
            self.log(f"loaded {loaded.label}: {loaded.recording.describe()}")
            for warning in loaded.warnings:
                self.log(f"warning: {warning}")
            if then is not None:
                then()

        self.run("load", fn, done)

    # unit subsets ------------------------------------------------------------------------------------
    def analyse_subset(self, name: str, indices: list[int]) -> None:
        """Make the units ``indices`` of the recording shown a named analysis beside the others, show it
        and run it (Run all)."""
        from core.subsets import subset

        base = self.session.loaded
        if base is None:
            return
        try:
            rec = subset(base.recording, indices, name)
        except AsaError as exc:
            self._show_error("subset", str(exc), "")
            return
        full = self.analyses.get(FULL, base)
        self.analyses[name] = Loaded(rec, list(base.warnings), f"{name} — {full.label}", base.source)
        self.log(f"analysis {name!r}: {rec.n_units} of {base.recording.n_units} units")
        self.switch_analysis(name)
        self.run_all()

    def switch_analysis(self, name: str) -> None:
        """Show the named analysis (the full recording or a subset); its results come back from the cache
        when they were computed before."""
        loaded = self.analyses.get(name)
        if loaded is not None and loaded is not self.session.loaded:
            self.session.set_loaded(loaded)
            self.views_page.show_analyses()

    def subset_definitions(self) -> dict[str, list]:
        """name → unit ids of every subset analysis (project files)."""
        return {
            name: list(loaded.recording.unit_ids) for name, loaded in self.analyses.items() if name != FULL
        }

    def restore_subsets(self, definitions: dict) -> None:
        """Subset analyses from a project file (unknown units are skipped, with a note in the log)."""
        from core.subsets import by_ids, subset

        full = self.analyses.get(FULL)
        if full is None or not isinstance(definitions, dict):
            return
        for name, ids in definitions.items():
            try:
                rec = subset(full.recording, by_ids(full.recording, list(ids)), str(name))
            except (AsaError, TypeError) as exc:
                self.log(f"subset {name!r} not restored: {exc}")
                continue
            self.analyses[str(name)] = Loaded(rec, list(full.warnings), f"{name} — {full.label}", full.source)
        self.views_page.show_analyses()

    # projects ----------------------------------------------------------------------------------------
    def choose_save_project(self) -> None:
        if self.session.loaded is None:
            QMessageBox.information(self, "Save project", "Load a recording first.")
            return
        path = save_file(self, "project", "Save project", "analysis" + SUFFIX, f"Projects (*{SUFFIX})")
        if path:
            self.save_project(Path(path))

    def save_project(self, path: Path) -> Path:
        loaded = self.session.loaded
        rec = loaded.recording
        saved = save_project(
            path, loaded.source, rec.sha256, self.session.config, list(self.session.results), **self._extras()
        )
        self.log(f"project saved to {saved}")
        self.remember_project(saved)
        return saved

    def _extras(self) -> dict:
        """What a project file keeps besides input and parameters: the cache folder and result keys, and
        the Views page state with the wizard page shown."""
        views = self.views_page.view_state()
        views["page"] = self.pages[self.stack.currentIndex()].title
        return {
            "cache_folder": self.session.cache_folder,
            "cache_keys": self.session.stage_keys(),
            "views": views,
        }

    def autosave(self) -> None:
        """Keep the last state in the user's data folder, to survive a crash."""
        if self.session.loaded is None:
            return
        path = autosave_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        rec = self.session.loaded.recording
        save_project(
            path,
            self.session.loaded.source,
            rec.sha256,
            self.session.config,
            list(self.session.results),
            **self._extras(),
        )

    def choose_project(self) -> None:
        path = open_file(self, "project", "Open project", f"Projects (*{SUFFIX})")
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> None:
        """Reload the input, restore every parameter, rerun the recorded stages (read from the disk cache when
        there), then restore the Views page and the page that was shown. A file that is not a valid project
        (:func:`read_project` checks it whole first) is one message in a dialog, and nothing loaded before
        changes; so is a recording that fails to load. The project's cache folder is only read, and only
        this user's signed results are taken from it (others are recomputed)."""
        try:
            project = read_project(path)
        except AsaError as exc:
            self._show_error("open project", str(exc), "")
            return
        except Exception as exc:  # what the checks did not foresee is still a message, never a dead window
            self._show_error(
                "open project", f"{Path(path).name}: {type(exc).__name__}: {exc}", traceback.format_exc()
            )
            return
        source, sha256, config, stages = project.source, project.sha256, project.config, project.stages
        saved_in = Path(project.cache_folder) if project.cache_folder else None

        def finish() -> None:
            analysis = self.session.analysis
            if analysis is not None and stages:
                done = ", ".join(analysis.computed)
                self.log(f"project results: {'recomputed ' + done if done else 'all read from the cache'}")
            titles = [p.title for p in self.pages]
            if project.views.get("page") in titles:
                self.steps.setCurrentRow(titles.index(project.views["page"]))

        def restore() -> None:  # the recording has loaded: only now does anything change
            if saved_in is not None and saved_in != self.session.cache_folder and saved_in.is_dir():
                self.session.set_cache_folder(
                    self.settings.cache_folder, self.settings.cache_max_bytes, read_also=(saved_in,)
                )
            rec = self.session.recording
            if sha256 and rec.sha256 and sha256 != rec.sha256:
                self.log(f"warning: {source} changed since the project was saved (sha256 differs)")
            for section, form in self.session.forms.items():
                form.set_config(getattr(config, section), respect_user=False)
            self.session.set_config(config)
            self.views_page.set_view_state(project.views)
            self._rerun([p for p in self.pages if getattr(p, "stage", None) in stages], finish)

        self.log(f"opening project {path}")
        if Path(path) != autosave_path():
            self.remember_project(Path(path))
        self.open_recording(source or ":demo:", then=restore)

    def _rerun(self, pages: list, then: Callable[[], None] | None = None) -> None:
        if not pages:
            if then is not None:
                then()
            return
        first, rest = pages[0], pages[1:]
        first.start(then=lambda: self._rerun(rest, then))

    def _task_started(self, name: str) -> None:
        self._started[name] = time.monotonic()
        self.stage_label.setText(name)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.log(f"{name}: started")

    def _task_progress(self, name: str, fraction: float, message: str, eta_s: float) -> None:
        self.stage_label.setText(f"{name}: {message}")
        self.progress.setValue(int(1000 * fraction))
        self.eta_label.setText("" if math.isnan(eta_s) else f"~{eta_s:.0f} s left")

    def _task_ended(self, name: str, text: str) -> None:
        elapsed = time.monotonic() - self._started.pop(name, time.monotonic())
        self.cancel_button.setEnabled(False)
        self.eta_label.setText("")
        self.stage_label.setText(text)
        self.log(f"{name}: {text} ({elapsed:.1f} s)")

    def _task_finished(self, name: str, result: object) -> None:
        self.progress.setValue(1000)
        self._task_ended(name, "done")
        callback = self._on_done.pop(name, None)
        if callback is not None:
            try:
                callback(result)
            except Exception as exc:  # showing a result must never take the window down
                self._show_error(name, f"{type(exc).__name__}: {exc}", "")
        if name != "load":
            self.autosave()

    def _task_failed(self, name: str, message: str, details: str) -> None:
        self._on_done.pop(name, None)
        self.progress.setValue(0)
        self._task_ended(name, "failed")
        self._show_error(name, message, details)

    def _task_cancelled(self, name: str) -> None:
        self._on_done.pop(name, None)
        self.progress.setValue(0)
        self._task_ended(name, "cancelled")

    def _show_error(self, name: str, message: str, details: str) -> None:
        self.log(f"{name} failed: {message}")
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Warning)
        box.setWindowTitle(f"{name.capitalize()} failed")
        box.setText(message)
        box.setInformativeText("Nothing loaded or computed before was lost.")
        if details:
            box.setDetailedText(details)
        box.setObjectName("error_dialog")
        box.open()

    # closing ---------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.runner.busy:
            answer = QMessageBox.question(
                self, "Quit", f"'{self.runner.current}' is still running. Cancel it and quit?"
            )
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self.runner.cancel()
            self.runner.wait(30.0)
        event.accept()
