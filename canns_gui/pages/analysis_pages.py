"""Preprocess, TDA and Decode: parameter forms, a Run button each, and live previews of the results.

Each page shows only the result the session holds for its stage (drawn when it is stored), so it never
shows another recording's: a new recording clears every page, which then says what to run, and a result
computed under other parameters than the current ones carries a stale banner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from canns_gui.forms import ConfigForm
from canns_gui.pages.base import Page, parameter_column
from canns_gui.views.barcode_tab import draw_barcode
from canns_gui.views.common import TWO_PI, colormap, draw_scatter, ink
from core.behaviour import head_direction_warning
from core.embedding import MAX_UMAP_POINTS, Embedding2D, embed_2d, umap_available
from core.guidance import Step, next_steps
from core.homology import Persistence
from core.pipeline import PRESETS
from core.pointcloud import PointCloud
from core.presets import profile
from core.progress import Reporter
from core.significance import Significance, p_value_text, verdict_sentence

DIM_PENS = ((76, 114, 176), (221, 132, 82), (85, 168, 104))
CLOUD_VIEWS = ("PCA", "UMAP")
UMAP_TASK = "UMAP view"


@dataclass(frozen=True)
class TdaResult:
    """What the TDA page computes and shows: the cloud, its persistence, their significance, the cloud's
    PCA view, and the next steps suggested after this verdict (:func:`core.guidance.next_steps`)."""

    cloud: PointCloud
    persistence: Persistence
    significance: Significance
    pca: Embedding2D
    steps: tuple[Step, ...] = ()


class StagePage(Page):
    """A page that edits some config sections and runs one stage of the staged analysis.

    It draws the session's result of its stage whenever one is stored (:meth:`show_result`), clears itself
    when a recording is loaded (:meth:`clear`), and says what to run while it has nothing to show."""

    stage = ""
    sections: tuple[str, ...] = ()
    run_label = "Run"
    result_name = "results"  # what the page shows, for "no … yet"

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.window = window
        row = QHBoxLayout()
        self.controls = QVBoxLayout()
        self.forms = {}
        for section in self.sections:
            form = ConfigForm(getattr(session.config, section), section.replace("_", " ").capitalize())
            session.bind(section, form)
            self.forms[section] = form
            self.controls.addWidget(form)
        self.controls.addStretch(1)
        # the Run button and the status under the scrolling forms: always in view, whatever the window size
        self.run_button = QPushButton(self.run_label)
        self.run_button.setToolTip(f"{self.run_label} (F5)")
        self.run_button.clicked.connect(lambda: self.start())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        column = parameter_column(self.controls)
        left = QWidget()
        left.setFixedWidth(column.width())
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(column, 1)
        left_layout.addWidget(self.run_button)
        left_layout.addWidget(self.status)
        row.addWidget(left)
        self.results_area = QVBoxLayout()
        self.placeholder = QLabel("")  # what to run, while the page has no result
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(mid); font-size: 14px; padding: 4px;")
        self.results_area.addWidget(self.placeholder)
        row.addLayout(self.results_area, 1)
        self.body.addLayout(row, 1)
        session.config_changed.connect(self.update_banner)
        session.recording_changed.connect(self.clear)
        session.result_changed.connect(self._stored)
        self.update_placeholder()

    def compute(self, analysis, config, report: Reporter):
        """Worker-thread work of this page; returns what :meth:`show_result` displays."""
        raise NotImplementedError

    def show_result(self, value) -> None:
        raise NotImplementedError

    def clear_result(self) -> None:
        """Remove the shown result (plots, texts)."""

    @property
    def has_result(self) -> bool:
        return self.stage in self.session.results

    def clear(self) -> None:
        """A new recording: nothing of the previous one stays on the page."""
        self.status.setText("")
        self.clear_result()
        self.update_placeholder()
        self.update_banner()

    def update_placeholder(self) -> None:
        if self.has_result:
            self.placeholder.hide()
            return
        if self.session.loaded is None:
            text = (
                f"No {self.result_name} yet: load a recording (Import page), then press “{self.run_label}”."
            )
        else:
            label = self.session.loaded.label or "this recording"
            text = f"No {self.result_name} for {label} yet: press “{self.run_label}”."
        self.placeholder.setText(text)
        self.placeholder.show()

    def _stored(self, stage: str) -> None:
        if stage == self.stage and self.has_result:
            self.show_result(self.session.result(stage))
            self.update_placeholder()
        self.update_banner()

    def start(self, then=None) -> None:
        """Run this page's stage on a worker; ``then()`` runs after its result is shown. A result that
        arrives after another recording was loaded is dropped (and ``then`` not called)."""
        analysis, config = self.session.analysis, self.session.config
        if analysis is None:
            self.show_banner("Load a recording first (Import page).")
            return
        sections = list(self.session.forms)  # pipeline order: a stage reads its own and the earlier ones
        upstream = sections[: max(sections.index(s) for s in self.sections) + 1] if self.sections else []
        problems = [p for name in upstream for p in self.session.forms[name].problems()]
        if problems:  # never run with the last valid values behind the user's back
            self.show_banner("Fix the parameters marked in red first: " + "; ".join(problems))
            return
        key = analysis.key(self.stage, config)
        page = self

        def work(progress, cancel):
            return page.compute(analysis, config, Reporter(progress, cancel))

        def done(value) -> None:
            if self.session.analysis is not analysis:
                self.log(f"{self.title.lower()}: result of the previous recording dropped")
                return
            self.session.store(self.stage, key, value)  # draws it (_stored)
            if then is not None:
                then()

        self.window.run(self.title.lower(), work, done)

    def update_banner(self) -> None:
        if self.session.analysis is None:
            self.show_banner("")
        elif self.session.is_stale(self.stage):
            self.show_banner(
                "Parameters changed since these results were computed. "
                f"Run “{self.run_label}” again to update them."
            )
        else:
            self.show_banner("")


class PreprocessPage(StagePage):
    title = "Preprocess"
    stage = "preprocess"
    sections = ("preprocess",)
    run_label = "Compute rate matrix"
    result_name = "rate matrix"
    help_text = (
        "Spike trains become a rate matrix: bins of dt (s), Gaussian smoothing (s), and only bins where the "
        "animal moves faster than the speed threshold (cm/s). A preset fills every page's parameters; values "
        "you typed are kept. auto (the default, as in canns-asa) chooses them from each recording it loads."
    )

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        self.preset = QComboBox()
        self.preset.addItems(PRESETS)
        self.preset.setCurrentText(session.preset)  # auto: chosen from each recording when it loads
        preset_row.addWidget(self.preset, 1)
        apply = QPushButton("Apply")
        apply.clicked.connect(self.apply_preset)
        preset_row.addWidget(apply)
        self.controls.insertLayout(0, preset_row)
        plot = pg.PlotItem()
        plot.setLabel("bottom", "time (kept bins)", units="s")
        plot.setLabel("left", "unit")
        self.image = pg.ImageView(view=plot)
        self.image.ui.roiBtn.hide()
        self.image.ui.menuBtn.hide()
        self.image.view.setAspectLocked(False)
        self.caption = QLabel("Rate matrix, first 60 s of kept bins (colour: Hz)")
        self.results_area.addWidget(self.caption)
        self.results_area.addWidget(self.image, 1)
        self.results_area.addStretch(0)
        self.clear_result()  # nothing to show yet
        self._shown_preset = session.config.preset
        session.config_changed.connect(self._preset_changed)
        session.recording_changed.connect(self._recording_loaded)

    def _preset_changed(self) -> None:
        """Show the session's preset once it changes (a project restored, a suggested step applied)."""
        if self.session.config.preset != self._shown_preset:
            self._shown_preset = self.session.config.preset
            if self.session.preset in PRESETS:
                self.preset.setCurrentText(self.session.preset)

    def _recording_loaded(self) -> None:
        """The session resolved ``auto`` for the new recording: say what it chose."""
        if self.session.preset == "auto" and self.session.recording is not None:
            message = f"preset auto: settings chosen for {profile(self.session.recording).describe()}"
            self.status.setText(message)
            self.log(message)

    def apply_preset(self) -> None:
        kept = self.session.apply_preset(self.preset.currentText())
        message = f"preset {self.preset.currentText()} applied"
        if kept:
            message += "; kept your values for " + ", ".join(kept)
        self.status.setText(message)
        self.log(message)

    def compute(self, analysis, config, report):
        return analysis.rates(config, report)

    def clear_result(self) -> None:
        self.image.clear()  # and hidden: its histogram and axes would still show the previous matrix
        self.image.hide()
        self.caption.hide()

    def show_result(self, rm) -> None:
        n = min(rm.n_bins, int(60 / rm.config.dt_s))
        dt = rm.config.dt_s
        preview = rm.rates[:n]
        top = float(np.percentile(preview[:: max(1, n // 500)], 99.5)) or 1.0  # levels from a thin sample
        self.image.show()
        self.caption.show()
        self.image.setImage(
            preview, autoLevels=False, levels=(0.0, top), autoHistogramRange=False, scale=(dt, 1.0)
        )  # (x = time, y = unit)
        self.status.setText(
            f"{rm.n_bins:,} bins × {rm.rates.shape[1]} units kept "
            f"({rm.kept_fraction:.0%} of {rm.n_bins_total:,}); {rm.rates.nbytes / 1e6:.0f} MB float32"
        )


class TdaPage(StagePage):
    title = "TDA"
    stage = "significance"
    sections = ("point_cloud", "persistence", "significance")
    run_label = "Compute barcode"
    result_name = "barcode or verdict"
    help_text = (
        "Point cloud (Gardner et al. 2022): active bins, PCA, fuzzy downsampling, −log fuzzy membership "
        "distance; then persistent homology. Significance: the gap test (p-values from the F law of the gaps "
        "between the longest bars), or the same gaps against circular-shift shuffles when set > 0 (≥ 60)."
    )

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.verdict = QLabel("")
        self.verdict.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.verdict.setWordWrap(True)
        self.test_note = QLabel("")  # the test behind the verdict and the bars' p-values
        self.test_note.setWordWrap(True)
        self.test_note.setStyleSheet("color: palette(mid);")
        self.steps_box = QFrame()  # next steps after a 'none' or a doubtful verdict
        self.steps_box.setFrameShape(QFrame.StyledPanel)
        self.steps_layout = QVBoxLayout(self.steps_box)
        self.steps_layout.setContentsMargins(8, 6, 8, 6)
        self.steps_box.hide()
        self.step_buttons: list[QPushButton] = []
        view_row = QHBoxLayout()
        view_row.addWidget(QLabel("Point-cloud view"))
        self.view_choice = QComboBox()
        self.view_choice.addItems(CLOUD_VIEWS)
        self.view_choice.setToolTip(
            "PCA: the first two principal components. UMAP: a non-linear 2-D map of at most "
            f"{MAX_UMAP_POINTS} points, computed on a worker (the first in a session compiles for up to a "
            "minute). Display only: homology uses the full cloud."
        )
        if not umap_available():  # e.g. a packaged app built without umap-learn
            item = self.view_choice.model().item(CLOUD_VIEWS.index("UMAP"))
            item.setEnabled(False)
            item.setToolTip("UMAP needs umap-learn, which this installation lacks")
        self.view_choice.currentTextChanged.connect(self.show_cloud_view)
        view_row.addWidget(self.view_choice)
        view_row.addStretch(1)
        self.cloud_plot = pg.PlotWidget(title="Point cloud")
        self.cloud_plot.setLabel("bottom", "PC1")
        self.cloud_plot.setLabel("left", "PC2")
        self.cloud_bar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=colormap("viridis"),
            interactive=False,
            width=12,
            orientation="horizontal",
        )
        bar_view = pg.GraphicsLayoutWidget()  # the colour bar in its own flat view under the plot
        bar_view.setBackground(pg.getConfigOption("background"))
        bar_view.addItem(self.cloud_bar)
        bar_view.setFixedHeight(62)
        self.bar_view = bar_view
        self.cloud_note = QLabel("")
        self.cloud_note.setWordWrap(True)
        self.barcode_plot = pg.PlotWidget(title="Barcode")
        self.barcode_plot.setLabel("bottom", "filtration value (−log membership)")
        self.barcode_plot.getAxis("left").setTicks([[]])
        cloud_box = QVBoxLayout()
        cloud_box.addLayout(view_row)
        cloud_box.addWidget(self.cloud_plot, 1)
        cloud_box.addWidget(bar_view)
        cloud_box.addWidget(self.cloud_note)
        plots = QHBoxLayout()
        plots.addLayout(cloud_box, 1)
        plots.addWidget(self.barcode_plot, 1)
        self.results_area.addWidget(self.verdict)
        self.results_area.addWidget(self.test_note)
        self.results_area.addWidget(self.steps_box)
        self.results_area.addLayout(plots, 1)
        self._cloud = None  # the PointCloud on display
        self._embeddings: dict[str, Embedding2D] = {}  # "pca"/"umap" → embedding of self._cloud
        self.bar_view.hide()  # until a cloud is drawn
        session.result_changed.connect(self._result_changed)
        window.runner.failed.connect(lambda name, *_: self._umap_ended(name, "failed"))
        window.runner.cancelled.connect(lambda name: self._umap_ended(name, "cancelled"))

    def compute(self, analysis, config, report) -> TdaResult:
        significance = analysis.significance(config, report)
        cloud = analysis.cloud(config)
        steps = tuple(next_steps(significance, config, profile(analysis.recording)))
        pca = embed_2d(cloud.points, "pca")
        return TdaResult(cloud, analysis.persistence(config), significance, pca, steps)

    def show_result(self, value: TdaResult) -> None:
        cloud, pers, sig, pca = value.cloud, value.persistence, value.significance, value.pca
        self.verdict.setText(verdict_sentence(sig))
        p_values = "; ".join(f"H{d} longest bars {t}" for d in (1, 2) if (t := p_value_text(sig, d)))
        self.test_note.setText(f"How: {sig.test}." + (f" {p_values}." if p_values else ""))
        self.show_steps(value.steps)
        if cloud is not self._cloud:
            self._cloud, self._embeddings = cloud, {"pca": pca}
        draw_barcode(self.barcode_plot, pers, sig)
        self.status.setText(
            f"{cloud.points.shape[0]} points; backend {pers.backend}, Z/{pers.coeff}; "
            f"filtration cut at {pers.threshold:.2f}"
        )
        # the cloud on the next turns of the event loop (two short GUI steps rather than one long one), and
        # after ``then`` of a chained run has started; PCA first while a UMAP is still to compute
        if self.view_choice.currentText() == "UMAP" and "umap" not in self._embeddings:
            QTimer.singleShot(
                0, lambda: self._cloud is cloud and self._draw_embedding(self._embedding("pca"))
            )
        QTimer.singleShot(0, self.show_cloud_view)

    def clear_result(self) -> None:
        self._cloud, self._embeddings = None, {}
        self.verdict.setText("")
        self.test_note.setText("")
        self.show_steps(())
        scatter = getattr(self.cloud_plot.getPlotItem(), "_progressive_scatter", None)
        if scatter is not None:
            scatter.clear()  # its parts still to come are dropped too
        self.cloud_plot.clear()
        self.cloud_plot.setTitle("Point cloud")
        self.cloud_plot.setLabel("bottom", "PC1")
        self.cloud_plot.setLabel("left", "PC2")
        self.bar_view.hide()  # no colours to explain
        self.cloud_note.setText("")
        self.barcode_plot.clear()

    def show_steps(self, steps: tuple[Step, ...]) -> None:
        """The next steps: a button for each that changes parameters (applies them and reruns TDA), a line
        for each that only informs."""
        while self.steps_layout.count():
            item = self.steps_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.step_buttons = []
        if not steps:
            self.steps_box.hide()
            return
        self.steps_layout.addWidget(QLabel("<b>Next steps</b>"))
        for step in steps:
            row = QHBoxLayout()
            explanation = QLabel(
                step.explanation if step.actionable else f"<b>{step.label}.</b> {step.explanation}"
            )
            explanation.setWordWrap(True)
            if step.actionable:
                button = QPushButton(step.label)
                button.setToolTip("Apply and rerun TDA; canns-asa run " + " ".join(step.cli_args()))
                button.clicked.connect(lambda _=False, s=step: self.run_step(s))
                self.step_buttons.append(button)
                row.addWidget(button)
            row.addWidget(explanation, 1)
            holder = QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            self.steps_layout.addWidget(holder)
        self.steps_box.show()

    def step_button(self, label: str) -> QPushButton:
        """The button of the next step called ``label`` (e.g. "Try the hd preset")."""
        return next(b for b in self.step_buttons if b.text() == label)

    def run_step(self, step: Step) -> None:
        """Apply a suggested step's change (values typed by the user kept) and rerun TDA with it."""
        if self.window.busy:
            self.show_banner(
                f"'{self.window.runner.current}' is running: try “{step.label}” when it is done."
            )
            return
        kept = self.session.apply_step(step)
        message = f"{step.label}: applied" + ("; kept your values for " + ", ".join(kept) if kept else "")
        self.status.setText(message)
        self.log(message)
        self.start()

    def _result_changed(self, stage: str) -> None:
        if stage == "decoding" and self._cloud is not None:
            self.show_cloud_view()  # colour by the decoded phase now that it exists

    def _embedding(self, method: str) -> Embedding2D:
        if method not in self._embeddings:
            self._embeddings[method] = embed_2d(self._cloud.points, method)  # PCA: instantaneous
        return self._embeddings[method]

    def show_cloud_view(self, *_) -> None:
        """Draw the chosen view of the cloud; a UMAP not computed yet starts on a worker."""
        if self._cloud is None:
            return
        if self.view_choice.currentText() == "PCA":
            self._draw_embedding(self._embedding("pca"))
        elif "umap" in self._embeddings:
            self._draw_embedding(self._embeddings["umap"])
        else:
            self._start_umap()

    def _start_umap(self) -> None:
        cloud = self._cloud
        metric = cloud.config.metric

        def work(progress, cancel):
            return cloud, embed_2d(cloud.points, "umap", 0, progress, cancel, metric=metric)

        def done(value) -> None:
            for_cloud, embedding = value
            if for_cloud is not self._cloud:
                return  # a newer TDA result replaced the cloud meanwhile
            self._embeddings["umap"] = embedding
            if self.view_choice.currentText() == "UMAP":
                self._draw_embedding(embedding)

        if self.window.busy or not self.window.run(UMAP_TASK, work, done):
            self._set_view("PCA", f"UMAP view not started: '{self.window.runner.current}' is running.")
            return
        self.cloud_note.setText(
            f"Computing the UMAP view on {min(cloud.points.shape[0], MAX_UMAP_POINTS)} points… "
            "(the first UMAP in a session compiles for up to a minute)"
        )

    def _umap_ended(self, name: str, how: str) -> None:
        if name == UMAP_TASK:
            self._set_view("PCA", f"UMAP view {how}; showing PCA.")

    def _set_view(self, view: str, note: str) -> None:
        self.view_choice.blockSignals(True)
        self.view_choice.setCurrentText(view)
        self.view_choice.blockSignals(False)
        if self._cloud is not None and view == "PCA":
            self._draw_embedding(self._embedding("pca"))
        self.cloud_note.setText(note)

    def _point_colours(self) -> tuple[np.ndarray, str, bool]:
        """Colour value of every cloud point, its label with units, and whether it is a phase (cyclic).

        The decoded phase θ1 (rad) when the shown decoding was made from this cloud; else the time (s) of
        the point's bin when the rate matrix shown on the Preprocess page is the one this cloud came from;
        else the order of the point's bin among the kept bins (a stand-in for time).
        """
        cloud = self._cloud
        dec = self.session.result("decoding")
        if dec is not None and np.array_equal(dec.sampled_bin_index, cloud.bin_index):
            return np.asarray(dec.sampled_theta[:, 0], dtype=np.float64), "decoded phase θ1 (rad)", True
        rm = self.session.result("preprocess")
        current = not (self.session.is_stale("preprocess") or self.session.is_stale("significance"))
        if rm is not None and current and cloud.bin_index.max() < rm.t.size:
            return np.asarray(rm.t[cloud.bin_index], dtype=np.float64), "time (s)", False
        return cloud.bin_index.astype(np.float64), "time order (kept bin)", False

    def _draw_embedding(self, emb: Embedding2D) -> None:
        values, label, cyclic = self._point_colours()
        values = values[emb.index]
        cmap = colormap("twilight" if cyclic else "viridis")
        lo, hi = (0.0, TWO_PI) if cyclic else (float(values.min()), float(values.max()))
        hi = max(hi, lo + 1e-9)
        # drawn in parts over turns of the event loop, 64 shared brushes (a brush per point, or 20,000 points
        # in one call, hold the GUI thread for 0.2–0.3 s)
        x, y = emb.coords[:, 0], emb.coords[:, 1]
        draw_scatter(self.cloud_plot.getPlotItem(), x, y, values, cmap, (lo, hi))
        self.bar_view.show()
        self.cloud_bar.setColorMap(cmap)
        self.cloud_bar.setLevels((lo, hi))
        self.cloud_bar.getAxis("bottom").setLabel(label, color=ink())
        n = emb.coords.shape[0]
        if emb.method == "pca":
            ratio = emb.explained_variance_ratio
            self.cloud_plot.setTitle(f"Point cloud, PCA ({n} points)")
            self.cloud_plot.setLabel("bottom", f"PC1 ({ratio[0]:.0%} of variance)")
            self.cloud_plot.setLabel("left", f"PC2 ({ratio[1]:.0%} of variance)")
            self.cloud_note.setText(f"Colour: {label}.")
        else:
            self.cloud_plot.setTitle(f"Point cloud, UMAP ({n} points)")
            self.cloud_plot.setLabel("bottom", "UMAP 1 (a.u.)")
            self.cloud_plot.setLabel("left", "UMAP 2 (a.u.)")
            self.cloud_note.setText(
                f"Colour: {label}. UMAP keeps neighbours, not distances: a ring stays a loop, "
                "but sizes and gaps mean little."
            )
        self.cloud_plot.getPlotItem().enableAutoRange()


def wrapped_line(t: np.ndarray, phase: np.ndarray, max_points: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    """A phase trace (rad) thinned to ``max_points`` and broken (NaN) where it wraps or the time jumps,
    so a line never crosses the plot from 2π to 0 or across bins dropped by the speed filter."""
    step = max(1, t.size // max_points)
    t, phase = t[::step].astype(float), phase[::step].astype(float)
    gaps = (np.abs(np.diff(phase)) > np.pi) | (
        np.diff(t) > 5 * np.median(np.diff(t)) if t.size > 2 else False
    )
    cut = np.flatnonzero(gaps) + 1
    return np.insert(t, cut, np.nan), np.insert(phase, cut, np.nan)


class DecodePage(StagePage):
    title = "Decode"
    stage = "decoding"
    sections = ("decoding",)
    run_label = "Decode phases"
    result_name = "decoded phases"
    help_text = (
        "Circular coordinates from the significant H1 classes (radians), extended to every time bin; a torus "
        "is aligned to its lattice. With head direction recorded, the agreement is measured."
    )

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.metrics = QLabel("")
        self.metrics.setWordWrap(True)
        self.warning = QLabel("")  # a decoding that disagrees with the recorded behaviour
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("background: #f8d7da; color: #58151c; padding: 6px; border-radius: 4px;")
        self.warning.hide()
        self.phase_plot = pg.PlotWidget(title="Decoded phases (first 120 s)")
        self.phase_plot.setLabel("bottom", "time", units="s")
        self.phase_plot.setLabel("left", "phase", units="rad")
        self.phase_plot.addLegend(offset=(-10, 10))
        self.results_area.addWidget(self.warning)
        self.results_area.addWidget(self.metrics)
        self.results_area.addWidget(self.phase_plot, 1)

    def compute(self, analysis, config, report):
        return analysis.decoding(config, report)

    def clear_result(self) -> None:
        self.phase_plot.clear()
        self.metrics.setText("")
        self.warning.setText("")
        self.warning.hide()

    def show_result(self, dec) -> None:
        self.clear_result()
        if dec is None:
            self.metrics.setText(
                "Nothing to decode: no significant circle (verdict 'none'); the TDA page suggests next steps."
            )
            return
        warning = head_direction_warning(dec)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        window = np.flatnonzero(dec.t < dec.t[0] + 120)
        for c in range(dec.n_circles):
            t, phase = wrapped_line(dec.t[window], dec.theta[window, c])
            self.phase_plot.plot(
                t, phase, connect="finite", pen=pg.mkPen(DIM_PENS[c], width=1.5), name=f"θ{c + 1}"
            )
        if dec.hd is not None:
            t, hd = wrapped_line(dec.t[window], dec.hd[window])
            self.phase_plot.plot(t, hd, connect="finite", pen=pg.mkPen((120, 120, 120), width=1), name="hd")
        text = [f"{dec.n_circles} circle(s) decoded for {dec.theta.shape[0]:,} bins"]
        if dec.torus_angle_deg is not None:
            text.append(f"torus axis angle {dec.torus_angle_deg:.1f}°")
        hd = dec.metrics.get("head_direction")
        if hd:
            text.append(
                f"head direction: circular correlation {hd['circular_correlation']:.3f}, "
                f"median error {hd['median_error_deg']:.1f}°"
            )
        self.metrics.setText("; ".join(text))
