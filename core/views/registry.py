"""The one list of views: what each needs, computes and writes. The CLI (``--views``), the report folder,
the GUI's tabs, their settings panel and "Export all" all iterate over :data:`VIEWS`.

A view is a :class:`ViewSpec`: a key, a title, what it needs (``needs``: names from :data:`NEEDS`; ``a|b``
for either), the view settings it reads (:data:`SETTINGS`), and three functions, given as callables or as
``"module:function"`` so that listing the views imports none of them:

- ``compute(context: ViewContext) -> result`` (a worker thread; progress and cancel through
  ``context.report``);
- ``export(result, sources: ViewSources, folder, record, **options) -> list[Path]`` (in the export process;
  ``options`` are a GUI tab's choices, e.g. the selected units; without them the report's defaults);
- ``metrics(result) -> dict`` (numbers for summary.json; optional).

``tab`` names the GUI tab class as ``"module:Class"`` (core never imports it). Adding a view is one core
file (compute, figure, export), one tab file and one :func:`register` call — see docs/architecture.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import AsaError, Cancelled, ConfigError
from core.progress import Reporter

# what a view may need, and how to say that the data lack it
NEEDS = {
    "persistence": "persistent homology: run TDA",
    "decoding": "decoded phases",
    "position": "position (x, y in cm)",
    "head_direction": "head direction",
}


def resolve(target: str | Callable) -> Any:
    """``"module:name"`` imported, or ``target`` itself."""
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Setting:
    """One group of view parameters: a config dataclass (``"module:Class"``) and its title in the GUI."""

    name: str
    config: str | type
    title: str

    @property
    def config_type(self) -> type:
        return resolve(self.config)


@dataclass(frozen=True)
class ViewSpec:
    key: str
    title: str
    compute: str | Callable
    export: str | Callable
    needs: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    metrics: str | Callable | None = None
    tab: str | type = ""
    weight: float = 1.0  # share of the compute time, for progress

    def missing(self, available: set[str]) -> list[str]:
        """The needs the data do not meet (each ``a|b`` met by either)."""
        return [need for need in self.needs if not set(need.split("|")) & available]


VIEWS: dict[str, ViewSpec] = {}
SETTINGS: dict[str, Setting] = {}


def register(spec: ViewSpec, *settings: Setting) -> ViewSpec:
    """Add a view (and the settings groups it brings); an existing key is replaced."""
    for setting in settings:
        SETTINGS[setting.name] = setting
    unknown = [s for s in spec.settings if s not in SETTINGS]
    bad_needs = [n for need in spec.needs for n in need.split("|") if n not in NEEDS]
    if unknown or bad_needs:
        raise ConfigError(f"view {spec.key!r}: unknown settings {unknown} or needs {bad_needs}")
    VIEWS[spec.key] = spec
    return spec


def unregister(key: str) -> None:
    """Remove a view and the settings only it used."""
    spec = VIEWS.pop(key, None)
    if spec is None:
        return
    used = {s for other in VIEWS.values() for s in other.settings}
    for name in spec.settings:
        if name not in used:
            SETTINGS.pop(name, None)


class ViewSettings:
    """The parameters of every registered settings group (defaults unless given), e.g.
    ``ViewSettings(cohomap=CohoMapConfig(bin_size_cm=5))``; read as ``settings["cohomap"]`` or
    ``settings.cohomap``. Equal when every group is equal."""

    def __init__(self, **groups: Any) -> None:
        unknown = [name for name in groups if name not in SETTINGS]
        if unknown:
            raise ConfigError(f"unknown view settings {unknown}; known: {', '.join(SETTINGS)}")
        self._groups = {name: groups.get(name) or s.config_type() for name, s in SETTINGS.items()}

    def __getitem__(self, name: str) -> Any:
        return self._groups[name]

    def __getattr__(self, name: str) -> Any:
        groups = self.__dict__.get("_groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(name)

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self._groups.items())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ViewSettings) and self._groups == other._groups

    def __hash__(self) -> int:
        return hash(tuple(self._groups.items()))

    def __repr__(self) -> str:
        return f"ViewSettings({', '.join(f'{k}={v!r}' for k, v in self._groups.items())})"

    def to_dict(self) -> dict[str, dict]:
        """{group: {field: value}} (JSON-safe; provenance and project files)."""
        from core.export import json_safe

        return {name: json_safe(config) for name, config in self._groups.items()}


@dataclass(frozen=True)
class ViewSources:
    """What the views are computed from (plain data, safe to send to a worker or the export process).
    ``decoding_missing``: why there are no decoded phases, in words, when ``decoding`` is None."""

    rate_matrix: Any
    decoding: Any = None
    persistence: Any = None
    significance: Any = None
    decoding_missing: str = "there was nothing to decode"

    def available(self) -> set[str]:
        rm = self.rate_matrix
        out = set()
        if self.persistence is not None:
            out.add("persistence")
        if self.decoding is not None:
            out.add("decoding")
        if rm is not None and rm.x is not None and rm.y is not None:
            out.add("position")
        if rm is not None and rm.hd is not None:
            out.add("head_direction")
        return out

    def reason(self, spec: ViewSpec, missing: list[str]) -> str:
        """Why ``spec`` cannot be shown, in plain words."""
        need = missing[0]
        if need == "decoding":
            return f"{spec.title} needs decoded phases, and {self.decoding_missing}."
        if need == "persistence":
            return f"{spec.title} needs {NEEDS['persistence']}."
        words = " or ".join(NEEDS[n] for n in need.split("|"))
        lack = "neither" if "|" in need else "none"
        return f"{spec.title} needs {words}, and this recording has {lack}."


class _ReadsSources:
    """``rate_matrix`` and ``decoding`` of ``self.sources``."""

    sources: ViewSources

    @property
    def rate_matrix(self):
        return self.sources.rate_matrix

    @property
    def decoding(self):
        return self.sources.decoding


@dataclass(frozen=True)
class ViewContext(_ReadsSources):
    """What a view's ``compute`` gets: the sources, the settings, the views computed before it (in
    registration order) and a reporter (progress, cancel)."""

    sources: ViewSources
    settings: ViewSettings
    views: dict[str, Any]
    report: Reporter


@dataclass
class ViewData(_ReadsSources):
    """Every view's result (``views[key]``) or the reason it is missing (``reasons[key]``)."""

    sources: ViewSources
    settings: ViewSettings
    views: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def unit_ids(self) -> list:
        rm = self.sources.rate_matrix
        return list(rm.unit_ids) if rm is not None else []


