"""Stage results cached by a hash of their inputs and config, so repeating a step never recomputes.

:class:`StageCache` keeps recent results in memory and, given a :class:`DiskCache`, on disk too, so a new
process (a reopened project, a rerun of the same analysis) loads them instead of recomputing. Disk entries
are ``<key>.npz`` files holding the result's arrays and a JSON description of everything else; they are read
with ``allow_pickle=False`` and only registered dataclasses are rebuilt: loading never executes file code.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import tempfile
import time
from collections import OrderedDict
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.recording import Recording


def config_hash(*parts: Any) -> str:
    """Stable hex digest of configs (dataclasses), strings and numbers."""
    h = hashlib.sha256()
    for part in parts:
        value = asdict(part) if is_dataclass(part) else part
        h.update(json.dumps(value, sort_keys=True, default=str).encode())
    return h.hexdigest()


def recording_fingerprint(recording: Recording) -> str:
    """Hex digest of a recording's content (spikes, rates, time base, tracking), independent of its file."""
    h = hashlib.sha256()
    for arr in (recording.t, recording.x, recording.y, recording.hd, recording.rates):
        h.update(b"-" if arr is None else np.ascontiguousarray(arr).tobytes())
    for uid, train in zip(recording.unit_ids, recording.spike_times, strict=True):
        h.update(str(uid).encode())
        h.update(np.ascontiguousarray(train, dtype=np.float64).tobytes())
    return h.hexdigest()


