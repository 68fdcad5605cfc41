"""canns-asa: outputs of a run, exit codes, one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from core import __version__, synthetic
from core.io import save_recording_npz


def asa(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
    )


def test_version():
    out = asa("--version")
    assert out.returncode == 0
    assert __version__ in out.stdout


@pytest.mark.slow
def test_run_writes_summary_persistence_and_barcode(tmp_path):
    path = tmp_path / "hd.npz"
    save_recording_npz(synthetic.head_direction_cells(n_units=20, duration_s=300.0, seed=5), path)
    out = asa("run", path, "--preset", "hd", "--out", tmp_path / "out")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ring")
    assert "%]" in out.stderr  # progress on stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["verdict"] == "ring"
    assert summary["significant"] == {"h1": 1}
    assert len(summary["input"]["sha256"]) == 64
    assert summary["input"]["path"].endswith("hd.npz")
    assert summary["parameters"]["preprocess"]["dt_s"] == 0.01
    assert set(summary["barcode"]) == {"h0", "h1"}
    assert {"preprocess", "point_cloud", "persistence", "significance"} <= set(summary["timings_s"])
    assert "ripser" in summary["software"]
    with np.load(tmp_path / "out" / "persistence.npz") as npz:
        assert npz["h1"].shape[1] == 2
    assert (tmp_path / "out" / "barcode.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "out" / "barcode.svg").read_bytes()[:500]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a recording at all", b"PK\x03\x04truncated zip"],
    ids=["empty", "garbage", "truncated"],
)
def test_bad_input_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    out = asa("run", path, "--out", tmp_path / "out")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert "Traceback" not in out.stderr
    assert "bad.npz" in out.stderr


def test_missing_file_exits_2(tmp_path):
    out = asa("run", tmp_path / "nope.npz")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_missing_field_names_it(tmp_path):
    path = tmp_path / "nofield.npz"
    np.savez(path, spikes=np.zeros((10, 3)), t=np.arange(10.0))
    out = asa("run", path)
    assert out.returncode == 2
    assert "spike" in out.stderr


def test_bad_option_exits_2():
    out = asa("run", "x.npz", "--maxdim", "5")
    assert out.returncode == 2


@pytest.mark.slow
def test_run_exports_decoding_gridscores_and_every_supported_view(tmp_path):
    path = tmp_path / "grid.npz"
    save_recording_npz(synthetic.grid_module(n_units=64, duration_s=600.0, seed=2), path)
    out = asa("run", path, "--preset", "grid", "--out", tmp_path / "out")
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "out"
    with np.load(folder / "decoding.npz", allow_pickle=False) as npz:
        assert npz["theta"].shape[1] == 2 and npz["theta"].shape[0] == npz["t"].shape[0]
    header = (folder / "gridscores.csv").read_text().splitlines()[0].split(",")
    assert header[:7] == [
        "unit",
        "gridness",
        "spacing_cm",
        "orientation_deg",
        "field_size_cm",
        "threshold",
        "is_grid",
    ]
    for view in ("cohomap", "cohospace", "pathcompare", "fr", "frm", "gridscores"):
        for suffix in ("png", "svg", "pdf", "npz", "json"):
            assert (folder / f"{view}.{suffix}").exists(), f"{view}.{suffix}"
        record = json.loads((folder / f"{view}.json").read_text())
        assert len(record["input"]["sha256"]) == 64 and record["parameters"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["decoding"]["torus_axis_angle_deg"] == pytest.approx(60, abs=10)
    assert summary["views"]["gridscore"]["n_grid_cells"] > 40
    assert summary["views"]["cohomap"]["spacing_cm"] == pytest.approx(50, rel=0.1)


def test_a_view_the_data_cannot_give_is_named(tmp_path):
    path = tmp_path / "noise.npz"
    rec = synthetic.independent_units(n_units=20, duration_s=120.0, seed=1)
    rec.x = rec.y = None
    save_recording_npz(rec, path)
    out = asa("run", path, "--preset", "hd", "--views", "cohomap", "--out", tmp_path / "out")
    assert out.returncode == 2
    assert "cohomap" in out.stderr and "Traceback" not in out.stderr


def test_an_unknown_view_fails_before_the_analysis(tmp_path):
    out = asa("run", tmp_path / "missing.npz", "--views", "cohomapp")
    assert out.returncode == 2
    assert "unknown view(s) cohomapp" in out.stderr  # named before the input is even opened


def test_printable_escapes_what_a_terminal_would_obey():
    from core.cli import printable

    assert printable("plain name – ünïcode θ.npz") == "plain name – ünïcode θ.npz"
    assert printable("a\x1b[31mred\x1b]0;title\x07\x9b") == "a\\x1b[31mred\\x1b]0;title\\x07\\x9b"
    assert printable("two\nlines\r\t") == "two\\nlines\\r\\t"
    assert printable("two\nlines", keep_newlines=True) == "two\nlines"
    assert printable("\u202eevil\u2066") == "\\u202eevil\\u2066"  # direction overrides
    assert printable("bad\udcffbyte") == "bad\\udcffbyte"  # a file name's undecodable byte


def test_file_names_with_escape_sequences_are_printed_escaped(tmp_path):
    path = tmp_path / "evil\x1b]0;owned\x07\x1b[2J.npz"
    path.write_bytes(b"not a recording")
    out = asa("run", path, "--out", tmp_path / "out")
    assert out.returncode == 2
    assert "\x1b" not in out.stderr and "\x07" not in out.stderr
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.npz" in out.stderr
    out = asa("run", "x\x1b[2J.npz", "--maxdim", "7")  # argparse quoting an argument
    assert out.returncode == 2 and "\x1b" not in out.stderr


def test_a_bin_width_too_fine_for_the_recording_is_refused_before_allocating(tmp_path):
    path = tmp_path / "long.npz"
    save_recording_npz(synthetic.head_direction_cells(n_units=4, duration_s=2400.0, seed=1), path)
    out = asa("run", path, "--preset", "hd", "--set", "preprocess.dt_s=0.0001", "--out", tmp_path / "out")
    assert out.returncode == 2, out.stderr
    assert (
        "preprocess.dt_s = 0.0001 s over a recording span of 2,400.0 s makes 24,000,000 time bins"
        in out.stderr
    )
    assert "limit of 20,000,000 (MAX_BINS)" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_crash_in_the_write_phase_leaves_no_report(tmp_path, monkeypatch, capsys):
    """Killed while writing (here: the decoding file fails): no summary.json, no folder, one line."""
    import core.report
    from core.cli import main

    path = tmp_path / "hd.npz"
    save_recording_npz(synthetic.head_direction_cells(n_units=12, duration_s=120.0, seed=2), path)
    real = np.savez_compressed

    def savez(target, **arrays):
        real(target, **arrays)
        if "decoding" in str(target):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(core.report.np, "savez_compressed", savez)
    out = tmp_path / "out"
    assert main(["run", str(path), "--preset", "hd", "--views", "none", "--quiet", "--out", str(out)]) == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["hd.npz"]
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.setattr(core.report.np, "savez_compressed", real)
    assert main(["run", str(path), "--preset", "hd", "--views", "none", "--quiet", "--out", str(out)]) == 0
    assert core.report.is_complete(out) and (out / "barcode.png").is_file()
