"""Project files (``*.canns.json``): the input reference, every parameter and the stages that were run.

Reopening loads the recording again (checking its sha256), restores every form and reruns the recorded
stages on a worker, so each page shows its result again. The file holds plain JSON only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import ConfigError, RecordingError
from core.pipeline import STAGES, AnalysisConfig

SUFFIX = ".canns.json"


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config dataclass from ``asdict`` output; unknown keys are ignored."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        default = getattr(cls(), f.name)
        if is_dataclass(default):
            value = config_from_dict(type(default), value)
        elif isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def save_project(path: Path, source: str, sha256: str, config: AnalysisConfig, stages: list[str]) -> Path:
    """Write the project file (JSON) and return its path."""
    data = {
        "format": "canns-gui project",
        "version": __version__,
        "input": {"path": source, "sha256": sha256},
        "parameters": asdict(config),
        "stages_run": [s for s in STAGES if s in stages],
    }
    path = Path(path)
    path.write_text(json.dumps(data, indent=2))
    return path


def load_project(path: Path) -> tuple[str, str, AnalysisConfig, list[str]]:
    """(input path, its sha256, config, stages run) from a project file; RecordingError if unusable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{path.name}: not a readable project file ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != "canns-gui project":
        raise RecordingError(f"{path.name}: not a canns-gui project file")
    try:
        config = config_from_dict(AnalysisConfig, data.get("parameters", {}))
        config.preprocess.validate()
        config.point_cloud.validate()
        config.persistence.validate()
        config.significance.validate()
        config.decoding.validate()
    except (TypeError, ValueError, ConfigError) as exc:
        raise RecordingError(f"{path.name}: the parameters in this project are invalid ({exc})") from exc
    source = data.get("input", {}).get("path", "")
    stages = [s for s in data.get("stages_run", []) if s in STAGES]
    return source, data.get("input", {}).get("sha256", ""), config, stages
