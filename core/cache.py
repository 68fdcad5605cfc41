"""Stage results cached by a hash of their inputs and config, so repeating a step never recomputes.

:class:`StageCache` keeps recent results in memory and, given a :class:`DiskCache`, on disk too, so a new
process (a reopened project, a rerun of the same analysis) loads them instead of recomputing. Disk entries
are ``<key>.npz`` files holding the result's arrays and a JSON description of everything else; they are read
with ``allow_pickle=False`` and only registered dataclasses are rebuilt: loading never executes file code.

Every entry is signed: the file is ``SIGNED_MAGIC``, an HMAC-SHA256 of the npz bytes under this user's
random key (:func:`user_key`, kept in the user's config folder, mode 0600), then the npz. An entry whose
digest does not verify — written by another user, shipped with a project, planted, or written before
entries were signed — is a miss and is never copied anywhere; its bytes are never parsed. A file is read
only up to a size limit (the folder's ``max_bytes`` and a memory budget, :func:`memory_budget_bytes`), and
a rebuilt result must have the declared types and consistent shapes (:func:`check_result`), else it is a
miss too.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import io
import json
import math
import mmap
import numbers
import os
import re
import secrets
import stat
import struct
import tempfile
import time
import types
import typing
import zipfile
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
SIGNED_MAGIC = b"canns-gui entry\x02"  # 16 bytes opening every signed entry, then its 32-byte digest
DIGEST_BYTES = 32  # HMAC-SHA256
HEADER_BYTES = len(SIGNED_MAGIC) + DIGEST_BYTES
KEY_FILE = "cache-signing.key"  # in the user's config folder: 64 hex digits, mode 0600
KEY_BYTES = 32
# a file is opened without following a link or blocking on a pipe, in binary mode on Windows
READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
)
MEMORY_FRACTION = 0.25  # an entry is read only if its file fits in this share of the physical memory

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


class UnusableEntry(ValueError):
    """A cache file that is not this user's intact, signed entry (or is too large to read)."""


# The signing key --------------------------------------------------------------------------------------------

_keys: dict[Path, bytes] = {}  # key file → key, read once per process
# used when no key file can be kept: its entries verify in this process only
_PROCESS_KEY = secrets.token_bytes(KEY_BYTES)


def key_file() -> Path:
    """``<user config dir>/canns-gui/cache-signing.key`` (platformdirs)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("canns-gui", appauthor=False)) / KEY_FILE


def user_key() -> bytes:
    """This user's cache-signing key: read from :func:`key_file`, created there (random, mode 0600) on
    first use. A key file that others may read (group/other permissions, another owner) or that is
    malformed is replaced by a new key, which turns every earlier entry into a miss. When no key file can
    be kept (read-only config folder), a key for this process only is used."""
    path = key_file()
    key = _keys.get(path)
    if key is None:
        try:
            key = _read_key(path)
            if key is None:
                key = _write_key(path)
        except OSError:
            key = _PROCESS_KEY
        _keys[path] = key
    return key


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``; None when there is none or it cannot be trusted (it is then replaced)."""
    try:
        fd = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError:  # a symbolic link, or unreadable: not a key this user alone holds
        return _write_key(path, replace=True)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        private = os.name == "nt" or (st.st_uid == os.geteuid() and not st.st_mode & 0o077)
        text = fh.read(4 * KEY_BYTES) if stat.S_ISREG(st.st_mode) else b""
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if not private or len(key) != KEY_BYTES:
        return _write_key(path, replace=True)
    return key


def _write_key(path: Path, replace: bool = False) -> bytes:
    """A new random key written to ``path`` (mode 0600); without ``replace``, a key another process
    created meanwhile wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.hex().encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
            return key
        try:
            os.link(tmp, path)  # atomic, and never over a key another process has just created
        except FileExistsError:
            return _read_key(path) or key
        except OSError:  # no hard links on this file system
            os.replace(tmp, path)
        return key
    finally:
        _remove(tmp)


def sign(body: bytes | memoryview, secret: bytes | None = None) -> bytes:
    """The digest (HMAC-SHA256) of an entry's npz bytes under ``secret`` (default :func:`user_key`)."""
    mac = hmac.new(secret if secret is not None else user_key(), SIGNED_MAGIC, hashlib.sha256)
    mac.update(body)
    return mac.digest()


