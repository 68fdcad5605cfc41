"""Every hostile or broken input of the corpus (tests/hostile/*.py, generated here, none committed) ends in
its clear refusal or its correct load, in bounded time and memory, never in a crash, a hang or an internal
error. The cases are opened in a reader process of their own under an address-space cap
(``MEMORY_CAP_BYTES`` above what its imports take), one after the other, with a wall-clock timeout
(``TIMEOUT_S``); each case's peak resident memory must stay under ``PEAK_BUDGET_BYTES``. A case that
crashes or hangs the reader fails, and the reader is replaced for the next one. The timeout only catches
hangs (a case takes well under a second), it is not a speed test."""

from __future__ import annotations

import atexit
import contextlib
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


def _vm_kib(field: str) -> int:
    """A ``Vm…`` line of /proc/self/status in KiB (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _open(entry: str, path: str):
    from core.errors import AsaError

    try:
        if entry == "load":
            from core.io import load_recording

            return ("load", list(load_recording(path).warnings))
        if entry == "project":
            from canns_gui.project import read_project

            read_project(Path(path))
            return ("load", [])
        if entry == "selftest-segfault":  # the runner's own test: a reader that crashes
            import ctypes

            ctypes.string_at(0)
        if entry == "selftest-allocate":  # … and one that allocates 1 GiB
            block = b"x" * 2**30
            return ("load", [str(len(block))])
        raise ValueError(f"unknown entry {entry!r}")
    except AsaError as exc:
        return ("refuse", str(exc))
    except BaseException as exc:  # noqa: BLE001 (an internal error is what this test looks for)
        return ("internal", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")


def _serve(conn) -> None:
    """The worker: import the readers once, cap the address space, then open cases one by one, each with
    its own peak-memory reading (VmHWM reset between cases)."""
    import canns_gui.project  # noqa: F401 (imported once, not per case)
    import core.io  # noqa: F401

    base = _vm_kib("VmSize") * 1024
    resource.setrlimit(resource.RLIMIT_AS, (base + MEMORY_CAP_BYTES, resource.RLIM_INFINITY))
    while True:
        entry, path = conn.recv()
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)
        start = _vm_kib("VmRSS")
        outcome = _open(entry, path)
        peak = max(_vm_kib("VmHWM") - start, 0) * 1024
        conn.send((outcome, peak))


class Worker:
    """One reader process for many cases; replaced when a case crashes or hangs it."""

    def __init__(self) -> None:
        self.child = None

    def start(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        self.conn, theirs = ctx.Pipe()
        self.child = ctx.Process(target=_serve, args=(theirs,), daemon=True)
        self.child.start()
        theirs.close()

    def stop(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.join()
            self.child = None

    def run(self, case: hostile.HostileCase) -> tuple[tuple, int]:
        if self.child is None or not self.child.is_alive():
            self.start()
        self.conn.send((case.entry, str(case.path)))
        if not self.conn.poll(TIMEOUT_S):
            self.stop()
            pytest.fail(f"{case.name}: no answer within {TIMEOUT_S:.0f} s (a hang)")
        try:
            return self.conn.recv()
        except EOFError:
            self.child.join(5.0)
            code = self.child.exitcode
            self.child = None
            pytest.fail(f"{case.name}: the process died (exit code {code}; negative: a signal)")


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_input_ends_in_its_clear_message_or_its_load(case, worker):
    (kind, detail), peak = worker.run(case)
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
    kinds = {c.name.split("-")[0] for c in CASES}
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
    assert {"npz", "pickle", "loader", "validate", "units", "mat5", "mat73", "nwb", "project"} <= kinds, kinds
    assert sum(c.expect == "load" for c in CASES) >= 20  # valid files that must still load


def test_the_runner_sees_a_crash_and_measures_a_peak(worker):
    crash = hostile.HostileCase("selftest-segfault", Path("/dev/null"), "refuse", entry="selftest-segfault")
    with pytest.raises(pytest.fail.Exception, match="died"):
        worker.run(crash)
    big = hostile.HostileCase("selftest-allocate", Path("/dev/null"), "load", entry="selftest-allocate")
    (kind, _), peak = worker.run(big)  # a new reader replaced the crashed one
    assert kind == "load" and peak >= 0.9 * 2**30
