"""Turn the raw fields read from any file format into a clean ``Recording`` plus plain-English warnings.

Every loader hands ``build_recording`` a mapping of field name → value (arrays, lists, dicts of arrays, ...).
Fatal problems raise one ``RecordingError`` whose message names the file, the field and what to do; fixable
ones (NaN gaps, unsorted trains, spikes outside the time base, ...) are repaired and reported as warnings.

Implausible sizes have named limits (``MAX_DURATION_S``, ``MAX_SAMPLES``, ``MAX_UNITS``, ``MAX_SPIKES``,
``MAX_DENSE_VALUES``, ``MIN_TRACKING_RATE_HZ`` / ``MAX_TRACKING_RATE_HZ``): past one, the message names the
field, the value and the limit. A recording no analysis can use (fewer than ``MIN_UNITS`` units with
spikes, or spikes that span no time) is refused at load, saying why.

Units: positions are stored in cm and head direction in rad. In "auto" mode metres, centimetres and
millimetres are told apart by the arena size (a lab arena is ``ARENA_MIN_M``–``ARENA_MAX_M`` wide) and,
where that is ambiguous, by the running speed; degrees by values beyond 2π, or within 2π by the recording's
own consistency (wrapping steps, agreement with the direction of movement, whole-number values, plausible
turning speeds). A conversion is always reported with the option that overrides it; an ambiguous head
direction is loaded as given with a warning that suggests ``--hd-unit deg``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from core.angles import TWO_PI
from core.errors import ConfigError, RecordingError
from core.io.fields import REQUIRED, describe, missing_field_message, resolve_fields, suggest
from core.recording import Recording

MAX_MISSING_FRACTION = 0.5  # more NaN than this in x/y or hd is refused
DEGREES_THRESHOLD = TWO_PI + 0.1  # hd beyond this (in absolute value) looks like degrees

# Plausibility limits: a recording past one is refused with a message naming the field, value and limit.
MAX_DURATION_S = 24 * 3600.0  # a day; longer sessions (or t in ms/samples) would bin into >8.6 M bins
MAX_SAMPLES = 50_000_000  # samples of t (and of x, y, hd): 24 h at ~580 Hz, 400 MB per float64 field
MAX_UNITS = 10_000  # the largest multi-probe recordings sort a few thousand units
MAX_SPIKES = 200_000_000  # spike times in all (1.6 GB as float64); 100 units at 10 Hz for 24 h is 86 M
MAX_DENSE_VALUES = 250_000_000  # time × units values of a dense matrix (2 GB as float64)
MIN_TRACKING_RATE_HZ = 1.0  # x/y/hd sampled less often than once a second cannot follow movement
MAX_TRACKING_RATE_HZ = 50_000.0  # faster than any electrophysiology clock tracking is resampled to
MIN_UNITS = 3  # fewer units with spikes than this cannot form a population state (a ring needs ≥ 5)

# Unit heuristics.
ARENA_MIN_M = 0.3  # a lab arena or track is at least this wide ...
ARENA_MAX_M = 5.0  # ... and at most this wide
METRES_SPAN = ARENA_MAX_M  # an occupied extent below this many units is metres (cm would be < 5 cm)
TYPICAL_SPEED_CM_S = 30.0  # 90th percentile of a foraging rodent's speed (decides cm vs mm when ambiguous)
SPEED_WINDOW_S = 0.25  # displacement window for speed and heading (tracking jitter averages out)
MAX_HEAD_TURN_RAD_S = 30.0  # median turning speed above this (1,700°/s) is implausible ...
TURN_WINDOW_S = 0.05  # ... measured over this window (a head turns 10 rad/s at most for long)
HEADING_EXPLAINED = 0.5  # share of the heading's spread that hd must explain in the unit it picks ...
HEADING_MARGIN = 0.5  # ... by this much more than in the other unit
MS_FACTOR = 10.0  # spikes reaching past this multiple of t[-1] look like ms or samples
SECONDS_MAX_DT = 1.0  # t sampled at least once per second looks like seconds
MAX_LISTED = 5  # unit ids listed in one warning

_POSITION_UNITS = {
    "auto": "auto",
    "cm": "cm",
    "centimeters": "cm",
    "centimetres": "cm",
    "m": "m",
    "meters": "m",
    "metres": "m",
    "mm": "mm",
    "millimeters": "mm",
    "millimetres": "mm",
}
POSITION_UNIT_CHOICES: tuple[str, ...] = ("auto", "cm", "m", "mm")
HD_UNIT_CHOICES: tuple[str, ...] = ("auto", "rad", "deg")
_TO_CM = {"cm": 1.0, "m": 100.0, "mm": 0.1}
_UNIT_WORDS = {"cm": "centimetres", "m": "metres", "mm": "millimetres"}
_HD_UNITS = {"auto": "auto", "rad": "rad", "radians": "rad", "deg": "deg", "degrees": "deg"}


def normalise_units(position_unit: str, hd_unit: str) -> tuple[str, str]:
    """Check the unit options: position "auto" | "cm" | "m" | "mm", head direction "auto" | "rad" | "deg"."""
    pos = _POSITION_UNITS.get(str(position_unit).strip().lower())
    hd = _HD_UNITS.get(str(hd_unit).strip().lower())
    if pos is None:
        raise ConfigError(f"position unit {position_unit!r} is not one of auto, cm, m, mm")
    if hd is None:
        raise ConfigError(f"head-direction unit {hd_unit!r} is not one of auto, rad, deg")
    return pos, hd


class _Context:
    """Collects warnings and formats errors with the file name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.warnings: list[str] = []

    def fail(self, message: str) -> NoReturn:
        raise RecordingError(f"{self.name}: {message}")

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def build_recording(
    found: Mapping[str, Any],
    *,
    name: str,
    position_unit: str = "auto",
    hd_unit: str = "auto",
    metadata: dict[str, Any] | None = None,
) -> tuple[Recording, list[str]]:
    """Validate raw fields and build a ``Recording``.

    Args:
        found: field name → raw value as read from the file (``spike`` and ``t`` required).
        name: file name used in messages.
        position_unit: "auto" (m, cm or mm detected and converted to cm with a warning), "cm" (as is),
            "m" (× 100) or "mm" (÷ 10).
        hd_unit: "auto" (degrees detected and converted with a warning; ambiguous values warn), "rad" or
            "deg".
        metadata: stored in ``Recording.metadata``.

    Returns:
        ``(recording, warnings)``; ``source`` and ``sha256`` are left for the caller to fill.
    """
    pos_unit, hd_u = normalise_units(position_unit, hd_unit)
    ctx = _Context(name)
    fields, unknown = resolve_fields(found)
    for req in REQUIRED:
        if req not in fields:
            ctx.fail(missing_field_message(req, list(found.keys())))
    _report_unknown(unknown, fields, ctx)

    t = _time_base(fields["t"], ctx)
    if any(fields.get(k) is not None for k in ("x", "y", "hd")):
        _check_tracking_rate(t, ctx)
    unit_ids, trains, rates = _spikes(fields["spike"], fields.get("unit_ids"), t, ctx)
    _check_usable(unit_ids, trains, rates, t, ctx)
    x, y = _position(fields.get("x"), fields.get("y"), t, pos_unit, ctx)
    hd = _head_direction(fields.get("hd"), t, hd_u, ctx, x=x, y=y)
    rec = Recording(
        unit_ids=unit_ids,
        spike_times=trains,
        t=t,
        x=x,
        y=y,
        hd=hd,
        rates=rates,
        metadata=dict(metadata or {}),
    )
    return rec, ctx.warnings


