"""The one config layer (core.config): every declared bound of every config is enforced alike from Python
(the constructor), the command line (``--set``) and the GUI (``ConfigForm``), at the bound, just inside and
just outside; the one serialiser round-trips; errors name the dotted path, the range with its unit and the
value."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import pkgutil

import pytest

import core
from core import config as config_layer
from core.cli import build_parser, config_from_args, main
from core.errors import ConfigError
from core.pipeline import AnalysisConfig, resolve_preset
from core.pointcloud import PointCloudConfig
from core.preprocess import PreprocessConfig
from core.significance import SignificanceConfig
from core.views.gridscore import GridScoreConfig


def discover_configs() -> list[type]:
    """Every dataclass defined in a ``core`` module with at least one declared bound (min, max, choices)."""
    found = []
    for info in pkgutil.walk_packages(core.__path__, "core."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                config_layer.is_config_class(obj)
                and obj.__module__ == module.__name__
                and any(b.owner is obj for b in config_layer.bounds(obj))
            ):
                found.append(obj)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


CONFIGS = discover_configs()
# leaf bounds, each once, at the class that declares it (AnalysisConfig's are its stages')
BOUNDS = [b for cls in CONFIGS for b in config_layer.bounds(cls) if b.owner is cls]
# the dotted --set path of each stage config's fields
CLI_PREFIX = {b.owner: b.path[: -len(b.field) - 1] for b in config_layer.bounds(AnalysisConfig)}


def test_every_config_kind_is_discovered():
    names = {c.__name__ for c in CONFIGS}
    stages = {
        "PreprocessConfig",
        "PointCloudConfig",
        "PersistenceConfig",
        "SignificanceConfig",
        "DecodeConfig",
    }
    views = {"CohoMapConfig", "CohoSpaceConfig", "FiringConfig", "PathCompareConfig", "RateMapConfig"}
    views |= {"GridScoreConfig", "TuningConfig"}
    models = {"CANN1DConfig", "CANN2DConfig", "HDRingConfig", "GridConfig"}
    assert stages | views | models <= names
    assert set(CLI_PREFIX) == {c for c in CONFIGS if c.__name__ in stages}
    assert len(BOUNDS) >= 150


def test_every_config_is_validated_when_constructed():
    """Python users get the error at once: every config (analysis, views, models, tasks, recording options)
    derives from core.config.Config."""
    for cls in CONFIGS:
        assert issubclass(cls, config_layer.Config), cls


# --------------------------------------------------------------------------- the probes


def nice(x: float) -> float:
    return float(f"{x:.12g}")


def step(b: config_layer.Bound, spec: config_layer.FieldSpec) -> float:
    """1 for ints; for floats a power of ten 1000 times smaller than the bound (or the range)."""
    kind = spec.items[0] if spec.kind is tuple else spec.kind
    if kind is int:
        return 1
    lo, hi = spec.meta.get("min"), spec.meta.get("max")
    span = (hi - lo) if lo is not None and hi is not None else max(abs(b.value), 1.0)
    scale = min(span, abs(b.value)) if b.value else span
    return 10.0 ** (math.floor(math.log10(scale)) - 3)


def field_spec(cls: type, name: str) -> config_layer.FieldSpec:
    return next(s for s in config_layer.field_specs(cls) if s.name == name)


def python_accepts(cls: type, name: str, value) -> bool:
    """The constructor."""
    try:
        cls(**{name: value})
    except ConfigError:
        return False
    return True


def refused_by_a_cross_field_rule(cls: type, name: str, value) -> bool:
    """True when ``value`` passes its field's declared bounds but the class's cross-field rules refuse it
    with the other fields at their defaults (e.g. a model's tau_ms at its minimum with the default dt_ms,
    which breaks dt ≤ τ/5): then every interface must refuse it alike."""
    raw = object.__new__(cls)
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        object.__setattr__(raw, f.name, value if f.name == name else default)
    try:
        config_layer.validate_fields(raw)
    except ConfigError:
        return False
    try:
        raw.check()
    except ConfigError:
        return True
    return False


def probes(b: config_layer.Bound) -> list[tuple[str, object, bool]]:
    """(what, value, accepted?) at the bound, just inside and just outside."""
    spec = field_spec(b.owner, b.field)
    wrap = (lambda v: (v,)) if b.elementwise else (lambda v: v)
    if b.kind == "choices":
        out = [(f"choice {c!r}", wrap(c), True) for c in b.value]
        numeric = all(isinstance(c, int) for c in b.value)
        bad = [min(b.value) - 1, max(b.value) + 1] if numeric else ["not-a-choice", str(b.value[0]).upper()]
        return out + [(f"unknown {v!r}", wrap(v), False) for v in bad]
    d = step(b, spec)
    inward = 1 if b.kind == "min" else -1
    # just inside: the nearest value inside that the config's cross-field rules also accept (coeff: a prime)
    candidates = [
        wrap(nice(b.value + inward * k * d) if d < 1 else b.value + inward * k) for k in range(1, 20)
    ]
    inside = next((v for v in candidates if python_accepts(b.owner, b.field, v)), candidates[0])
    outside = nice(b.value - inward * d) if d < 1 else b.value - inward
    return [("at", wrap(b.value), True), ("inside", inside, True), ("outside", wrap(outside), False)]


def cli_text(value) -> str:
    if isinstance(value, tuple):
        return ",".join(cli_text(v) for v in value)
    return "none" if value is None else repr(value) if isinstance(value, float) else str(value)


PARSER = build_parser()


def cli_accepts(path: str, value) -> bool:
    args = PARSER.parse_args(["demo", "--set", f"{path}={cli_text(value)}"])
    try:
        config = config_from_args(args)
    except ConfigError:
        return False
    got = config
    for part in path.split("."):
        got = getattr(got, part)
    assert got == value, f"--set {path} read {got!r}"
    return True


@pytest.fixture(scope="module")
def forms(qapp):
    from canns_gui.forms import ConfigForm

    made = {}

    def form(cls):
        if cls not in made:
            made[cls] = ConfigForm(cls())
        made[cls].set_config(cls(), respect_user=False)
        return made[cls]

    yield form
    for f in made.values():
        f.deleteLater()


def gui_accepts(form, name: str, value) -> bool:
    """Put ``value`` in the editor and read the form back: a spin box clamps (a value out of range reads back
    different), a combo box has no entry for an unknown choice, a line edit's config() is refused."""
    form.fields[name].set_value(value)
    try:
        config = form.config()
    except ValueError:
        return False
    return getattr(config, name) == value


