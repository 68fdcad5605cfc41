"""Work that cannot be interrupted from inside (ripser's C++ loop, a batch of shuffles) run in worker
processes, so that Cancel still stops it within ~0.1 s: the caller polls its cancel check while waiting and
kills the workers when it fires.

:class:`InterruptibleWorker` keeps one process for repeated calls (its imports are paid once);
:func:`map_unordered` runs a parallel map on a pool made for the occasion.
"""

from __future__ import annotations

import multiprocessing
import os
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


def memory_cap_bytes() -> int | None:
    """The address-space cap of an isolated call: three quarters of the physical memory (at least 4 GiB), or
    None where the OS gives no way to set it."""
    try:
        import resource  # noqa: F401 (POSIX only)

        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ImportError, ValueError, OSError, AttributeError):
        return None
    return max(4 * 2**30, int(0.75 * physical))


def _isolated(fn: Callable, args: tuple, conn, cap: int | None) -> None:
    if cap is not None:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        outcome = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 (sent to the parent, which re-raises it)
        outcome = ("error", exc)
    try:
        conn.send(outcome)
    except Exception as exc:  # an exception or result that does not pickle
        conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    conn.close()


def call_isolated(fn: Callable, args: tuple, check: Callable[[], None], what: str) -> Any:
    """``fn(*args)`` in a fresh process under an address-space cap (:func:`memory_cap_bytes`), so that a
    crash of a native library or a runaway allocation while reading an untrusted file ends this call with
    one clear :class:`~core.errors.AsaError` (naming ``what``) instead of taking the caller down.
    ``check()`` runs every 0.1 s and may raise to cancel (the process is killed). Exceptions raised by
    ``fn`` are raised here; a MemoryError becomes an AsaError."""
    from core.errors import AsaError

    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_isolated, args=(fn, args, send, memory_cap_bytes()), daemon=True)
    child.start()
    send.close()
    def died() -> AsaError:
        child.join(1.0)
        code = child.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"ended ({code})"
        return AsaError(
            f"{what} failed: its process {how} without an answer, which a damaged or hostile file can "
            "cause; nothing else was affected"
        )

    try:
        while not receive.poll(POLL_S):
            check()
            if not child.is_alive() and not receive.poll(0):
                raise died()
        try:
            kind, value = receive.recv()
        except EOFError:
            raise died() from None
        child.join(1.0)  # it has answered and is ending
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if kind == "ok":
        return value
    if isinstance(value, MemoryError):
        cap = memory_cap_bytes()
        limit = f" (the limit is {cap / 2**30:.1f} GiB)" if cap else ""
        raise AsaError(f"{what} needs more memory than this computer allows{limit}")
    raise value
