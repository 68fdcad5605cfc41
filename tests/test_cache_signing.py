"""Cache entries are signed with this user's key: a planted entry, another user's entry, an old unsigned one
or a damaged one is a miss and is never copied into the user's cache; a signed entry whose result has the
wrong types or shapes is a miss, never an exception; a file is read only within a size limit."""

import dataclasses
import hashlib
import io
import json
import os
import stat
import sys
import tracemalloc

import numpy as np
import pytest

from core import cache, synthetic
from core.cache import (
    HEADER_BYTES,
    META,
    SIGNED_MAGIC,
    DiskCache,
    UnusableEntry,
    check_result,
    key_file,
    read_entry,
    sign,
    user_key,
)
from core.pipeline import STAGES, AnalysisConfig, StagedAnalysis
from core.preprocess import PreprocessConfig, RateMatrix

FOREIGN = bytes(range(32))  # another user's key


def key_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def rate_matrix(n_bins=50, n_units=3, **changes) -> RateMatrix:
    values = {
        "rates": np.arange(n_bins * n_units, dtype=np.float32).reshape(n_bins, n_units),
        "t": np.arange(n_bins) * 0.01,
        "unit_ids": list(range(n_units)),
        "x": None,
        "y": None,
        "hd": np.zeros(n_bins),
        "speed_cm_s": None,
        "n_bins_total": n_bins,
        "config": PreprocessConfig(),
    }
    values.update(changes)
    return RateMatrix(**values)


@pytest.fixture(autouse=True)
def fresh_keys(monkeypatch):
    """Each test reads its key from its own config folder (conftest sets XDG_CONFIG_HOME per test)."""
    monkeypatch.setattr(cache, "_keys", {})


# the key --------------------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_key_is_created_private_once_and_kept():
    key = user_key()
    path = key_file()
    assert path.parent.name == "canns-gui" and os.environ["XDG_CONFIG_HOME"] in str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes.fromhex(path.read_text().strip()) == key and len(key) == 32
    cache._keys.clear()  # as a new process would
    assert user_key() == key


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_key_others_can_read_is_replaced_and_its_entries_are_misses(tmp_path):
    disk = DiskCache(tmp_path)
    disk.put(key_of("r"), np.arange(3))
    old = user_key()
    key_file().chmod(0o644)
    cache._keys.clear()
    assert user_key() != old
    assert stat.S_IMODE(key_file().stat().st_mode) == 0o600
    assert DiskCache(tmp_path).get(key_of("r")) is None


def test_a_malformed_key_file_is_replaced():
    key_file().parent.mkdir(parents=True)
    key_file().write_text("not a key")
    key_file().chmod(0o600)
    assert len(user_key()) == 32
    assert bytes.fromhex(key_file().read_text().strip()) == user_key()