@pytest.mark.parametrize("bound", BOUNDS, ids=[f"{b.owner.__name__}.{b.field}-{b.kind}" for b in BOUNDS])
def test_python_cli_and_gui_accept_and_refuse_the_same_values(bound, forms):
    form = forms(bound.owner)
    for what, value, expected in probes(bound):
        expected = expected and not refused_by_a_cross_field_rule(bound.owner, bound.field, value)
        where = f"{bound.owner.__name__}.{bound.field}={value!r} ({what} {bound.kind} {bound.value!r})"
        assert python_accepts(bound.owner, bound.field, value) is expected, f"Python: {where}"
        assert gui_accepts(form, bound.field, value) is expected, f"GUI: {where}"
        if bound.owner in CLI_PREFIX:
            assert cli_accepts(f"{CLI_PREFIX[bound.owner]}.{bound.field}", value) is expected, f"CLI: {where}"


# --------------------------------------------------------------------------- the checks in detail


def message(fn) -> str:
    with pytest.raises(ConfigError) as info:
        fn()
    return str(info.value)


def test_errors_name_the_path_the_range_with_its_unit_and_the_value():
    assert message(lambda: PreprocessConfig(dt_s=10)) == "dt_s must be in [0.0001, 1] s, got 10"
    assert message(lambda: PointCloudConfig(omega=-1)) == "omega must be in [0, 10], got -1"
    assert message(lambda: GridScoreConfig(percentile=5)) == "percentile must be in [50, 100] %, got 5"
    assert message(lambda: SignificanceConfig(alpha=0.9)) == "alpha must be in [1e-06, 0.5], got 0.9"
    nested = "preprocess.dt_s must be in [0.0001, 1] s, got 10"
    assert message(lambda: config_layer.parse_value(AnalysisConfig, "preprocess.dt_s", "10")) == nested
    assert message(lambda: config_layer.with_values(AnalysisConfig(), {"preprocess.dt_s": 10})) == nested
    assert message(lambda: config_layer.from_dict(AnalysisConfig, {"preprocess": {"dt_s": 10}})) == nested
    assert "must be one of cosine, euclidean, got 'manhattan'" in message(
        lambda: PointCloudConfig(metric="manhattan")
    )
    assert "threshold_quantiles[1] must be in [0.01, 1]" in message(
        lambda: config_layer.with_values(AnalysisConfig(), {"persistence.threshold_quantiles": (0.5, 0.0)})
    )
    assert (
        message(lambda: config_layer.from_dict(AnalysisConfig, {"persistence": {"coeff": 4}}))
        == "persistence: coeff must be a prime number, got 4"
    )


