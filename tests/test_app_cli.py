"""canns-gui's command line: --version, --headless delegating to canns-asa, and the frozen-app helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import core.cli
from canns_gui import app, frozen
from core import __version__


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        app.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"canns-gui {__version__}"


def test_headless_hands_the_rest_to_canns_asa(monkeypatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(core.cli, "main", lambda argv: seen.append(argv) or 7)
    argv = ["--headless", "run", "rec.npz", "--out", "out", "--shuffles", "3"]
    assert app.main(argv) == 7
    assert seen == [["run", "rec.npz", "--out", "out", "--shuffles", "3"]]


def test_headless_version_and_errors_are_canns_asa_s(capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        app.main(["--headless", "--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"canns-asa {__version__}"
    # a missing input: canns-asa's exit code 2 and one line on stderr
    missing = ["--headless", "run", str(tmp_path / "missing.npz"), "--out", str(tmp_path), "--quiet"]
    assert app.main(missing) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_headless_only_as_first_argument(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        app.main(["--demo", "--headless"])
    assert exc.value.code == 2  # the GUI parser does not know it there


def test_frozen_first_launch_notice_on_stderr(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(core.cli, "main", lambda argv: 0)
    monkeypatch.setattr(frozen, "is_frozen", lambda: True)
    monkeypatch.setattr(frozen, "prepare_caches", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("MPLCONFIGDIR", "NUMBA_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR"):
        monkeypatch.setenv(name, "")  # remembered, so that what main() sets is undone after the test
        monkeypatch.delenv(name)
    assert app.main(["--headless", "demo", "--out", str(tmp_path / "out")]) == 0
    assert "first launch: building caches" in capsys.readouterr().err
    # once matplotlib's font list exists, nothing more is said
    (Path(os.environ["MPLCONFIGDIR"]) / "fontlist-v3.json").write_text("{}")
    assert app.main(["--headless", "demo", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err == ""


def test_setup_environment_uses_the_user_cache_and_respects_choices(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    env = {"NUMBA_CACHE_DIR": "/elsewhere"}
    values = frozen.setup_environment(env)
    assert values["NUMBA_CACHE_DIR"] == "/elsewhere"
    base = tmp_path / "cache" / "canns-gui"
    assert values["JAX_COMPILATION_CACHE_DIR"] == str(base / "jax")
    assert values["MPLCONFIGDIR"].startswith(str(base / f"matplotlib-{__version__}-"))
    assert (base / values["MPLCONFIGDIR"].rsplit("/", 1)[1]).is_dir()


def test_not_frozen_means_no_first_launch() -> None:
    assert not frozen.is_frozen()
    assert not frozen.first_launch()


def test_icon_resource_is_a_png() -> None:
    data = frozen.resource_bytes(frozen.ICON)
    assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert frozen.resource_bytes("no-such-file.png") is None


def test_screenshot_of_the_first_window(tmp_path) -> None:
    """A real launch in its own process (app.exec() on the tests' shared QApplication would leave it quit,
    and later tests' waits would no longer see worker signals)."""
    import subprocess
    import sys

    shot = tmp_path / "first-window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "canns_gui", "--screenshot", str(shot)],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("first-window ")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
