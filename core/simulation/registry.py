"""The models and task kinds offered by name, with what each can do.

``MODELS`` holds a :class:`ModelSpec` per model: its class (a :class:`~core.simulation.model.Model`) and
default config, the task kinds it runs, the manifold its activity lives on (ring, torus or sheet, which says
what ASA should find in its recording), the model analyses that apply to its runs, the units it records by
default, a title and a help line. ``TASKS`` holds a :class:`TaskKind` per task kind: its config class (a
:class:`~core.simulation.tasks.TaskConfig`), a title and a help line. The CLI (``canns-asa simulate``), the
Simulate page, :mod:`core.simulation.recording` and :mod:`core.simulation.analysis` read these capabilities,
never model names, so a new model (an RNN from Train, a BrainPy network from Build) takes part everywhere
once it is registered::

    MODELS.register(ModelSpec("my-ring", "My ring", "a ring of my own", MyRing, MyRingConfig(), ...))

Names are spelled as on the command line (``cann1d``, ``cann2d``, ``hd-ring``, ``grid-torus``); the old
spellings ``hd_ring`` and ``grid_torus`` (in recordings' provenance written before) are read as aliases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from core.errors import ConfigError
from core.simulation import tasks
from core.simulation.model import Model
from core.simulation.models_cann1d import CANN1D, CANN1DConfig
from core.simulation.models_cann2d import CANN2D, CANN2DConfig
from core.simulation.models_grid import GridConfig, GridNetwork
from core.simulation.models_hd import HDRing, HDRingConfig
from core.simulation.tasks import Task, TaskConfig

# what ASA should find in the recording of a network whose activity lives on each manifold
MANIFOLDS = {"ring": "ring", "torus": "torus", "sheet": "none"}
# the model analyses (core.simulation.analysis.analyse) a model can declare
ANALYSES = ("tracking", "path_integration", "tuning", "drift", "space_time")
COORDINATES = ("rad", "neurons")  # preferred positions: angles on a ring or torus, or sheet neurons


class Named(Protocol):
    name: str
    aliases: tuple[str, ...]


E = TypeVar("E", bound=Named)


class Registry(Generic[E]):
    """Entries by name, in the order registered; an entry's ``aliases`` (old spellings) find it too."""

    def __init__(self, what: str, check: Callable[[E], None] | None = None) -> None:
        self.what = what
        self._check = check
        self._entries: dict[str, E] = {}
        self._aliases: dict[str, str] = {}

    def register(self, entry: E, overwrite: bool = False) -> E:
        """Add ``entry`` (ConfigError when its name is taken, unless ``overwrite``); returns it."""
        taken = [n for n in (entry.name, *entry.aliases) if self._aliases.get(n, n) in self._entries]
        if taken and not overwrite:
            raise ConfigError(f"a {self.what} named {taken[0]!r} is already registered")
        if self._check is not None:
            self._check(entry)
        self._entries[entry.name] = entry
        self._aliases.update({alias: entry.name for alias in entry.aliases})
        return entry

    def unregister(self, name: str) -> E:
        """Remove the entry ``name`` (or an alias of it) and its aliases; returns it."""
        entry = self._entries.pop(self.canonical(name))
        self._aliases = {a: n for a, n in self._aliases.items() if n != entry.name}
        return entry

    def canonical(self, name: str) -> str:
        """The registered name of ``name`` (itself or the entry it is an old spelling of); ConfigError
        naming the choices otherwise."""
        name = self._aliases.get(name, name)
        if name not in self._entries:
            raise ConfigError(f"unknown {self.what} {name!r}; use one of {', '.join(self._entries)}")
        return name

    def __getitem__(self, name: str) -> E:
        return self._entries[self.canonical(name)]

    def get(self, name: str) -> E | None:
        return self._entries.get(self._aliases.get(name, name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._aliases.get(name, name) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def items(self) -> list[tuple[str, E]]:
        return list(self._entries.items())

    def values(self) -> list[E]:
        return list(self._entries.values())


# --------------------------------------------------------------------------- task kinds


@dataclass(frozen=True)
class TaskKind:
    """A task kind offered by name (its config class's ``kind``): the config class, a title, a help line,
    and whether the task moves through an arena (the live view draws the path so far)."""

    config: type[TaskConfig]
    title: str
    help: str
    arena: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.config.kind


def _check_task(entry: TaskKind) -> None:
    if not (isinstance(entry.config, type) and issubclass(entry.config, TaskConfig) and entry.config.kind):
        raise ConfigError(f"{entry.config!r} is not a TaskConfig subclass with a kind")


TASKS: Registry[TaskKind] = Registry("task", _check_task)
for _kind in (
    TaskKind(tasks.TrackingTask, "Tracking", "a stimulus moving through given positions at constant speed"),
    TaskKind(tasks.PopulationTask, "Population coding", "a static stimulus switched off; the bump persists"),
    TaskKind(tasks.TemplateTask, "Template matching", "a static stimulus in input noise; the bump cleans it"),
    TaskKind(tasks.ArenaWalkTask, "Arena walk", "a rat-like random walk in a square box", arena=True),
    TaskKind(tasks.HeadDirectionTask, "Head direction", "a head-direction walk, with an optional visual cue"),
    TaskKind(tasks.RotationTask, "Rotation", "turning at a constant angular velocity, no cue"),
    TaskKind(tasks.ExternalTask, "External trajectory", "a recorded trajectory from a file", arena=True),
):
    TASKS.register(_kind)


def task_config(kind: str, **values: Any) -> TaskConfig:
    """The config of task ``kind`` with ``values`` for those of its fields it has (others are left out, so
    common settings such as ``duration_s`` and ``seed`` can be given to any kind; None keeps the default)."""
    cls = TASKS[kind].config
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names and v is not None})


