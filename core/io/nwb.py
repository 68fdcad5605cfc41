"""Read ASA fields from a Neurodata Without Borders (.nwb) file with pynwb (the optional ``nwb`` extra).

Spike trains come from the Units table (unit ids from its ``id`` column); position from the first
``SpatialSeries`` of the first ``Position`` container, head direction from the first ``CompassDirection``
(searched in acquisition and every processing module). Declared units are honoured: metres become cm and
degrees become radians, with a warning. The time base is the position timestamps, else the head-direction
timestamps, else a 10 ms grid spanning the spikes.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RecordingError

GRID_DT_S = 0.01  # time base when the file has no tracking
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


def pynwb_available() -> bool:
    try:
        import pynwb  # noqa: F401
    except ImportError:
        return False
    return True


def _series_values(ss: Any) -> tuple[np.ndarray, np.ndarray]:
    """(data × conversion + offset, timestamps in s) of a TimeSeries."""
    data = np.asarray(ss.data[:], dtype=np.float64)
    conversion = float(getattr(ss, "conversion", 1.0) or 1.0)
    offset = float(getattr(ss, "offset", 0.0) or 0.0)
    ts = np.asarray(ss.get_timestamps()[:], dtype=np.float64)
    return data * conversion + offset, ts


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


def read_nwb(path: Path, position_unit: str = "auto", hd_unit: str = "auto") -> NwbContent:
    """Spike trains, position (cm) and head direction (rad) of an NWB file as ASA fields."""
    name = path.name
    try:
        import pynwb
        from pynwb.behavior import CompassDirection, Position
    except ImportError:
        hint = FROZEN_HINT if getattr(sys, "frozen", False) else INSTALL_HINT
        raise RecordingError(f"{name}: reading NWB files needs pynwb; {hint}") from None

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
            ids = [int(i) for i in units.id[:]]
            column = units["spike_times"]
            spikes = {uid: np.asarray(column[i], dtype=np.float64) for i, uid in enumerate(ids)}
            out.fields["spike"] = spikes
            out.metadata = {
                "format": "nwb",
                "session_description": str(nwb.session_description),
                "identifier": str(nwb.identifier),
            }

            t: np.ndarray | None = None
            pos = _first_series(nwb, Position)
            if pos is not None:
                data, ts = _series_values(pos)
                if data.ndim == 2 and data.shape[1] >= 2:
                    t = ts
                    out.fields.update(t=ts, x=data[:, 0], y=data[:, 1])
                    declared = (pos.unit or "").strip().lower()
                    factor = _TO_CM.get(declared)
                    if position_unit == "auto" and factor is not None:
                        out.position_unit = "cm"
                        if factor != 1.0:
                            out.fields["x"] = data[:, 0] * factor
                            out.fields["y"] = data[:, 1] * factor
                            out.warnings.append(f"position converted to cm from the NWB unit '{pos.unit}'")
                else:
                    out.warnings.append(
                        f"position series '{pos.name}' has shape {data.shape}, not (time, 2); "
                        "loaded without position"
                    )

            compass = _first_series(nwb, CompassDirection)
            if compass is not None:
                data, ts = _series_values(compass)
                hd = data.reshape(data.shape[0], -1)[:, 0] if data.ndim > 1 else data
                declared = (compass.unit or "").strip().lower()
                factor = _TO_RAD.get(declared)
                if hd_unit == "auto" and factor is not None:
                    out.hd_unit = "rad"
                    if factor != 1.0:
                        hd = hd * factor
                        out.warnings.append(f"head direction converted to radians from '{compass.unit}'")
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

            if t is None:
                trains = [s[np.isfinite(s)] for s in spikes.values()]
                nonempty = [s for s in trains if s.size]
                lo = min(float(s.min()) for s in nonempty) if nonempty else 0.0
                hi = max(float(s.max()) for s in nonempty) if nonempty else GRID_DT_S
                n = int(np.floor((hi - lo) / GRID_DT_S)) + 2  # last sample strictly after the last spike
                out.fields["t"] = lo + GRID_DT_S * np.arange(n, dtype=np.float64)
                out.warnings.append(
                    f"no position or head direction in the NWB file; using a {GRID_DT_S * 1000:.0f} ms time "
                    f"base spanning the spikes ({lo:.1f}–{hi:.1f} s)"
                )
    return out
