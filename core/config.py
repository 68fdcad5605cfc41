"""The one config layer: what a parameter may be is declared once, in its dataclass field's metadata.

A config is a frozen dataclass whose fields declare ``metadata`` keys ``unit``, ``min``, ``max``, ``choices``,
``help`` (and ``label``); the GUI builds its forms from the same metadata (``canns_gui.forms``). This module
is the one place that enforces and serialises them:

- :func:`validate` checks every field against its annotation and metadata — the type (ints must be ints,
  bools are not numbers), ``None`` only for ``X | None`` fields, finite numbers within [``min``, ``max``],
  ``choices``; tuples element-wise — recursing into nested configs, then runs the class's cross-field rules
  (its ``check()`` method). Errors are :class:`~core.errors.ConfigError` naming the dotted field path, the
  allowed range with its unit, and the value: ``preprocess.dt_s must be in [0.0001, 1] s, got 10``.
- :class:`Config` is the base of the analysis and view configs: they are validated when constructed, so
  ``PreprocessConfig(dt_s=10)`` fails at once. Subclasses put their cross-field rules in ``check()``.
- :func:`to_dict` / :func:`from_dict` are the one serialiser (project files, reports, provenance): nested
  JSON-safe dicts, tuples as lists. ``from_dict`` ignores keys the class does not have, so files written by
  other versions open (missing fields take their defaults); ``strict=True`` reports them instead. Values
  that are invalid raise ConfigError.
- :func:`parse_value`, :func:`parse_assignments` and :func:`with_values` turn command-line text
  (``preprocess.dt_s=0.05``) into typed values and a copy of a config holding them.
- :func:`bounds` lists every declared bound of a config class, recursively.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any, NamedTuple

import numpy as np

from core.errors import ConfigError

BOUND_KINDS = ("min", "max", "choices")
NONE_WORDS = ("none", "null")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class Config:
    """Base of the frozen config dataclasses: validated when constructed (:func:`validate`)."""

    def __post_init__(self) -> None:
        validate(self)

    def validate(self) -> None:
        """ConfigError unless every field and every cross-field rule holds."""
        validate(self)

    def check(self) -> None:
        """The cross-field rules of this config (what field metadata cannot say); raise ConfigError."""


class FieldSpec(NamedTuple):
    """One field as this module reads it. kind: the value's type (int, float, bool, str, tuple, a nested
    config class, or None for anything); optional: ``X | None``; items: the element annotations of a tuple
    (``(float, Ellipsis)`` for ``tuple[float, ...]``)."""

    name: str
    annotation: Any
    kind: Any
    optional: bool
    items: tuple
    meta: Mapping[str, Any]


class Bound(NamedTuple):
    """One declared bound: ``path`` (dotted, from the class :func:`bounds` was asked about), the class that
    declares it and its field, kind ("min", "max" or "choices"), value, unit ("" when none), and whether it
    holds for each element of a tuple."""

    path: str
    owner: type
    field: str
    kind: str
    value: Any
    unit: str
    elementwise: bool


# --------------------------------------------------------------------------- reading annotations


def shape(annotation: Any) -> tuple[Any, bool, tuple]:
    """(kind, optional, tuple items) of an annotation such as ``float | None`` or ``tuple[float, ...]``."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        annotation = rest[0] if len(rest) == 1 else Any  # a union of several types is not checked
        origin = typing.get_origin(annotation)
    if annotation is tuple or origin is tuple:
        return tuple, optional, typing.get_args(annotation) or (Any, Ellipsis)
    if annotation in (int, float, bool, str) or is_config_class(annotation):
        return annotation, optional, ()
    return None, optional, ()


def is_config_class(obj: Any) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


