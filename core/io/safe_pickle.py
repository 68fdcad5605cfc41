"""Unpickling restricted to plain data (numpy arrays, numbers, strings, lists and dicts) and bounded in size.

A pickle is a program for a small stack machine; this module runs it with the pure-Python machine of the
standard library (``pickle._Unpickler``, whose every step is Python code that can be checked) and never
with the C one. Four things are enforced:

* **Only data constructors are called.** ``find_class`` resolves a short allow-list of names and
  everything else raises ``ForbiddenPickleError`` before it is imported; REDUCE calls only the allow-listed
  callables; INST, OBJ, NEWOBJ, NEWOBJ_EX, the copyreg extension opcodes and persistent ids are refused.
* **Arrays are rebuilt only from plain buffers.** An array's raw bytes are accepted only for numeric, bool
  and text dtypes, with the exact length that the checked shape and dtype need; an object array is accepted
  only from a list of real objects, never from raw bytes (bytes there would be memory addresses chosen by
  the file). Array types (``numpy.dtype``) are rebuilt only from a plain type code, and their pickled state
  must be the state numpy itself writes for that type.
* **Bounded work and memory while unpickling.** Every opcode is counted (``MAX_PICKLE_OBJECTS``; containers
  and memo entries count ``CONTAINER_COST``) and the bytes of the arrays built are summed against the memory
  budget; a tuple nests at most ``MAX_PICKLE_DEPTH`` deep (hashing a deeper key would overflow the C stack).
* **Bounded result.** After unpickling, the object graph is walked without recursion: it must not be
  cyclic, must nest at most ``MAX_PICKLE_DEPTH`` deep, and its size *with shared references expanded* (what
  converting it to arrays would allocate) must fit the memory budget: a "billion laughs" of shared leaves is
  refused although it takes a few bytes to write.

Everything refused raises an ``UnpicklingError`` subclass whose ``reason`` is one plain sentence.
"""

from __future__ import annotations

import codecs
import collections
import importlib
import io
import pickle
import re
import struct
from typing import IO, Any

import numpy as np

from core.io.limits import format_bytes, memory_budget_bytes

MAX_PICKLE_DEPTH = 64  # containers inside containers; ASA data nest 2–3 deep (dict → array)
MAX_PICKLE_OBJECTS = 20_000_000  # opcodes run (≈ objects made); a dict of 100 spike arrays takes ~2,000
CONTAINER_COST = 4  # what one container or memo entry counts towards MAX_PICKLE_OBJECTS (its memory is ~4×)
MAX_LONG_BYTES = 1024  # a pickled integer wider than this many bytes is refused
MAX_NDIM = 32  # array dimensions
MAX_STUB_ELEMENTS = 64  # an array placeholder (``_reconstruct``) is always empty; numpy writes shape (0,)


class ForbiddenPickleError(pickle.UnpicklingError):
    """The pickle names a callable outside the allow-list; ``qualname`` is "module.name"."""

    def __init__(self, qualname: str) -> None:
        super().__init__(f"pickled object of type '{qualname}' refused")
        self.qualname = qualname


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle holds forged array data or goes past a limit; ``reason`` says which, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _numpy_attr(submodule: str, name: str) -> Any:
    """``numpy._core.<submodule>.<name>`` on numpy 2, ``numpy.core.<submodule>.<name>`` on numpy 1."""
    for base in ("numpy._core", "numpy.core"):
        try:
            mod = importlib.import_module(f"{base}.{submodule}")
        except ImportError:
            continue
        if hasattr(mod, name):
            return getattr(mod, name)
    return None


# ------------------------------------------------------------------------------------- checked builders

_DTYPE_CODE = re.compile(r"[<>|=]?[a-zA-Z]{1,2}\d{0,9}")
_PLAIN_KINDS = "biufcSU"  # bool, integers, floats, complex, bytes, unicode: raw bytes are just values


