"""The command line meets hostile files as the library does: one line naming the problem, exit code 2, no
traceback, nothing printed raw (a file name's escape sequences are shown escaped)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hostile import npz_cases

SAMPLE = (
    "loader-fifo-named-npz",
    "pickle-forged-object-array",
    "npz-member-claims-1-tib",
    "validate-two-units",
)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    made = {c.name: c for c in npz_cases.make_cases(tmp_path_factory.mktemp("hostile-cli"))}
    return [made[name] for name in SAMPLE]


def asa(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_hostile_files_end_in_one_clear_line_and_exit_code_2(cases, tmp_path):
    for case in cases:
        out = asa("run", case.path, "--views", "none", "--quiet", "--out", tmp_path / case.name)
        assert out.returncode == 2, (case.name, out.stderr)
        errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and re.search(case.match, errors[0]), (case.name, out.stderr)
        assert "Traceback" not in out.stderr
        assert not (tmp_path / case.name / "summary.json").exists()


def test_a_file_name_with_escape_sequences_is_printed_escaped(tmp_path):
    evil = tmp_path / "\x1b]0;owned\x07name.npz"
    evil.write_bytes(b"not a recording")
    out = asa("run", evil, "--quiet", "--out", tmp_path / "out")
    assert out.returncode == 2 and "\x1b" not in out.stderr and "\\x1b" in out.stderr