def build_task(config: TaskConfig, dims: int = 1, periodic: bool = True) -> Task:
    """The task of ``config`` (a registered kind's config) for a network with a ``dims``-D stimulus (1: ring,
    2: sheet), periodic or not."""
    entry = TASKS[config.kind]
    if not isinstance(config, entry.config):
        raise ConfigError(
            f"a {config.kind!r} task needs a {entry.config.__name__}, got {type(config).__name__}"
        )
    return config.build(dims, periodic)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelSpec:
    """A model offered by name and what it can do.

    model: its class (or any callable config → :class:`Model`); config: its default config (the config
    class is its type). tasks: the task kinds it runs (:data:`TASKS`; the first is its default).
    manifold: where its activity lives, "ring", "torus" or "sheet" (a config's own ``manifold``, e.g.
    CANN2D on a plane, overrides it); a ring takes a 1-D stimulus, the others 2-D. analyses: the
    :data:`ANALYSES` that apply to its runs. default_units: recorded units by default; default_duration_s:
    its default task's length. stimulus, stimulus_unit: what ``SimulationResult.stimulus`` holds, and in
    which unit ("rad" on the network's own coordinates, "cm" in the arena). coordinates: the unit of its
    neurons' preferred positions ("rad" or "neurons"). family: who offers it ("attractor": these models;
    later "rnn" from Train, "brainpy" from Build). aliases: older spellings of its name.
    """

    name: str
    title: str
    help: str
    model: Callable[[Any], Model]
    config: Any
    tasks: tuple[str, ...]
    manifold: str
    analyses: tuple[str, ...]
    default_units: int
    default_duration_s: float = 600.0
    stimulus: str = "stimulus"
    stimulus_unit: str = "rad"
    coordinates: str = "rad"
    family: str = "attractor"
    aliases: tuple[str, ...] = ()

    @property
    def config_class(self) -> type:
        return type(self.config)

    @property
    def stimulus_dims(self) -> int:
        """1 for a stimulus on a ring (an angle), 2 on a torus or sheet (a pair)."""
        return 1 if self.manifold == "ring" else 2

    def manifold_of(self, config: Any = None) -> str:
        """The manifold of a run with ``config`` (default: the spec's)."""
        return getattr(config if config is not None else self.config, "manifold", self.manifold)

    def periodic(self, config: Any = None) -> bool:
        """Whether positions wrap round (ring, torus) with ``config``."""
        return self.manifold_of(config) != "sheet"

    def expected_verdict(self, config: Any = None) -> str:
        """What ASA should find in a recording of this model: "ring", "torus" or "none"."""
        return MANIFOLDS[self.manifold_of(config)]

    def task_config(
        self, duration_s: float | None = None, seed: int = 0, kind: str | None = None
    ) -> TaskConfig:
        """The config of task ``kind`` (default: this model's default task) of ``duration_s`` (default: the
        spec's), seeded, full-strength stimulus, with positions of this model's stimulus (x:y on a sheet)."""
        kind = kind or self.tasks[0]
        duration_s = self.default_duration_s if duration_s is None else float(duration_s)
        sheet = TASKS[kind].config.sheet_defaults if self.stimulus_dims == 2 else {}
        return task_config(kind, **sheet, duration_s=duration_s, seed=seed)

    def make_task(self, task: TaskConfig | Task, config: Any = None) -> Task:
        """The task this model runs: a config built for its stimulus (ring or sheet, periodic unless the
        config's manifold is a sheet), or a built task adapted to it (a trajectory's head direction drives a
        ring)."""
        if isinstance(task, TaskConfig):
            if task.kind not in self.tasks:
                raise ConfigError(
                    f"{self.name} cannot run a {task.kind!r} task; use one of {', '.join(self.tasks)}"
                )
            task = build_task(task, dims=self.stimulus_dims, periodic=self.periodic(config))
        if self.stimulus_dims == 1 and task.dims != 1:
            task = tasks.on_ring(replace(task), self.name)
        return task

    def build(self, config: Any = None) -> Model:
        """The model with ``config`` (default: the spec's); ConfigError for a config of another model."""
        config = self.config if config is None else config
        if not isinstance(config, self.config_class):
            raise ConfigError(
                f"{self.name} needs a {self.config_class.__name__}, got {type(config).__name__}"
            )
        return self.model(config)