def _make_dtype(obj: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """Stand-in for ``numpy.dtype``: a fresh dtype from a plain type code only (no structured types)."""
    if not isinstance(obj, str) or not _DTYPE_CODE.fullmatch(obj):
        raise UnsafePickleError(
            f"an array type given as {type(obj).__name__} {str(obj)[:40]!r}, not a type code"
        )
    try:
        dtype = np.dtype(obj, align=bool(align), copy=True)  # a copy: BUILD must never touch numpy's own
    except (TypeError, ValueError):
        raise UnsafePickleError(f"an unknown array type {obj!r}") from None
    if dtype.kind not in _PLAIN_KINDS and dtype != np.dtype(object):
        raise UnsafePickleError(f"an array type {obj!r} that is not numeric, bool, text or object")
    if dtype.kind in "SU" and dtype.itemsize > 2**20:
        raise UnsafePickleError(f"an array type {obj!r} with {dtype.itemsize} bytes per item")
    return dtype


def _check_dtype_state(dtype: np.dtype, state: Any) -> None:
    """Accept only the state numpy writes for ``dtype`` (any byte order for multi-byte numbers and text)."""
    fresh = dtype.__reduce__()[2]
    ok = isinstance(state, tuple) and len(state) == len(fresh) == 8 and type(state[0]) is int
    if ok:
        version, order, subarray, names, fields, elsize, alignment, flags = state
        orders = ("<", ">", "=") if fresh[1] in "<>=" else (fresh[1],)
        ok = (
            version == fresh[0]
            and isinstance(order, str)
            and order in orders
            and subarray is None
            and names is None
            and fields is None
            and type(elsize) is int
            and elsize in (fresh[5], dtype.itemsize)
            and type(alignment) is int
            and alignment in (fresh[6], dtype.alignment)
            and type(flags) is int
            and flags == fresh[7]
        )
    if not ok:
        raise UnsafePickleError(
            f"an array type '{dtype.str}' whose stored layout is not the one numpy writes (forged or damaged)"
        )


def _shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or len(value) > MAX_NDIM:
        raise UnsafePickleError(f"an array shape that is not a tuple of at most {MAX_NDIM} sizes")
    dims = []
    for d in value:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or int(d) < 0:
            raise UnsafePickleError(f"an array shape holding {str(d)[:40]!r}, not a size")
        dims.append(int(d))
    return tuple(dims)


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _as_bytes(data: Any) -> bytes | bytearray:
    if isinstance(data, bytes | bytearray):
        return data
    if isinstance(data, str):  # Python 2 pickles read with encoding="latin1"
        return data.encode("latin1")
    if isinstance(data, memoryview | pickle.PickleBuffer):
        return bytes(data)
    raise UnsafePickleError(f"array data given as {type(data).__name__}, not bytes")


def _reconstruct(subtype: Any, shape: Any, typecode: Any = b"b") -> np.ndarray:
    """Stand-in for ``numpy._core.multiarray._reconstruct``: the empty placeholder BUILD fills in."""
    dims = _shape(shape)
    if subtype is not np.ndarray or _count(dims) > MAX_STUB_ELEMENTS:
        raise UnsafePickleError("an array placeholder that is not an empty numpy.ndarray")
    if not isinstance(typecode, bytes | str) or len(typecode) > 8:
        raise UnsafePickleError("an array placeholder with a strange type code")
    return np.zeros(dims, dtype=np.int8)


def _scalar(dtype: Any, data: Any = None) -> Any:
    """Stand-in for ``numpy._core.multiarray.scalar``: a number from exactly ``itemsize`` plain bytes."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.kind not in _PLAIN_KINDS:
        raise UnsafePickleError("a numpy scalar that is not a plain number, bool or text")
    raw = _as_bytes(data)
    if len(raw) != dtype.itemsize:
        raise UnsafePickleError(f"a numpy scalar of {len(raw)} bytes for type '{dtype.str}'")
    return np.frombuffer(bytes(raw), dtype=dtype)[0]


def _latin1_encode(obj: str, encoding: str = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode`` (how protocol-2 pickles store bytes); only latin-1 is allowed."""
    if (
        not isinstance(encoding, str)
        or codecs.lookup(encoding).name != "iso8859-1"
        or not isinstance(obj, str)
    ):
        raise ForbiddenPickleError(f"_codecs.encode({encoding!r})")
    return obj.encode("latin1")


def _bytes(*args: Any) -> bytes:
    """Stand-in for ``bytes``: protocol-2 pickles write an empty bytes object as ``bytes()``; ``bytes(n)``
    (n zero bytes) is refused."""
    if args:
        raise UnsafePickleError("a bytes object built by a call with arguments")
    return b""


def _bytearray(*args: Any) -> bytearray:
    """Stand-in for ``bytearray``: only ``bytearray()`` and ``bytearray(b"...")`` (never a size)."""
    if len(args) > 1 or (args and not isinstance(args[0], bytes | bytearray)):
        raise UnsafePickleError("a bytearray built from something other than bytes")
    return bytearray(*args)


def _frombuffer_factory(unpickler: SafeUnpickler) -> Any:
    def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
        """Stand-in for ``numpy._core.numeric._frombuffer`` (protocol 5): checked dtype, shape, length."""
        if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.kind not in _PLAIN_KINDS:
            raise UnsafePickleError("an array built from raw bytes with a type that is not plain data")
        dims = _shape(shape)
        raw = _as_bytes(buf)
        if len(raw) != _count(dims) * dtype.itemsize:
            raise UnsafePickleError(f"an array of shape {dims} given {len(raw)} bytes (forged or damaged)")
        if order not in ("C", "F", "A"):
            raise UnsafePickleError(f"an array memory order {str(order)[:10]!r}")
        unpickler.spend_array_bytes(len(raw))
        return (
            np.frombuffer(raw, dtype=dtype).reshape(dims, order="F" if order == "F" else "C").copy(order="K")
        )

    return _frombuffer


def _set_array_state(unpickler: SafeUnpickler, array: np.ndarray, state: Any) -> None:
    """``array.__setstate__(state)`` only for a checked state: a plain dtype with exactly the bytes the
    shape needs, or the object dtype with a list of objects (never raw bytes)."""
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise UnsafePickleError("an array stored without its (shape, type, order, data) state")
    version, rest = (state[0], state[1:]) if len(state) == 5 else (0, state)
    shape_v, dtype, fortran, data = rest
    dims = _shape(shape_v)
    count = _count(dims)
    if not isinstance(dtype, np.dtype) or type(fortran) not in (bool, int) or type(version) is not int:
        raise UnsafePickleError("an array whose stored type or order is not plain data")
    if dtype.hasobject:
        if dtype != np.dtype(object):
            raise UnsafePickleError(f"an array of type '{dtype.str}' holding objects")
        if type(data) is not list:
            raise UnsafePickleError(
                "an object array made from raw bytes (they would be memory addresses chosen by the file); "
                "object arrays are accepted only as lists of values"
            )
        if len(data) != count:
            raise UnsafePickleError(f"an object array of shape {dims} given {len(data)} items")
        unpickler.spend_array_bytes(8 * count)
    else:
        if dtype.kind not in _PLAIN_KINDS:
            raise UnsafePickleError(f"an array of type '{dtype.str}', which is not plain data")
        data = _as_bytes(data)
        if len(data) != count * dtype.itemsize:
            raise UnsafePickleError(
                f"an array of shape {dims} and type '{dtype.str}' given {len(data)} bytes instead of "
                f"{count * dtype.itemsize} (forged or damaged)"
            )
        unpickler.spend_array_bytes(len(data))
    args = (dims, dtype, bool(fortran), data)
    np.ndarray.__setstate__(array, (version, *args) if len(state) == 5 else args)


# --------------------------------------------------------------------------------------------- the table


def _allowed() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,  # only as the subtype argument of _reconstruct, never called
        ("numpy", "dtype"): _make_dtype,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "complex"): complex,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("__builtin__", "complex"): complex,
        ("__builtin__", "set"): set,
        ("__builtin__", "frozenset"): frozenset,
        ("_codecs", "encode"): _latin1_encode,
    }
    for builtins_name in ("builtins", "__builtin__"):
        table[(builtins_name, "bytes")] = _bytes
        table[(builtins_name, "bytearray")] = _bytearray
    stand_ins = {("multiarray", "_reconstruct"): _reconstruct, ("multiarray", "scalar"): _scalar}
    stand_ins[("numeric", "_frombuffer")] = _frombuffer_factory  # bound to each unpickler (byte budget)
    for (sub, name), stand_in in stand_ins.items():
        if _numpy_attr(sub, name) is not None:
            for base in ("numpy._core", "numpy.core"):
                table[(f"{base}.{sub}", name)] = stand_in
    return table


