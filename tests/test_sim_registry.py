"""The model and task registry: every model through the one Model interface, capabilities instead of model
names (a throwaway model registered here takes part everywhere), one config per task kind, old names."""

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pytest

from core.errors import ConfigError
from core.simulation import analysis
from core.simulation.base import SimulationResult, meta, ring_positions
from core.simulation.model import Model, RunOptions
from core.simulation.recording import run_model
from core.simulation.registry import MODELS, TASKS, ModelSpec, TaskKind, build_task, model_spec, task_config
from core.simulation.tasks import TaskConfig, TrackingTask

# small networks so that every model runs in well under a second (after compiling)
SMALL = {"cann1d": {"n": 32}, "cann2d": {"n": 16}, "hd-ring": {"n": 32}, "grid-torus": {"settle_ms": 500.0}}


def small_config(spec: ModelSpec):
    return dataclasses.replace(spec.config, **SMALL.get(spec.name, {}))


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    path = tmp_path_factory.mktemp("traj") / "walk.npz"
    t = np.arange(0, 2, 0.01)
    np.savez(path, t=t, x=50 + 10 * t, y=40 + 5 * t, hd=np.mod(t, 2 * np.pi))
    return str(path)


# --------------------------------------------------------------------------- (a) one interface


@pytest.mark.parametrize("name", ["cann1d", "cann2d", "hd-ring", "grid-torus"])
def test_every_builtin_model_runs_through_the_one_interface(name):
    spec = MODELS[name]
    config = small_config(spec)
    net = spec.build(config)
    assert isinstance(net, Model) and net.name == spec.name and isinstance(config, spec.config_class)
    task = spec.make_task(spec.task_config(0.5, seed=1), config)
    result = net.simulate(task, RunOptions(record_units=4, seed=1))
    assert result.model == spec.name and result.config is config
    assert result.t_s.size == 50 and result.rates.shape == (50, 4)
    assert np.all(result.unit_index < net.n_neurons) and np.isfinite(result.rates).all()
    assert set(analysis.analyse(result)) <= set(spec.analyses)


def test_the_options_may_be_given_as_keywords():
    net = MODELS["cann1d"].build(small_config(MODELS["cann1d"]))
    task = TrackingTask(positions="0, 1", segment_s=0.3).build()
    by_options = net.simulate(task, RunOptions(record_units=3, seed=2, record_state=True))
    by_keywords = net.simulate(task, record_units=3, seed=2, record_state=True)
    np.testing.assert_array_equal(by_options.rates, by_keywords.rates)
    assert by_keywords.state_trace.shape == (30, 32)
    with pytest.raises(TypeError, match="record_units"):  # a wrong keyword names the options
        net.simulate(task, units=3)


def test_capabilities_say_what_asa_should_find():
    verdicts = {name: spec.expected_verdict() for name, spec in MODELS.items()}
    assert verdicts == {"cann1d": "ring", "cann2d": "torus", "hd-ring": "ring", "grid-torus": "torus"}
    plane = dataclasses.replace(MODELS["cann2d"].config, boundary="plane")
    assert (
        MODELS["cann2d"].manifold_of(plane) == "sheet" and MODELS["cann2d"].expected_verdict(plane) == "none"
    )
    assert not MODELS["cann2d"].periodic(plane)
    integrators = [s.name for s in MODELS.values() if "path_integration" in s.analyses]
    assert integrators == ["hd-ring", "grid-torus"]


# --------------------------------------------------------------------------- (b) a throwaway model


@dataclass(frozen=True)
class ToyConfig:
    n: int = field(default=16, metadata=meta(None, 4, 1024, "units on the ring"))
    kappa: float = field(default=2.0, metadata=meta(None, 0.1, 20.0, "tuning concentration"))
    dt_ms: float = field(default=10.0, metadata=meta("ms", 1.0, 100.0, "step"))


class ToyRing(Model):
    """A ring of von Mises tuned units that follow the stimulus at once (no dynamics)."""

    name = "toy-ring"

    def __init__(self, config: ToyConfig) -> None:
        self.config = config

    @property
    def n_neurons(self) -> int:
        return self.config.n

    def run(self, task, options):
        t, _, t_rec = options.schedule(task, self.config.dt_ms)
        idx = options.units(self.n_neurons)
        x = ring_positions(self.config.n)[idx]
        stim = task.at("stim_pos", t_rec)
        rates = np.exp(self.config.kappa * (np.cos(stim[:, None] - x[None, :]) - 1))
        return SimulationResult(
            model=self.name,
            config=self.config,
            task=task,
            t_s=t_rec,
            rates=rates,
            unit_index=idx,
            unit_position=x,
            bump_position=stim,
            bump_width=np.full(t_rec.size, 0.5),
            bump_amplitude=np.ones(t_rec.size),
            final_state={},
            device="cpu:0",
            wall_s=0.0,
            n_steps=t.size,
            stimulus=stim,
        )


TOY = ModelSpec(
    "toy-ring",
    "Toy ring",
    "tuned units following the stimulus",
    ToyRing,
    ToyConfig(),
    ("tracking", "population"),
    "ring",
    ("tracking", "tuning"),
    default_units=6,
    default_duration_s=2.0,
)


@pytest.fixture
def toy():
    MODELS.register(TOY)
    try:
        yield TOY
    finally:
        MODELS.unregister(TOY.name)