def test_types_none_and_finiteness_are_checked():
    assert "must be a whole number" in message(lambda: PointCloudConfig(n_points=600.0))
    assert "must be a whole number" in message(lambda: PointCloudConfig(n_points=True))
    assert "must be a number" in message(lambda: PreprocessConfig(sigma_s=True))
    assert "finite" in message(lambda: PreprocessConfig(sigma_s=float("nan")))
    assert "must be set" in message(lambda: PreprocessConfig(dt_s=None))
    assert "true or false" in message(lambda: PreprocessConfig(zscore=1))
    assert PreprocessConfig(speed_min_cm_s=None).speed_min_cm_s is None  # float | None
    assert PointCloudConfig(omega=2).omega == 2  # an int is a number


def test_the_cli_refuses_a_bad_set_with_exit_code_2_and_one_line_before_any_analysis(tmp_path, capsys):
    out = tmp_path / "out"
    for item, expected in (
        ("preprocess.dt_s=10", "error: preprocess.dt_s must be in [0.0001, 1] s, got 10"),
        ("preprocess.dtt=1", "error: unknown parameter 'preprocess.dtt'; preprocess has dt_s, sigma_s"),
        ("significance.alpha=lots", "error: significance.alpha must be a number in [1e-06, 0.5], got 'lots'"),
        ("preset=hd", "error: preset cannot be pinned"),
    ):
        code = main(["demo", "--minutes", "0.05", "--quiet", "--out", str(out), "--set", item])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(expected) and err.count("\n") == 1, err
        assert not out.exists()


def test_cli_set_values_apply_on_top_of_the_preset_and_options():
    args = PARSER.parse_args(
        ["demo", "--preset", "hd", "--shuffles", "10", "--set", "significance.alpha=0.01"]
        + ["--set", "preprocess.max_gap_s=2", "--set", "persistence.threshold_quantiles=0.5, 1"]
        + ["--set", "preprocess.speed_min_cm_s=none", "--set", "point_cloud.zscore=false"]
    )
    config = config_from_args(args)
    assert config.significance.alpha == 0.01 and config.significance.n_shuffles == 10
    assert config.preprocess.max_gap_s == 2.0 and config.preprocess.sigma_s == 0.1  # the hd preset's
    assert config.persistence.threshold_quantiles == (0.5, 1.0)
    assert config.preprocess.speed_min_cm_s is None and config.point_cloud.zscore is False
    assert message(lambda: config_from_args(PARSER.parse_args(["demo", "--shuffles", "5000"]))) == (
        "significance.n_shuffles must be in [0, 1000], got 5000"
    )