def memory_budget_bytes() -> int:
    """The largest entry file read back: ``MEMORY_FRACTION`` of the physical memory (2 GiB if unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        total = 8 * 1024**3
    return int(total * MEMORY_FRACTION)


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
        values = {name: decode_value(v, arrays) for name, v in given.items()}
        check_result(cls, values)
        return cls(**values)
    raise ValueError(f"unknown node {kind!r}")


# Checks of a rebuilt result: each field of its declared type, the arrays of consistent shapes -------------

# Per result type: field → its dimensions (a name is the same size wherever it appears in the type, "*" is
# any size; ``[dims]``: a list each of whose arrays has them). Fields left out, or None, are not checked.
SHAPES: dict[str, dict[str, tuple | list]] = {
    "core.preprocess.RateMatrix": {
        "rates": ("bins", "units"),
        "t": ("bins",),
        "x": ("bins",),
        "y": ("bins",),
        "hd": ("bins",),
        "speed_cm_s": ("bins",),
        "unit_ids": ("units",),
    },
    "core.pointcloud.PointCloud": {
        "points": ("points", "pcs"),
        "bin_index": ("points",),
        "distances": ("points", "points"),
        "density": ("points",),
        "pca_components": ("pcs", "units"),
        "unit_mean": ("units",),
        "unit_scale": ("units",),
        "explained_variance_ratio": ("pcs",),
    },
    "core.homology.Persistence": {
        "diagrams": [("*", 2)],
        "cocycles_h1": [("*", 3)],
        "landmarks_h2": ("*",),
    },
    "core.decoding.Decoding": {
        "theta": ("bins", "circles"),
        "t": ("bins",),
        "x": ("bins",),
        "y": ("bins",),
        "hd": ("bins",),
        "unit_ids": ("units",),
        "unit_phase": ("units", "circles"),
        "unit_concentration": ("units", "circles"),
        "sampled_bin_index": ("samples",),
        "sampled_theta": ("samples", "circles"),
    },
}


def check_result(cls: type, values: dict[str, Any]) -> None:
    """ValueError unless each of ``values`` (fields of dataclass ``cls``, about to be rebuilt from a cache
    entry) has its declared type — an array where an array belongs (numbers, never records or objects), a
    number where a number belongs, the declared dataclass, list or dict — and, for the pipeline's results,
    shapes that agree with each other (:data:`SHAPES`)."""
    hints = _hints(cls)
    for name, value in values.items():
        if not _fits(value, hints.get(name, Any)):
            raise ValueError(f"{_type_name(cls)}.{name}: a {type(value).__name__} is not a {hints[name]}")
    sizes: dict[str, int] = {}
    for name, dims in SHAPES.get(_type_name(cls), {}).items():
        value = values.get(name)
        items, dims = (value or [], dims[0]) if isinstance(dims, list) else ([value], dims)
        if not isinstance(items, list):
            raise ValueError(f"{_type_name(cls)}.{name}: a {type(items).__name__} is not a list")
        for item in items:
            if item is not None and not _shape_fits(item, dims, sizes):
                shape = getattr(item, "shape", (len(item),) if isinstance(item, list) else ())
                raise ValueError(f"{_type_name(cls)}.{name}: shape {shape} does not fit {dims} ({sizes})")


_hint_cache: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _hint_cache.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # an annotation that does not resolve is not checked
            hints = {}
        _hint_cache[cls] = hints
    return hints


def _fits(value: Any, annotation: Any) -> bool:
    """Whether ``value`` is of the declared ``annotation`` (element types checked for arrays, dataclasses
    and scalars inside lists and dicts; annotations this does not know are not checked)."""
    if annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is np.ndarray:
        return type(value) is np.ndarray and value.dtype.kind in "biufcUS"
    if annotation is bool:
        return isinstance(value, (bool, np.bool_))
    if annotation is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if annotation is float:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if annotation is str:
        return isinstance(value, str)
    if origin in (list, tuple) or annotation in (list, tuple):
        if not isinstance(value, origin or annotation):
            return False
        args = typing.get_args(annotation)
        if origin is list and args:
            return all(_fits(v, args[0]) for v in value)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        if origin is tuple and args:
            return len(args) == len(value) and all(_fits(v, a) for v, a in zip(value, args, strict=True))
        return True
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            return False
        args = typing.get_args(annotation)
        return not args or all(_fits(k, args[0]) and _fits(v, args[1]) for k, v in value.items())
    if isinstance(annotation, type) and is_dataclass(annotation):
        return isinstance(value, annotation)
    return True


def _shape_fits(value: Any, dims: tuple, sizes: dict[str, int]) -> bool:
    """Whether ``value``'s shape matches ``dims``, binding named sizes in ``sizes`` on first sight."""
    if isinstance(value, list):
        shape: tuple = (len(value),)
    elif isinstance(value, np.ndarray):
        shape = value.shape
    else:
        return False
    if len(shape) != len(dims):
        return False
    for size, dim in zip(shape, dims, strict=True):
        if isinstance(dim, int):
            if size != dim:
                return False
        elif dim != "*" and sizes.setdefault(dim, size) != size:
            return False
    return True