# ---------------------------------------------------------------------------------------------- helpers


def _report_unknown(unknown: Sequence[str], fields: Mapping[str, Any], ctx: _Context) -> None:
    plain = []
    for n in unknown:
        guess = suggest(n)
        if guess is not None and guess not in fields:
            ctx.warn(f"ignored field '{n}': did you mean '{guess}'? Rename it to '{guess}' to use it")
        else:
            plain.append(n)
    if plain:
        ctx.warn("ignored fields that are not part of the ASA layout: " + _listing(plain, quote=True))


def _listing(items: Sequence[Any], quote: bool = False) -> str:
    shown = [repr(i) if quote else str(i) for i in items[:MAX_LISTED]]
    extra = len(items) - len(shown)
    return ", ".join(shown) + (f" and {extra} more" if extra > 0 else "")


def _unwrap0d(value: Any) -> Any:
    """A 0-d object array (how numpy stores a pickled dict or list) → the object inside."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        value = value.item()
    return value


def _to_array(value: Any, what: str, ctx: _Context, allow_bool: bool = False) -> np.ndarray:
    """Numeric float64 array of ``value`` or a RecordingError naming ``what``."""
    if hasattr(value, "toarray") and callable(value.toarray):  # scipy.sparse (MATLAB sparse matrix)
        value = value.toarray()
    value = _unwrap0d(value)
    if value is None:
        ctx.fail(f"{what} is empty (None); expected numbers")
    if isinstance(value, str | bytes):
        ctx.fail(f"{what} is text ({str(value)[:40]!r}); expected numbers")
    if isinstance(value, Mapping):
        ctx.fail(f"{what} is a dict/struct; expected a numeric array")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        ctx.fail(f"{what} is a ragged nested list; expected a numeric array")
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError):
            kinds = sorted({type(v).__name__ for v in arr.ravel()[:100]})
            ctx.fail(f"{what} is not numeric (it holds {', '.join(kinds)}); expected numbers")
    if arr.dtype.kind == "b" and allow_bool:
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "iuf":
        ctx.fail(f"{what} is not numeric (dtype {arr.dtype}); expected numbers")
    return arr.astype(np.float64, copy=False)


def _squeeze_vector(arr: np.ndarray) -> np.ndarray | None:
    """1-D view of an array with at most one non-singleton axis (MATLAB row/column vectors), else None."""
    if arr.ndim == 0:
        return arr.reshape(1)
    if arr.ndim == 1:
        return arr
    if sum(d > 1 for d in arr.shape) <= 1:
        return arr.reshape(-1)
    return None


def _plain_id(key: Any) -> Any:
    """Unit id as a plain Python int or str."""
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    return key


def _fmt(v: float) -> str:
    return f"{float(v):.10g}"


# ----------------------------------------------------------------------------------------------- time base


def _time_base(value: Any, ctx: _Context) -> np.ndarray:
    arr = _to_array(value, "t", ctx)
    t = _squeeze_vector(arr)
    if t is None:
        ctx.fail(f"t has shape {arr.shape}; it must be a vector of sample times in seconds")
    if t.size < 2:
        ctx.fail(f"t has {t.size} sample(s); at least 2 time points (s) are needed")
    if t.size > MAX_SAMPLES:
        ctx.fail(
            f"t has {t.size:,} samples; at most {MAX_SAMPLES:,} are accepted (MAX_SAMPLES, 24 h at ~580 Hz) "
            "— downsample the tracking"
        )
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        ctx.fail(
            f"t has {bad.size} non-finite values (NaN/inf), the first at index {bad[0]}; "
            "t must hold finite sample times in seconds"
        )
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        i = int(back[0]) + 1
        ctx.fail(
            f"t is not increasing at index {i} (t={_fmt(t[i])} s follows {_fmt(t[i - 1])} s); "
            "sort your samples or fix the clock"
        )
    span = float(t[-1] - t[0])
    if span > MAX_DURATION_S:
        ctx.fail(
            f"t spans {span:.4g} s ({_duration_words(span)}) from {_fmt(t[0])} s to {_fmt(t[-1])} s; at most "
            f"{MAX_DURATION_S:,.0f} s (24 h, MAX_DURATION_S) is accepted — check that t is in seconds "
            "(milliseconds: divide by 1000; samples: divide by the sampling rate)"
        )
    return np.ascontiguousarray(t)


def _duration_words(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400.0), ("hours", 3600.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _check_tracking_rate(t: np.ndarray, ctx: _Context) -> None:
    """x/y/hd are sampled at t: its median rate must be a plausible tracking rate."""
    dt = float(np.median(np.diff(t)))
    rate = 1.0 / dt
    if rate < MIN_TRACKING_RATE_HZ:
        ctx.fail(
            f"t (the tracking clock of x/y/hd) is sampled every {dt:.4g} s ({rate:.3g} Hz); tracking must be "
            f"sampled at least at {MIN_TRACKING_RATE_HZ:g} Hz (MIN_TRACKING_RATE_HZ) — check that t is in "
            "seconds and holds one entry per tracking sample"
        )
    if rate > MAX_TRACKING_RATE_HZ:
        ctx.fail(
            f"t (the tracking clock of x/y/hd) is sampled at {rate:.4g} Hz; at most "
            f"{MAX_TRACKING_RATE_HZ:,.0f} Hz is accepted (MAX_TRACKING_RATE_HZ) — check that t is in seconds "
            "(not ms or samples), or downsample the tracking"
        )


# ------------------------------------------------------------------------------------------------ spikes


def _spikes(
    value: Any, ids_value: Any, t: np.ndarray, ctx: _Context
) -> tuple[list[Any], list[np.ndarray], np.ndarray | None]:
    """Unit ids, cleaned spike trains and (for a dense matrix) the (T, N) rate matrix."""
    value = _unwrap0d(value)
    if isinstance(value, Mapping | list | tuple):
        _check_unit_count(len(value), ctx)
    if isinstance(value, Mapping):
        ids = [_plain_id(k) for k in value]
        if ids_value is not None:
            ctx.warn("unit_ids ignored: spike is a dict, whose keys are the unit ids")
        return _clean_trains(ids, list(value.values()), t, ctx)
    if isinstance(value, list | tuple) and value and all(np.ndim(v) == 0 for v in value):
        value = np.asarray(value)  # a plain list of numbers: one unit's spike times
    if isinstance(value, list | tuple):
        trains = list(value)
        return _clean_trains(_ids_for(ids_value, len(trains), ctx), trains, t, ctx)
    if isinstance(value, np.ndarray) and value.dtype == object:
        vec = _squeeze_vector(value)
        if vec is None:
            ctx.fail(
                f"spike is a {' × '.join(map(str, value.shape))} cell/object array; "
                "expected one entry (a vector of spike times in s) per unit"
            )
        _check_unit_count(vec.size, ctx)
        trains = list(vec)
        return _clean_trains(_ids_for(ids_value, len(trains), ctx), trains, t, ctx)
    if isinstance(value, np.ndarray) or hasattr(value, "toarray"):
        _check_dense_size(getattr(value, "shape", ()), t.size, ctx)
        arr = _to_array(value, "spike", ctx, allow_bool=True)
        n_t = t.size
        if arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape and max(arr.shape) != n_t):
            vec = arr.reshape(-1)
            if vec.size == n_t and np.any(np.diff(vec) < 0):
                ctx.warn(f"spike is a single vector of {n_t} values aligned to t; read as counts of one unit")
                return _dense(vec.reshape(-1, 1), ids_value, t, ctx)
            ctx.warn("spike is a single vector; read as the spike times (s) of one unit")
            return _clean_trains(_ids_for(ids_value, 1, ctx), [vec], t, ctx)
        if arr.ndim == 2:
            return _dense(arr, ids_value, t, ctx)
        ctx.fail(f"spike has shape {arr.shape}; expected per-unit spike times or a 2-D time × units matrix")
    ctx.fail(
        f"spike has unsupported type {type(value).__name__}; expected a dict or list of per-unit spike-time "
        "arrays (s), or a time × units matrix"
    )


def _check_unit_count(n: int, ctx: _Context) -> None:
    if n > MAX_UNITS:
        ctx.fail(
            f"spike holds {n:,} units; at most {MAX_UNITS:,} are accepted (MAX_UNITS) — the file is damaged, "
            "or spike is not one entry per unit"
        )


def _check_dense_size(shape: tuple[int, ...], n_t: int, ctx: _Context) -> None:
    """Limits of a dense matrix, from its shape alone (before converting it to float64)."""
    dims = tuple(int(d) for d in shape)
    if len(dims) != 2 or 1 in dims:
        return
    n_units = dims[1] if dims[0] == n_t else dims[0] if dims[1] == n_t else min(dims)
    _check_unit_count(n_units, ctx)
    if dims[0] * dims[1] > MAX_DENSE_VALUES:
        ctx.fail(
            f"spike is a {dims[0]:,} × {dims[1]:,} matrix ({dims[0] * dims[1]:,} values); at most "
            f"{MAX_DENSE_VALUES:,} are accepted (MAX_DENSE_VALUES) — bin it more coarsely or give spike times"
        )


def _ids_for(ids_value: Any, n: int, ctx: _Context) -> list[Any]:
    """Unit ids from the optional ``unit_ids`` field, else 0..n-1."""
    if ids_value is None:
        return list(range(n))
    arr = np.asarray(_unwrap0d(ids_value))
    flat = arr.reshape(-1) if arr.ndim else arr.reshape(1)
    if flat.size != n:
        ctx.fail(f"unit_ids has {flat.size} entries but spike has {n} units; give one id per unit")
    ids = [_plain_id(v) for v in flat]
    if len(set(ids)) != len(ids):
        ctx.fail("unit_ids has repeated ids; each unit needs its own id")
    return ids


def _dense(
    arr: np.ndarray, ids_value: Any, t: np.ndarray, ctx: _Context
) -> tuple[list[Any], list[np.ndarray], np.ndarray]:
    n_t = t.size
    if arr.shape[0] == n_t:
        m = arr
        if arr.shape[1] == n_t:
            ctx.warn(f"spike matrix is square ({n_t} × {n_t}); read as time × units")
    elif arr.shape[1] == n_t:
        m = arr.T
        n_u = arr.shape[0]
        ctx.warn(f"spike matrix is {n_u} × {n_t} (units × time); transposed to time × units")
    else:
        a, b = arr.shape
        ctx.fail(
            f"spike is a {a} × {b} matrix but neither axis matches len(t) = {n_t}; a dense spike matrix must "
            f"be time × units aligned to t. If these are spike times of {a} units, save spike as a dict or "
            "a list of per-unit arrays instead"
        )
    n_bad = int(np.count_nonzero(~np.isfinite(m)))
    if n_bad:
        ctx.fail(
            f"spike matrix has {n_bad} non-finite values (NaN/inf); counts or rates must be finite — "
            "replace them (e.g. with 0) and save again"
        )
    n_neg = int(np.count_nonzero(m < 0))
    if n_neg:
        ctx.fail(f"spike matrix has {n_neg} negative values; counts or rates must be ≥ 0")
    ids = _ids_for(ids_value, m.shape[1], ctx)
    keep = np.any(m != 0, axis=0)
    if not keep.all():
        dropped = [ids[i] for i in np.flatnonzero(~keep)]
        ctx.warn(f"dropped {len(dropped)} units with no activity: {_listing(dropped)}")
    if not keep.any():
        ctx.fail("the spike matrix is all zeros; no unit has any activity")
    ids = [ids[i] for i in np.flatnonzero(keep)]
    rates = np.ascontiguousarray(m[:, keep], dtype=np.float64)
    return ids, [np.empty(0, dtype=np.float64) for _ in ids], rates


def _one_train(train: Any, uid: Any, ctx: _Context) -> np.ndarray:
    what = f"spike train of unit {uid!r}"
    # MATLAB nests cells ({[...]}): unwrap single-element object arrays.
    while isinstance(train, np.ndarray) and train.dtype == object and train.size == 1:
        train = train.reshape(-1)[0]
    if train is None:
        return np.empty(0, dtype=np.float64)
    arr = _to_array(train, what, ctx)
    if arr.size == 0:
        return np.empty(0, dtype=np.float64)
    vec = _squeeze_vector(arr)
    if vec is None:
        ctx.fail(f"{what} has shape {arr.shape}; expected a vector of spike times in seconds")
    return np.array(vec, dtype=np.float64)


def _clean_trains(
    ids: list[Any], trains: list[Any], t: np.ndarray, ctx: _Context
) -> tuple[list[Any], list[np.ndarray], None]:
    if not trains:
        ctx.fail("spike holds no units; add the spike times (s) of at least one unit")
    if len(set(map(repr, ids))) != len(ids):
        ctx.fail("spike has repeated unit ids; each unit needs its own id")
    arrays = [_one_train(tr, uid, ctx) for uid, tr in zip(ids, trains, strict=True)]
    total = sum(a.size for a in arrays)
    if total > MAX_SPIKES:
        ctx.fail(
            f"spike holds {total:,} spike times; at most {MAX_SPIKES:,} are accepted (MAX_SPIKES) — split "
            "the session or keep fewer units"
        )

    nonfinite = [(uid, int(np.count_nonzero(~np.isfinite(a)))) for uid, a in zip(ids, arrays, strict=True)]
    bad_units = [uid for uid, k in nonfinite if k]
    if bad_units:
        total = sum(k for _, k in nonfinite)
        arrays = [a[np.isfinite(a)] for a in arrays]
        ctx.warn(f"dropped {total} non-finite spike times (NaN/inf) in units {_listing(bad_units)}")

    unsorted = [uid for uid, a in zip(ids, arrays, strict=True) if a.size > 1 and np.any(np.diff(a) < 0)]
    if unsorted:
        arrays = [np.sort(a) for a in arrays]
        ctx.warn(f"spike times were not sorted in units {_listing(unsorted)}; sorted them")

    t0, t1 = float(t[0]), float(t[-1])
    nonempty = [a for a in arrays if a.size]
    if nonempty:
        top = max(float(a[-1]) for a in nonempty)
        looks_seconds = float(np.median(np.diff(t))) <= SECONDS_MAX_DT
        if t1 > 0 and looks_seconds and top > MS_FACTOR * t1:
            ctx.fail(
                f"spike times reach {top:.6g} but t ends at {t1:.6g} s: the spike times look like "
                "milliseconds or samples. Convert them to seconds on the same clock as t "
                "(ms: divide by 1000; samples: divide by the sampling rate)"
            )

    n_out, units_out = 0, 0
    for i, a in enumerate(arrays):
        inside = (a >= t0) & (a <= t1)
        k = int(a.size - np.count_nonzero(inside))
        if k:
            n_out += k
            units_out += 1
            arrays[i] = a[inside]
    if n_out:
        ctx.warn(
            f"dropped {n_out} spikes outside the time base [{t0:.1f}, {t1:.1f}] s in {units_out} "
            f"unit{'s' if units_out != 1 else ''}"
        )

    empty = [uid for uid, a in zip(ids, arrays, strict=True) if a.size == 0]
    if empty:
        ctx.warn(f"dropped {len(empty)} units with no spikes: {_listing(empty)}")
    kept = [(uid, np.ascontiguousarray(a)) for uid, a in zip(ids, arrays, strict=True) if a.size]
    if not kept:
        ctx.fail(
            f"no unit has any spike inside the time base [{t0:.1f}, {t1:.1f}] s; check that spike times "
            "and t are in seconds on the same clock"
        )
    return [k for k, _ in kept], [a for _, a in kept], None


def _check_usable(
    ids: list[Any], trains: list[np.ndarray], rates: np.ndarray | None, t: np.ndarray, ctx: _Context
) -> None:
    """Refuse what no analysis can use: fewer than ``MIN_UNITS`` units with spikes, or spikes that all fall
    at one instant (no time span to estimate a rate over)."""
    n = len(ids)
    if n < MIN_UNITS:
        listed = f" ({_listing(ids)})" if ids else ""
        ctx.fail(
            f"only {n} unit{'s' if n != 1 else ''} with spikes{listed}; at least {MIN_UNITS} units are "
            "needed (MIN_UNITS) to analyse a population state (a ring needs ≥ 5 usable units, a torus "
            "≥ 20) — include all the sorted units of the session"
        )
    if rates is not None:
        active = np.flatnonzero(np.any(rates != 0, axis=1))
        lo, hi = (float(t[active[0]]), float(t[active[-1]])) if active.size else (0.0, 0.0)
        what = "all activity of the spike matrix falls in one time sample"
    else:
        lo = min(float(a[0]) for a in trains)
        hi = max(float(a[-1]) for a in trains)
        what = f"all {sum(a.size for a in trains):,} spikes fall at the same instant"
    if hi - lo <= 0:
        ctx.fail(
            f"{what} (t = {_fmt(lo)} s): the spikes span no time, so no firing rate can be estimated — check "
            "that the spike times (s) were exported, not zeros or placeholders"
        )


# ------------------------------------------------------------------------------------- position and hd


def _vector_field(value: Any, name: str, t: np.ndarray, ctx: _Context) -> np.ndarray:
    arr = _to_array(value, name, ctx)
    vec = _squeeze_vector(arr)
    if vec is None:
        ctx.fail(f"{name} has shape {arr.shape}; expected a vector of {t.size} samples ({describe(name)})")
    if vec.size and vec.size != t.size:
        ctx.fail(
            f"{name} has {vec.size} samples but t has {t.size}; {name} must be sampled at the times in t "
            "(one value per t)"
        )
    return np.array(vec, dtype=np.float64)


def _gap_summary(missing: np.ndarray, t: np.ndarray) -> tuple[int, float]:
    """Longest run of True in ``missing`` (samples) and its length in seconds (× median dt)."""
    padded = np.concatenate(([0], missing.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    longest = int(np.max(edges[1::2] - edges[0::2])) if edges.size else 0
    return longest, longest * float(np.median(np.diff(t)))


def _check_missing(missing: np.ndarray, label: str, what: str, t: np.ndarray, ctx: _Context) -> None:
    k, m = int(missing.sum()), missing.size
    if k > MAX_MISSING_FRACTION * m:
        ctx.fail(
            f"{label}: {k} of {m} {what} samples ({100 * k / m:.0f}%) are missing (NaN/inf); more than half "
            f"missing cannot be interpolated — fix the tracking, or remove {label} to load without it"
        )
    if k:
        longest, secs = _gap_summary(missing, t)
        ctx.warn(f"interpolated {k} of {m} {what} samples (longest gap {longest} samples = {secs:.3g} s)")


def _position(
    xv: Any, yv: Any, t: np.ndarray, unit: str, ctx: _Context
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if xv is None and yv is None:
        return None, None
    if xv is not None and yv is None:
        arr = _to_array(xv, "x", ctx)
        if arr.ndim == 2 and 2 in arr.shape and t.size in arr.shape:
            xy = arr if arr.shape[1] == 2 and arr.shape[0] == t.size else arr.T
            ctx.warn("x holds two columns (x, y); split them into x and y")
            xv, yv = xy[:, 0], xy[:, 1]
    if xv is None or yv is None:
        have, lack = ("x", "y") if yv is None else ("y", "x")
        ctx.warn(f"{have} was given without {lack}; loaded without position (give both x and y in cm)")
        return None, None
    x = _vector_field(xv, "x", t, ctx)
    y = _vector_field(yv, "y", t, ctx)
    if x.size == 0 and y.size == 0:
        ctx.warn("x and y are empty; loaded without position")
        return None, None
    if x.size == 0 or y.size == 0:
        empty = "x" if x.size == 0 else "y"
        ctx.fail(f"{empty} is empty but the other coordinate is not; give both x and y (cm) or neither")
    missing = ~(np.isfinite(x) & np.isfinite(y))
    _check_missing(missing, "x/y", "position", t, ctx)
    if missing.any():
        ok = ~missing
        x[missing] = np.interp(t[missing], t[ok], x[ok])
        y[missing] = np.interp(t[missing], t[ok], y[ok])
    if unit == "auto":
        unit = _guess_position_unit(x, y, t, ctx)
    factor = _TO_CM[unit]
    if factor != 1.0:
        x *= factor
        y *= factor
    return x, y


def _robust_extent(v: np.ndarray) -> float:
    """Width of the values without the outermost 0.5 % on each side (tracking glitches)."""
    lo, hi = np.percentile(v, [0.5, 99.5])
    return float(hi - lo)


def _window(t: np.ndarray, seconds: float = SPEED_WINDOW_S) -> int:
    """Samples spanning about ``seconds``."""
    dt = float(np.median(np.diff(t)))
    return int(min(max(1, round(seconds / dt)), max(1, t.size // 4)))


def _sparse(n: int, cap: int = 1_000_000) -> slice:
    """A stride that keeps at most ``cap`` of ``n`` samples (heuristics need no more)."""
    return slice(None, None, max(1, n // cap))


def _speed_p90(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> float:
    """90th percentile of the speed, in position units per second, over ``SPEED_WINDOW_S`` displacements."""
    k = _window(t)
    pick = _sparse(t.size - k)
    d = np.hypot(x[k:] - x[:-k], y[k:] - y[:-k])[pick]
    return float(np.percentile(d / (t[k:] - t[:-k])[pick], 90)) if d.size else 0.0


def _guess_position_unit(x: np.ndarray, y: np.ndarray, t: np.ndarray, ctx: _Context) -> str:
    """m, cm or mm for positions of unknown unit: the occupied extent against a 0.3–5 m lab arena, and where
    that fits both cm and mm (300–500 units), the 90th-percentile speed against a rodent's typical one."""
    sx, sy = _robust_extent(x), _robust_extent(y)
    side = max(sx, sy)
    spans = f"x/y span {sx:.3g} × {sy:.3g}"
    keep = "rerun with --position-unit cm to keep them as they are"
    if not np.isfinite(side) or side <= 0:
        return "cm"  # the animal never moves: nothing to tell units apart
    cm_fits = ARENA_MIN_M * 100 <= side <= ARENA_MAX_M * 100
    mm_fits = ARENA_MIN_M * 1000 <= side <= ARENA_MAX_M * 1000
    if side < METRES_SPAN:
        ctx.warn(
            f"{spans}, which in cm would be an arena under {METRES_SPAN:g} cm: read as metres and converted "
            f"to cm (× 100); {keep}"
        )
        return "m"
    if cm_fits and mm_fits:
        p90 = _speed_p90(x, y, t)
        as_cm, as_mm = p90, p90 / 10
        unit = (
            "mm"
            if abs(np.log(as_mm / TYPICAL_SPEED_CM_S)) < abs(np.log(as_cm / TYPICAL_SPEED_CM_S))
            else "cm"
        )
        if p90 <= 0:
            unit = "cm"
        told = (
            f"{spans}, which fits a {side / 100:.2g} m arena in cm or a {side / 1000:.2g} m arena in mm; "
            f"the speed (90th percentile {as_cm:.3g} cm/s if cm, {as_mm:.3g} cm/s if mm) says "
        )
        if unit == "mm":
            ctx.warn(told + f"millimetres: converted to cm (÷ 10); {keep}")
        else:
            ctx.warn(
                told + "centimetres: kept as cm; if these are millimetres, rerun with --position-unit mm"
            )
        return unit
    if side > ARENA_MAX_M * 100 and mm_fits:
        ctx.warn(
            f"{spans}, wider than a {ARENA_MAX_M:g} m arena in cm: read as millimetres and converted to cm "
            f"(÷ 10); {keep}"
        )
        return "mm"
    if side > ARENA_MAX_M * 1000:
        ctx.warn(
            f"{spans}, wider than a {ARENA_MAX_M:g} m arena even in mm: loaded as cm; check the unit (pixels "
            "must be converted to cm), or rerun with --position-unit m or mm"
        )
    return "cm"


