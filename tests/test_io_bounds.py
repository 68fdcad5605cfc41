"""The .npz reader, the restricted unpickler and the loader bound what they read: forged object arrays,
deep nesting, shared-reference bombs, lying sizes and non-regular files end in one clear refusal.

Anything that could crash or exhaust the process if a check failed runs in a child process under an
address-space cap and a timeout (``_in_child``); the rest is safe in-process because the refusal comes
before anything is expanded.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile import npz_cases as hc

import core.io.limits
import core.io.npz
import core.io.safe_pickle as sp
from core.errors import RecordingError
from core.io import load_recording
from core.io.matlab import NotRead
from core.io.npz import read_npz
from core.io.safe_pickle import ForbiddenPickleError, UnsafePickleError, safe_loads

T = np.arange(500) * 0.02
CHILD_CAP_BYTES = 3 * 2**30


def _in_child(code: str, timeout: float = 60.0) -> str:
    """Run ``code`` in a fresh interpreter capped at 3 GiB of address space; its stdout (rc 0 required)."""
    prelude = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({CHILD_CAP_BYTES}, {CHILD_CAP_BYTES}))\n"
        "sys.path.insert(0, 'tests')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, f"child ended with {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout


def _pickle(payload: bytes) -> bytes:
    return hc.PROTO3 + payload + hc.STOP


def _npz_with_spike_pickle(path: Path, payload: bytes) -> Path:
    return hc._npz(path, hc._valid_members(**{"spike.npy": hc._pickle_member(payload)}))


# ------------------------------------------------------------------------------------- forged arrays


def test_forged_object_array_is_refused_before_numpy_sees_its_bytes() -> None:
    """The dtype state that drops the object flags makes numpy read raw bytes as pointers (a segfault
    with the standard unpickler); the checked state refuses it."""
    out = _in_child(
        """
        from hostile import npz_cases as hc
        from core.io.safe_pickle import UnsafePickleError, safe_loads
        payload = hc.PROTO3 + hc._array((1,), hc._dtype("O8", "|", flags=0), hc._bytes(b"A" * 8)) + hc.STOP
        try:
            safe_loads(payload)
        except UnsafePickleError as exc:
            print("refused:", exc.reason)
        """
    )
    assert "refused: an array type '|O' whose stored layout is not the one numpy writes" in out


def test_object_array_from_raw_bytes_refused() -> None:
    payload = _pickle(hc._array((1,), hc._dtype("O8", "|", flags=63), hc._bytes(b"A" * 8)))
    with pytest.raises(UnsafePickleError, match="object array made from raw bytes"):
        safe_loads(payload)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (
            hc._global(hc.CORE, "scalar") + hc._dtype("O8", "|", flags=63) + hc._bytes(b"A" * 8) + b"\x86R",
            "scalar",
        ),
        (hc._array((4,), hc._dtype("f8"), hc._bytes(bytes(8))), "given 8 bytes instead of 32"),
        (hc._array((1,), hc._dtype("V8"), hc._bytes(bytes(8))), "not numeric, bool, text or object"),
        (hc._array((1,), hc._dtype("f8", "<", elsize=64), hc._bytes(bytes(8))), "stored layout"),
    ],
    ids=["object-scalar", "short-buffer", "void-dtype", "forged-elsize"],
)
def test_forged_array_pieces_refused(payload: bytes, match: str) -> None:
    with pytest.raises(UnsafePickleError, match=match):
        safe_loads(_pickle(payload))


def test_ndarray_and_unknown_calls_refused() -> None:
    direct = hc._global("numpy", "ndarray") + hc._tuple(hc._tuple(hc._int(10)), hc._text("f8")) + b"R"
    with pytest.raises(ForbiddenPickleError, match="numpy.ndarray"):
        safe_loads(_pickle(direct))
    with pytest.raises(ForbiddenPickleError, match="class instance"):
        safe_loads(_pickle(hc._global("builtins", "set") + hc.EMPTY_LIST + b"\x81"))  # NEWOBJ


def test_plain_arrays_of_every_kind_round_trip() -> None:
    arrays = {
        "f8": np.linspace(0, 1, 7),
        "be": np.arange(5, dtype=">f8"),
        "i4": np.arange(6, dtype=np.int32).reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "bool": np.array([True, False, True]),
        "text": np.array(["tt1_c1", "tt2_c3"]),
        "bytes": np.array([b"a", b"bc"]),
        "c16": np.array([1 + 2j]),
        "obj": np.array([np.arange(3.0), np.arange(2.0)], dtype=object),
        "scalar": np.float32(2.5),
        "empty": np.empty(0),
    }
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        raw = pickle.dumps(arrays, protocol=protocol)
        back, ref = safe_loads(raw), pickle.loads(raw)
        for key, want in arrays.items():
            got = back[key]
            if key == "obj":
                np.testing.assert_array_equal(got[1], want[1])
            else:
                np.testing.assert_array_equal(got, want)
                assert np.asarray(got).dtype == np.asarray(ref[key]).dtype  # what numpy itself rebuilds
        assert back["fortran"].flags.f_contiguous or back["fortran"].flags.c_contiguous
        assert back["f8"].flags.writeable


# ------------------------------------------------------------------------------------- nesting, sizes


def test_deep_tuple_key_refused_before_it_is_hashed() -> None:
    payload = hc.EMPTY_DICT + hc._int(0) + hc.TUPLE1 * 1000 + hc.NONE + hc.SETITEM
    with pytest.raises(UnsafePickleError, match=f"tuples nested more than {sp.MAX_PICKLE_DEPTH} deep"):
        safe_loads(_pickle(payload))
    ok = hc.EMPTY_DICT + hc._int(0) + hc.TUPLE1 * 10 + hc.NONE + hc.SETITEM
    assert len(safe_loads(_pickle(ok))) == 1


def test_deep_lists_refused_after_unpickling() -> None:
    with pytest.raises(UnsafePickleError, match="containers nested more than"):
        safe_loads(_pickle(hc.EMPTY_LIST * 10_000 + hc.APPEND * 9_999))


def test_billion_laughs_refused_without_expanding() -> None:
    start = time.perf_counter()
    with pytest.raises(UnsafePickleError, match="shared references that expand"):
        safe_loads(_pickle(hc._float(0.5) + (hc.DUP + hc.TUPLE2) * 33))
    assert time.perf_counter() - start < 1.0


def test_shared_array_fan_out_counts_each_reference() -> None:
    array = hc._array((128,), hc._dtype("f8"), hc._bytes(bytes(1024)))
    payload = array + b"q\x01" + b"0" + hc.MARK + b"h\x01" * 1000 + hc.LIST  # ~1 MB expanded
    assert len(safe_loads(_pickle(payload), array_budget=2 << 20)) == 1000
    with pytest.raises(UnsafePickleError, match="expand to more than the reading budget of 512 KiB"):
        safe_loads(_pickle(payload), array_budget=512 << 10)


def test_cycles_refused() -> None:
    with pytest.raises(UnsafePickleError, match="contains itself"):
        safe_loads(_pickle(hc.EMPTY_LIST + b"q\x01" + b"h\x01" + hc.APPEND))


def test_lengths_beyond_the_pickle_refused_before_allocating() -> None:
    for op, fmt in ((b"\x8e", "<Q"), (b"\x96", "<Q"), (b"\x8d", "<Q"), (b"B", "<I"), (b"X", "<I")):
        data = op + __import__("struct").pack(fmt, 2**32 - 1 if fmt == "<I" else 21 * 10**9) + bytes(16)
        with pytest.raises(UnsafePickleError, match="-byte string in a"):
            safe_loads(b"\x80\x04" + data + hc.STOP)
    with pytest.raises(UnsafePickleError, match="integer of 5000 bytes"):
        safe_loads(_pickle(b"\x8b" + (5000).to_bytes(4, "little") + bytes(5000)))


def test_opcode_count_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sp, "MAX_PICKLE_OBJECTS", 1000)
    with pytest.raises(UnsafePickleError, match="more than 1,000 pickled objects"):
        safe_loads(_pickle(hc.EMPTY_LIST * 300))
    assert safe_loads(_pickle(hc.EMPTY_LIST * 10 + hc.APPEND * 9)) == [[[[[[[[[[]]]]]]]]]]


def test_array_bytes_counted_against_the_budget() -> None:
    payload = pickle.dumps([np.zeros(1000), np.zeros(1000)], protocol=3)
    safe_loads(payload, array_budget=20_000)
    with pytest.raises(UnsafePickleError, match="arrays need more than the reading budget"):
        safe_loads(payload, array_budget=10_000)


def test_unpickling_a_100_unit_spike_dict_stays_fast() -> None:
    rng = np.random.default_rng(0)
    spike = {i: np.sort(rng.uniform(0, 1800, rng.integers(5_000, 30_000))) for i in range(100)}
    raw = pickle.dumps(np.array(spike, dtype=object), protocol=3)
    best = min(_timed(lambda: safe_loads(raw)) for _ in range(3))
    reference = min(_timed(lambda: pickle.loads(raw)) for _ in range(3))
    print(
        f"100-unit dict ({len(raw) / 2**20:.1f} MiB): safe {best * 1000:.1f} ms, "
        f"pickle {reference * 1000:.1f} ms"
    )
    assert best < 0.5


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ------------------------------------------------------------------------------------------ the .npz


def test_only_the_layout_members_are_read(tmp_path: Path) -> None:
    """An unknown member is listed, never unpickled: even a forbidden pickle there does not stop the load."""
    evil = hc._object_npy(pickle.dumps(os.system, protocol=3))
    path = hc._npz(tmp_path / "extra.npz", {**hc._valid_members(), "notes.npy": evil})
    fields = read_npz(path)
    assert isinstance(fields["notes"], NotRead) and isinstance(fields["t"], np.ndarray)
    res = load_recording(path)
    assert any("'notes'" in w for w in res.warnings) and res.recording.n_units == 5


def test_member_size_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core.io.limits, "memory_budget_bytes", lambda: 1 << 20)
    monkeypatch.setattr(core.io.npz, "memory_budget_bytes", lambda: 1 << 20)
    path = tmp_path / "big.npz"
    np.savez(path, spike=np.ones((200_000, 3)), t=np.arange(200_000) * 0.01)  # 4.8 MB of spike
    with pytest.raises(
        RecordingError, match=r"big\.npz: member 'spike\.npy' would need 4\.58 MiB .*budget of 1 MiB"
    ):
        load_recording(path)


def test_npy_header_shape_checked_as_float64(tmp_path: Path) -> None:
    path = hc._npz(tmp_path / "shape.npz", {**hc._valid_members(), "t.npy": hc._npy_header("<i1", (2**40,))})
    with pytest.raises(
        RecordingError, match=r"field 't' \(1099511627776 int8, as float64\) would need 8 TiB"
    ):
        load_recording(path)


def test_member_that_holds_less_than_its_header_claims(tmp_path: Path) -> None:
    short = hc._npy_header("<f8", (1000,)) + bytes(800)
    path = hc._npz(tmp_path / "short.npz", {**hc._valid_members(), "t.npy": short})
    with pytest.raises(
        RecordingError, match=r"field 't' declares 1000 float64 \(7\.81 KiB\) but its member holds only"
    ):
        load_recording(path)


def test_too_many_members_declared(tmp_path: Path) -> None:
    members = [hc._Member(k, v) for k, v in hc._valid_members().items()]
    path = hc._write_zip(tmp_path / "many.npz", members, declare_entries=20_000)
    with pytest.raises(RecordingError, match="declares 20,000 members"):
        load_recording(path)


def test_layouts_numpy_writes_are_read_exactly(tmp_path: Path) -> None:
    dense = np.asfortranarray(np.random.default_rng(1).poisson(0.5, size=(T.size, 4)).astype(">f8"))
    path = tmp_path / "layouts.npz"
    np.savez_compressed(path, spike=dense, t=T.astype(">f8"), unit_ids=np.array(["a", "b", "c", "d"]))
    rec = load_recording(path).recording
    np.testing.assert_array_equal(rec.rates, dense)
    np.testing.assert_array_equal(rec.t, T)
    assert rec.unit_ids == ["a", "b", "c", "d"]
    buf = io.BytesIO()
    np.lib.format.write_array(buf, T, version=(3, 0))
    with zipfile.ZipFile(tmp_path / "v3.npz", "w") as zf:
        zf.writestr("t.npy", buf.getvalue())
        zf.writestr("spike.npy", hc._npy(dense))
    np.testing.assert_array_equal(load_recording(tmp_path / "v3.npz").recording.t, T)


def test_crc_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "crc.npz"
    np.savez(path, spike=np.ones((T.size, 3)), t=T)
    data = bytearray(path.read_bytes())
    i = data.index(b"t.npy") + 200
    data[i : i + 4] = b"\xff\x00\xff\x00"
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="Bad CRC-32"):
        load_recording(path)


# --------------------------------------------------------------------------------------- the loader


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    out = _in_child(
        f"""
        from core.errors import RecordingError
        from core.io import load_recording
        try:
            load_recording({str(fifo)!r})
        except RecordingError as exc:
            print(exc)
        """,
        timeout=30,
    )
    assert "pipe.npz: is a named pipe (FIFO), not a regular file" in out


def test_symlinks_followed_to_regular_files_only(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    np.savez(good, spike=np.ones((T.size, 3)), t=T)
    (tmp_path / "link.npz").symlink_to(good)
    assert load_recording(tmp_path / "link.npz").recording.n_units == 3
    if Path("/dev/null").exists():
        (tmp_path / "null.mat").symlink_to("/dev/null")
        with pytest.raises(RecordingError, match="null.mat: is a character device, not a regular file"):
            load_recording(tmp_path / "null.mat")
    (tmp_path / "dangling.npz").symlink_to(tmp_path / "gone.npz")
    with pytest.raises(RecordingError, match="file not found"):
        load_recording(tmp_path / "dangling.npz")
