"""The disk layer of the stage cache: every stage result comes back equal, a new StagedAnalysis on the same
folder computes nothing, damaged files are recomputed, the size cap evicts the least recently used entry, and
a file holding pickled objects or naming a foreign class is never loaded (even when signed with this user's
key: the hostile entries here are signed, so the layers behind the digest are what refuses them; unsigned and
foreign-key entries are tests/test_cache_signing.py)."""

import dataclasses
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest

from core import pipeline, synthetic
from core.cache import (
    META,
    SIGNED_MAGIC,
    DiskCache,
    StageCache,
    decode_value,
    encode_value,
    entry_arrays,
    read_entry,
    register_result_type,
    sign,
)
from core.pipeline import STAGES, AnalysisConfig, StagedAnalysis, run_analysis

MB = 1024**2


def key_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def assert_same(a, b, where="value"):
    """Equal values of equal types; arrays equal in shape, dtype and content (NaN equal to NaN)."""
    assert type(a) is type(b), f"{where}: {type(a)} vs {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def ring():
    return synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=4)


@pytest.fixture(scope="module")
def config():
    return AnalysisConfig.from_preset("hd")


@pytest.fixture(scope="module")
def reference(ring, config):
    """One analysis in memory: the results every disk copy must equal."""
    return run_analysis(ring, config)


@pytest.mark.parametrize("stage", ["rate_matrix", "point_cloud", "persistence", "significance", "decoding"])
def test_each_stage_result_round_trips_equal(reference, tmp_path, stage):
    value = getattr(reference, stage)
    assert value is not None
    disk = DiskCache(tmp_path)
    assert disk.put(key_of(stage), value)
    back = DiskCache(tmp_path).get(key_of(stage))  # a fresh object: nothing held in memory
    assert back is not value
    assert_same(value, back, stage)


def test_scalars_containers_and_special_floats_keep_their_types():
    value = {
        "i64": np.int64(7),
        "f32": np.float32(0.5),
        "f64": np.float64(0.25),
        "flag": np.bool_(True),
        "nan": float("nan"),
        "inf": float("inf"),
        "none": None,
        "tuple": (1, 2.5, "x"),
        "list": [np.arange(3, dtype=np.uint16), np.zeros((0, 2))],
        3: "int key",
        "text": np.array(["a", "bc"]),
    }
    tree, arrays = encode_value(value)
    json.dumps(tree)  # plain JSON
    back = decode_value(json.loads(json.dumps(tree)), arrays)
    assert_same(value, back)
    assert decode_value(*encode_value(np.str_("unit"))) == "unit"  # a numpy string comes back as str


def test_a_second_analysis_on_one_folder_computes_nothing(ring, config, tmp_path, monkeypatch, reference):
    first = StagedAnalysis(ring, cache_folder=tmp_path)
    first.result(config)
    assert first.computed == list(STAGES)
    assert len(DiskCache(tmp_path).entries()) == len(STAGES)

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("a stage was recomputed")

    for name in ("compute_rates", "build_point_cloud", "compute_persistence", "decide", "decode"):
        monkeypatch.setattr(pipeline, name, must_not_run)
    second = StagedAnalysis(ring, cache_folder=tmp_path)  # as a new process would: an empty memory cache
    result = second.result(config)
    assert second.computed == []
    assert second.cache.disk_hits == len(STAGES)
    assert set(result.timings_s.values()) == {0.0}
    assert result.verdict == reference.verdict == "ring"
    assert_same(reference.persistence, result.persistence, "persistence")
    assert_same(reference.decoding, result.decoding, "decoding")


def test_without_a_folder_results_stay_in_memory(ring, config, tmp_path):
    analysis = StagedAnalysis(ring)
    assert analysis.cache.disk is None
    analysis.rates(config)
    assert StageCache().disk is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_entry_is_a_miss_removed_and_recomputed(ring, config, tmp_path, damage):
    StagedAnalysis(ring, cache_folder=tmp_path).persistence(config)
    fresh = StagedAnalysis(ring, cache_folder=tmp_path)
    path = fresh.cache.disk.path(fresh.key("persistence", config))
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(4096), "empty": b""}[damage])
    pers = fresh.persistence(config)
    assert fresh.computed == ["persistence"]  # the others were read from disk
    assert fresh.cache.disk.rejected == 1
    assert_same(pers, read_entry(path), "rewritten entry")  # rewritten intact


def test_an_entry_of_another_key_is_a_miss(tmp_path):
    disk = DiskCache(tmp_path)
    disk.put(key_of("a"), np.arange(4))
    os.replace(disk.path(key_of("a")), disk.path(key_of("b")))  # renamed: its recorded key differs
    assert disk.get(key_of("b")) is None
    assert not disk.path(key_of("b")).exists()


