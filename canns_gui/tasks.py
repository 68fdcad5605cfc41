"""Running core stages off the GUI thread: one task at a time, with progress, ETA, cancel and error capture.

A task is a plain function ``fn(progress, cancel) -> result``; it runs on Qt's global thread pool, and its
signals reach the GUI thread through queued connections, so widgets are only touched there.

The time left (ETA) comes from measured progress only (:class:`EtaEstimator`): the rate of the recent
reports, counted from the first report past 0 (process start, imports and compilation before it are not
progress), and none at all until there is enough of it to mean something.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import AsaError, Cancelled

TaskFunction = Callable[[Callable[[float, str], None], Callable[[], bool]], Any]


class EtaEstimator:
    """Seconds left of a task from its progress reports (``update(time_s, fraction)``).

    Reports at fraction 0 are start-up (a process starting, imports, a first compilation) and are ignored;
    the rate is measured from the first report past 0, over the reports of the last ``window_s`` seconds
    (so a stage that is faster or slower than the previous one is followed within a window). There is no
    estimate (None) until ``min_reports`` reports past the first one span ``min_span_s`` seconds with some
    progress; a fraction that goes back (a stage restarted) starts the measurement again.
    """

    def __init__(self, window_s: float = 15.0, min_span_s: float = 1.0, min_reports: int = 3) -> None:
        self.window_s, self.min_span_s, self.min_reports = window_s, min_span_s, min_reports
        self._samples: deque[tuple[float, float]] = deque()
        self._count = 0  # reports since the first one past 0
        self.eta_s: float | None = None

    def reset(self) -> None:
        self._samples.clear()
        self._count = 0
        self.eta_s = None

    def update(self, time_s: float, fraction: float) -> float | None:
        """Add a report; returns the estimate (also kept in ``eta_s``), None while not meaningful."""
        if not math.isfinite(fraction) or fraction <= 0.0:
            return self.eta_s if self._samples else None
        if fraction >= 1.0:
            self.eta_s = 0.0 if self._samples else None
            return self.eta_s
        if self._samples and fraction < self._samples[-1][1]:
            self.reset()
        self._samples.append((time_s, fraction))
        self._count += 1
        # keep one report older than the window, so the rate spans the whole window
        while len(self._samples) > 2 and self._samples[1][0] <= time_s - self.window_s:
            self._samples.popleft()
        t0, f0 = self._samples[0]
        span, advance = time_s - t0, fraction - f0
        if self._count <= self.min_reports or span < self.min_span_s or advance <= 0.0:
            self.eta_s = None
        else:
            self.eta_s = (1.0 - fraction) * span / advance
        return self.eta_s


class _Signals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()


class _Runnable(QRunnable):
    def __init__(self, fn: TaskFunction, signals: _Signals, cancel_event: threading.Event) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn = fn
        self.signals = signals
        self.cancel_event = cancel_event

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(self.signals.progress.emit, self.cancel_event.is_set)
        except Cancelled:
            self.signals.cancelled.emit()
        except AsaError as exc:
            self.signals.failed.emit(str(exc), "")
        except MemoryError:
            self.signals.failed.emit(
                "The computer ran out of memory. Try fewer active bins or points, a shorter recording, "
                "or close other programs.",
                traceback.format_exc(),
            )
        except Exception as exc:  # a bug or an unexpected library error: say it, keep the app alive
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            if self.cancel_event.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.finished.emit(result)


class TaskRunner(QObject):
    """Starts named tasks one at a time and relays their progress (with an ETA in seconds, NaN while there
    is none: see :class:`EtaEstimator`) to the GUI."""

    started = Signal(str)
    progress = Signal(str, float, str, float)  # name, fraction, message, eta_s (nan if unknown)
    finished = Signal(str, object)
    failed = Signal(str, str, str)  # name, message, details
    cancelled = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self._name: str | None = None
        self._cancel = threading.Event()
        self._signals: _Signals | None = None
        self._eta = EtaEstimator()
        self._done = threading.Event()
        self._done.set()

    @property
    def busy(self) -> bool:
        return self._name is not None

    @property
    def current(self) -> str | None:
        return self._name

    def start(self, name: str, fn: TaskFunction) -> bool:
        """Run ``fn`` on a worker thread; False (and nothing started) while another task runs."""
        if self.busy:
            return False
        self._name = name
        self._cancel = threading.Event()
        self._done.clear()
        signals = _Signals()
        signals.progress.connect(self._on_progress)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self._signals = signals
        self._eta.reset()
        self.started.emit(name)
        self.pool.start(_Runnable(self._wrap(fn), signals, self._cancel))
        return True

    def _wrap(self, fn: TaskFunction) -> TaskFunction:
        def run(progress, cancel):
            try:
                return fn(progress, cancel)
            finally:
                self._done.set()

        return run

    def cancel(self) -> None:
        """Ask the running task to stop; stages check it at least every second or so."""
        self._cancel.set()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the running task's function returned (for shutdown only); True if it did."""
        return self._done.wait(timeout_s)

    @property
    def eta_s(self) -> float | None:
        """Seconds left of the running task from its measured progress; None while not meaningful."""
        return self._eta.eta_s if self.busy else None

    def _finish(self) -> str:
        name = self._name or ""
        self._name = None
        self._signals = None
        return name

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._name is None:
            return
        eta = self._eta.update(time.monotonic(), fraction)
        self.progress.emit(self._name, fraction, message, float("nan") if eta is None else eta)

    def _on_finished(self, result: object) -> None:
        self.finished.emit(self._finish(), result)

    def _on_failed(self, message: str, details: str) -> None:
        self.failed.emit(self._finish(), message, details)

    def _on_cancelled(self) -> None:
        self.cancelled.emit(self._finish())