def entry_arrays(key: str, value: Any) -> dict[str, np.ndarray]:
    """The npz members of an entry: the value's arrays and its JSON tree (``META``, UTF-8 bytes as uint8);
    raises :class:`UnencodableError` when ``value`` cannot be stored."""
    tree, arrays = encode_value(value)
    meta = json.dumps({"format": CACHE_FORMAT, "version": CODEC_VERSION, "key": key, "value": tree})
    arrays[META] = np.frombuffer(meta.encode(), dtype=np.uint8)
    return arrays


def read_entry(
    path: str | os.PathLike,
    key: str | None = None,
    *,
    secret: bytes | None = None,
    max_bytes: int | None = None,
) -> Any:
    """The value stored in the signed entry at ``path`` (by ``key`` when given): its digest is checked
    under ``secret`` (default :func:`user_key`) before any byte of it is parsed, it is read only if at most
    ``max_bytes`` long (default :func:`memory_budget_bytes`), with ``allow_pickle=False``, and the result's
    types and shapes are checked as it is rebuilt. Raises (:class:`UnusableEntry`, OSError, KeyError, …)
    for anything that is not an intact entry of this user."""
    body = read_signed(path, secret, memory_budget_bytes() if max_bytes is None else max_bytes)
    return parse_entry(body, key)