def test_the_size_cap_evicts_the_least_recently_used(tmp_path):
    disk = DiskCache(tmp_path, max_bytes=int(2.5 * MB))
    block = np.zeros(MB // 8)  # 1 MiB of float64
    assert disk.put(key_of("a"), block)
    assert disk.put(key_of("b"), block + 1)
    assert disk.get(key_of("a")) is not None  # "a" used again: "b" is now the oldest
    assert disk.put(key_of("c"), block + 2)
    assert key_of("a") in disk and key_of("c") in disk
    assert key_of("b") not in disk
    assert disk.size_bytes() <= disk.max_bytes
    assert not disk.put(key_of("d"), np.zeros(3 * MB // 8))  # larger than the cap: never stored
    assert key_of("d") not in disk and key_of("c") in disk


def test_clear_and_eviction_touch_only_entry_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "other.npz").write_bytes(b"not ours")
    disk = DiskCache(tmp_path)
    disk.put(key_of("x"), "small")
    disk.max_bytes = 0
    assert disk.evict() == 1
    disk.max_bytes = MB
    disk.put(key_of("y"), np.arange(3))
    assert disk.clear() > 0
    assert disk.size_bytes() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.npz"]


def test_writes_leave_no_temporary_files_and_stale_ones_are_removed(tmp_path):
    stale = tmp_path / ".crashed.npz.tmp"
    stale.write_bytes(b"half a write")
    os.utime(stale, (0, 0))
    disk = DiskCache(tmp_path)
    assert disk.put(key_of("v"), np.ones(10))
    assert [p.name for p in tmp_path.iterdir()] == [f"{key_of('v')}.npz"]


class Trap:
    """Unpickling this creates ``marker``: proof that a file's code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")


def hostile_entry(path, key, tree, arrays, secret=None):
    """An npz laid out as an entry, with arbitrary members (object arrays are pickled by np.savez), signed
    with this user's key (or ``secret``) as if a bug had let it through: what is behind the digest must
    refuse it still."""
    meta = json.dumps({"format": "canns-gui stage result", "version": 1, "key": key, "value": tree})
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **arrays, **{META: np.frombuffer(meta.encode(), dtype=np.uint8)})
    body = buffer.getvalue()
    path.write_bytes(SIGNED_MAGIC + sign(body, secret) + body)


def test_a_benign_hostile_entry_loads(tmp_path):
    """The control of the tests below: what hostile_entry writes passes the digest, so they test the rest."""
    disk = DiskCache(tmp_path)
    key = key_of("benign")
    hostile_entry(disk.path(key), key, {"t": "a", "k": "a0"}, {"a0": np.arange(3)})
    assert_same(disk.get(key), np.arange(3))


def test_a_pickled_object_in_an_entry_is_never_loaded(tmp_path):
    marker = tmp_path / "code-ran"
    trap = np.empty(1, dtype=object)
    trap[0] = Trap(str(marker))
    disk = DiskCache(tmp_path / "cache")
    disk.folder.mkdir()
    key = key_of("hostile")
    hostile_entry(disk.path(key), key, {"t": "a", "k": "a0"}, {"a0": trap})
    with zipfile.ZipFile(disk.path(key)) as zf:
        assert "a0.npy" in zf.namelist()  # the pickle is really in there
    assert disk.get(key) is None
    assert not marker.exists()
    assert not disk.path(key).exists()  # removed
    assert disk.rejected == 1


def test_a_pickle_file_named_like_an_entry_is_never_loaded(tmp_path):
    import pickle

    marker = tmp_path / "code-ran"
    disk = DiskCache(tmp_path / "cache")
    disk.folder.mkdir()
    key = key_of("pickle")
    disk.path(key).write_bytes(pickle.dumps(Trap(str(marker))))
    assert disk.get(key) is None
    assert not marker.exists()


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "tests.test_disk_cache.Trap"])
def test_an_entry_naming_an_unregistered_class_is_never_built(tmp_path, name):
    disk = DiskCache(tmp_path)
    key = key_of(name)
    hostile_entry(disk.path(key), key, {"t": "dc", "c": name, "f": {}}, {})
    assert disk.get(key) is None


@register_result_type
@dataclasses.dataclass(frozen=True)
class Extra:
    values: np.ndarray
    label: str = ""


def test_registered_types_round_trip_and_others_stay_in_memory(tmp_path):
    cache = StageCache(disk=DiskCache(tmp_path))
    cache.put(key_of("extra"), Extra(np.arange(3), "mine"))
    assert_same(DiskCache(tmp_path).get(key_of("extra")), Extra(np.arange(3), "mine"))

    @dataclasses.dataclass
    class Local:
        f: object

    odd = Local(lambda: None)
    cache.put(key_of("odd"), odd)  # not encodable: kept in memory, not written, no error
    assert cache.get(key_of("odd")) is odd
    assert key_of("odd") not in cache.disk
    assert entry_arrays(key_of("ok"), [1, 2])[META].dtype == np.uint8


def test_a_second_folder_is_read_and_copied_into_the_first(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    DiskCache(old).put(key_of("r"), np.arange(5))
    disk = DiskCache(new, read_also=(old,))
    assert_same(disk.get(key_of("r")), np.arange(5))
    assert disk.path(key_of("r")).exists()
