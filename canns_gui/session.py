"""What the app holds between pages: the recording, the parameters, and the stage results with their keys.

Results are computed by :class:`core.pipeline.StagedAnalysis` (cached by digest, in memory and, once
:meth:`Session.set_cache_folder` is called, on disk between runs); a page's result is stale when the key of
its stage under the current parameters differs from the key it was computed with. A new recording clears
every result.

The parameters start at the ``auto`` preset, as ``canns-asa``'s, and while ``auto`` is the chosen preset
each new recording resolves it again (:func:`core.pipeline.resolve_preset`), with the values the user typed
pinned as ``canns-asa --set`` pins them: the GUI and the CLI reach the same parameters on the same file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import config as config_layer
from core.cache import DEFAULT_MAX_BYTES, DiskCache, StageCache
from core.errors import ConfigError
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
        self.config = AnalysisConfig.from_preset("auto")  # as canns-asa: resolved per recording
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

    @property
    def preset(self) -> str:
        """The chosen preset: "auto", "grid" or "hd" (``config.preset`` without what ``auto`` resolved to)."""
        return self.config.preset.split(" (")[0]

    def set_loaded(self, loaded: Loaded) -> None:
        """Replace the recording; earlier results stay in the cache but are no longer shown. With ``auto``
        chosen, its settings are chosen again for this recording (values the user typed are kept)."""
        self.loaded = loaded
        self.analysis = StagedAnalysis(loaded.recording, self.cache, self.gpu)
        self.results.clear()
        if self.preset == "auto":
            self.apply_preset("auto")
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

    def typed_values(self) -> tuple[tuple[str, object], ...]:
        """(dotted path, value) of every form field the user edited: the GUI's ``canns-asa --set``."""
        out = []
        for section, form in self.forms.items():
            for name, widget in form.fields.items():
                if not widget.user_edited:
                    continue
                try:
                    out.append(config_layer.pins(AnalysisConfig, [(f"{section}.{name}", widget.value())])[0])
                except (ConfigError, TypeError, ValueError):
                    continue  # half typed or out of bounds: the preset's value stands
        return tuple(out)

    def apply_preset(self, name: str) -> list[str]:
        """Load preset ``name`` into every bound form, keeping values the user typed; returns those kept.

        The values typed are pinned while ``auto`` is resolved, so the result is what ``canns-asa run
        --preset NAME --set PATH=VALUE …`` analyses; the pins are not kept in the session's config (a later
        edit of the same field must win)."""
        preset = AnalysisConfig.from_preset(name)
        free = resolve_preset(preset, self.recording) if self.recording is not None else preset
        pinned, typed = preset, ()
        for pin in self.typed_values():
            try:
                pinned, typed = replace(preset, pinned=(*typed, pin)), (*typed, pin)
            except ConfigError:
                continue  # a value its config refuses (e.g. a coeff that is not prime): not kept
        config = resolve_preset(pinned, self.recording) if self.recording is not None else pinned
        config = replace(config, pinned=())
        kept = [path for path, value in typed if _at(free, path) != value]
        for section, form in self.forms.items():
            # the preset's own value where the user typed one (the form keeps the typed value and remembers
            # the preset's for its reset), the resolved values elsewhere
            shown = getattr(config, section)
            own = {p.partition(".")[2]: _at(free, p) for p, _ in typed if p.partition(".")[0] == section}
            with contextlib.suppress(ConfigError, TypeError, ValueError):  # a clash: the resolved values
                shown = replace(shown, **own)
            form.set_config(shown, respect_user=True)
        self.set_config(config)
        return kept

    def set_values(self, values: dict[str, Any]) -> None:
        """Set parameters by dotted path (checked by :mod:`core.config`), in the config and in the forms, as
        if the user had typed them (a later preset keeps them)."""
        config = config_layer.with_values(self.config, values)
        for path in values:
            section, _, name = path.partition(".")
            widget = self.forms[section].fields.get(name) if section in self.forms else None
            if widget is not None:
                widget.set_value(_at(config, path))
                widget.user_edited = True
        self.set_config(config)

    def apply_step(self, step) -> list[str]:
        """Apply a :class:`core.guidance.Step`: its preset (values typed kept; returns those), then its
        values."""
        kept = self.apply_preset(step.preset) if step.preset else []
        if step.values:
            self.set_values(dict(step.values))
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


def _at(config: Any, path: str) -> Any:
    """The value at dotted ``path`` of a config."""
    for name in path.split("."):
        config = getattr(config, name)
    return config