def test_values_set_by_hand_survive_the_auto_preset():
    from core.synthetic import grid_module

    recording = grid_module(n_units=30, duration_s=60.0)
    plain = resolve_preset(config_from_args(PARSER.parse_args(["demo"])), recording)
    args = PARSER.parse_args(
        ["demo", "--set", "preprocess.sigma_s=0.123", "--set", "point_cloud.n_points=700"]
    )
    resolved = resolve_preset(config_from_args(args), recording)
    assert resolved.preset.startswith("auto (")  # resolved ...
    assert resolved.preprocess.sigma_s == 0.123 and resolved.point_cloud.n_points == 700  # ... keeping these
    assert resolved.point_cloud.time_step == plain.point_cloud.time_step  # the rest chosen per recording
    assert plain.preprocess.sigma_s != 0.123 and plain.point_cloud.n_points != 700


# --------------------------------------------------------------------------- the serialiser


@pytest.mark.parametrize("cls", CONFIGS, ids=[c.__name__ for c in CONFIGS])
def test_every_config_round_trips_through_json(cls):
    config = cls()
    text = json.dumps(config_layer.to_dict(config), allow_nan=False)
    assert config_layer.from_dict(cls, json.loads(text)) == config


def test_nested_tuples_none_and_pins_round_trip():
    config = config_layer.with_values(
        AnalysisConfig.from_preset("hd"),
        {"persistence.threshold_quantiles": (0.3, 1.0), "decoding.n_circles": 2, "preprocess.max_gap_s": 1.5},
    )
    config = dataclasses.replace(config, pinned=(("significance.alpha", 0.01),))
    data = json.loads(json.dumps(config.to_dict()))
    assert (
        data["persistence"]["threshold_quantiles"] == [0.3, 1.0]
        and data["preprocess"]["speed_min_cm_s"] is None
    )
    back = config_layer.from_dict(AnalysisConfig, data)
    assert back == config and back.significance.alpha == 0.01
    assert isinstance(back.persistence.threshold_quantiles, tuple) and back.pinned == config.pinned


def test_from_dict_ignores_unknown_keys_unless_strict_and_refuses_bad_values():
    data = {"preset": "hd", "retired": 1, "preprocess": {"dt_s": 0.02, "old_field": True}}
    config = config_layer.from_dict(AnalysisConfig, data)
    assert config.preprocess.dt_s == 0.02 and config.point_cloud == PointCloudConfig()  # missing: defaults
    assert "unknown parameter retired" in message(
        lambda: config_layer.from_dict(AnalysisConfig, data, strict=True)
    )
    assert "preprocess must be a table" in message(
        lambda: config_layer.from_dict(AnalysisConfig, {"preprocess": 3})
    )
    assert "point_cloud.n_points must be a whole number" in message(
        lambda: config_layer.from_dict(AnalysisConfig, {"point_cloud": {"n_points": "many"}})
    )


def test_old_project_files_still_open(tmp_path):
    """Files written before the config layer held ``asdict`` output (no "pinned"), perhaps fields since
    retired: they open with those ignored."""
    from canns_gui.project import read_project, save_project

    config = config_layer.with_values(AnalysisConfig(), {"point_cloud.n_points": 900})
    old = dataclasses.asdict(config)
    del old["pinned"]
    old["preprocess"]["retired_option"] = 3
    path = tmp_path / "old.canns.json"
    path.write_text(json.dumps({"format": "canns-gui project", "parameters": old, "input": {"path": "x"}}))
    assert read_project(path).config == config
    again = save_project(tmp_path / "new.canns.json", "x", "", config, ["preprocess"])
    assert read_project(again).config == config


def test_parse_value_reads_each_type_from_its_annotation():
    parse = config_layer.parse_value
    assert parse(AnalysisConfig, "point_cloud.n_points", " 700 ") == 700
    assert parse(AnalysisConfig, "preprocess.zscore", "yes") is True
    assert parse(AnalysisConfig, "preprocess.speed_min_cm_s", "None") is None
    assert parse(AnalysisConfig, "persistence.threshold_quantiles", "0.2;0.6,1") == (0.2, 0.6, 1.0)
    assert parse(AnalysisConfig, "point_cloud.metric", "euclidean") == "euclidean"
    assert "is a group of parameters" in message(lambda: parse(AnalysisConfig, "preprocess", "1"))
    assert "must be a number in [0.0001, 1] s, got 'none'" in message(
        lambda: parse(AnalysisConfig, "preprocess.dt_s", "none")
    )
