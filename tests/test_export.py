"""Export: figures open in their formats, data loads without pickle, CSV and provenance are complete."""

from __future__ import annotations

import csv
import json
import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.export import csv_cell, export_data, export_figure, export_view, json_safe, provenance
from core.views.cohomap import CohoMapConfig
from core.views.cohospace import CohoSpace, CohoSpaceConfig


def small_figure() -> Figure:
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(np.linspace(0, 1, 50), np.sin(np.linspace(0, 6, 50)), label="sin")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("θ (rad)")
    return fig


def png_size(path) -> tuple[int, int]:
    """Width and height (px) from the IHDR chunk, which follows the 8-byte signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_figure_formats_open(tmp_path):
    paths = export_figure(small_figure(), tmp_path / "fig.v1")
    assert [p.name for p in paths] == ["fig.v1.png", "fig.v1.svg", "fig.v1.pdf"]
    width, height = png_size(paths[0])
    assert (width, height) == (1800, 1200)  # 6 × 4 in at 300 dpi
    svg = paths[1].read_text(encoding="utf-8")
    assert "<svg" in svg
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "time (s)" in svg  # text stays text in the vector file
    assert paths[2].read_bytes()[:5] == b"%PDF-"


def test_data_npz_loads_without_pickle_and_csv_has_header(tmp_path):
    arrays = {
        "maps": np.arange(12, dtype=np.float64).reshape(3, 4),
        "ids": np.array(["a", "b"]),
        "scalar": np.asarray(2.5),
    }
    table = [
        {"unit_id": "a", "rate_hz": 1.5, "phase": float("nan")},
        {"unit_id": "b", "rate_hz": np.float32(2)},
    ]
    npz, csv_path = export_data(tmp_path / "data", arrays, table)
    with np.load(npz, allow_pickle=False) as loaded:
        assert set(loaded.files) == set(arrays)
        assert np.array_equal(loaded["maps"], arrays["maps"])
        assert list(loaded["ids"]) == ["a", "b"]
        assert float(loaded["scalar"]) == 2.5
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["unit_id", "rate_hz", "phase"]
    assert rows[1] == ["a", "1.5", ""]  # NaN is an empty cell
    assert rows[2] == ["b", "2.0", ""]  # missing key is an empty cell too
    assert export_data(tmp_path / "only", arrays) == [tmp_path / "only.npz"]


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="ragged"):
        export_data(tmp_path / "bad", {"ragged": np.array([np.zeros(2), np.zeros(3)], dtype=object)})
    with pytest.raises(TypeError, match="None"):
        export_data(tmp_path / "bad", {"missing": None})
    assert not (tmp_path / "bad.npz").exists()


def test_csv_cells():
    assert csv_cell(float("nan")) == "" and csv_cell(None) == ""
    assert csv_cell(float("inf")) == "inf" and csv_cell(-np.inf) == "-inf"
    assert float(csv_cell(0.1 + 0.2)) == 0.1 + 0.2  # round-trips exactly
    assert csv_cell(np.int64(3)) == 3 and csv_cell("x") == "x"


def test_provenance_records_input_versions_parameters_device():
    record = provenance(
        "/data/rec.npz",
        "ab" * 32,
        {"cohomap": CohoMapConfig(), "threshold": float("nan"), "circles": (1, 2)},
        device="gpu",
        extra={"metrics": {"spacing_cm": np.float64(50.1)}},
        view="cohomap",
    )
    assert record["input"] == {"path": "/data/rec.npz", "sha256": "ab" * 32}
    assert {"canns-gui", "python", "numpy", "matplotlib"} <= record["software"].keys()
    assert record["parameters"]["cohomap"]["bin_size_cm"] == 3.0
    assert record["parameters"]["threshold"] is None and record["parameters"]["circles"] == [1, 2]
    assert record["device"] == "gpu" and record["view"] == "cohomap"
    assert record["metrics"]["spacing_cm"] == 50.1
    assert record["created_utc"].endswith("+00:00")
    json.dumps(record, allow_nan=False)


def test_export_view_writes_everything_next_to_each_other(tmp_path):
    nb = 8
    result = CohoSpace(
        rate_maps=np.random.default_rng(0).random((3, nb, nb)),
        occupancy=np.ones((nb, nb)),
        phase_edges=np.linspace(0, 2 * np.pi, nb + 1),
        centres=np.zeros((3, 2)),
        axis_concentration=np.full((3, 2), 0.5),
        concentration=np.array([0.5, np.nan, 0.2]),
        mean_rate=np.ones(3),
        unit_ids=["u1", "u2", 3],
        rate_unit="Hz",
        config=CohoSpaceConfig(),
    )
    prov = provenance("", "", {"cohospace": result.config})
    paths = export_view(
        "cohospace", small_figure(), result.to_arrays(), result.to_rows(), tmp_path / "out", prov
    )
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "cohospace.png",
            "cohospace.svg",
            "cohospace.pdf",
            "cohospace.npz",
            "cohospace.csv",
            "cohospace.json",
        ]
    )
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in paths)
    assert png_size(tmp_path / "out" / "cohospace.png")[0] >= 1000
    record = json.loads((tmp_path / "out" / "cohospace.json").read_text(encoding="utf-8"))
    assert record["view"] == "cohospace"
    assert {"sha256", "path"} <= record["input"].keys()
    assert record["software"]["numpy"] == np.__version__
    assert record["parameters"]["cohospace"]["n_phase_bins"] == 30
    assert record["device"] == "cpu"
    assert "cohospace.npz" in record["files"]
    header = (tmp_path / "out" / "cohospace.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("unit_id,centre_theta1_rad,centre_theta2_rad")
    with np.load(tmp_path / "out" / "cohospace.npz", allow_pickle=False) as loaded:
        assert list(loaded["unit_ids"]) == ["u1", "u2", "3"]
    with pytest.raises(ValueError):
        export_view("../escape", None, {}, None, tmp_path, prov)


def test_json_safe_handles_nested_numpy_and_dataclasses():
    @dataclass(frozen=True)
    class Cfg:
        a: float = float("inf")
        b: tuple = (np.int32(1), np.bool_(True))

    assert json_safe({"cfg": Cfg(), "arr": np.array([1.0, np.nan])}) == {
        "cfg": {"a": None, "b": [1, True]},
        "arr": [1.0, None],
    }


# report folders are all or nothing -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ring_run():
    from core import synthetic
    from core.pipeline import AnalysisConfig, run_analysis

    rec = synthetic.head_direction_cells(n_units=12, duration_s=120.0, seed=2)
    return rec, run_analysis(rec, AnalysisConfig.from_preset("hd"))


def write_outputs(ring_run):
    from core.report import write_run_outputs

    rec, result = ring_run
    return lambda folder: write_run_outputs(folder, rec, result, [])


def test_a_report_folder_appears_whole(tmp_path, ring_run):
    from core.report import is_complete, write_report

    target = tmp_path / "report"
    paths = write_report(target, write_outputs(ring_run))
    assert [p.parent for p in paths] == [target] * len(paths) and all(p.is_file() for p in paths)
    assert paths[-1].name == "summary.json" and is_complete(target)
    summary = json.loads((target / "summary.json").read_text())
    assert summary["verdict"] == ring_run[1].verdict
    assert summary["files"] == sorted(p.name for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder left


@pytest.mark.parametrize("fails", ["persistence", "decoding"])
def test_a_crash_while_writing_leaves_no_summary(tmp_path, ring_run, monkeypatch, fails):
    """Ctrl-C or a failure in the middle of the write phase: the target never holds a verdict."""
    import core.report
    from core.report import is_complete, write_report

    real = np.savez_compressed

    def savez(path, **arrays):
        real(path, **arrays)  # half the report is on disk, then the writer dies
        if f"{fails}.npz" in str(path):
            raise KeyboardInterrupt

    monkeypatch.setattr(core.report.np, "savez_compressed", savez)
    target = tmp_path / "report"
    with pytest.raises(KeyboardInterrupt):
        write_report(target, write_outputs(ring_run))
    assert not target.exists() and not is_complete(target)
    assert list(tmp_path.iterdir()) == []  # the temporary folder went too


def test_a_crash_while_rewriting_keeps_the_earlier_report(tmp_path, ring_run, monkeypatch):
    from core.report import is_complete, write_report

    target = tmp_path / "report"
    write_report(target, write_outputs(ring_run))
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(folder):
        (folder / "persistence.npz").write_bytes(b"PK\x03\x04 truncated")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_report(target, broken)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before and is_complete(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_crash_while_moving_files_in_leaves_no_summary(tmp_path, ring_run, monkeypatch):
    import core.report
    from core.report import is_complete, write_report

    target = tmp_path / "report"
    write_report(target, write_outputs(ring_run))
    moved = []
    real = os.replace

    def replace(src, dst):
        if moved:  # the second file moved into place: killed
            raise KeyboardInterrupt
        moved.append(dst)
        real(src, dst)

    monkeypatch.setattr(core.report.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_report(target, write_outputs(ring_run))
    assert not (target / "summary.json").exists() and not is_complete(target)


def test_rewriting_a_folder_replaces_the_report_and_keeps_the_users_files(tmp_path, ring_run, monkeypatch):
    import core.report
    from core.report import is_complete, write_report

    target = tmp_path / "report"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "figure.png").write_text("my own figure, no report listed it")

    write_report(target, write_outputs(ring_run))  # into a folder of the user's: merged, theirs kept
    summary = json.loads((target / "summary.json").read_text())
    summary["files"].append("cohomap.png")  # as if the earlier report had this view
    (target / "summary.json").write_text(json.dumps(summary))
    (target / "cohomap.png").write_bytes(b"old view")
    order = []
    real = os.replace
    monkeypatch.setattr(core.report.os, "replace", lambda s, d: order.append(Path(d).name) or real(s, d))
    write_report(target, write_outputs(ring_run))
    assert order[-1] == "summary.json"  # the folder becomes a report again only at the very end
    assert sorted(p.name for p in target.iterdir()) == [
        "decoding.npz", "figure.png", "notes.txt", "persistence.npz", "summary.json",
    ]  # fmt: skip
    assert (target / "notes.txt").read_text() == "mine" and is_complete(target)


def test_is_complete_and_what_a_summary_may_list(tmp_path):
    from core.report import is_complete, report_files

    assert not is_complete(tmp_path / "absent") and not is_complete(tmp_path)
    (tmp_path / "summary.json").write_text(
        json.dumps({"verdict": "ring", "files": ["summary.json", "a.npz"]})
    )
    assert not is_complete(tmp_path)  # a listed file is missing
    (tmp_path / "a.npz").write_bytes(b"x")
    assert is_complete(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"verdict": "ring", "files": ["../../etc/passwd"]}))
    assert report_files(tmp_path) is None and not is_complete(tmp_path)
    (tmp_path / "summary.json").write_text('{"verdict": "ring"')  # truncated
    assert not is_complete(tmp_path)


def test_a_report_over_a_file_is_refused(tmp_path):
    from core.errors import ConfigError
    from core.report import write_report

    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ConfigError, match="is a file"):
        write_report(tmp_path / "taken", lambda folder: [])