def _head_direction(
    value: Any,
    t: np.ndarray,
    unit: str,
    ctx: _Context,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
) -> np.ndarray | None:
    if value is None:
        return None
    hd = _vector_field(value, "hd", t, ctx)
    if hd.size == 0:
        ctx.warn("hd is empty; loaded without head direction")
        return None
    finite = np.isfinite(hd)
    if unit == "auto" and finite.any():
        unit = _guess_hd_unit(hd, finite, t, ctx, x, y)
    if unit == "deg":
        hd = np.deg2rad(hd)
    missing = ~finite
    _check_missing(missing, "hd", "head-direction", t, ctx)
    if missing.any():
        ok = finite
        hd[missing] = np.interp(t[missing], t[ok], np.unwrap(hd[ok]))
    hd = np.mod(hd, TWO_PI)
    hd[hd >= TWO_PI] = 0.0
    return hd


def _heading_explained(
    readings: list[np.ndarray], t: np.ndarray, x: np.ndarray, y: np.ndarray
) -> list[float] | None:
    """For each reading of hd (in rad), the share of the spread of the direction of movement that it
    explains: 1 − circvar(hd − heading) / circvar(heading), over the moving samples (1: hd follows the
    heading up to an offset; ≤ 0: it explains nothing). None when the animal hardly moves or keeps one
    heading (nothing to explain)."""
    k = _window(t)
    dx, dy = x[k:] - x[:-k], y[k:] - y[:-k]
    step = np.hypot(dx, dy)
    ok = (step > 0) & np.all([np.isfinite(h[:-k]) & np.isfinite(h[k:]) for h in readings], axis=0)
    if np.count_nonzero(ok) < 20:
        return None
    moving = ok & (step >= 0.2 * np.percentile(step[ok], 90))  # not resting (heading is noise then)
    heading = np.arctan2(dy[moving], dx[moving])
    spread = 1.0 - float(np.abs(np.mean(np.exp(-1j * heading))))
    if spread < 1e-4:
        return None
    out = []
    for h in readings:
        mid = 0.5 * (h[:-k][moving] + h[k:][moving])
        out.append(1.0 - (1.0 - float(np.abs(np.mean(np.exp(1j * (mid - heading)))))) / spread)
    return out