def read_signed(path: str | os.PathLike, secret: bytes | None, max_bytes: int) -> memoryview:
    """The whole signed entry file at ``path`` once its digest verifies; UnusableEntry when it is not a
    regular file, is larger than ``max_bytes`` (checked before it is read), is unsigned or signed under
    another key. Read once into memory: what is checked is what is parsed."""
    with os.fdopen(os.open(path, READ_FLAGS), "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnusableEntry("not a regular file")
        if st.st_size > max_bytes + HEADER_BYTES:
            raise UnusableEntry(f"{st.st_size} bytes, more than the {max_bytes} bytes an entry may have here")
        view = memoryview(np.empty(st.st_size, dtype=np.uint8))  # not zero-filled first, unlike a bytearray
        complete = fh.readinto(view) == st.st_size and not fh.read(1)  # it did not change size meanwhile
    if not complete or len(view) < HEADER_BYTES or view[: len(SIGNED_MAGIC)] != SIGNED_MAGIC:
        raise UnusableEntry("not a signed canns-gui entry")
    if not hmac.compare_digest(view[len(SIGNED_MAGIC) : HEADER_BYTES], sign(view[HEADER_BYTES:], secret)):
        raise UnusableEntry("its digest does not verify under this user's key")
    return view


def parse_entry(data: memoryview, key: str | None = None) -> Any:
    """The value in a verified entry file's bytes (:func:`read_signed`); ValueError/KeyError/… when they
    are not an entry (of ``key``, when given)."""
    arrays = npz_members(data)
    meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT:
        raise ValueError("not a canns-gui cache entry")
    if meta.get("version") != CODEC_VERSION or (key is not None and meta.get("key") != key):
        raise ValueError("entry of another version or key")
    return decode_value(meta["value"], arrays)


class _Memory(io.RawIOBase):
    """A read-only, seekable file over a buffer, never copying it whole (zipfile reads the directory)."""

    def __init__(self, buffer: memoryview) -> None:
        super().__init__()
        self._view = memoryview(buffer)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, out) -> int:
        chunk = self._view[self._pos : self._pos + len(out)]
        memoryview(out).cast("B")[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip local file header: signature, …, name and extra lengths
ALIGN = 64  # bytes: each member's data starts at a multiple of this in the file (npy headers keep it)
PAD_EXTRA_ID = 0xD935  # the zip extra field that pads a local header to ``ALIGN`` (as zipalign does)


def npz_members(data: memoryview) -> dict[str, np.ndarray]:
    """The arrays of the stored (uncompressed) npz inside an entry file, as views of ``data`` (no copy;
    an array whose data is not aligned for its type is copied). ValueError for anything else: compressed
    or overlapping members, object or record dtypes, a member that is not one npy array of its size."""
    with zipfile.ZipFile(_Memory(data)) as zf:  # reads the central directory only
        infos = zf.infolist()
    arrays = {}
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
            raise ValueError(f"member {info.filename!r} is not a stored npy array")
        start = info.header_offset
        signature, n_name, n_extra = LOCAL_HEADER.unpack_from(data, start)
        if signature != b"PK\x03\x04":
            raise ValueError("bad local header")
        begin = start + LOCAL_HEADER.size + n_name + n_extra
        arrays[info.filename[:-4]] = _npy_view(data, begin, begin + info.file_size)
    return arrays


def _npy_view(data: memoryview, begin: int, end: int) -> np.ndarray:
    if end > len(data):
        raise ValueError("member beyond the end of the file")
    fp = _Memory(data[begin:end])
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"npy version {version}")
    if dtype.hasobject or dtype.fields is not None or any(d < 0 for d in shape):
        raise ValueError(f"dtype {dtype} or shape {shape} not allowed")
    count = math.prod(shape)
    offset = begin + fp.tell()
    if offset + count * dtype.itemsize != end:
        raise ValueError("member size does not match its array")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    if not array.flags.aligned:
        array = array.copy()
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def write_entry(fh, arrays: dict[str, np.ndarray], secret: bytes | None = None) -> int:
    """Write the signed entry file of ``arrays`` (:func:`entry_arrays`) to ``fh`` (a new file opened
    ``w+b``): ``SIGNED_MAGIC``, the digest, then a stored npz whose every member's data is ``ALIGN``-aligned
    in the file (so reading maps arrays without copying them). Returns its size in bytes."""
    fh.write(SIGNED_MAGIC + bytes(DIGEST_BYTES))
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            # local header: fixed part, name, this padding, then the zip64 field (20 bytes) zipfile adds
            used = fh.tell() + LOCAL_HEADER.size + len(info.filename.encode()) + 20
            pad = -(used + 4) % ALIGN + 4
            info.extra = struct.pack("<HH", PAD_EXTRA_ID, pad - 4) + bytes(pad - 4)
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
    size = fh.tell()
    fh.flush()
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
        digest = sign(view[HEADER_BYTES:], secret)
    fh.seek(len(SIGNED_MAGIC))
    fh.write(digest)
    return size


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
    recently used go first. ``read_also``: further folders searched (read only) when ``folder`` misses; an
    entry found there is copied into ``folder``.

    Entries are signed with ``secret`` (default: this user's key, :func:`user_key`) and only entries whose
    digest verifies under it are read: another user's folder, a project's shipped cache or a planted file
    are misses, never copied. Writes are atomic (a temporary file renamed into place). A file that cannot
    be read back as an entry (truncated, corrupt, unsigned, foreign, too large for ``max_bytes`` or the
    memory budget, holding pickled objects, or rebuilding to the wrong types or shapes) is a miss, and is
    deleted when it is in ``folder``; nothing here raises on a disk problem. Only files named like entries
    are ever read, evicted or cleared.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        max_bytes: int = DEFAULT_MAX_BYTES,
        read_also: tuple[str | os.PathLike, ...] = (),
        secret: bytes | None = None,
    ) -> None:
        self.folder = Path(folder).expanduser()
        self.max_bytes = int(max_bytes)
        self.read_also = tuple(Path(f).expanduser() for f in read_also)
        self._secret = secret
        self.hits = 0
        self.rejected = 0  # unusable files met (and removed from ``folder``)

    @property
    def secret(self) -> bytes:
        """The key entries are signed and checked with (this user's, unless given)."""
        if self._secret is None:
            self._secret = user_key()
        return self._secret

    def read_limit(self) -> int:
        """The largest entry (bytes) read back: ``max_bytes`` and the memory budget, whichever is less."""
        return min(self.max_bytes, memory_budget_bytes())

    def path(self, key: str, folder: Path | None = None) -> Path:
        """The file of ``key`` (a hex digest is its own name; other keys are hashed)."""
        name = key if ENTRY.fullmatch(f"{key}.npz") else hashlib.sha256(key.encode()).hexdigest()
        return (folder or self.folder) / f"{name}.npz"

    def __contains__(self, key: str) -> bool:
        """Whether a file of ``key`` is there (reading it may still be a miss)."""
        return any(self.path(key, folder).is_file() for folder in (self.folder, *self.read_also))

    def get(self, key: str) -> Any | None:
        """The stored value of ``key``, or None (a miss)."""
        for folder in (self.folder, *self.read_also):
            path = self.path(key, folder)
            if not path.is_file():
                continue
            try:
                value = read_entry(path, key, secret=self.secret, max_bytes=self.read_limit())
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
        if sum(a.nbytes for a in arrays.values()) > min(self.max_bytes, self.read_limit()):
            return False
        path = self.path(key)
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=self.folder)
            with os.fdopen(fd, "w+b") as fh:
                size = write_entry(fh, arrays, self.secret)
            if size > min(self.max_bytes, self.read_limit() + HEADER_BYTES):  # it would never be kept
                return False
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