@functools.cache
def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """The init fields of a config dataclass with their resolved annotations (cached per class)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.init:
            kind, optional, items = shape(hints[f.name])
            out.append(FieldSpec(f.name, hints[f.name], kind, optional, items, f.metadata))
    return tuple(out)


def _item_annotations(spec_items: tuple, n: int) -> list:
    if len(spec_items) == 2 and spec_items[1] is Ellipsis:
        return [spec_items[0]] * n
    return list(spec_items)


# --------------------------------------------------------------------------- messages


def _num(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        return format(float(x), ".12g")
    return repr(x)


def _text(x: Any) -> str:
    return x if isinstance(x, str) else _num(x)


def allowed(meta: Mapping[str, Any]) -> str:
    """The declared range of a field in words: "in [0.0001, 1] s", "≥ 0 s", "one of cosine, euclidean"."""
    if meta.get("choices") is not None:
        return "one of " + ", ".join(_text(c) for c in meta["choices"])
    lo, hi = meta.get("min"), meta.get("max")
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    if lo is not None and hi is not None:
        return f"in [{_num(lo)}, {_num(hi)}]{unit}"
    if lo is not None:
        return f"≥ {_num(lo)}{unit}"
    if hi is not None:
        return f"≤ {_num(hi)}{unit}"
    return ""


def _refuse(path: str, what: str, value: Any) -> ConfigError:
    shown = repr(value) if isinstance(value, str) else _num(value)
    return ConfigError(f"{path} must be {what}, got {shown}")


# --------------------------------------------------------------------------- validation


def check_value(path: str, value: Any, annotation: Any, meta: Mapping[str, Any]) -> None:
    """ConfigError unless ``value`` fits the field's annotation and metadata (nested configs: validated)."""
    kind, optional, items = shape(annotation)
    if value is None:
        if optional or kind is None:
            return
        raise ConfigError(f"{path} must be set ({allowed(meta) or kind.__name__}), got None")
    if kind is None:
        return
    if is_config_class(kind):
        if not isinstance(value, kind):
            raise _refuse(path, f"a {kind.__name__}", value)
        _validate(value, path)
        return
    if kind is tuple:
        if not isinstance(value, tuple):
            raise _refuse(path, "a tuple (a list of values)", value)
        annotations = _item_annotations(items, len(value))
        if len(annotations) != len(value):
            raise _refuse(path, f"{len(annotations)} values", value)
        for i, (item, ann) in enumerate(zip(value, annotations, strict=True)):
            check_value(f"{path}[{i}]", item, ann, meta)
        return
    range_text = allowed(meta)
    if kind is bool:
        if not isinstance(value, bool | np.bool_):
            raise _refuse(path, "true or false", value)
    elif kind is int:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise _refuse(path, f"a whole number {range_text}".rstrip(), value)
    elif kind is float:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise _refuse(path, f"a number {range_text}".rstrip(), value)
        if not math.isfinite(value):
            raise _refuse(path, f"a finite number {range_text}".rstrip(), value)
    elif kind is str and not isinstance(value, str):
        raise _refuse(path, "text", value)
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise _refuse(path, range_text, value)
    lo, hi = meta.get("min"), meta.get("max")
    if kind in (int, float) and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        raise _refuse(path, range_text, value)


def validate_fields(config: Any, path: str = "") -> None:
    """ConfigError for the first field of ``config`` that breaks its metadata (nested configs included, but
    not this class's cross-field rules)."""
    prefix = f"{path}." if path else ""
    for spec in field_specs(type(config)):
        check_value(prefix + spec.name, getattr(config, spec.name), spec.annotation, spec.meta)


def _validate(config: Any, path: str) -> None:
    validate_fields(config, path)
    rules = getattr(config, "check", None)
    if callable(rules):
        try:
            rules()
        except ConfigError as exc:
            if not path:
                raise
            raise ConfigError(f"{path}: {exc}") from None


