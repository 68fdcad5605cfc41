"""Broken, empty, truncated and foreign files all raise exactly one RecordingError naming the file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from core.errors import ConfigError, RecordingError
from core.io import load_recording

T = np.arange(2000) * 0.01


def _spike() -> np.ndarray:
    out = np.empty(3, dtype=object)
    for i in range(3):
        out[i] = np.linspace(0.1, 19.0, 300 + i)
    return out


def _refused(path: Path) -> str:
    with pytest.raises(RecordingError) as info:
        load_recording(path)
    assert type(info.value) is RecordingError
    msg = str(info.value)
    assert path.name in msg
    return msg


def _valid(path: Path) -> Path:
    if path.suffix == ".npz":
        np.savez(path, spike=_spike(), t=T, x=np.sin(T) * 40, y=np.cos(T) * 40)
    elif path.suffix == ".mat":
        scipy.io.savemat(path, {"spike": _spike(), "t": T})
    else:
        with h5py.File(path, "w") as f:
            f["t"] = T
            f["spike"] = np.ones((T.size, 2))
    return path


@pytest.mark.parametrize("ext", [".npz", ".mat", ".nwb", ".h5", ".dat"])
def test_zero_byte_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"empty{ext}"
    path.touch()
    assert "empty (0 bytes)" in _refused(path)


@pytest.mark.parametrize("ext", [".npz", ".mat", ".nwb", ".bin"])
def test_random_bytes(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"noise{ext}"
    path.write_bytes(np.random.default_rng(5).bytes(4096))
    _refused(path)


@pytest.mark.parametrize("ext", [".npz", ".mat", ".h5"])
@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_truncated_file(tmp_path: Path, ext: str, keep: float) -> None:
    good = _valid(tmp_path / f"good{ext}")
    data = good.read_bytes()
    bad = tmp_path / f"cut{ext}"
    bad.write_bytes(data[: int(len(data) * keep)])
    _refused(bad)


def test_random_bytes_after_zip_magic(tmp_path: Path) -> None:
    path = tmp_path / "fake.npz"
    path.write_bytes(b"PK\x03\x04" + os.urandom(500))
    assert "truncated or corrupt" in _refused(path)


def test_random_bytes_after_hdf5_magic(tmp_path: Path) -> None:
    path = tmp_path / "fake.mat"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(500))
    assert "MATLAB v7.3" in _refused(path)


def test_zip_with_non_npy_member(tmp_path: Path) -> None:
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("spike.npy", b"\x93NUMPY garbage")
        zf.writestr("t.npy", b"not an array")
    _refused(path)


def test_corrupted_member_crc(tmp_path: Path) -> None:
    good = _valid(tmp_path / "crc.npz")
    data = bytearray(good.read_bytes())
    i = data.index(b"spike.npy") + 200  # inside the stored member payload
    data[i : i + 8] = b"\x00\xff" * 4
    good.write_bytes(bytes(data))
    _refused(good)


def test_single_npy_file(tmp_path: Path) -> None:
    path = tmp_path / "spikes.npy"
    np.save(path, np.arange(10.0))
    assert "np.savez" in _refused(path)


def test_unknown_type(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("spike,t\n1,2\n")
    assert "unrecognised file type" in _refused(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="file not found"):
        load_recording(tmp_path / "nope.npz")
    with pytest.raises(RecordingError, match="is a folder"):
        load_recording(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = _valid(tmp_path / "locked.npz")
    path.chmod(0)
    try:
        assert "cannot be opened" in _refused(path)
    finally:
        path.chmod(0o600)


def test_bad_unit_option_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_recording(_valid(tmp_path / "ok.npz"), position_unit="inches")