def test_a_registered_model_is_offered_by_the_cli_and_the_registry(toy):
    from core.cli import build_parser

    assert build_parser().parse_args(["simulate", "toy-ring", "--out", "x.npz"]).model == "toy-ring"
    assert "toy-ring" in MODELS.names() and MODELS["toy-ring"] is toy
    assert "toy-ring" in [s.name for s in MODELS.values() if "tracking" in s.tasks]
    assert "toy-ring" in [s.name for s in MODELS.values() if s.expected_verdict() == "ring"]
    with pytest.raises(ConfigError, match="already registered"):
        MODELS.register(toy)


def test_a_registered_model_runs_and_is_analysed_by_its_capabilities(toy):
    run = run_model("toy-ring", task=TrackingTask(positions="0, 2", segment_s=1.0), seed=3)
    assert run.model == "toy-ring" and run.recording.n_units == 6
    assert run.recording.hd is not None  # the angle a ring tracks is the head direction
    analyses = analysis.analyse(run.result)
    assert set(analyses) == {"tracking", "tuning"}
    assert analyses["tracking"].max_distance < 1e-9
    assert analyses["tuning"].variable == "stimulus (rad)"
    with pytest.raises(ConfigError, match="path integration applies to hd-ring, grid-torus, not toy-ring"):
        analysis.path_integration_error(run.result)
    with pytest.raises(ConfigError, match="toy-ring cannot run a 'rotation' task"):
        toy.make_task(task_config("rotation"))


def test_an_unregistered_model_is_gone_everywhere():
    from core.cli import build_parser

    MODELS.register(TOY)
    MODELS.unregister("toy-ring")
    assert "toy-ring" not in MODELS
    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "toy-ring", "--out", "x.npz"])
    with pytest.raises(ConfigError, match="unknown model 'toy-ring'; use one of cann1d, cann2d"):
        model_spec("toy-ring")


def test_a_model_must_declare_known_capabilities():
    with pytest.raises(ConfigError, match="task kind 'juggling' is not registered"):
        MODELS.register(dataclasses.replace(TOY, tasks=("juggling",)))
    with pytest.raises(ConfigError, match="manifold 'sphere'"):
        MODELS.register(dataclasses.replace(TOY, manifold="sphere"))
    with pytest.raises(ConfigError, match="unknown analysis 'telepathy'"):
        MODELS.register(dataclasses.replace(TOY, analyses=("telepathy",)))
    with pytest.raises(ConfigError, match="its model class is named 'toy-ring'"):
        MODELS.register(dataclasses.replace(TOY, name="toy"))
    assert "toy-ring" not in MODELS and "toy" not in MODELS
    with pytest.raises(ConfigError, match="needs a ToyConfig, got CANN1DConfig"):
        TOY.build(MODELS["cann1d"].config)


def test_a_registered_task_kind_is_offered(toy):
    @dataclass(frozen=True)
    class StillTask(TaskConfig):
        kind = "still"
        duration_s: float = field(default=1.0, metadata=meta("s", 0.01, 100.0, "length"))

        def build(self, dims=1, periodic=True):
            return TrackingTask(positions="1, 1", segment_s=self.duration_s).build(dims, periodic)

    TASKS.register(TaskKind(StillTask, "Still", "a stimulus that does not move"))
    try:
        assert "still" in TASKS.names()
        assert isinstance(task_config("still", duration_s=0.5, seed=4), StillTask)  # seed: not its field
        spec = dataclasses.replace(toy, tasks=("still",))
        task = spec.make_task(task_config("still"))
        assert task.duration_s == pytest.approx(1.0) and np.all(task.stim_pos == 1.0)
    finally:
        TASKS.unregister("still")
    with pytest.raises(ConfigError, match="unknown task 'still'"):
        task_config("still")


# --------------------------------------------------------------------------- (c) task configs, old names


def test_each_model_builds_each_of_its_tasks_from_its_config(trajectory):
    for spec in MODELS.values():
        for kind in spec.tasks:
            config = spec.task_config(1.0, seed=2, kind=kind)
            if kind == "external":
                config = dataclasses.replace(config, trajectory=trajectory)
            assert type(config) is TASKS[kind].config and config.kind == kind
            task = spec.make_task(config, spec.config)
            assert task.t_s.size > 1 and task.dims == spec.stimulus_dims, (spec.name, kind)
        assert spec.task_config().kind == spec.tasks[0]


def test_every_task_config_field_has_form_metadata():
    for entry in TASKS.values():
        assert entry.title and entry.help
        for f in dataclasses.fields(entry.config):
            assert f.metadata.get("help"), f"{entry.config.__name__}.{f.name} has no help"
            if f.type in ("float", "int"):
                assert "min" in f.metadata and "max" in f.metadata, f.name


def test_build_task_refuses_a_config_of_another_kind():
    @dataclass(frozen=True)
    class Impostor(TaskConfig):
        kind = "tracking"

    with pytest.raises(ConfigError, match="needs a TrackingTask, got Impostor"):
        build_task(Impostor())


def test_old_model_names_still_load():
    assert model_spec("hd_ring") is MODELS["hd-ring"] and model_spec("grid_torus") is MODELS["grid-torus"]
    assert "hd_ring" in MODELS and MODELS.canonical("grid_torus") == "grid-torus"
    old_provenance = {"generator": "core.simulation.hd_ring", "model": "hd_ring", "config": {"n": 100}}
    assert model_spec(old_provenance["model"]).title == "Head-direction ring"
    run = run_model(
        "hd_ring", config=small_config(MODELS["hd-ring"]), task=task_config("rotation", duration_s=0.3)
    )
    assert run.model == "hd-ring" and run.recording.metadata["model"] == "hd-ring"
    old = dataclasses.replace(run.result, model="hd_ring")  # a result that still says the old name
    assert analysis.path_integration_error(old).unit == "rad"
    assert "path_integration" in analysis.analyse(old)
