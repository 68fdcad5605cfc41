"""Reading an untrusted file runs in a process of its own under a memory cap: a segfault, a runaway
allocation or a hang there ends the load with one clear message (cancel works), and the window and what was
loaded before are untouched."""

from __future__ import annotations

import crashing_readers
import pytest
from gui_helpers import wait_idle

from core import synthetic
from core.errors import AsaError, Cancelled, RecordingError
from core.interruptible import call_isolated


def never() -> None:
    return None


def test_a_crash_in_the_reader_is_a_message_not_a_dead_process():
    with pytest.raises(AsaError, match="killed by signal 11"):
        call_isolated(crashing_readers.segfault, ("x.npz",), never, "reading x.npz")


def test_a_runaway_allocation_is_a_message():
    with pytest.raises(AsaError, match="needs more memory than this computer allows"):
        call_isolated(crashing_readers.exhaust_memory, ("x.npz",), never, "reading x.npz")


def test_the_readers_own_errors_pass_through_unchanged():
    with pytest.raises(RecordingError, match="x.npz: not a recording"):
        call_isolated(crashing_readers.refuse, ("x.npz",), never, "reading x.npz")


def test_cancel_stops_a_hung_reader():
    calls = []

    def cancel_soon() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        call_isolated(crashing_readers.hang, ("x.npz",), cancel_soon, "reading x.npz")


def test_the_window_survives_a_crashing_reader_and_keeps_the_recording(qtbot, window):
    from canns_gui.pages.import_page import load_file
    from canns_gui.session import Loaded

    rec = synthetic.head_direction_cells(n_units=8, duration_s=30.0, seed=1)
    window.session.set_loaded(Loaded(rec, [], "before"))
    done = []
    assert window.run("load", load_file("/tmp/evil.npz", reader=crashing_readers.segfault), done.append)
    wait_idle(qtbot, window)
    assert not done and window.session.recording is rec  # nothing replaced
    assert "killed by signal 11" in window.log.toPlainText()
    assert window.isVisible()