def _check_model(spec: ModelSpec) -> None:
    problems = [f"task kind {k!r} is not registered" for k in spec.tasks if k not in TASKS]
    problems += [f"unknown analysis {a!r}" for a in spec.analyses if a not in ANALYSES]
    if not spec.tasks:
        problems.append("it runs no task")
    if spec.manifold not in MANIFOLDS:
        problems.append(f"manifold {spec.manifold!r} is not one of {', '.join(MANIFOLDS)}")
    declared = getattr(spec.model, "name", spec.name)  # the name its results carry (SimulationResult.model)
    if declared != spec.name:
        problems.append(f"its model class is named {declared!r}")
    if spec.coordinates not in COORDINATES:
        problems.append(f"coordinates {spec.coordinates!r} are not one of {', '.join(COORDINATES)}")
    if problems:
        raise ConfigError(f"model {spec.name!r} cannot be registered: {'; '.join(problems)}")


MODELS: Registry[ModelSpec] = Registry("model", _check_model)
MODELS.register(
    ModelSpec(
        "cann1d",
        "Ring CANN",
        "ring CANN (512 neurons) tracking a head-direction walk",
        CANN1D,
        CANN1DConfig(),
        ("head_direction", "tracking", "population", "template", "external"),
        "ring",
        ("tracking", "tuning", "drift", "space_time"),
        20,
    )
)
# a bump of s.d. 1 rad (the default is 0.5) so that 100 of the 10,000 neurons cover the torus densely enough
# for the analysis to find it in 10 minutes (with 0.5 rad each unit fires 4 % of the time)
MODELS.register(
    ModelSpec(
        "cann2d",
        "2-D CANN",
        "torus CANN (100 × 100) tracking a random walk in a 150 cm box",
        CANN2D,
        CANN2DConfig(a_rad=1.0),
        ("arena_walk", "tracking", "population", "template", "external"),
        "torus",
        ("tracking", "tuning", "drift"),
        100,
    )
)
MODELS.register(
    ModelSpec(
        "hd-ring",
        "Head-direction ring",
        "head-direction ring integrating angular velocity",
        HDRing,
        HDRingConfig(),
        ("head_direction", "rotation", "external"),
        "ring",
        ("tracking", "path_integration", "tuning", "space_time"),
        20,
        stimulus="head direction",
        aliases=("hd_ring",),
    )
)
MODELS.register(
    ModelSpec(
        "grid-torus",
        "Grid-cell torus",
        "Burak–Fiete grid sheet (40 × 40) path-integrating a random walk",
        GridNetwork,
        GridConfig(),
        ("arena_walk", "external"),
        "torus",
        ("path_integration", "tuning"),
        100,
        stimulus="arena position",
        stimulus_unit="cm",
        coordinates="neurons",
        aliases=("grid_torus",),
    )
)


def model_spec(model: str) -> ModelSpec:
    """The :data:`MODELS` entry of ``model`` (an old spelling finds it too); ConfigError naming the choices
    otherwise."""
    return MODELS[model]
