"""Work that cannot be interrupted from inside (ripser's C++ loop, a batch of shuffles) run in worker
processes, so that Cancel still stops it within ~0.1 s: the caller polls its cancel check while waiting and
kills the workers when it fires.

:class:`InterruptibleWorker` keeps one process for repeated calls (its imports are paid once);
:func:`map_unordered` runs a parallel map on a pool made for the occasion.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from typing import Any

POLL_S = 0.1


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def map_unordered(fn: Callable, items: list, n_jobs: int, check: Callable[[], None]) -> Iterator[Any]:
    """Yield ``fn(item)`` for each item as they finish, on ``n_jobs`` processes; ``check()`` runs every 0.1 s
    and may raise to cancel, which terminates the pool at once."""
    pool = _context().Pool(max(1, min(n_jobs, len(items))))
    try:
        results = pool.imap_unordered(fn, items)
        for _ in range(len(items)):
            while True:
                try:
                    item = results.next(timeout=POLL_S)
                    break
                except multiprocessing.TimeoutError:
                    check()
            yield item
        pool.close()
    finally:
        pool.terminate()
        pool.join()


class InterruptibleWorker:
    """One reusable worker process; :meth:`call` runs ``fn(*args)`` there and can be cancelled."""

    def __init__(self) -> None:
        self._pool = None
        self._lock = threading.Lock()

    def _get_pool(self):
        if self._pool is None:
            self._pool = _context().Pool(1)
        return self._pool

    def call(self, fn: Callable, args: tuple, check: Callable[[], None]) -> Any:
        """``fn(*args)`` in the worker; ``check()`` runs every 0.1 s and may raise to cancel (kills it)."""
        with self._lock:
            pending = self._get_pool().apply_async(fn, args)
            while True:
                pending.wait(POLL_S)
                if pending.ready():
                    return pending.get()
                try:
                    check()
                except BaseException:
                    self.close()
                    raise

    def close(self) -> None:
        """Kill the worker (a running call is abandoned)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


WORKER = InterruptibleWorker()