def view_names(text: str) -> list[str] | None:
    """The views named in ``text`` (None for 'all'); ConfigError for a name that is no view. Cheap: check it
    before the analysis runs."""
    if text.strip() in ("", "all"):
        return None
    asked = [v.strip().lower() for v in text.split(",") if v.strip()]
    unknown = [v for v in asked if v not in VIEWS]
    if unknown:
        raise ConfigError(f"unknown view(s) {', '.join(unknown)}; choose from all, {', '.join(VIEWS)}")
    return asked


def compute_views(
    sources: ViewSources,
    settings: ViewSettings | None = None,
    report: Reporter | None = None,
    only: list[str] | None = None,
) -> ViewData:
    """Every registered view the data support (or those in ``only``), in registration order; a view that
    cannot be computed gets a reason in plain words instead."""
    settings = settings or ViewSettings()
    report = report or Reporter()
    data = ViewData(sources, settings)
    available = sources.available()
    specs = [s for s in VIEWS.values() if only is None or s.key in only]
    total = sum(s.weight for s in specs) or 1.0
    done = 0.0
    for spec in specs:
        sub = report.sub(done / total, (done + spec.weight) / total)
        done += spec.weight
        missing = spec.missing(available)
        if missing:
            data.reasons[spec.key] = sources.reason(spec, missing)
            continue
        sub(0.0, spec.title)
        try:
            data.views[spec.key] = resolve(spec.compute)(ViewContext(sources, settings, data.views, sub))
        except Cancelled:
            raise
        except AsaError as exc:
            data.reasons[spec.key] = f"{spec.title} could not be computed: {exc}"
    report(1.0, "views ready")
    return data


def export_one(
    view: ViewSpec | str, result: Any, sources: ViewSources, folder: Path, record: dict, **options
) -> list[Path]:
    """A view's files in ``folder`` (figure, data, provenance). Given the spec itself (not its key), it runs
    in a process that never saw the view registered (the GUI's export process)."""
    spec = VIEWS[view] if isinstance(view, str) else view
    return resolve(spec.export)(result, sources, Path(folder), dict(record, view=spec.key), **options)


def metrics_of(key: str, result: Any) -> dict:
    """View ``key``'s numbers for summary.json ({} when it declares none)."""
    spec = VIEWS[key]
    return resolve(spec.metrics)(result) if spec.metrics is not None else {}


def _builtin(key: str, title: str, module: str, tab: str, metrics: bool = True, **options) -> ViewSpec:
    """A shipped view: ``core.views.<module>`` holds ``compute_view``, ``export_view_files`` (and
    ``view_metrics``); ``canns_gui.views.<tab>`` its tab."""
    where = f"core.views.{module}"
    return ViewSpec(
        key, title, f"{where}:compute_view", f"{where}:export_view_files",
        metrics=f"{where}:view_metrics" if metrics else None, tab=f"canns_gui.views.{tab}", **options,
    )  # fmt: skip


# the views the product ships with, in the order of the GUI's tabs
register(
    _builtin(
        "barcode", "Barcode", "barcode", "barcode_tab:BarcodeTab", False, needs=("persistence",), weight=0.2
    )
)
register(
    _builtin("cohomap", "CohoMap", "cohomap", "cohomap_tab:CohoMapTab", needs=("decoding", "position"),
             settings=("cohomap",)),
    Setting("cohomap", "core.views.cohomap:CohoMapConfig", "CohoMap"),
)  # fmt: skip
register(
    _builtin("cohospace", "CohoSpace", "cohospace", "cohospace_tab:CohoSpaceTab", needs=("decoding",),
             settings=("cohospace",)),
    Setting("cohospace", "core.views.cohospace:CohoSpaceConfig", "CohoSpace"),
)  # fmt: skip
register(
    _builtin("pathcompare", "PathCompare", "pathcompare", "pathcompare_tab:PathCompareTab", False,
             needs=("decoding", "position|head_direction"))
)  # fmt: skip
register(_builtin("fr", "FR", "firing", "firing_tab:FiringTab", False))
register(
    _builtin("frm", "FRM", "frm", "ratemaps_tab:RateMapsTab", needs=("position|head_direction",),
             settings=("rate_maps", "tuning"), weight=2.0),
    Setting("rate_maps", "core.views.ratemaps:RateMapConfig", "Rate maps (FRM, GridScore)"),
    Setting("tuning", "core.views.tuning:TuningConfig", "Head-direction tuning (FRM)"),
)  # fmt: skip
register(
    _builtin("gridscore", "GridScore", "gridscore", "gridscore_tab:GridScoreTab", needs=("position",),
             settings=("grid_scores", "rate_maps"), weight=30.0),
    Setting("grid_scores", "core.views.gridscore:GridScoreConfig", "Grid scores"),
)  # fmt: skip