_ALLOWED = _allowed()
ALLOWED_NAMES: tuple[str, ...] = tuple(sorted(f"{m}.{n}" for m, n in _ALLOWED))

_OP_COST = [1] * 256
for _op in (
    pickle.MARK, pickle.EMPTY_LIST, pickle.EMPTY_DICT, pickle.EMPTY_SET, pickle.LIST, pickle.DICT,
    pickle.TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3, pickle.FROZENSET, pickle.REDUCE, pickle.BUILD,
    pickle.MEMOIZE, pickle.PUT, pickle.BINPUT, pickle.LONG_BINPUT,
):  # fmt: skip
    _OP_COST[_op[0]] = CONTAINER_COST


def _stream_size(file: IO[bytes]) -> int | None:
    """Bytes left in a seekable stream (an upper bound on any length inside the pickle), else None."""
    try:
        here = file.tell()
        end = file.seek(0, io.SEEK_END)
        file.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return max(int(end) - int(here), 0)


class SafeUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with the allow-list, the array checks and the limits of this module."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: IO[bytes], *, encoding: str = "latin1", array_budget: int | None = None) -> None:
        super().__init__(file, encoding=encoding)
        self._stream_size = _stream_size(file)
        self._array_budget = memory_budget_bytes() if array_budget is None else int(array_budget)
        self._array_bytes = 0
        self._tuple_depth: dict[int, tuple[tuple, int]] = {}
        self._frombuffer = _frombuffer_factory(self)
        self._callables = {
            id(f) for f in _ALLOWED.values() if f is not np.ndarray and f is not _frombuffer_factory
        }

    # --- names and calls

    def find_class(self, module: str, name: str) -> Any:
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise ForbiddenPickleError(f"{module}.{name}")
        return self._frombuffer if obj is _frombuffer_factory else obj

    def persistent_load(self, pid: Any) -> Any:
        raise ForbiddenPickleError("persistent id")

    def spend_array_bytes(self, n: int) -> None:
        self._array_bytes += int(n)
        if self._array_bytes > self._array_budget:
            raise UnsafePickleError(
                f"its arrays need more than the reading budget of {format_bytes(self._array_budget)}"
            )

    def load_reduce(self) -> None:
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        if id(func) not in self._callables and func is not self._frombuffer:
            qual = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', type(func).__name__)}"
            raise ForbiddenPickleError(qual)
        if not isinstance(args, tuple):
            raise UnsafePickleError("a call whose arguments are not a tuple")
        stack[-1] = func(*args)

    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_build(self) -> None:
        stack = self.stack
        state = stack.pop()
        inst = stack[-1]
        if type(inst) is np.ndarray:
            _set_array_state(self, inst, state)
        elif isinstance(inst, np.dtype):
            _check_dtype_state(inst, state)
            inst.__setstate__(state)
        elif state is not None and state != {}:
            raise UnsafePickleError(f"stored attributes for a {type(inst).__name__}")

    dispatch[pickle.BUILD[0]] = load_build

    def _refuse(self) -> None:
        raise ForbiddenPickleError("class instance (INST/OBJ/NEWOBJ or extension code)")

    for _op in (
        pickle.INST,
        pickle.OBJ,
        pickle.NEWOBJ,
        pickle.NEWOBJ_EX,
        pickle.EXT1,
        pickle.EXT2,
        pickle.EXT4,
    ):
        dispatch[_op[0]] = _refuse
    del _op

    # --- sizes and nesting

    def _sized(self, fmt: str) -> bytes:
        """The data of a length-prefixed opcode: a length beyond the whole pickle is refused before any
        allocation, and a short read is an error (never silently truncated data)."""
        (n,) = struct.unpack(fmt, self.read(struct.calcsize(fmt)))
        if n < 0 or (self._stream_size is not None and n > self._stream_size):
            raise UnsafePickleError(f"a {n:,}-byte string in a {self._stream_size:,}-byte pickle")
        data = self.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        return data

    def load_binbytes(self) -> None:
        self.append(self._sized("<I"))

    def load_binbytes8(self) -> None:
        self.append(self._sized("<Q"))

    def load_bytearray8(self) -> None:
        self.append(bytearray(self._sized("<Q")))

    def load_binunicode(self) -> None:
        self.append(str(self._sized("<I"), "utf-8", "surrogatepass"))

    def load_binunicode8(self) -> None:
        self.append(str(self._sized("<Q"), "utf-8", "surrogatepass"))

    def load_binstring(self) -> None:
        self.append(self._decode_string(self._sized("<i")))

    def load_frame(self) -> None:
        (n,) = struct.unpack("<Q", self.read(8))
        if self._stream_size is not None and n > self._stream_size:
            raise UnsafePickleError(f"a {n:,}-byte frame in a {self._stream_size:,}-byte pickle")
        self._unframer.load_frame(n)

    for _op, _fn in (
        (pickle.BINBYTES, load_binbytes),
        (pickle.BINBYTES8, load_binbytes8),
        (pickle.BYTEARRAY8, load_bytearray8),
        (pickle.BINUNICODE, load_binunicode),
        (pickle.BINUNICODE8, load_binunicode8),
        (pickle.BINSTRING, load_binstring),
        (pickle.FRAME, load_frame),
    ):
        dispatch[_op[0]] = _fn
    del _op, _fn

    def load_long4(self) -> None:
        (n,) = struct.unpack("<i", self.read(4))
        if n > MAX_LONG_BYTES:
            raise UnsafePickleError(f"an integer of {n} bytes")
        self.append(pickle.decode_long(self.read(n)))

    dispatch[pickle.LONG4[0]] = load_long4

    def _push_tuple(self, items: tuple) -> None:
        depth = 1
        for item in items:
            if type(item) is tuple:
                entry = self._tuple_depth.get(id(item))
                depth = max(depth, 1 + (entry[1] if entry is not None and entry[0] is item else 1))
        if depth > MAX_PICKLE_DEPTH:
            raise UnsafePickleError(f"tuples nested more than {MAX_PICKLE_DEPTH} deep")
        if depth > 1:
            self._tuple_depth[id(items)] = (items, depth)  # keeps the tuple alive: its id stays its own
        self.append(items)

    def load_tuple(self) -> None:
        self._push_tuple(tuple(self.pop_mark()))

    dispatch[pickle.TUPLE[0]] = load_tuple

    def _pop_n(self, n: int) -> tuple:
        if len(self.stack) < n:
            raise pickle.UnpicklingError("stack underflow")
        items = tuple(self.stack[-n:])
        del self.stack[-n:]
        return items

    def load_tuple_1(self) -> None:
        self._push_tuple(self._pop_n(1))

    def load_tuple_2(self) -> None:
        self._push_tuple(self._pop_n(2))

    def load_tuple_3(self) -> None:
        self._push_tuple(self._pop_n(3))

    dispatch[pickle.TUPLE1[0]] = load_tuple_1
    dispatch[pickle.TUPLE2[0]] = load_tuple_2
    dispatch[pickle.TUPLE3[0]] = load_tuple_3

    def load(self) -> Any:
        """Run the pickle with every opcode counted; unknown opcodes are an error."""
        if not hasattr(self, "_file_read"):
            raise pickle.UnpicklingError("SafeUnpickler.__init__() was not called")
        self._unframer = pickle._Unframer(self._file_read, self._file_readline)
        self.read = self._unframer.read
        self.readinto = self._unframer.readinto
        self.readline = self._unframer.readline
        self.metastack = []
        self.stack = []
        self.append = self.stack.append
        self.proto = 0
        read, dispatch, cost = self.read, self.dispatch, _OP_COST
        spent = 0
        try:
            while True:
                key = read(1)
                if not key:
                    raise EOFError
                op = key[0]
                spent += cost[op]
                if spent > MAX_PICKLE_OBJECTS:
                    raise UnsafePickleError(f"more than {MAX_PICKLE_OBJECTS:,} pickled objects")
                step = dispatch.get(op)
                if step is None:
                    raise pickle.UnpicklingError(f"invalid pickle opcode {op:#04x}")
                step(self)
        except pickle._Stop as stop:
            return stop.value