def validate(config: Any) -> None:
    """ConfigError unless every field of ``config`` (recursively) fits its annotation and metadata and its
    ``check()`` rules hold; the message names the dotted path, the allowed range with its unit and the
    value."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"not a config instance: {config!r}")
    _validate(config, "")


# --------------------------------------------------------------------------- serialising


def to_json(value: Any) -> Any:
    """``value`` made JSON-safe: dataclasses → dicts (nested), tuples/lists/sets → lists, numpy → Python,
    NaN/inf → None, paths → str; anything else → its text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, np.generic):
        return to_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def to_dict(config: Any) -> dict:
    """The JSON-safe nested dict of a config (every field; tuples as lists); :func:`from_dict` reads it."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"not a config instance: {config!r}")
    return to_json(config)


def _from_json(value: Any, annotation: Any, path: str, strict: bool) -> Any:
    kind, _, items = shape(annotation)
    if value is None:
        return None
    if is_config_class(kind) and not isinstance(value, kind):
        return _from_dict(kind, value, path, strict)
    if kind is tuple and isinstance(value, list | tuple):
        annotations = _item_annotations(items, len(value))
        if len(annotations) != len(value):
            raise _refuse(path, f"{len(annotations)} values", value)
        pairs = enumerate(zip(value, annotations, strict=True))
        return tuple(_from_json(v, a, f"{path}[{i}]", strict) for i, (v, a) in pairs)
    return value


def _from_dict(cls: type, data: Any, path: str, strict: bool) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or cls.__name__} must be a table of parameters, got {data!r}")
    specs = field_specs(cls)
    prefix = f"{path}." if path else ""
    if strict:
        unknown = sorted(set(data) - {s.name for s in specs})
        if unknown:
            raise ConfigError(
                f"unknown parameter {prefix}{unknown[0]}; {path or cls.__name__} has "
                + ", ".join(s.name for s in specs)
            )
    kwargs = {}
    for spec in specs:
        if spec.name in data:
            value = _from_json(data[spec.name], spec.annotation, prefix + spec.name, strict)
            check_value(prefix + spec.name, value, spec.annotation, spec.meta)
            kwargs[spec.name] = value
    return _construct(cls, kwargs, path)


def _construct(cls: type, kwargs: Mapping[str, Any], path: str, base: Any = None) -> Any:
    """``cls(**kwargs)`` (or a copy of ``base`` with them), its cross-field errors prefixed by ``path``."""
    try:
        out = cls(**kwargs) if base is None else dataclasses.replace(base, **kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}" if path else str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path or cls.__name__}: {exc}") from None
    if not isinstance(out, Config):  # a config without the base class is checked here
        _validate(out, path)
    return out


def from_dict(cls: type, data: Mapping[str, Any], *, strict: bool = False) -> Any:
    """A ``cls`` from :func:`to_dict` output: nested configs rebuilt, lists read as tuples, missing fields
    at their defaults. Keys ``cls`` has not are ignored (files of other versions open), or with ``strict``
    reported; an invalid value raises ConfigError naming its dotted path."""
    return _from_dict(cls, data, "", strict)


# --------------------------------------------------------------------------- text (command line)


def resolve(cls: type, path: str) -> FieldSpec:
    """The field at dotted ``path`` of config class ``cls``; ConfigError naming the known ones if none."""
    owner, spec, done = cls, None, []
    for part in path.split("."):
        if spec is not None:
            if not is_config_class(spec.kind):
                raise ConfigError(f"unknown parameter {path!r}: {'.'.join(done)} has no fields")
            owner = spec.kind
        specs = {s.name: s for s in field_specs(owner)}
        if part not in specs:
            where = ".".join(done) or "the parameters"
            raise ConfigError(f"unknown parameter {path!r}; {where} has {', '.join(specs)}")
        spec = specs[part]
        done.append(part)
    return spec


def parse_text(text: str, annotation: Any, meta: Mapping[str, Any], path: str) -> Any:
    """The typed value of ``text`` for a field (not yet checked against its bounds): "none" is None for
    ``X | None`` fields, bools read true/false/yes/no/on/off/1/0, tuples comma separated."""
    kind, optional, items = shape(annotation)
    t = text.strip()
    if optional and t.lower() in NONE_WORDS:
        return None
    if kind is bool:
        if t.lower() in TRUE_WORDS:
            return True
        if t.lower() in FALSE_WORDS:
            return False
        raise _refuse(path, "true or false", text)
    if kind is int or kind is float:
        try:
            return int(t) if kind is int else float(t)
        except ValueError:
            word = "a whole number" if kind is int else "a number"
            raise _refuse(path, f"{word} {allowed(meta)}".rstrip(), text) from None
    if kind is tuple:
        parts = [p for p in re.split(r"[,;]", t) if p.strip()]
        annotations = _item_annotations(items, len(parts))
        if len(annotations) != len(parts):
            raise _refuse(path, f"{len(annotations)} comma-separated values", text)
        pairs = enumerate(zip(parts, annotations, strict=True))
        return tuple(parse_text(p, a, meta, f"{path}[{i}]") for i, (p, a) in pairs)
    if is_config_class(kind):
        names = ", ".join(f"{path}.{s.name}" for s in field_specs(kind))
        raise ConfigError(f"{path} is a group of parameters; set one of {names}")
    return t


def parse_value(cls: type, path: str, text: str) -> Any:
    """The typed, checked value of command-line ``text`` for the field at dotted ``path`` of ``cls``."""
    spec = resolve(cls, path)
    value = parse_text(text, spec.annotation, spec.meta, path)
    check_value(path, value, spec.annotation, spec.meta)
    return value


def parse_assignments(cls: type, items: Iterable[str]) -> dict[str, Any]:
    """{path: typed value} of ``PATH=VALUE`` strings for config class ``cls`` (the last of a path wins)."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            raise ConfigError(f"{item!r}: write PATH=VALUE, e.g. preprocess.dt_s=0.05")
        out[path.strip()] = parse_value(cls, path.strip(), text)
    return out


