"""Unpickling restricted to plain data: numpy arrays, numbers, strings, lists and dicts.

A pickle can name any importable callable and run it while loading. ``SafeUnpickler.find_class`` is the only
door through which the pickle machinery obtains a callable or class (GLOBAL, STACK_GLOBAL, INST, OBJ and the
copyreg extension opcodes all go through it), so admitting a short list of data constructors there is enough
to make loading side-effect free. Everything else raises ``ForbiddenPickleError`` before it is imported.
"""

from __future__ import annotations

import codecs
import collections
import importlib
import io
import pickle
from typing import IO, Any

import numpy as np


class ForbiddenPickleError(pickle.UnpicklingError):
    """The pickle names a callable outside the allow-list; ``qualname`` is "module.name"."""

    def __init__(self, qualname: str) -> None:
        super().__init__(f"pickled object of type '{qualname}' refused")
        self.qualname = qualname


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


def _latin1_encode(obj: str, encoding: str = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode`` (how protocol-2 pickles store bytes); only latin-1 is allowed."""
    if codecs.lookup(encoding).name != "iso8859-1" or not isinstance(obj, str):
        raise ForbiddenPickleError(f"_codecs.encode({encoding!r})")
    return obj.encode("latin1")


def _allowed() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "complex"): complex,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("__builtin__", "complex"): complex,
        ("__builtin__", "set"): set,
        ("__builtin__", "frozenset"): frozenset,
        ("_codecs", "encode"): _latin1_encode,
    }
    for sub, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer")):
        obj = _numpy_attr(sub, name)
        if obj is not None:
            for base in ("numpy._core", "numpy.core"):
                table[(f"{base}.{sub}", name)] = obj
    return table


_ALLOWED = _allowed()


class SafeUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only the allow-listed data constructors (never imports a module)."""

    def find_class(self, module: str, name: str) -> Any:
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise ForbiddenPickleError(f"{module}.{name}")
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise ForbiddenPickleError("persistent id")


def safe_load(stream: IO[bytes]) -> Any:
    """Unpickle one object from ``stream`` with ``SafeUnpickler`` (latin-1 for Python 2 strings)."""
    return SafeUnpickler(stream, encoding="latin1").load()


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` with ``SafeUnpickler``."""
    return safe_load(io.BytesIO(data))


ALLOWED_NAMES: tuple[str, ...] = tuple(sorted(f"{m}.{n}" for m, n in _ALLOWED))

__all__: list[str] = ["ALLOWED_NAMES", "ForbiddenPickleError", "SafeUnpickler", "safe_load", "safe_loads"]
