"""Running a C extension that cannot be interrupted (ripser) so that Cancel still stops it within ~0.1 s.

The call runs in one worker process that is kept for later calls (its imports are paid once); while it runs,
the caller polls its cancel check, and on cancellation the worker is killed and replaced on the next call.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

POLL_S = 0.1


class InterruptibleWorker:
    """One reusable worker process; :meth:`call` runs ``fn(*args)`` there and can be cancelled."""

    def __init__(self) -> None:
        self._pool = None
        self._lock = threading.Lock()

    def _get_pool(self):
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = context.Pool(1)
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