def with_values(config: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``config`` with the value at each dotted path replaced (each checked, with its path)."""
    return _with_values(config, values, "")


def _with_values(config: Any, values: Mapping[str, Any], path: str) -> Any:
    prefix = f"{path}." if path else ""
    groups: dict[str, dict[str, Any]] = {}
    direct: dict[str, Any] = {}
    for key, value in values.items():
        spec = resolve(type(config), key)
        head, _, rest = key.partition(".")
        if rest:
            groups.setdefault(head, {})[rest] = value
        else:
            value = _from_json(value, spec.annotation, prefix + key, False)
            check_value(prefix + key, value, spec.annotation, spec.meta)
            direct[key] = value
    for head, sub in groups.items():
        direct[head] = _with_values(getattr(config, head), sub, prefix + head)
    return _construct(type(config), direct, path, base=config)


def pins(cls: type, pinned: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """``pinned`` (dotted path, value) pairs of config class ``cls``, each checked and typed (lists from JSON
    read as tuples); the last value of a path wins."""
    out: dict[str, Any] = {}
    for item in pinned:
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], str):
            raise _refuse("pinned", "(path, value) pairs", item)
        path, value = item
        spec = resolve(cls, path)
        value = _from_json(value, spec.annotation, path, False)
        check_value(path, value, spec.annotation, spec.meta)
        out[path] = value
    return tuple(out.items())


def pinned_fields(config: Any, pinned: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """{field: new value} for the nested configs of ``config`` that do not hold the pinned values (dotted
    paths below a nested config), with those values put back; empty when every pin holds."""
    groups: dict[str, dict[str, Any]] = {}
    for path, value in pinned:
        head, _, rest = path.partition(".")
        if rest and functools.reduce(getattr, rest.split("."), getattr(config, head)) != value:
            groups.setdefault(head, {})[rest] = value
    return {head: _with_values(getattr(config, head), sub, head) for head, sub in groups.items()}


# --------------------------------------------------------------------------- declared bounds


def bounds(cls: type, path: str = "") -> list[Bound]:
    """Every declared bound (min, max, choices) of config class ``cls``, nested configs included."""
    out = []
    prefix = f"{path}." if path else ""
    for spec in field_specs(cls):
        if is_config_class(spec.kind):
            out += bounds(spec.kind, prefix + spec.name)
            continue
        for kind in BOUND_KINDS:
            if spec.meta.get(kind) is not None:
                out.append(
                    Bound(
                        prefix + spec.name,
                        cls,
                        spec.name,
                        kind,
                        spec.meta[kind],
                        str(spec.meta.get("unit", "")),
                        spec.kind is tuple,
                    )
                )
    return out
