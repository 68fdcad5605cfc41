"""The installed app, built for real: packaging/smoke_test.sh builds dist/canns-gui with PyInstaller and runs
it in a clean environment (--version, a headless demo analysis, a process pool, the first window)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_built_app_runs_headless_and_opens_its_first_window():
    done = subprocess.run(
        ["bash", str(ROOT / "packaging" / "smoke_test.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "smoke test passed" in done.stdout
