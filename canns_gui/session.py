"""What the app holds between pages: the recording, the parameters, and the stage results with their keys.

Results are computed by :class:`core.pipeline.StagedAnalysis` (cached by digest, in memory and, once
:meth:`Session.set_cache_folder` is called, on disk between runs); a page's result is stale when the key of
its stage under the current parameters differs from the key it was computed with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core.cache import DEFAULT_MAX_BYTES, DiskCache, StageCache
from core.pipeline import AnalysisConfig, StagedAnalysis, resolve_preset
from core.recording import Recording


@dataclass
class Loaded:
    """A recording and what loading it said."""

    recording: Recording
    warnings: list[str] = field(default_factory=list)
    label: str = ""
    source: str = ""  # what was opened: a path, or ":demo:"


class Session(QObject):
    """The current recording, configuration and results; emits when any of them changes."""

    recording_changed = Signal()
    config_changed = Signal()
    result_changed = Signal(str)  # stage name

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loaded: Loaded | None = None
        self.config = AnalysisConfig.from_preset("grid")
        self.cache = StageCache(max_items=64)
        self.analysis: StagedAnalysis | None = None
        self.results: dict[str, tuple[str, Any]] = {}  # stage → (key, value)
        self.forms: dict[str, Any] = {}  # config section → ConfigForm editing it
        self.gpu = False

    @property
    def recording(self) -> Recording | None:
        return self.loaded.recording if self.loaded else None

    def set_cache_folder(
        self,
        folder: str | os.PathLike | None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        read_also: tuple[str | os.PathLike, ...] = (),
    ) -> None:
        """Keep stage results on disk in ``folder`` (at most ``max_bytes`` bytes) besides memory, also looking
        in ``read_also``; None: memory only."""
        self.cache.disk = DiskCache(folder, max_bytes, read_also) if folder is not None else None

    @property
    def cache_folder(self) -> Path | None:
        return self.cache.disk.folder if self.cache.disk is not None else None

    def stage_keys(self) -> dict[str, str]:
        """The cache key of every shown stage result (stage → hex digest)."""
        return {stage: key for stage, (key, _value) in self.results.items()}

    def set_loaded(self, loaded: Loaded) -> None:
        """Replace the recording; earlier results stay in the cache but are no longer shown."""
        self.loaded = loaded
        self.analysis = StagedAnalysis(loaded.recording, self.cache, self.gpu)
        self.results.clear()
        self.recording_changed.emit()

    def set_config(self, config: AnalysisConfig) -> None:
        if config != self.config:
            self.config = config
            self.config_changed.emit()

    def bind(self, section: str, form) -> None:
        """Let ``form`` edit ``config.<section>``: its changes update the session's config."""
        self.forms[section] = form
        form.set_config(getattr(self.config, section), respect_user=False)
        form.changed.connect(lambda: self._sync(section))

    def _sync(self, section: str) -> None:
        try:
            value = self.forms[section].config()
        except (TypeError, ValueError):
            return  # a half-typed value: keep the last valid config
        self.set_config(replace(self.config, **{section: value}))

    def apply_preset(self, name: str) -> list[str]:
        """Load preset ``name`` into every bound form, keeping values the user typed; returns those kept."""
        preset = AnalysisConfig.from_preset(name)
        if self.recording is not None:
            preset = resolve_preset(preset, self.recording)
        kept = []
        for section, form in self.forms.items():
            kept += [f"{section}.{f}" for f in form.set_config(getattr(preset, section), respect_user=True)]
        values = {section: form.config() for section, form in self.forms.items()}
        self.set_config(replace(self.config, preset=preset.preset, **values))
        return kept

    def key(self, stage: str) -> str | None:
        return self.analysis.key(stage, self.config) if self.analysis else None

    def store(self, stage: str, key: str, value: Any) -> None:
        self.results[stage] = (key, value)
        self.result_changed.emit(stage)

    def result(self, stage: str) -> Any | None:
        entry = self.results.get(stage)
        return entry[1] if entry else None

    def is_stale(self, stage: str) -> bool:
        """True when the shown result of ``stage`` was made with other parameters than the current ones."""
        entry = self.results.get(stage)
        return entry is not None and entry[0] != self.key(stage)
