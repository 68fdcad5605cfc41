"""Project files (``*.canns.json``): the input reference, every parameter, the stages that were run, where
their results are cached (folder and keys) and the Views page's state (tab, unit, per-view settings).

Reopening loads the recording again (checking its sha256), restores every form and reruns the recorded
stages on a worker (read from the disk cache when there), so each page shows its result again. The file
holds plain JSON only (parameters by :func:`core.config.to_dict`); files written before "cache" and "views"
existed open as before, and parameters a file has that this version has not are ignored
(:func:`core.config.from_dict`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import __version__
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
    """Everything in a project file; RecordingError if unusable. Missing or malformed "cache" and "views"
    sections (older files) read as empty."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{path.name}: not a readable project file ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != "canns-gui project":
        raise RecordingError(f"{path.name}: not a canns-gui project file")
    try:
        config = from_dict(AnalysisConfig, data.get("parameters", {}))
    except ConfigError as exc:
        raise RecordingError(f"{path.name}: the parameters in this project are invalid ({exc})") from exc
    source = data.get("input", {}).get("path", "")
    stages = [s for s in data.get("stages_run", []) if s in STAGES]
    cache = data.get("cache") if isinstance(data.get("cache"), dict) else {}
    folder = cache.get("folder") if isinstance(cache.get("folder"), str) else ""
    keys = cache.get("keys") if isinstance(cache.get("keys"), dict) else {}
    keys = {s: k for s, k in keys.items() if s in STAGES and isinstance(k, str) and HEX_KEY.fullmatch(k)}
    views = data.get("views") if isinstance(data.get("views"), dict) else {}
    return Project(source, data.get("input", {}).get("sha256", ""), config, stages, folder, keys, views)