# --------------------------------------------------------------------------------- the result, bounded


def _children(obj: Any) -> list[Any] | None:
    """The objects ``obj`` holds, or None for a leaf."""
    kind = type(obj)
    if kind in (list, tuple, set, frozenset):
        return list(obj)
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if kind is np.ndarray and obj.dtype.hasobject:
        return obj.ravel(order="K").tolist()
    return None


def _leaf_bytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return max(int(obj.nbytes), 8)
    if isinstance(obj, str | bytes | bytearray):
        return 8 + len(obj)
    return 8


def check_structure(root: Any, budget: int | None = None) -> None:
    """Refuse a cyclic result, one nested deeper than ``MAX_PICKLE_DEPTH``, or one whose size with shared
    references expanded (what converting it to arrays would allocate) is beyond the memory budget.
    Walks the graph once, without recursion, each shared object measured once."""
    budget = memory_budget_bytes() if budget is None else int(budget)
    measured: dict[int, tuple[int, int]] = {}  # id → (expanded bytes, depth)
    open_ids: set[int] = set()
    kids: dict[int, list[Any]] = {}
    todo: list[tuple[Any, bool]] = [(root, False)]
    while todo:
        obj, leaving = todo.pop()
        oid = id(obj)
        if not leaving:
            if oid in measured:
                continue
            children = _children(obj)
            if children is None:
                continue
            open_ids.add(oid)
            kids[oid] = children
            todo.append((obj, True))
            for child in children:
                cid = id(child)
                if cid in open_ids:
                    raise UnsafePickleError("a structure that contains itself (a cycle)")
                if cid not in measured and _children(child) is not None:
                    todo.append((child, False))
            continue
        open_ids.discard(oid)
        size, depth = 8, 0
        for child in kids.pop(oid):
            got = measured.get(id(child))
            if got is None:
                size += _leaf_bytes(child)
            else:
                size += got[0]
                depth = max(depth, got[1])
        depth += 1
        if depth > MAX_PICKLE_DEPTH:
            raise UnsafePickleError(f"containers nested more than {MAX_PICKLE_DEPTH} deep")
        if size > budget:
            raise UnsafePickleError(
                f"shared references that expand to more than the reading budget of {format_bytes(budget)}"
            )
        measured[oid] = (size, depth)


def safe_load(stream: IO[bytes], array_budget: int | None = None) -> Any:
    """Unpickle one object from ``stream`` with ``SafeUnpickler`` (latin-1 for Python 2 strings) and check
    the result's structure (``check_structure``)."""
    obj = SafeUnpickler(stream, encoding="latin1", array_budget=array_budget).load()
    check_structure(obj, array_budget)
    return obj


def safe_loads(data: bytes, array_budget: int | None = None) -> Any:
    """Unpickle ``data`` with ``SafeUnpickler``."""
    return safe_load(io.BytesIO(data), array_budget)


__all__: list[str] = [
    "ALLOWED_NAMES",
    "MAX_PICKLE_DEPTH",
    "MAX_PICKLE_OBJECTS",
    "ForbiddenPickleError",
    "SafeUnpickler",
    "UnsafePickleError",
    "check_structure",
    "safe_load",
    "safe_loads",
]
