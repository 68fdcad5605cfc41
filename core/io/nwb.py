"""Read ASA fields from a Neurodata Without Borders (.nwb) file with pynwb (the optional ``nwb`` extra).

Spike trains come from the Units table (unit ids from its ``id`` column); position from the first
``SpatialSeries`` of the first ``Position`` container, head direction from the first ``CompassDirection``
(searched in acquisition and every processing module). Declared units are honoured: metres become cm and
degrees become radians, with a warning. The time base is the position timestamps, else the head-direction
timestamps, else a 10 ms grid spanning the spikes.

What the file claims is checked before it is used: a file with links to other files is refused (before
pynwb follows them); every dataset read is checked for size, external storage, virtual layout and never
written data (``core.io.matlab.check_h5_dataset``); the ragged ``spike_times_index`` must be one
non-decreasing end offset per unit ending at ``len(spike_times)``; spike times that fit the session only
once divided by 1000 (milliseconds) or by a sampling rate are refused, as is a 10 ms grid over more than
a day of spikes with nothing to check it against; an arena wider than 10 m after the declared unit is
refused; a CompassDirection whose values contradict its declared unit is read in the unit the values
show, with a warning.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RecordingError
from core.io.limits import check_allocation
from core.io.matlab import MAX_VARIABLES, check_h5_dataset

GRID_DT_S = 0.01  # time base when the file has no tracking
MAX_ARENA_CM = 1000.0  # an arena side beyond 10 m is not a lab arena: the declared unit is wrong
MAX_UNTRACKED_SPAN_S = 86_400.0  # spikes spanning more than a day, with nothing in the file to check them
MAX_LINKS = 1_000_000  # links walked when looking for links to other files
MIN_FIT = 0.9  # share of spikes that must fall in the session after a unit conversion to name that unit
INSTALL_HINT = "install the nwb extra: pip install -e '.[nwb]' in the source checkout"
FROZEN_HINT = "this installed build leaves NWB out; use a source install or a build with CANNS_BUNDLE_NWB=1"

_TO_CM = {
    "m": 100.0,
    "meter": 100.0,
    "meters": 100.0,
    "metre": 100.0,
    "metres": 100.0,
    "cm": 1.0,
    "centimeter": 1.0,
    "centimeters": 1.0,
    "centimetre": 1.0,
    "centimetres": 1.0,
    "mm": 0.1,
    "millimeter": 0.1,
    "millimeters": 0.1,
    "millimetre": 0.1,
    "millimetres": 0.1,
}
_DEG = np.pi / 180.0
_TO_RAD = {"rad": 1.0, "radian": 1.0, "radians": 1.0, "deg": _DEG, "degree": _DEG, "degrees": _DEG}


@dataclass
class NwbContent:
    """What a reader found: raw ASA fields, its warnings, the units validation should assume, metadata."""

    fields: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    position_unit: str = "auto"
    hd_unit: str = "auto"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A reader that returns ``ReaderFields`` (core.io.matlab) carries its own warnings: keep them.
        carried = getattr(self.fields, "warnings", None)
        if carried:
            self.warnings = list(carried) + [w for w in self.warnings if w not in carried]


def pynwb_available() -> bool:
    try:
        import pynwb  # noqa: F401
    except ImportError:
        return False
    return True


class _Guard:
    """Checks each HDF5 dataset of one file before it is read."""

    def __init__(self, name: str, file_bytes: int) -> None:
        self.name, self.file_bytes = name, file_bytes

    def values(self, data: Any, what: str) -> np.ndarray:
        """``data`` (an h5py dataset or in-memory values) as float64, checked before reading."""
        try:
            return self.array(data, what).astype(np.float64, copy=False)
        except (TypeError, ValueError):
            raise RecordingError(f"{self.name}: {what} is not numeric") from None

    def safe(self, data: Any) -> bool:
        """Whether a few values of ``data`` can be read (no external storage, virtual layout or fill)."""
        import h5py

        if not isinstance(data, h5py.Dataset):
            return True
        try:
            check_h5_dataset(data, self.name, self.file_bytes)
        except RecordingError:
            return False
        return True

    def array(self, data: Any, what: str) -> np.ndarray:
        """``data`` as stored (an h5py dataset checked before reading)."""
        import h5py

        if isinstance(data, h5py.Dataset):
            check_h5_dataset(data, f"{self.name}: {what}", self.file_bytes)
            data = data[()]
        return np.asarray(data)

    def length(self, data: Any) -> int:
        shape = getattr(data, "shape", None)
        return int(shape[0]) if shape else len(data)


def _series_values(ss: Any, guard: _Guard) -> tuple[np.ndarray, np.ndarray]:
    """(data × conversion + offset, timestamps in s) of a TimeSeries."""
    data = guard.values(ss.data, f"{type(ss).__name__} '{ss.name}' data")
    conversion = float(getattr(ss, "conversion", 1.0) or 1.0)
    offset = float(getattr(ss, "offset", 0.0) or 0.0)
    if ss.timestamps is not None:
        ts = guard.values(ss.timestamps, f"{type(ss).__name__} '{ss.name}' timestamps")
    else:
        ts = np.asarray(ss.get_timestamps(), dtype=np.float64)  # from starting_time and rate
    return data * conversion + offset, ts


def _corrupt_index(name: str, detail: str) -> RecordingError:
    """The refusal for a Units table whose ragged ``spike_times_index`` cannot be trusted."""
    return RecordingError(
        f"{name}: the Units table's spike_times_index is corrupt: {detail}; the units' spike trains cannot "
        "be told apart — write the file again (nwbfile.add_unit(spike_times=...))"
    )


def _count_detail(n_index: int, n_units: int) -> str:
    return f"it has {n_index} entries but the table has {n_units} units (one end offset per unit is needed)"


def _preflight(path: Path) -> None:
    """Before pynwb reads the file: refuse links to other files (pynwb would open and read them) and a
    Units table whose ragged index and ids differ in length (pynwb would fail with a builder dump)."""
    import h5py

    name = path.name
    with h5py.File(path, "r") as f:
        units = f.get("units")
        if isinstance(units, h5py.Group):
            ids, index = units.get("id"), units.get("spike_times_index")
            shapes = [d.shape for d in (ids, index) if isinstance(d, h5py.Dataset) and d.shape]
            if len(shapes) == 2 and shapes[0][0] != shapes[1][0]:
                raise _corrupt_index(name, _count_detail(shapes[1][0], shapes[0][0]))
        seen: set[int] = {h5py.h5o.get_info(f.id).addr}
        stack: list[tuple[Any, str]] = [(f.id, "")]
        walked = 0
        while stack:
            gid, where = stack.pop()
            for raw in gid:
                walked += 1
                if walked > MAX_LINKS:
                    raise RecordingError(f"{name}: more than {MAX_LINKS:,} HDF5 links; not a recording")
                link = f"{where}/{raw.decode('utf-8', 'backslashreplace')}"
                kind = gid.links.get_info(raw).type
                if kind == h5py.h5l.TYPE_EXTERNAL:
                    target_file, target = (
                        v.decode("utf-8", "backslashreplace") for v in gid.links.get_val(raw)
                    )
                    raise RecordingError(
                        f"{name}: '{link}' is an external link to '{target_file}:{target}'; links to other "
                        "files are not followed (data would come from another file) — write a self-contained "
                        "NWB file (e.g. NWBHDF5IO.export)"
                    )
                if kind not in (h5py.h5l.TYPE_HARD, h5py.h5l.TYPE_SOFT):
                    raise RecordingError(
                        f"{name}: '{link}' is a user-defined HDF5 link (type {kind}); only links within the "
                        "file are read"
                    )
                if kind != h5py.h5l.TYPE_HARD:
                    continue  # a soft link names an object reached by hard links, or nothing
                child = h5py.h5o.open(gid, raw)
                if isinstance(child, h5py.h5g.GroupID):
                    addr = h5py.h5o.get_info(child).addr
                    if addr not in seen:
                        seen.add(addr)
                        stack.append((child, link))


def _ragged_trains(units: Any, guard: _Guard) -> dict[int, np.ndarray]:
    """Unit id → spike times from the Units table, its ragged index checked before it is trusted."""
    from hdmf.common.table import VectorIndex

    name = guard.name
    ids_raw = guard.array(units.id.data, "the Units table's id column")
    column = units["spike_times"]
    if isinstance(column, VectorIndex):
        index = guard.array(column.data, "spike_times_index")
        values = guard.values(column.target.data, "spike_times")
    else:  # one spike time per unit, not ragged
        values = guard.values(column.data, "spike_times")
        index = np.arange(1, values.shape[0] + 1) if values.ndim == 1 else np.zeros((0, 0), dtype=np.int64)
    if index.ndim != 1 or values.ndim != 1 or ids_raw.ndim != 1:
        raise _corrupt_index(name, "spike_times, its index and id must be vectors")
    n_units, n_spikes = ids_raw.shape[0], values.shape[0]
    if index.shape[0] != n_units:
        raise _corrupt_index(name, _count_detail(index.shape[0], n_units))
    if index.dtype.kind not in "iu":
        raise _corrupt_index(name, f"it holds {index.dtype} values, not whole offsets")
    if ids_raw.dtype.kind not in "iu":
        raise RecordingError(f"{name}: the Units table's id column holds {ids_raw.dtype}, not integers")
    index = index.astype(np.int64)  # unsigned offsets would wrap below zero in np.diff
    if n_units and index[0] < 0:
        raise _corrupt_index(name, f"its first end offset is negative ({int(index[0])})")
    down = np.flatnonzero(np.diff(index) < 0)
    if down.size:
        i = int(down[0]) + 1
        raise _corrupt_index(
            name, f"it decreases at unit row {i} (end offset {int(index[i])} after {int(index[i - 1])})"
        )
    end = int(index[-1]) if n_units else 0
    if end != n_spikes:
        how = "points past the end of" if end > n_spikes else "leaves spikes that belong to no unit in"
        raise _corrupt_index(
            name, f"it ends at offset {end} and so {how} spike_times ({n_spikes} spike times)"
        )
    ids = [int(i) for i in ids_raw]
    bounds = np.concatenate(([0], index))
    return {uid: values[bounds[i] : bounds[i + 1]] for i, uid in enumerate(ids)}


def _session_span(nwb: Any, guard: _Guard) -> tuple[float, float] | None:
    """The time span (s) of everything else in the file that has times: series, trials, epochs."""
    from pynwb.base import TimeSeries

    lo, hi = np.inf, -np.inf
    for obj in list(nwb.objects.values())[:MAX_VARIABLES]:
        try:
            if isinstance(obj, TimeSeries):
                n = guard.length(obj.data)
                if obj.timestamps is not None:
                    ts = obj.timestamps
                    if guard.length(ts) == 0 or not guard.safe(ts):
                        continue
                    first, last = float(ts[0]), float(ts[-1])
                elif obj.rate and n:
                    first = float(obj.starting_time or 0.0)
                    last = first + n / float(obj.rate)
                else:
                    continue
            elif getattr(obj, "neurodata_type", "") == "TimeIntervals" and len(obj):
                first = float(np.nanmin(guard.values(obj["start_time"].data, f"{obj.name} start_time")))
                last = float(np.nanmax(guard.values(obj["stop_time"].data, f"{obj.name} stop_time")))
            else:
                continue
        except RecordingError:
            continue  # a series that cannot be read safely tells nothing about the session
        except (TypeError, ValueError, KeyError, IndexError, OSError):
            continue
        if np.isfinite(first) and np.isfinite(last):
            lo, hi = min(lo, first), max(hi, last)
    return (lo, hi) if hi > lo else None


def _check_time_base(
    name: str, spikes: dict[int, np.ndarray], span: tuple[float, float] | None, label: str
) -> None:
    """Refuse spike times that are plainly not in seconds on the session's clock."""
    trains = [s[np.isfinite(s)] for s in spikes.values()]
    flat = np.concatenate(trains) if trains else np.empty(0)
    if flat.size == 0:
        return
    lo, hi = float(flat.min()), float(flat.max())
    if span is None:
        if hi - lo > MAX_UNTRACKED_SPAN_S:
            raise RecordingError(
                f"{name}: the spike times span {hi - lo:,.0f} s ({(hi - lo) / 3600:.1f} h) and the file "
                "has no tracking or other time series to check them against; NWB times are in seconds — "
                "if these are milliseconds, divide spike_times by 1000 and write the file again"
            )
        return
    r0, r1 = span
    tol = max(1.0, 0.1 * (r1 - r0))
    inside = np.count_nonzero((flat >= r0 - tol) & (flat <= r1 + tol)) / flat.size
    if inside >= 0.5 or hi <= r1 + tol:
        return
    # A conversion is named only when it makes the spikes both fall inside the session and cover it.
    ratio = (hi - lo) / max(r1 - r0, GRID_DT_S)
    candidates = [(1e3, "milliseconds", "divide them by 1,000"), (1e6, "microseconds", "divide them by 1e6")]
    if 5e3 <= ratio <= 2e5:
        candidates.append(
            (ratio, f"sample indices at about {ratio:,.0f} Hz", "divide them by the sampling rate")
        )
    for divisor, unit, how in candidates:
        if not 0.5 <= ratio / divisor <= 2.0:
            continue
        scaled = flat / divisor
        fit = np.count_nonzero((scaled >= r0 - tol) & (scaled <= r1 + tol)) / flat.size
        if fit >= MIN_FIT:
            raise RecordingError(
                f"{name}: the spike times ({lo:,.6g}–{hi:,.6g}) lie far outside the {label} "
                f"({r0:.6g}–{r1:.6g} s) and fit it once divided by {divisor:,.6g}: they look like {unit}. "
                f"NWB times are in seconds — {how} and write the file again"
            )