def _guess_hd_unit(
    hd: np.ndarray,
    finite: np.ndarray,
    t: np.ndarray,
    ctx: _Context,
    x: np.ndarray | None,
    y: np.ndarray | None,
) -> str:
    """rad or deg for head direction of unknown unit (see the module docstring for the cues)."""
    h = hd[finite]
    top = float(np.max(np.abs(h)))
    if top > DEGREES_THRESHOLD:
        ctx.warn(
            f"hd reaches {top:.4g}, beyond 2π: read as degrees and converted to radians "
            "(rerun with --hd-unit rad to keep it as is)"
        )
        return "deg"
    lo, hi = float(np.min(h)), float(np.max(h))
    if hi - lo <= 0:
        return "rad"  # constant: nothing to tell units apart
    steps = np.abs(np.diff(h))
    wraps = np.count_nonzero((steps > np.pi) & (TWO_PI - steps < np.pi / 2))
    if wraps and hi - lo > 1.5 * np.pi:
        return "rad"  # it wraps around the circle at 2π
    converted = "read as degrees and converted to radians (rerun with --hd-unit rad to keep it as is)"
    if x is not None and y is not None:
        raw = np.where(finite, hd, np.nan)
        explained = _heading_explained([raw, np.deg2rad(raw)], t, x, y)
        if explained is not None:
            as_rad, as_deg = explained
            if as_deg >= HEADING_EXPLAINED and as_deg >= as_rad + HEADING_MARGIN:
                ctx.warn(
                    f"hd spans {lo:.3g} to {hi:.3g}, which fits radians or degrees; it follows the direction "
                    f"of movement only as degrees (explains {max(as_deg, 0):.0%} of its spread, "
                    f"{max(as_rad, 0):.0%} as radians): " + converted
                )
                return "deg"
            if as_rad >= HEADING_EXPLAINED and as_rad >= as_deg + HEADING_MARGIN:
                return "rad"
    distinct = np.unique(h[_sparse(h.size)])
    if distinct.size >= 3 and np.all(distinct == np.round(distinct)):
        ctx.warn(f"hd holds only whole numbers from {lo:.0f} to {hi:.0f}: " + converted)
        return "deg"
    if 1.5 * np.pi < hi - lo <= DEGREES_THRESHOLD:
        return "rad"  # covers most of the circle in radians (a wider range is no wrapped angle in radians)
    k = _window(t, TURN_WINDOW_S)
    tf = t[finite]
    if h.size > k:
        turn = np.abs(h[k:] - h[:-k]) / (tf[k:] - tf[:-k])
        median_turn = float(np.median(turn[_sparse(turn.size)]))
        if median_turn > MAX_HEAD_TURN_RAD_S >= np.deg2rad(median_turn):
            ctx.warn(
                f"hd turns at a median {median_turn:.3g} rad/s if read as radians, faster than a head turns "
                f"({MAX_HEAD_TURN_RAD_S:g} rad/s); " + converted
            )
            return "deg"
    ctx.warn(
        f"hd spans only {lo:.3g} to {hi:.3g} and nothing in the recording tells radians from degrees: "
        "loaded as radians; if these are degrees, rerun with --hd-unit deg"
    )
    return "rad"
