"""Read ASA fields from MATLAB files: v5/v7 through scipy.io, v7.3 (HDF5) through h5py.

Cell arrays become object arrays, structs become dicts (a struct whose fields are units is a valid
``spike``). In v7.3 files MATLAB writes arrays column-major, so datasets tagged with ``MATLAB_class`` are
transposed back to MATLAB's orientation; any remaining time/unit orientation question is settled in
validation by matching ``len(t)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_DEPTH = 16  # nesting of cells/structs followed in a v7.3 file


def hdf5_offset(head: bytes) -> int | None:
    """Offset of the HDF5 signature in the first bytes of a file (0 or 512 for MATLAB v7.3), else None."""
    for off in (0, 512):
        if head[off : off + len(HDF5_MAGIC)] == HDF5_MAGIC:
            return off
    return None


# ---------------------------------------------------------------------------------------------------- v5


def _from_scipy(value: Any, depth: int = 0) -> Any:
    """scipy.io.loadmat values → plain numpy/dicts: mat_struct → dict, cells → object arrays."""
    from scipy.io.matlab import mat_struct

    if depth > MAX_DEPTH:
        return value
    if isinstance(value, mat_struct):
        return {f: _from_scipy(getattr(value, f), depth + 1) for f in value._fieldnames}
    if isinstance(value, np.ndarray) and value.dtype == object:
        out = np.empty(value.shape, dtype=object)
        for idx, item in np.ndenumerate(value):
            out[idx] = _from_scipy(item, depth + 1)
        return out
    return value


def read_mat_v5(path: Path) -> dict[str, Any]:
    """Variables of a MATLAB v5/v7 file (``__header__`` etc. dropped)."""
    import scipy.io

    raw = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False, chars_as_strings=True)
    return {k: _from_scipy(v) for k, v in raw.items() if not k.startswith("__")}


# -------------------------------------------------------------------------------------------------- v7.3


def _decode_attr(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _decode_attr(value.reshape(-1)[0])
    return str(value)


def _read_h5(obj: Any, f: Any, depth: int) -> Any:
    import h5py

    if depth > MAX_DEPTH:
        raise ValueError(f"{obj.name}: cells/structs nested more than {MAX_DEPTH} deep")
    if isinstance(obj, h5py.Group):
        return {k: _read_h5(obj[k], f, depth + 1) for k in obj if not k.startswith("#")}
    mclass = _decode_attr(obj.attrs["MATLAB_class"]) if "MATLAB_class" in obj.attrs else None
    if mclass is not None and "MATLAB_empty" in obj.attrs and int(np.asarray(obj.attrs["MATLAB_empty"])):
        return np.empty(0, dtype=np.float64)
    data = obj[()]
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    data = np.asarray(data)
    if mclass is not None and data.ndim >= 2:
        data = data.T  # back to MATLAB's (row, column) order
    if data.dtype.kind == "O" and data.size and isinstance(data.reshape(-1)[0], h5py.Reference):
        out = np.empty(data.shape, dtype=object)
        for idx, ref in np.ndenumerate(data):
            out[idx] = _read_h5(f[ref], f, depth + 1) if ref else np.empty(0)
        return out
    if mclass == "char":
        return "".join(chr(c) for c in data.reshape(-1, order="F"))
    if mclass == "logical":
        return data.astype(bool)
    if data.dtype.kind == "S":
        return data.astype(str)
    if data.dtype.kind == "O":  # variable-length strings written by h5py
        return np.asarray([v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in data.ravel()])
    if data.dtype.names and {"real", "imag"} <= set(data.dtype.names):
        return data["real"] + 1j * data["imag"]
    return data


def read_mat_v73(path: Path) -> dict[str, Any]:
    """Top-level variables of a MATLAB v7.3 (HDF5) file; also reads plain HDF5 files with the same names."""
    import h5py

    with h5py.File(path, "r") as f:
        return {k: _read_h5(f[k], f, 0) for k in f if not k.startswith("#")}