class StageCache:
    """In-memory LRU of stage results keyed by digest, in front of an optional :class:`DiskCache`.

    ``hits`` counts results found (in memory or on disk), ``disk_hits`` those loaded from disk.
    """

    def __init__(self, max_items: int = 32, disk: DiskCache | None = None) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self.max_items = max_items
        self.disk = disk
        self.hits = 0
        self.disk_hits = 0

    def get(self, key: str) -> Any | None:
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        if self.disk is not None:
            value = self.disk.get(key)
            if value is not None:
                self.hits += 1
                self.disk_hits += 1
                self._remember(key, value)
                return value
        return None

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` in memory and, when it can be encoded, on disk."""
        self._remember(key, value)
        if self.disk is not None:
            self.disk.put(key, value)

    def _remember(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


# The disk layer ---------------------------------------------------------------------------------------------

DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB of result files per cache folder
CACHE_FORMAT = "canns-gui stage result"
CODEC_VERSION = 1
META = "__meta__"  # the npz member holding the entry's JSON (UTF-8 bytes as uint8)
ENTRY = re.compile(r"[0-9a-f]{16,128}\.npz")  # the only files a DiskCache reads, evicts or clears
TMP_PREFIX, TMP_SUFFIX = ".", ".npz.tmp"
STALE_TMP_S = 3600.0  # a temporary file this old (s) is left from a crashed write and removed

# Dataclasses a disk entry may rebuild, by "module.QualName"; nothing else is ever instantiated on load.
RESULT_TYPES: set[str] = {
    "core.preprocess.RateMatrix",
    "core.preprocess.PreprocessConfig",
    "core.pointcloud.PointCloud",
    "core.pointcloud.PointCloudConfig",
    "core.homology.Persistence",
    "core.homology.PersistenceConfig",
    "core.significance.Significance",
    "core.significance.GapTest",
    "core.significance.SignificanceConfig",
    "core.decoding.Decoding",
    "core.decoding.DecodeConfig",
}
_registered: dict[str, type] = {}


class UnencodableError(TypeError):
    """A value the disk codec cannot store as arrays and JSON (it then stays in memory only)."""


def default_cache_folder() -> Path:
    """``<user cache dir>/canns-gui/results`` (platformdirs), where results persist between runs."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("canns-gui", appauthor=False)) / "results"


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register_result_type(cls: type) -> type:
    """Allow instances of dataclass ``cls`` in disk entries (usable as a class decorator)."""
    if not (isinstance(cls, type) and is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    name = _type_name(cls)
    RESULT_TYPES.add(name)
    _registered[name] = cls
    return cls


def _resolve(name: str) -> type:
    """The registered dataclass called ``name``; ValueError for any other name (it is never imported)."""
    if not isinstance(name, str) or name not in RESULT_TYPES:
        raise ValueError(f"{name!r} is not a registered result type")
    cls = _registered.get(name)
    if cls is None:
        module, _, qualname = name.rpartition(".")
        cls = getattr(importlib.import_module(module), qualname, None)
        if not (isinstance(cls, type) and is_dataclass(cls) and _type_name(cls) == name):
            raise ValueError(f"{name!r} does not name a dataclass")
        _registered[name] = cls
    return cls


def encode_value(value: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON-safe tree, arrays by name) for a result built of registered dataclasses, numpy arrays (no
    object dtype), numpy and Python scalars, strings, None, lists, tuples and dicts.
    Raises :class:`UnencodableError` for anything else."""
    arrays: dict[str, np.ndarray] = {}
    return _encode(value, arrays), arrays


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> dict:
    if value is None:
        return {"t": "none"}
    if isinstance(value, np.generic):  # before Python scalars: np.float64 is a float, kept as np.float64
        if value.dtype.kind in "biuf":
            return {"t": "s", "d": value.dtype.str, "v": value.item()}
        if isinstance(value, str):
            return {"t": "v", "v": str(value)}
        raise UnencodableError(f"numpy scalar of dtype {value.dtype}")
    if isinstance(value, (bool, int, float, str)):
        return {"t": "v", "v": value}
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray or value.dtype.hasobject:
            raise UnencodableError(f"array of type {type(value).__name__}, dtype {value.dtype}")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"t": "a", "k": name}
    if is_dataclass(value) and not isinstance(value, type):
        name = _type_name(type(value))
        if name not in RESULT_TYPES:
            raise UnencodableError(f"{name} is not a registered result type")
        items = {f.name: _encode(getattr(value, f.name), arrays) for f in fields(value) if f.init}
        return {"t": "dc", "c": name, "f": items}
    if isinstance(value, (list, tuple)):
        return {"t": "l" if isinstance(value, list) else "tu", "v": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"t": "d", "v": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    raise UnencodableError(f"cannot store a {type(value).__name__} on disk")


def decode_value(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The value :func:`encode_value` described; ValueError/KeyError/TypeError when ``tree`` is malformed."""
    if not isinstance(tree, dict):
        raise ValueError("malformed entry")
    kind = tree.get("t")
    if kind == "none":
        return None
    if kind == "v":
        value = tree["v"]
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError("malformed scalar")
        return value
    if kind == "s":
        dtype = np.dtype(str(tree["d"]))
        if dtype.kind not in "biuf":
            raise ValueError(f"scalar dtype {dtype} not allowed")
        return dtype.type(tree["v"])
    if kind == "a":
        return arrays[str(tree["k"])]
    if kind in ("l", "tu"):
        items = [decode_value(v, arrays) for v in tree["v"]]
        return items if kind == "l" else tuple(items)
    if kind == "d":
        return {decode_value(k, arrays): decode_value(v, arrays) for k, v in tree["v"]}
    if kind == "dc":
        cls = _resolve(tree["c"])
        given = tree["f"]
        allowed = {f.name for f in fields(cls) if f.init}
        if not isinstance(given, dict) or not set(given) <= allowed:
            raise ValueError(f"fields of {tree['c']} do not match")
        return cls(**{name: decode_value(v, arrays) for name, v in given.items()})
    raise ValueError(f"unknown node {kind!r}")


def entry_arrays(key: str, value: Any) -> dict[str, np.ndarray]:
    """The npz members of an entry: the value's arrays and its JSON tree (``META``, UTF-8 bytes as uint8);
    raises :class:`UnencodableError` when ``value`` cannot be stored."""
    tree, arrays = encode_value(value)
    meta = json.dumps({"format": CACHE_FORMAT, "version": CODEC_VERSION, "key": key, "value": tree})
    arrays[META] = np.frombuffer(meta.encode(), dtype=np.uint8)
    return arrays


def read_entry(path: str | os.PathLike, key: str | None = None) -> Any:
    """The value stored in the npz at ``path`` (by ``key`` when given), read with ``allow_pickle=False``;
    raises (ValueError, OSError, KeyError, …) for anything that is not an intact entry."""
    data = np.load(path, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("not an npz file")
    with data:
        meta = json.loads(data[META].tobytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT:
            raise ValueError("not a canns-gui cache entry")
        if meta.get("version") != CODEC_VERSION or (key is not None and meta.get("key") != key):
            raise ValueError("entry of another version or key")
        arrays = {name: data[name] for name in data.files if name != META}
    return decode_value(meta["value"], arrays)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _touch(path: Path) -> None:
    """Mark ``path`` as used now (the LRU order uses modification times, set here to the nanosecond)."""
    now = time.time_ns()
    with contextlib.suppress(OSError):
        os.utime(path, ns=(now, now))


class DiskCache:
    """Stage results as ``<key>.npz`` files in ``folder``, at most ``max_bytes`` (bytes) in all: the least
    recently used go first. ``read_also``: further folders searched (read only) when ``folder`` misses.

    Writes are atomic (a temporary file renamed into place). A file that cannot be read back as an entry
    (truncated, corrupt, foreign, or holding pickled objects) is a miss and is deleted; nothing here raises
    on a disk problem. Only files named like entries are ever read, evicted or cleared.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        max_bytes: int = DEFAULT_MAX_BYTES,
        read_also: tuple[str | os.PathLike, ...] = (),
    ) -> None:
        self.folder = Path(folder).expanduser()
        self.max_bytes = int(max_bytes)
        self.read_also = tuple(Path(f).expanduser() for f in read_also)
        self.hits = 0
        self.rejected = 0  # unreadable files met (and removed from ``folder``)

    def path(self, key: str, folder: Path | None = None) -> Path:
        """The file of ``key`` (a hex digest is its own name; other keys are hashed)."""
        name = key if ENTRY.fullmatch(f"{key}.npz") else hashlib.sha256(key.encode()).hexdigest()
        return (folder or self.folder) / f"{name}.npz"

    def __contains__(self, key: str) -> bool:
        return any(self.path(key, folder).is_file() for folder in (self.folder, *self.read_also))

    def get(self, key: str) -> Any | None:
        """The stored value of ``key``, or None (a miss)."""
        for folder in (self.folder, *self.read_also):
            path = self.path(key, folder)
            if not path.is_file():
                continue
            try:
                value = read_entry(path, key)
            except Exception:  # whatever is wrong with the file, it is a miss and never a crash
                self.rejected += 1
                if folder == self.folder:
                    _remove(path)
                continue
            if folder == self.folder:
                _touch(path)
            else:
                self.put(key, value)  # keep a copy where new results go
            self.hits += 1
            return value
        return None

    def put(self, key: str, value: Any) -> bool:
        """Store ``value`` under ``key``; False when it cannot be encoded, exceeds ``max_bytes`` or the write
        failed (the memory cache still holds it)."""
        try:
            arrays = entry_arrays(key, value)
        except UnencodableError:
            return False
        if sum(a.nbytes for a in arrays.values()) > self.max_bytes:
            return False
        path = self.path(key)
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=self.folder)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, allow_pickle=False, **arrays)
            os.replace(tmp, path)
            tmp = None
        except (OSError, ValueError):
            return False
        finally:
            if tmp is not None:
                _remove(Path(tmp))
        _touch(path)
        self.evict()
        return True

    def entries(self) -> list[tuple[int, str, int, Path]]:
        """(last use in ns, name, size in bytes, path) of every entry file, least recently used first."""
        found = []
        try:
            with os.scandir(self.folder) as it:
                for item in it:
                    if ENTRY.fullmatch(item.name):
                        try:
                            st = item.stat()
                        except OSError:
                            continue
                        found.append((st.st_mtime_ns, item.name, st.st_size, Path(item.path)))
        except OSError:
            return []
        return sorted(found)

    def size_bytes(self) -> int:
        """Bytes held by the entries in ``folder``."""
        return sum(size for _, _, size, _ in self.entries())

    def evict(self) -> int:
        """Delete the least recently used entries until at most ``max_bytes`` remain, and temporary files
        left by crashed writes; returns the number of entries deleted."""
        entries = self.entries()
        total = sum(size for _, _, size, _ in entries)
        removed = 0
        for _, _, size, path in entries:
            if total <= self.max_bytes:
                break
            _remove(path)
            total -= size
            removed += 1
        self._remove_stale_tmp(STALE_TMP_S)
        return removed

    def clear(self) -> int:
        """Delete every entry (and temporary file) in ``folder``; returns the bytes freed."""
        freed = 0
        for _, _, size, path in self.entries():
            _remove(path)
            freed += size
        self._remove_stale_tmp(0.0)
        return freed

    def _remove_stale_tmp(self, older_than_s: float) -> None:
        cutoff = time.time() - older_than_s
        try:
            with os.scandir(self.folder) as it:
                for item in it:
                    name = item.name
                    if name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX):
                        try:
                            if item.stat().st_mtime <= cutoff:
                                _remove(Path(item.path))
                        except OSError:
                            continue
        except OSError:
            return