def test_without_a_config_folder_the_cache_still_works_in_this_process(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the config folder should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    disk = DiskCache(tmp_path / "cache")
    assert disk.put(key_of("p"), np.arange(4))
    assert np.array_equal(DiskCache(tmp_path / "cache").get(key_of("p")), np.arange(4))


# signed entries -------------------------------------------------------------------------------------------
def test_entries_are_signed_and_round_trip_writable_and_aligned(tmp_path):
    disk = DiskCache(tmp_path)
    value = rate_matrix()
    assert disk.put(key_of("rm"), value)
    data = disk.path(key_of("rm")).read_bytes()
    assert data.startswith(SIGNED_MAGIC)
    assert data[len(SIGNED_MAGIC) : HEADER_BYTES] == sign(data[HEADER_BYTES:])
    back = DiskCache(tmp_path).get(key_of("rm"))
    assert np.array_equal(back.rates, value.rates) and back.rates.dtype == np.float32
    assert back.rates.flags.writeable and back.rates.flags.aligned and back.rates.flags.c_contiguous
    back.rates[0, 0] = 5.0  # usable as any array


def planted(path, key, value, secret):
    """An entry of ``value`` under ``key`` as a DiskCache with ``secret`` writes it."""
    DiskCache(path.parent, secret=secret).put(key, value)
    return path


def test_a_planted_entry_in_a_read_folder_is_a_miss_and_never_copied(tmp_path):
    shipped, mine = tmp_path / "project-cache", tmp_path / "mine"
    key = key_of("verdict")
    planted(shipped / f"{key}.npz", key, rate_matrix(), FOREIGN)
    disk = DiskCache(mine, read_also=(shipped,))
    assert disk.get(key) is None
    assert disk.rejected == 1
    assert not mine.exists() or not any(mine.iterdir())  # nothing copied
    assert (shipped / f"{key}.npz").exists()  # a folder read only is left as it is


def test_a_planted_entry_in_the_own_folder_is_a_miss_and_removed(tmp_path):
    key = key_of("planted")
    path = planted(tmp_path / f"{key}.npz", key, np.arange(3), FOREIGN)
    disk = DiskCache(tmp_path)
    assert disk.get(key) is None
    assert not path.exists()


def test_an_unsigned_entry_of_the_old_format_is_a_miss(tmp_path):
    disk = DiskCache(tmp_path)
    key = key_of("old")
    meta = json.dumps(
        {"format": "canns-gui stage result", "version": 1, "key": key, "value": {"t": "v", "v": 1}}
    )
    np.savez(disk.path(key), **{META: np.frombuffer(meta.encode(), dtype=np.uint8)})
    assert disk.get(key) is None and disk.rejected == 1


@pytest.mark.parametrize("where", ["magic", "digest", "body", "end"])
def test_one_changed_byte_is_a_miss(tmp_path, where):
    disk = DiskCache(tmp_path)
    key = key_of("flip")
    disk.put(key, rate_matrix())
    path = disk.path(key)
    data = bytearray(path.read_bytes())
    i = {"magic": 3, "digest": len(SIGNED_MAGIC) + 5, "body": len(data) // 2, "end": len(data) - 1}[where]
    data[i] ^= 0x01
    path.write_bytes(bytes(data))
    assert disk.get(key) is None


def test_an_entry_moved_between_keys_or_users_is_a_miss(tmp_path):
    mine = DiskCache(tmp_path / "mine")
    mine.put(key_of("a"), np.arange(2))
    theirs = DiskCache(tmp_path / "theirs", secret=FOREIGN)
    theirs.put(key_of("a"), np.arange(2))
    assert theirs.get(key_of("a")) is not None  # their own entry verifies for them
    os.replace(mine.path(key_of("a")), mine.path(key_of("b")))
    assert mine.get(key_of("b")) is None  # signed, but recorded under another key
    assert DiskCache(tmp_path / "mine", read_also=(tmp_path / "theirs",)).get(key_of("a")) is None


def signed_entry(path, key, tree, arrays):
    """An entry file signed with this user's key holding ``tree`` and ``arrays`` as they are."""
    meta = json.dumps({"format": "canns-gui stage result", "version": 1, "key": key, "value": tree})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{META: np.frombuffer(meta.encode(), dtype=np.uint8)})
    body = buffer.getvalue()
    path.write_bytes(SIGNED_MAGIC + sign(body) + body)


def rate_matrix_tree(**fields):
    base = {
        "rates": {"t": "a", "k": "a0"},
        "t": {"t": "a", "k": "a1"},
        "unit_ids": {"t": "l", "v": [{"t": "v", "v": 0}, {"t": "v", "v": 1}]},
        "x": {"t": "none"},
        "y": {"t": "none"},
        "hd": {"t": "none"},
        "speed_cm_s": {"t": "none"},
        "n_bins_total": {"t": "v", "v": 4},
        "config": {"t": "dc", "c": "core.preprocess.PreprocessConfig", "f": {}},
    }
    base.update(fields)
    return {"t": "dc", "c": "core.preprocess.RateMatrix", "f": base}


def test_the_tree_of_a_signed_entry_is_rebuilt(tmp_path):
    """The control of the two tests below: this hand-made entry loads."""
    key = key_of("good")
    signed_entry(
        tmp_path / f"{key}.npz", key, rate_matrix_tree(), {"a0": np.ones((4, 2)), "a1": np.arange(4.0)}
    )
    assert DiskCache(tmp_path).get(key).rates.shape == (4, 2)


@pytest.mark.parametrize(
    "field, node, arrays",
    [
        ("rates", {"t": "v", "v": "a string"}, {}),  # a string where an array belongs
        ("rates", {"t": "a", "k": "a0"}, {"a0": np.ones((4, 3))}),  # 3 units, 2 unit ids
        ("t", {"t": "a", "k": "a1"}, {"a1": np.arange(5.0)}),  # 5 times for 4 bins
        ("n_bins_total", {"t": "v", "v": 2.5}, {}),  # a float where an int belongs
        ("unit_ids", {"t": "v", "v": 7}, {}),
        ("config", {"t": "v", "v": "grid"}, {}),
        ("rates", {"t": "a", "k": "a0"}, {"a0": np.ones((4, 2), dtype=[("a", "f8")])}),  # a record array
    ],
    ids=["string-for-array", "units-mismatch", "times-mismatch", "float-for-int", "int-for-list",
         "str-for-config", "record-dtype"],
)  # fmt: skip
def test_a_signed_entry_of_the_wrong_types_or_shapes_is_a_miss(tmp_path, field, node, arrays):
    key = key_of(field)
    given = {"a0": np.ones((4, 2)), "a1": np.arange(4.0), **arrays}
    signed_entry(tmp_path / f"{key}.npz", key, rate_matrix_tree(**{field: node}), given)
    disk = DiskCache(tmp_path)
    assert disk.get(key) is None  # never an AttributeError later
    assert disk.rejected == 1


def test_check_result_names_the_field():
    values = {f.name: getattr(rate_matrix(), f.name) for f in dataclasses.fields(RateMatrix)}
    check_result(RateMatrix, values)
    with pytest.raises(ValueError, match=r"RateMatrix\.rates"):
        check_result(RateMatrix, {**values, "rates": "abc"})
    with pytest.raises(ValueError, match=r"RateMatrix\.hd: shape"):
        check_result(RateMatrix, {**values, "hd": np.zeros(3)})


# size limits ----------------------------------------------------------------------------------------------
def test_a_file_larger_than_the_memory_budget_is_never_read(tmp_path, monkeypatch):
    disk = DiskCache(tmp_path)
    key = key_of("big")
    assert disk.put(key, np.zeros(100_000))
    monkeypatch.setattr(cache, "memory_budget_bytes", lambda: 10_000)
    tracemalloc.start()
    try:
        with pytest.raises(UnusableEntry, match="more than the 10000 bytes"):
            read_entry(disk.path(key), key, max_bytes=cache.memory_budget_bytes())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000  # refused on its stored size (800 kB), before anything was read
    assert DiskCache(tmp_path).get(key) is None
    assert not disk.put(key_of("big2"), np.zeros(100_000))  # nor is one written that could not be read
    assert not disk.path(key_of("big2")).exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file kinds")
def test_a_pipe_or_a_link_named_like_an_entry_is_a_miss(tmp_path):
    disk = DiskCache(tmp_path / "cache")
    disk.put(key_of("real"), np.arange(3))
    os.mkfifo(disk.path(key_of("fifo")))
    os.symlink(disk.path(key_of("real")), disk.path(key_of("link")))
    reader = DiskCache(tmp_path / "reader", read_also=(tmp_path / "cache",))
    assert reader.get(key_of("fifo")) is None  # never blocks on the pipe
    assert reader.get(key_of("link")) is None  # a link is never followed


# the pipeline -------------------------------------------------------------------------------------------
def test_another_users_project_cache_is_recomputed_not_trusted(tmp_path):
    ring = synthetic.head_direction_cells(n_units=12, duration_s=120.0, seed=9)
    config = AnalysisConfig.from_preset("hd")
    theirs = tmp_path / "their-cache"
    other = StagedAnalysis(ring)
    other.cache.disk = DiskCache(theirs, secret=FOREIGN)
    other.persistence(config)
    shipped = sorted(p.name for p in theirs.iterdir())
    assert len(shipped) == 3

    mine = StagedAnalysis(ring)
    mine.cache.disk = DiskCache(tmp_path / "mine", read_also=(theirs,))
    mine.persistence(config)
    assert mine.computed == list(STAGES[:3])  # nothing taken from their folder
    assert mine.cache.disk.rejected == 3
    assert sorted(p.name for p in theirs.iterdir()) == shipped  # left as it was
    again = StagedAnalysis(ring, cache_folder=tmp_path / "mine")
    again.persistence(config)
    assert again.computed == []  # the recomputed results are this user's own now
