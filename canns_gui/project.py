"""Project files (``*.canns.json``): the input reference, every parameter, the stages that were run, where
their results are cached (folder and keys) and the Views page's state (tab, unit, per-view settings).

Reopening loads the recording again (checking its sha256), restores every form and reruns the recorded
stages on a worker (read from the disk cache when there), so each page shows its result again. The file
holds plain JSON only (parameters by :func:`core.config.to_dict`); files written before "cache" and "views"
existed open as before, and parameters a file has that this version has not are ignored
(:func:`core.config.from_dict`).

A project file comes from outside: :func:`read_project` checks it against the schema before anything runs
(size, nesting, finite 64-bit numbers, each section's types, every parameter within its declared bounds),
and nothing in it is executed. The cache folder it names is only read, and only entries signed with this
user's key are taken from it (:class:`core.cache.DiskCache`): another user's results are recomputed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core import __version__
from core.cli import printable
from core.config import from_dict, to_dict
from core.errors import ConfigError, RecordingError
from core.pipeline import STAGES, AnalysisConfig

SUFFIX = ".canns.json"
HEX_KEY = re.compile(r"[0-9a-f]{16,128}")


@dataclass
class Project:
    """What a project file holds. ``cache_folder``: where the stage results were cached ("" if unknown);
    ``cache_keys``: stage → key of its result there; ``views``: the Views page state (plain JSON)."""

    source: str
    sha256: str
    config: AnalysisConfig
    stages: list[str]
    cache_folder: str = ""
    cache_keys: dict[str, str] = field(default_factory=dict)
    views: dict[str, Any] = field(default_factory=dict)


def save_project(
    path: Path,
    source: str,
    sha256: str,
    config: AnalysisConfig,
    stages: list[str],
    *,
    cache_folder: str | os.PathLike | None = None,
    cache_keys: dict[str, str] | None = None,
    views: dict[str, Any] | None = None,
) -> Path:
    """Write the project file (JSON) and return its path."""
    data = {
        "format": "canns-gui project",
        "version": __version__,
        "input": {"path": source, "sha256": sha256},
        "parameters": to_dict(config),
        "stages_run": [s for s in STAGES if s in stages],
        "cache": {
            "folder": "" if cache_folder is None else str(cache_folder),
            "keys": {s: k for s, k in (cache_keys or {}).items() if s in STAGES},
        },
        "views": views or {},
    }
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def load_project(path: Path) -> tuple[str, str, AnalysisConfig, list[str]]:
    """(input path, its sha256, config, stages run) from a project file; RecordingError if unusable."""
    project = read_project(path)
    return project.source, project.sha256, project.config, project.stages


def read_project(path: Path) -> Project:
    """Everything in a project file, checked against the project schema before anything is used: the file is
    read only up to ``MAX_PROJECT_BYTES`` and ``MAX_DEPTH`` levels of nesting, every number in it must be
    finite and of 64 bits at most, each section must have its type (``input``: path and sha256 as text;
    ``parameters``: through :func:`core.config.from_dict`, so every declared bound holds before a cross-field
    rule runs; ``stages_run``: a list of names; ``cache``: folder as text and hex result keys; ``views``: the
    Views page state with its settings through their configs). Any problem is one RecordingError (the file
    and its layout) or ConfigError (a parameter) naming the file and the field. Missing "cache" and "views"
    sections (older files) read as empty; keys and stages this version does not know are ignored."""
    path = Path(path)
    name = printable(path.name)
    data = _load_json(path, name)
    _check_numbers(data, "", name)
    if not isinstance(data, dict) or data.get("format") != "canns-gui project":
        raise RecordingError(f"{name}: not a canns-gui project file")
    check = _Checker(name)
    source_info = check.table(data, "input")
    source = check.text(source_info, "input.path", path_like=True)
    sha256 = check.text(source_info, "input.sha256")
    if sha256 and not SHA256.fullmatch(sha256):
        raise check.refuse("input.sha256", "a sha256 digest (hex digits)", sha256)
    parameters = check.table(data, "parameters")
    try:
        config = from_dict(AnalysisConfig, parameters)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {_within('parameters', AnalysisConfig, str(exc))}") from None
    stages_run = check.items(data, "stages_run")
    for i, stage in enumerate(stages_run):
        if not isinstance(stage, str):
            raise check.refuse(f"stages_run[{i}]", "the name of a stage", stage)
    stages = [s for s in STAGES if s in stages_run]
    cache = check.table(data, "cache")
    folder = check.text(cache, "cache.folder", path_like=True)
    keys = {}
    for stage, key in check.table(cache, "cache.keys").items():
        if stage in STAGES:
            if not isinstance(key, str) or not HEX_KEY.fullmatch(key):
                raise check.refuse(f"cache.keys.{stage}", "a result key (16 to 128 hex digits)", key)
            keys[stage] = key
    views = check.views(check.table(data, "views"))
    return Project(source, sha256, config, stages, folder, keys, views)


MAX_PROJECT_BYTES = 4 * 1024**2  # a project file is a few kB; this much is refused unread
MAX_DEPTH = 32  # levels of nesting (the deepest a project writes is 5)
MAX_PATH_CHARS = 4096
MAX_VIEW_INT = 2**31 - 1  # the Views page's controls hold 32-bit integers
MAX_VIEW_FLOAT = 1e12  # and numbers no larger than this (s, cm, counts)
SHA256 = re.compile(r"[0-9a-fA-F]{1,128}")  # a sha256 is 64 hex digits
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _load_json(path: Path, name: str) -> Any:
    """The JSON in ``path``, read up to ``MAX_PROJECT_BYTES`` and parsed only when nested at most
    ``MAX_DEPTH`` deep; RecordingError otherwise."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_PROJECT_BYTES:
                raise RecordingError(
                    f"{name}: {size / 2**20:.1f} MiB is too large for a project file "
                    f"(at most {MAX_PROJECT_BYTES / 2**20:.0f} MiB); it is not one written by canns-gui"
                )
            raw = fh.read(MAX_PROJECT_BYTES + 1)
    except OSError as exc:
        raise RecordingError(
            f"{name}: cannot read the project file ({printable(exc.strerror or str(exc))})"
        ) from None
    if len(raw) > MAX_PROJECT_BYTES:
        raise RecordingError(
            f"{name}: too large for a project file (at most {MAX_PROJECT_BYTES / 2**20:.0f} MiB)"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{name}: not a project file (not UTF-8 text: byte {exc.start})") from None
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        raise RecordingError(
            f"{name}: nested {depth} levels deep, more than a project file may be ({MAX_DEPTH})"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{name}: not a readable project file ({printable(str(exc))[:200]})") from None
    except (ValueError, RecursionError):  # an integer of thousands of digits
        raise RecordingError(f"{name}: holds a number thousands of digits long; not a project file") from None


def _nesting(text: str) -> int:
    """How deep the brackets of JSON ``text`` nest (strings left out), counted without parsing it."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub('""', text)).encode()
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, dtype=np.uint8)
    return int(np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1)).max(initial=0))


def _check_numbers(value: Any, where: str, name: str) -> None:
    """RecordingError naming the first number that is not finite (NaN, Infinity, 1e999) or does not fit
    in 64 bits."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, f"{where}.{key}" if where else str(key), name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_numbers(item, f"{where}[{i}]", name)
    elif isinstance(value, float) and not math.isfinite(value):
        raise RecordingError(
            f"{name}: {printable(where)} is {value!r}, not a finite number (a project file holds finite "
            "numbers only)"
        )
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise RecordingError(
            f"{name}: {printable(where)} is {_shown(value)}, too large a number for a project file"
        )


def _within(section: str, cls: type, message: str) -> str:
    """A config's error ``message`` placed in its ``section`` of the file: ``parameters.preprocess.dt_s must
    …`` when it starts with one of ``cls``'s fields, ``parameters: …`` otherwise."""
    head = re.match(r"[A-Za-z_]\w*", message)
    names = {f.name for f in dataclasses.fields(cls)}
    return f"{section}.{message}" if head and head.group() in names else f"{section}: {message}"


def _shown(value: Any) -> str:
    text = (
        repr(value)
        if not isinstance(value, int) or abs(value) < 10**30
        else f"a {len(str(abs(value)))}-digit number"
    )
    return printable(text if len(text) <= 80 else text[:77] + "…")


class _Checker:
    """The type checks of one project file's sections, with messages naming the file and the field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def refuse(self, where: str, what: str, value: Any) -> RecordingError:
        return RecordingError(f"{self.name}: {printable(where)} must be {what}, got {_shown(value)}")

    def table(self, section: dict, where: str) -> dict:
        value = section.get(where.rpartition(".")[2], {})
        if not isinstance(value, dict):
            raise self.refuse(where, "a table ({…})", value)
        return value

    def items(self, section: dict, where: str) -> list:
        value = section.get(where.rpartition(".")[2], [])
        if not isinstance(value, list):
            raise self.refuse(where, "a list ([…])", value)
        return value

    def text(self, section: dict, where: str, path_like: bool = False) -> str:
        value = section.get(where.rpartition(".")[2], "")
        if not isinstance(value, str):
            raise self.refuse(where, "text", value)
        if path_like and ("\x00" in value or len(value) > MAX_PATH_CHARS):
            raise self.refuse(where, f"a file path (at most {MAX_PATH_CHARS} characters, no NUL)", value)
        return value

    def views(self, views: dict) -> dict:
        """The Views page state: tab, page and unit as text, the unit index, each view settings group through
        its config (groups this version has not are ignored), each tab's controls as plain values."""
        for key in ("tab", "page", "unit_id"):
            if key in views:
                self.text(views, f"views.{key}")
        index = views.get("unit_index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_VIEW_INT:
            raise self.refuse("views.unit_index", f"a whole number in [0, {MAX_VIEW_INT}]", index)
        settings = self.table(views, "views.settings")
        if settings:
            from core.views.registry import SETTINGS

            for group, values in settings.items():
                if group in SETTINGS:
                    if not isinstance(values, dict):
                        raise self.refuse(f"views.settings.{group}", "a table ({…})", values)
                    kind = SETTINGS[group].config_type
                    try:
                        from_dict(kind, values)
                    except ConfigError as exc:
                        where = _within(f"views.settings.{group}", kind, str(exc))
                        raise ConfigError(f"{self.name}: {where}") from None
        for tab, state in self.table(views, "views.tabs").items():
            if not isinstance(state, dict):
                raise self.refuse(f"views.tabs.{tab}", "a table ({…})", state)
            self._plain(state, f"views.tabs.{tab}")
        return views

    def _plain(self, value: Any, where: str) -> None:
        """Numbers a control can hold: whole numbers of 32 bits, others within ±``MAX_VIEW_FLOAT``."""
        if isinstance(value, dict):
            for key, item in value.items():
                self._plain(item, f"{where}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._plain(item, f"{where}[{i}]")
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            return
        elif isinstance(value, int) and abs(value) > MAX_VIEW_INT:
            raise self.refuse(where, f"a whole number in [-{MAX_VIEW_INT}, {MAX_VIEW_INT}]", value)
        elif isinstance(value, float) and abs(value) > MAX_VIEW_FLOAT:
            raise self.refuse(where, f"a number within ±{MAX_VIEW_FLOAT:g}", value)