def _containers(nwb: Any) -> list[Any]:
    found = list(nwb.acquisition.values())
    for module in nwb.processing.values():
        found.extend(module.data_interfaces.values())
    return found


def _first_series(nwb: Any, cls: type) -> Any:
    for container in _containers(nwb):
        if isinstance(container, cls) and len(container.spatial_series):
            return next(iter(container.spatial_series.values()))
    return None


def _resample_angle(values: np.ndarray, ts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Angles (rad) sampled at ``ts`` → at ``t``, interpolating the unwrapped angle (ends held)."""
    ok = np.isfinite(values) & np.isfinite(ts)
    if ok.sum() < 2:
        return np.full(t.shape, np.nan)
    return np.interp(t, ts[ok], np.unwrap(values[ok]))


def _position(pos: Any, guard: _Guard, position_unit: str, out: NwbContent) -> np.ndarray | None:
    """Fill x/y (and t) from the Position series; refuse an arena no lab has. Returns the timestamps."""
    name = guard.name
    data, ts = _series_values(pos, guard)
    if not (data.ndim == 2 and data.shape[1] >= 2):
        out.warnings.append(
            f"position series '{pos.name}' has shape {data.shape}, not (time, 2); loaded without position"
        )
        return None
    x, y = data[:, 0], data[:, 1]
    declared_text = str(pos.unit or "")
    declared = declared_text.strip().lower()
    factor = _TO_CM.get(declared)
    if position_unit == "auto":
        if factor is not None:
            out.position_unit = "cm"
            x, y = x * factor, y * factor
            if factor != 1.0:
                out.warnings.append(f"position converted to cm from the NWB unit '{declared_text}'")
            finite = np.isfinite(x) & np.isfinite(y)
            if finite.any():
                sx, sy = float(np.ptp(x[finite])), float(np.ptp(y[finite]))
                if max(sx, sy) > MAX_ARENA_CM:
                    raise RecordingError(
                        f"{name}: the position spans {sx / 100:.3g} × {sy / 100:.3g} m once read in the "
                        f"declared unit '{declared_text}' — larger than any plausible arena "
                        f"({MAX_ARENA_CM / 100:.0f} m); the data are probably in cm or pixels under pynwb's "
                        "default unit 'meters'. Set SpatialSeries.unit to the real unit, or load with "
                        "position unit cm (--position-unit cm)"
                    )
        elif declared:
            out.warnings.append(
                f"position unit '{declared_text}' is not a length unit this reader knows (m, cm, mm); "
                "x/y read as they are"
            )
    out.fields.update(t=ts, x=x, y=y)
    return ts


def _head_direction(
    compass: Any, guard: _Guard, hd_unit: str, out: NwbContent
) -> tuple[np.ndarray, np.ndarray]:
    """(hd, timestamps) from the CompassDirection series, the declared unit checked against the values."""
    data, ts = _series_values(compass, guard)
    hd = data.reshape(data.shape[0], -1)[:, 0] if data.ndim > 1 else data
    declared_text = str(compass.unit or "")
    factor = _TO_RAD.get(declared_text.strip().lower())
    if hd_unit != "auto" or factor is None:
        return hd, ts
    finite = hd[np.isfinite(hd)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    spread = float(np.ptp(finite)) if finite.size else 0.0
    out.hd_unit = "rad"
    if factor == 1.0 and top > 2 * np.pi + 0.1:
        out.warnings.append(
            f"head direction declares '{declared_text}' but reaches {top:.4g}, beyond 2π: read as degrees "
            "and converted to radians (load with --hd-unit rad to keep the values as they are)"
        )
        return hd * _DEG, ts
    if factor != 1.0 and top <= 2 * np.pi + 0.1 and spread > np.pi and finite.size >= 100:
        out.warnings.append(
            f"head direction declares '{declared_text}' but all values lie within ±2π and span {spread:.3g}: "
            "read as radians (load with --hd-unit deg to read them as degrees)"
        )
        return hd, ts
    if factor != 1.0:
        out.warnings.append(f"head direction converted to radians from '{declared_text}'")
    return hd * factor, ts


def read_nwb(path: Path, position_unit: str = "auto", hd_unit: str = "auto") -> NwbContent:
    """Spike trains, position (cm) and head direction (rad) of an NWB file as ASA fields."""
    name = path.name
    try:
        import pynwb
        from pynwb.behavior import CompassDirection, Position
    except ImportError:
        hint = FROZEN_HINT if getattr(sys, "frozen", False) else INSTALL_HINT
        raise RecordingError(f"{name}: reading NWB files needs pynwb; {hint}") from None

    _preflight(path)
    guard = _Guard(name, path.stat().st_size)
    out = NwbContent(fields={}, position_unit=position_unit, hd_unit=hd_unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            nwb = io.read()
            units = nwb.units
            if units is None or len(units) == 0 or "spike_times" not in units.colnames:
                raise RecordingError(
                    f"{name}: the NWB file has no Units table with spike_times; add the sorted units "
                    "(nwbfile.add_unit(spike_times=...)) and save again"
                )
            spikes = _ragged_trains(units, guard)
            out.fields["spike"] = spikes
            out.metadata = {
                "format": "nwb",
                "session_description": str(nwb.session_description),
                "identifier": str(nwb.identifier),
            }

            t: np.ndarray | None = None
            pos = _first_series(nwb, Position)
            if pos is not None:
                t = _position(pos, guard, position_unit, out)

            compass = _first_series(nwb, CompassDirection)
            if compass is not None:
                hd, ts = _head_direction(compass, guard, hd_unit, out)
                if t is None:
                    t = ts
                    out.fields["t"] = ts
                    out.fields["hd"] = hd
                elif ts.shape == t.shape and np.allclose(ts, t):
                    out.fields["hd"] = hd
                else:
                    if out.hd_unit != "rad" and np.nanmax(np.abs(hd), initial=0.0) > 2 * np.pi + 0.1:
                        hd = np.deg2rad(hd)  # resampling needs radians; same rule as validation
                        out.hd_unit = "rad"
                        out.warnings.append("head direction looked like degrees; converted to radians")
                    out.fields["hd"] = _resample_angle(hd, ts, t)
                    out.warnings.append("head direction resampled onto the position timestamps")

            if t is not None and t.size and np.isfinite(t[[0, -1]]).all():
                _check_time_base(name, spikes, (float(t[0]), float(t[-1])), "tracking")
            else:
                _check_time_base(name, spikes, _session_span(nwb, guard), "session's other time series")

            if t is None:
                trains = [s[np.isfinite(s)] for s in spikes.values()]
                nonempty = [s for s in trains if s.size]
                lo = min(float(s.min()) for s in nonempty) if nonempty else 0.0
                hi = max(float(s.max()) for s in nonempty) if nonempty else GRID_DT_S
                n = int(np.floor((hi - lo) / GRID_DT_S)) + 2  # last sample strictly after the last spike
                check_allocation(f"{name}: a {GRID_DT_S * 1000:.0f} ms time base over the spikes", 8 * n)
                out.fields["t"] = lo + GRID_DT_S * np.arange(n, dtype=np.float64)
                out.warnings.append(
                    f"no position or head direction in the NWB file; using a {GRID_DT_S * 1000:.0f} ms time "
                    f"base spanning the spikes ({lo:.1f}–{hi:.1f} s)"
                )
    return out
