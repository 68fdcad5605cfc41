"""Pickled content is only read through the allow-listed unpickler; hostile payloads never run."""

from __future__ import annotations

import builtins
import collections
import functools
import io
import os
import pickle
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib import format as npy_format

from core.errors import RecordingError
from core.io import load_recording
from core.io.safe_pickle import ForbiddenPickleError, safe_loads


class _Payload:
    """Unpickling this calls ``func(*args)``: the attack a crafted file would carry."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def _npy_with_pickle(obj: Any, protocol: int = 3) -> bytes:
    """A .npy member that claims an object array and carries ``pickle.dumps(obj)`` as its payload."""
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    buf.write(pickle.dumps(obj, protocol=protocol))
    return buf.getvalue()


def _hostile_npz(path: Path, payload: Any, protocol: int = 3) -> Path:
    t = io.BytesIO()
    np.save(t, np.arange(100) * 0.1)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("t.npy", t.getvalue())
        zf.writestr("spike.npy", _npy_with_pickle(payload, protocol))
    return path


def _attacks(marker: Path) -> dict[str, Any]:
    m = str(marker)
    return {
        "os.system": _Payload(os.system, f"touch '{m}'"),
        "eval": _Payload(builtins.eval, f"open({m!r}, 'w').write('x')"),
        "exec": _Payload(builtins.exec, f"open({m!r}, 'w').write('x')"),
        "subprocess": _Payload(subprocess.call, ["touch", m]),
        "partial": _Payload(functools.partial(builtins.open, m, "w")),
        "nested": {0: np.array([1.0]), 1: [_Payload(builtins.open, m, "w")]},
    }


@pytest.mark.parametrize("attack", ["os.system", "eval", "exec", "subprocess", "partial", "nested"])
@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_hostile_pickle_refused_and_never_runs(tmp_path: Path, attack: str, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = _hostile_npz(tmp_path / "evil.npz", _attacks(marker)[attack], protocol)
    with pytest.raises(RecordingError) as info:
        load_recording(path)
    msg = str(info.value)
    assert type(info.value) is RecordingError
    assert msg.startswith("evil.npz: field 'spike' refused: the file contains a pickled object of type '")
    assert "could execute code; only arrays, numbers, strings, lists and dicts are accepted" in msg
    assert not marker.exists()


def test_refusal_names_the_callable(tmp_path: Path) -> None:
    path = _hostile_npz(tmp_path / "evil.npz", _Payload(builtins.eval, "1+1"))
    with pytest.raises(RecordingError, match="of type 'builtins.eval'"):
        load_recording(path)


def test_plain_data_passes_all_protocols() -> None:
    obj = {
        np.int64(3): np.arange(5, dtype=np.float32),
        "b": [1.5, 2 + 3j, "text", b"raw", (1, 2)],
        "c": collections.OrderedDict(a=np.float64(2.5)),
        "d": {frozenset({1}), 2},
        "e": np.array([np.arange(3), np.arange(2)], dtype=object),
    }
    for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
        back = safe_loads(pickle.dumps(obj, protocol=protocol))
        np.testing.assert_array_equal(back[3], obj[np.int64(3)])
        assert back["b"] == obj["b"] and back["c"] == obj["c"] and back["d"] == obj["d"]
        np.testing.assert_array_equal(back["e"][1], [0, 1])


def test_codecs_encode_only_latin1() -> None:
    evil = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R."
    with pytest.raises(ForbiddenPickleError):
        safe_loads(evil)
    ok = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x06\x00\x00\x00latin1\x86R."
    assert safe_loads(ok) == b"abc"


def test_numpy_never_unpickles_with_default_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader must not fall back to np.load(allow_pickle=True) anywhere."""
    real_load = np.load

    def guarded(*args: Any, **kwargs: Any) -> Any:
        assert not kwargs.get("allow_pickle", False), "np.load called with allow_pickle=True"
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", guarded)
    path = tmp_path / "ok.npz"
    spike = np.empty(3, dtype=object)
    spike[0], spike[1], spike[2] = np.array([1.0, 2.0]), np.array([3.0]), np.array([4.0])
    np.savez(path, spike=spike, t=np.arange(100) * 0.1)
    assert load_recording(path).recording.n_spikes == 4


def test_numpy1_module_names_accepted() -> None:
    """Files written under numpy 1.x name ``numpy.core.multiarray``; numpy 2 names ``numpy._core``."""
    obj = {7: np.arange(4.0), "s": np.float64(1.5)}
    raw = pickle.dumps(obj, protocol=2)
    old = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert old != raw or b"numpy.core.multiarray" in raw
    back = safe_loads(old)
    np.testing.assert_array_equal(back[7], obj[7])
    assert back["s"] == 1.5
