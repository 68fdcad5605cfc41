"""Every hostile or broken input of the corpus (tests/hostile/*.py, generated here, none committed) ends in
its clear refusal or its correct load, in bounded time and memory, never in a crash, a hang or an internal
error. Each case is opened in its own child process under an address-space cap (``MEMORY_CAP_BYTES``) and a
wall-clock timeout (``TIMEOUT_S``); the child's peak resident memory must stay under ``PEAK_BUDGET_BYTES``.
The timeout only catches hangs (a case takes well under a second), it is not a speed test."""

from __future__ import annotations

import atexit
import importlib
import multiprocessing
import pkgutil
import re
import resource
import shutil
import tempfile
import traceback
from pathlib import Path

import hostile
import pytest

MEMORY_CAP_BYTES = 6 * 2**30  # address space of the child: past this an allocation fails (MemoryError)
PEAK_BUDGET_BYTES = 2 * 2**30  # resident memory a case may reach
TIMEOUT_S = 120.0


def _cases() -> list[hostile.HostileCase]:
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    atexit.register(shutil.rmtree, folder, True)
    cases = []
    for info in pkgutil.iter_modules(hostile.__path__):
        module = importlib.import_module(f"hostile.{info.name}")
        sub = folder / info.name
        sub.mkdir()
        cases += module.make_cases(sub)
    return cases


CASES = _cases()


def _open(entry: str, path: str, conn) -> None:
    """In the child: cap the address space, open the case, send back what happened and the peak memory."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))
    from core.errors import AsaError

    try:
        if entry == "load":
            from core.io import load_recording

            outcome = ("load", list(load_recording(path).warnings))
        elif entry == "project":
            from canns_gui.project import read_project

            read_project(Path(path))
            outcome = ("load", [])
        else:
            raise ValueError(f"unknown entry {entry!r}")
    except AsaError as exc:
        outcome = ("refuse", str(exc))
    except BaseException as exc:  # noqa: BLE001 (an internal error is what this test looks for)
        outcome = ("internal", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    conn.send((outcome, peak))
    conn.close()


def run_case(case: hostile.HostileCase) -> tuple[tuple, int]:
    """(outcome, peak bytes) of ``case`` opened in a child process; pytest.fail on a crash or a hang."""
    ctx = multiprocessing.get_context("forkserver")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_open, args=(case.entry, str(case.path), send), daemon=True)
    child.start()
    send.close()
    got = receive.poll(TIMEOUT_S)
    result = receive.recv() if got else None
    child.join(5.0)
    if child.is_alive():
        child.kill()
        child.join()
    if result is None:
        if child.exitcode is not None and child.exitcode < 0:
            pytest.fail(f"{case.name}: the process died (signal {-child.exitcode})")
        pytest.fail(f"{case.name}: no answer within {TIMEOUT_S:.0f} s (a hang), exit code {child.exitcode}")
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_input_ends_in_its_clear_message_or_its_load(case):
    (kind, detail), peak = run_case(case)
    assert kind != "internal", f"{case.name}: internal error, not a clear message:\n{detail}"
    assert peak < PEAK_BUDGET_BYTES, f"{case.name}: peak memory {peak / 2**20:.0f} MiB"
    if case.expect == "refuse":
        assert kind == "refuse", f"{case.name}: loaded, but should have been refused (warnings: {detail})"
        assert detail.strip() and "Traceback" not in detail, detail
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", detail), f"control characters: {detail!r}"
        assert re.search(case.match, detail), f"{case.name}: {detail!r} does not match {case.match!r}"
    else:
        assert kind == "load", f"{case.name}: refused, but should load: {detail}"
        if case.match:
            assert any(re.search(case.match, w) for w in detail), f"{case.name}: warnings {detail}"


def test_the_corpus_covers_every_reader():
    names = {c.name.split("-")[0] for c in CASES}
    assert len(CASES) >= 1 and len({c.name for c in CASES}) == len(CASES), "case names must be unique"
    assert names, names
