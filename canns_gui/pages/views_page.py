"""Views: Barcode, CohoMap, CohoSpace, PathCompare, FR, FRM and GridScore as interactive plots.

"Compute views" (or opening the page with newer results) computes every view on a worker; each tab draws its
result, or says in plain words what it needs. GridScore, FRM and CohoSpace share the selected unit. Each tab
exports its figure, data and provenance; File → Export all… writes the whole report folder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from canns_gui.dialogs import choose_folder
from canns_gui.forms import ConfigForm
from canns_gui.pages.base import Page
from canns_gui.views import exporting
from canns_gui.views.common import UnitSelection
from canns_gui.views.compute import compute_all, export_report_folder, gather_inputs
from core.config import from_dict
from core.errors import ConfigError
from core.progress import Reporter
from core.views.registry import SETTINGS, VIEWS, ViewData, ViewSettings, resolve

STAGES = ("preprocess", "significance", "decoding")


def tab_classes() -> list[type]:
    """The tab class of every registered view that has one, in registration order."""
    return [resolve(spec.tab) for spec in VIEWS.values() if spec.tab]


class ViewsPage(Page):
    title = "Views"
    help_text = (
        "Interactive views of the decoded structure: zoom with the wheel, pan by dragging, read values under "
        "the cursor below each plot. Choosing a unit in GridScore, FRM or CohoSpace selects it in all three. "
        "Each view exports its figure (PNG, SVG, PDF), data (NPZ, CSV) and provenance (JSON)."
    )

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.window = window
        self.selection = UnitSelection()
        self.data: ViewData | None = None
        self.computed_signature = None
        self.given_up_signature = None
        self._pending_signature = None
        self._pending_state: dict | None = None  # a restored state waiting for views data (set_view_state)

        bar = QHBoxLayout()
        self.compute_button = QPushButton("Compute views")
        self.compute_button.setToolTip(
            "Compute every view from the current results (on a worker; Cancel stops it)"
        )
        self.compute_button.clicked.connect(lambda: self.compute_views())
        self.settings_button = QPushButton("Settings")
        self.settings_button.setCheckable(True)
        self.settings_button.setToolTip(
            "Parameters of the rate maps, grid scores, CohoMap, CohoSpace and tuning"
        )
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.units_button = QPushButton("Units…")
        self.units_button.setToolTip(
            "Every unit's scores in a table; select a module, the grid cells or a query and analyse them"
        )
        self.units_button.clicked.connect(self.choose_units)
        self.analysis_box = QComboBox()
        self.analysis_box.setToolTip("The analysis shown: the full recording or a unit subset")
        self.analysis_box.activated.connect(lambda i: window.switch_analysis(self.analysis_box.itemText(i)))
        bar.addWidget(self.compute_button)
        bar.addWidget(self.settings_button)
        bar.addWidget(self.units_button)
        bar.addWidget(self.analysis_box)
        self.analysis_box.hide()  # shown once there is a subset to choose
        bar.addWidget(self.status, 1)
        self.body.addLayout(bar)

        row = QHBoxLayout()
        self.forms: dict[str, ConfigForm] = {}
        holder = QWidget()
        column = QVBoxLayout(holder)
        for name, config in ViewSettings().items():
            form = ConfigForm(config, SETTINGS[name].title)
            form.changed.connect(self.update_banner)
            self.forms[name] = form
            column.addWidget(form)
        column.addStretch(1)
        self.settings_panel = QScrollArea()
        self.settings_panel.setWidget(holder)
        self.settings_panel.setWidgetResizable(True)
        self.settings_panel.setFixedWidth(430)
        self.settings_panel.hide()
        self.settings_button.toggled.connect(self.settings_panel.setVisible)
        row.addWidget(self.settings_panel)

        self.tabs = QTabWidget()
        self.view_tabs = [cls(self) for cls in tab_classes()]
        for tab in self.view_tabs:
            self.tabs.addTab(tab, tab.title)
        row.addWidget(self.tabs, 1)
        self.body.addLayout(row, 1)

        # ←/→: previous / next unit in the shown tab's order; Space: play / pause PathCompare
        keys = {Qt.Key_Left: lambda: self.step_unit(-1), Qt.Key_Right: lambda: self.step_unit(1)}
        keys[Qt.Key_Space] = self.toggle_play
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        session.recording_changed.connect(self.clear)
        window.runner.failed.connect(self._task_ended)
        window.runner.cancelled.connect(self._task_ended)
        window.runner.finished.connect(self._task_finished)
        session.result_changed.connect(lambda _stage: self.update_banner())

    # the tabs ----------------------------------------------------------------------------------------------
    def choose_units(self) -> None:
        """The Units dialog of the recording shown (scores from the views when computed)."""
        from canns_gui.units_dialog import UnitsDialog
        from core.subsets import unit_table

        rec = self.session.recording
        if rec is None:
            self.show_banner("Load a recording first (Import page).")
            return
        views = self.data.views if self.data is not None else {}
        self.units_dialog = UnitsDialog(unit_table(rec, views), self)
        self.units_dialog.analyse.connect(self.window.analyse_subset)
        self.units_dialog.open()

    def show_analyses(self) -> None:
        """The analyses in the chooser, the one shown selected."""
        names = list(self.window.analyses)
        current = next((n for n, a in self.window.analyses.items() if a is self.session.loaded), "")
        self.analysis_box.clear()
        self.analysis_box.addItems(names)
        self.analysis_box.setCurrentText(current)
        self.analysis_box.setVisible(len(names) > 1)

    def step_unit(self, step: int) -> None:
        """The previous (−1) or next (+1) unit in the order of the shown tab's unit browser."""
        browser = getattr(self.tabs.currentWidget(), "browser", None)
        if browser is not None and browser.isVisible():
            browser.step(step)

    def toggle_play(self) -> None:
        button = getattr(self.tabs.currentWidget(), "play_button", None)
        if button is not None and button.isEnabled() and button.isVisible():
            button.toggle()

    def tab(self, title: str):
        """The tab called ``title`` (e.g. "GridScore")."""
        return next(t for t in self.view_tabs if t.title == title)

    def settings(self) -> ViewSettings:
        values = {}
        for name, form in self.forms.items():
            with contextlib.suppress(TypeError, ValueError):
                values[name] = form.config()
        return ViewSettings(**values)

    def signature(self) -> tuple:
        keys = tuple(self.session.results.get(stage, (None, None))[0] for stage in STAGES)
        return id(self.session.loaded), keys, self.settings()

    def has_results(self) -> bool:
        return self.session.analysis is not None and any(s in self.session.results for s in STAGES)

    def clear(self) -> None:
        self.data = None
        self.computed_signature = None
        self._pending_state = None
        self.selection.index = 0
        for tab in self.view_tabs:
            tab.set_data(None)
            tab.say(f"{tab.title}: run the analysis (Preprocess, TDA, Decode), then press “Compute views”.")
        self.status.setText("")
        self.show_banner("")

    def update_banner(self) -> None:
        if self.data is not None and self.signature() != self.computed_signature:
            self.show_banner(
                "The analysis results or the view settings changed since these views were computed: press "
                "“Compute views” to update them."
            )
        else:
            self.show_banner("")

    # computing ---------------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        QTimer.singleShot(0, self.maybe_compute)

    def maybe_compute(self) -> None:
        """Compute when the page is shown with results newer than the views (and nothing else runs); a
        computation that failed or was cancelled is not retried by itself for the same inputs."""
        signature = self.signature() if self.has_results() else None
        stale = signature is not None and signature not in (self.computed_signature, self.given_up_signature)
        if self.isVisible() and stale and not self.window.busy:
            self.compute_views()

    def _task_ended(self, name: str, *_details) -> None:
        """A task failed or was cancelled; for "views", say so and do not retry on the next show."""
        if name == "views":
            self.given_up_signature = self._pending_signature
            self.status.setText("Views were not computed (cancelled or failed): press “Compute views”.")

    def _task_finished(self, name: str, _result) -> None:
        if name in ("preprocess", "tda", "decode") and self.isVisible():  # a stage rerun while shown
            QTimer.singleShot(0, self.maybe_compute)

    def compute_views(self, then=None) -> bool:
        """Compute every view on a worker and draw them when done; False when nothing was started."""
        if self.session.analysis is None:
            self.show_banner("Load a recording first (Import page), then run Preprocess, TDA and Decode.")
            return False
        if self.window.busy:
            self.show_banner(
                f"'{self.window.runner.current}' is running: press “Compute views” when it is done."
            )
            return False
        problems = [p for form in self.forms.values() for p in form.problems()]
        if problems:
            self.settings_button.setChecked(True)  # show the fields marked in red
            self.show_banner("Fix the view settings marked in red first: " + "; ".join(problems))
            return False
        inputs = gather_inputs(self.session)
        settings = self.settings()
        signature = self.signature()
        self._pending_signature = signature

        def work(progress, cancel):
            return compute_all(inputs, settings, Reporter(progress, cancel))

        def done(data: ViewData) -> None:
            if signature[0] != id(self.session.loaded):
                return  # another recording was opened meanwhile: these views belong to the old one
            self.show_data(data, signature)
            if then is not None:
                then()

        self.status.setText("computing views…")
        return self.window.run("views", work, done)

    def show_data(self, data: ViewData, signature=None) -> None:
        """Hand new results to every tab (each draws now if visible, else when shown)."""
        self.data = data
        self.computed_signature = signature
        n = len(data.unit_ids)
        if n and self.selection.index >= n:
            self.selection.index = 0
        for tab in self.view_tabs:
            tab.set_data(data)
        self._apply_pending_state()
        shown = [t.title for t in self.view_tabs if t.has_content]
        missing = [t.title for t in self.view_tabs if not t.has_content]
        text = f"{len(shown)} of {len(self.view_tabs)} views ready"
        if missing:
            text += f" ({', '.join(missing)}: see their tabs for what they need)"
        self.status.setText(text + ".")
        self.update_banner()

    # saved state (project files) ---------------------------------------------------------------------------
    def view_state(self) -> dict:
        """Plain-JSON state for a project file: the chosen tab, the selected unit (index and id), the view
        settings, and each tab's controls (unit sort order, PathCompare time, FR window, CohoMap mode)."""
        state: dict = {
            "tab": self.tabs.tabText(self.tabs.currentIndex()),
            "unit_index": int(self.selection.index),
            "settings": self.settings().to_dict(),
            "subsets": self.window.subset_definitions(),
            "tabs": {},
        }
        ids = self.data.unit_ids if self.data is not None else []
        if 0 <= self.selection.index < len(ids):
            state["unit_id"] = str(ids[self.selection.index])
        for tab in self.view_tabs:
            tab_state = {}
            browser = getattr(tab, "browser", None)
            if browser is not None and browser.sort.currentText():
                tab_state["sort"] = browser.sort.currentText()
            if hasattr(tab, "view_state"):
                tab_state.update(tab.view_state())
            if tab_state:
                state["tabs"][tab.key] = tab_state
        pending = self._pending_state
        if pending is not None:  # restored but not applied yet (no views computed): keep what was restored
            for name in ("unit_index", "unit_id", "tabs"):
                if name in pending:
                    state[name] = pending[name]
        return state

    def set_view_state(self, state: dict) -> None:
        """Restore :meth:`view_state`: the view settings and the tab now; the unit and each tab's controls
        when views data arrive (at once if there are some). Unknown or malformed entries are ignored."""
        if not isinstance(state, dict):
            return
        self.window.restore_subsets(state.get("subsets", {}))
        settings = state.get("settings")
        if isinstance(settings, dict):
            for name, form in self.forms.items():
                if isinstance(settings.get(name), dict):
                    with contextlib.suppress(ConfigError, TypeError, ValueError):
                        config = from_dict(SETTINGS[name].config_type, settings[name])
                        form.set_config(config, respect_user=False)
        titles = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        if state.get("tab") in titles:
            self.tabs.setCurrentIndex(titles.index(state["tab"]))
        self._pending_state = state
        if self.data is not None:
            self._apply_pending_state()

    def _apply_pending_state(self) -> None:
        state, self._pending_state = self._pending_state, None
        if state is None or self.data is None:
            return
        ids = [str(u) for u in self.data.unit_ids]
        index = state.get("unit_index")
        if state.get("unit_id") in ids:
            self.selection.set(ids.index(state["unit_id"]))
        elif isinstance(index, int) and 0 <= index < len(ids):
            self.selection.set(index)
        tabs = state.get("tabs") if isinstance(state.get("tabs"), dict) else {}
        for tab in self.view_tabs:
            tab_state = tabs.get(tab.key)
            if not isinstance(tab_state, dict):
                continue
            browser = getattr(tab, "browser", None)
            sort = tab_state.get("sort")
            if browser is not None and isinstance(sort, str) and browser.sort.findText(sort) >= 0:
                browser.sort.setCurrentText(sort)
            if hasattr(tab, "set_view_state"):
                tab.set_view_state(tab_state)

    # exporting ---------------------------------------------------------------------------------------------
    def provenance(self, view: str) -> dict:
        from core.export import provenance

        rec = self.session.recording
        params = {
            "analysis": self.session.config.to_dict(),
            "views": self.data.settings.to_dict() if self.data else None,
        }
        return provenance(
            rec.source, rec.sha256, params, device="gpu" if self.session.gpu else "cpu", view=view
        )

    def run_export(self, title: str, job, folder: Path) -> bool:
        """Run a tab's export ``job`` into ``folder`` (in the export process, waited on by a worker thread);
        the files are logged."""
        record = self.provenance(title.lower())

        def work(progress, cancel):
            report = Reporter(progress, cancel)
            report(0.0, f"exporting {title} (figure, data, provenance)")
            return exporting.run(job, Path(folder), record, report.check)

        def done(paths) -> None:
            names = ", ".join(p.name for p in paths)
            self.log(f"{title} exported to {folder}: {names}")
            self.status.setText(f"{title}: {len(paths)} files written to {folder}")

        return self.window.run(f"export {title}", work, done)

    def choose_export_all(self) -> None:
        if self.session.result("significance") is None:
            self._tell(
                "Export all", "Export all needs at least the TDA results: run Preprocess and TDA first."
            )
            return
        folder = choose_folder(self, "export", "Export the whole report into folder")
        if folder:
            self.export_all(Path(folder))

    def export_all(self, folder: Path) -> bool:
        """Write the report folder (summary.json, decoding.npz and every view) on a worker: the views as
        computed and shown, with the user's settings; computed first when none are shown or they are stale."""
        if self.session.result("significance") is None or self.session.recording is None:
            self._tell(
                "Export all", "Export all needs at least the TDA results: run Preprocess and TDA first."
            )
            return False
        inputs = gather_inputs(self.session)
        settings = self.settings()
        fresh = self.data is not None and self.signature() == self.computed_signature
        data = self.data if fresh else None
        folder = Path(folder)

        def work(progress, cancel):
            return export_report_folder(inputs, data, settings, folder, Reporter(progress, cancel))

        def done(paths) -> None:
            self.log(f"report written to {folder}: {len(paths)} files")
            self.status.setText(f"Export all: {len(paths)} files written to {folder}")

        return self.window.run("export all", work, done)

    def _tell(self, title: str, text: str) -> None:
        self.log(text)
        box = QMessageBox(self)
        box.setWindowTitle(title)
        box.setText(text)
        box.setObjectName("views_message")
        box.open()
