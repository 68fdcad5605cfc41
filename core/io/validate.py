"""Turn the raw fields read from any file format into a clean ``Recording`` plus plain-English warnings.

Every loader hands ``build_recording`` a mapping of field name → value (arrays, lists, dicts of arrays, ...).
Fatal problems raise one ``RecordingError`` whose message names the file, the field and what to do; fixable
ones (NaN gaps, unsorted trains, spikes outside the time base, ...) are repaired and reported as warnings.
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
METRES_SPAN = 5.0  # an arena narrower than this many units in x and y looks like metres
DEGREES_THRESHOLD = TWO_PI + 0.1  # hd beyond this (in absolute value) looks like degrees
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
}
_HD_UNITS = {"auto": "auto", "rad": "rad", "radians": "rad", "deg": "deg", "degrees": "deg"}


def normalise_units(position_unit: str, hd_unit: str) -> tuple[str, str]:
    """Check the unit options: position "auto" | "cm" | "m", head direction "auto" | "rad" | "deg"."""
    pos = _POSITION_UNITS.get(str(position_unit).strip().lower())
    hd = _HD_UNITS.get(str(hd_unit).strip().lower())
    if pos is None:
        raise ConfigError(f"position unit {position_unit!r} is not one of auto, cm, m")
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
        position_unit: "auto" (warn if x/y look like metres), "cm" (as is) or "m" (× 100 to cm).
        hd_unit: "auto" (degrees converted with a warning when hd exceeds 2π), "rad" or "deg".
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
    unit_ids, trains, rates = _spikes(fields["spike"], fields.get("unit_ids"), t, ctx)
    x, y = _position(fields.get("x"), fields.get("y"), t, pos_unit, ctx)
    hd = _head_direction(fields.get("hd"), t, hd_u, ctx)
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
    return np.ascontiguousarray(t)


# ------------------------------------------------------------------------------------------------ spikes


def _spikes(
    value: Any, ids_value: Any, t: np.ndarray, ctx: _Context
) -> tuple[list[Any], list[np.ndarray], np.ndarray | None]:
    """Unit ids, cleaned spike trains and (for a dense matrix) the (T, N) rate matrix."""
    value = _unwrap0d(value)
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
        trains = list(vec)
        return _clean_trains(_ids_for(ids_value, len(trains), ctx), trains, t, ctx)
    if isinstance(value, np.ndarray) or hasattr(value, "toarray"):
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
    if unit == "m":
        x *= 100.0
        y *= 100.0
    missing = ~(np.isfinite(x) & np.isfinite(y))
    _check_missing(missing, "x/y", "position", t, ctx)
    if missing.any():
        ok = ~missing
        x[missing] = np.interp(t[missing], t[ok], x[ok])
        y[missing] = np.interp(t[missing], t[ok], y[ok])
    if unit == "auto":
        sx, sy = float(np.ptp(x)), float(np.ptp(y))
        if sx < METRES_SPAN and sy < METRES_SPAN:
            ctx.warn(
                f"x/y span only {sx:.2g} × {sy:.2g} — these look like metres; rerun with --position-unit m "
                "to convert to cm"
            )
    return x, y


def _head_direction(value: Any, t: np.ndarray, unit: str, ctx: _Context) -> np.ndarray | None:
    if value is None:
        return None
    hd = _vector_field(value, "hd", t, ctx)
    if hd.size == 0:
        ctx.warn("hd is empty; loaded without head direction")
        return None
    finite = np.isfinite(hd)
    if unit == "auto" and finite.any():
        top = float(np.max(np.abs(hd[finite])))
        if top > DEGREES_THRESHOLD:
            unit = "deg"
            ctx.warn(
                f"hd reaches {top:.4g}, beyond 2π: read as degrees and converted to radians "
                "(use --hd-unit rad to keep it as is)"
            )
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
