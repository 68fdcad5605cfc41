"""How much memory a reader may allocate for one file, checked from declared sizes *before* reading.

Every reader that learns a size from a file header (an array shape, a compressed member's size, a
chunked dataset's extent) calls ``check_allocation`` with the bytes it is about to allocate and the bytes
of the file that hold them. Two rules, both refusals with one plain message:

* the budget: at most ``memory_budget_bytes()`` = min(4 GiB, half the memory available to this process
  — free RAM, a cgroup limit, an address-space rlimit, whichever is smallest);
* plausibility: a file cannot honestly expand more than ``MAX_EXPANSION`` times (deflate's best is
  ~1032×), so a header claiming more than that per stored byte is corrupt or hostile.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

try:
    import resource  # POSIX only
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

from core.errors import RecordingError

MAX_BUDGET_BYTES = 4 * 2**30  # never more than this, however much RAM is free
BUDGET_FRACTION = 0.5  # of the memory available to the process
MAX_EXPANSION = 1000  # declared bytes per byte stored in the file
MIN_STORED_BYTES = 64 * 2**10  # the expansion rule treats smaller stores as this size
_FALLBACK_AVAILABLE = 2 * 2**30  # when the platform tells nothing


def _read_int(path: str, prefix: str | None = None) -> int | None:
    """An integer from a /proc or /sys file (a ``prefix`` line's kB value for /proc/*), else None."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    if prefix is None:
        value = text.strip()
        return int(value) if value.isdigit() else None
    for line in text.splitlines():
        if line.startswith(prefix):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024
    return None


_CACHE_S = 0.5  # readers check thousands of datasets; the free memory is read again after this long
_cached: tuple[float, int] | None = None


def available_memory_bytes() -> int:
    """Bytes this process can still allocate: the smallest of free RAM, cgroup room and rlimit room
    (measured again at most every half second)."""
    global _cached
    now = time.monotonic()
    if _cached is not None and now - _cached[0] < _CACHE_S:
        return _cached[1]
    value = _measure_available()
    _cached = (now, value)
    return value


def _measure_available() -> int:
    candidates: list[int] = []
    avail = _read_int("/proc/meminfo", "MemAvailable:")
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    if avail:
        candidates.append(avail)
    limit = _read_int("/sys/fs/cgroup/memory.max")
    used = _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None and used is not None:
        candidates.append(max(limit - used, 0))
    if resource is not None:
        try:
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        except (ValueError, OSError):
            soft = resource.RLIM_INFINITY
        if soft != resource.RLIM_INFINITY:
            size = _read_int("/proc/self/status", "VmSize:") or 0
            candidates.append(max(soft - size, 0))
    return min(candidates) if candidates else _FALLBACK_AVAILABLE


def memory_budget_bytes() -> int:
    """What one file may make a reader allocate: min(4 GiB, half the available memory)."""
    return int(min(MAX_BUDGET_BYTES, BUDGET_FRACTION * available_memory_bytes()))


def format_bytes(n: float) -> str:
    """1536 → '1.5 KiB'; plain units for messages."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} PiB"  # pragma: no cover


def check_allocation(what: str, n_bytes: int, file_bytes: int | None = None) -> None:
    """Refuse an allocation a file asks for when it is beyond the budget or implausible for the file.

    Args:
        what: names the file and the thing, e.g. ``"rec.mat: variable 't' (1000 × 1 double)"``; the
            message starts with it.
        n_bytes: bytes about to be allocated (declared shape × item size, decompressed size, ...).
        file_bytes: bytes of the file that hold this data (a compressed member, a dataset's storage, the
            whole file); None skips the plausibility rule.

    Raises:
        RecordingError: with a message that names ``what``, the size and the limit it breaks.
    """
    n = int(n_bytes)
    budget = memory_budget_bytes()
    if n > budget:
        raise RecordingError(
            f"{what} would need {format_bytes(n)} of memory, more than the reading budget of "
            f"{format_bytes(budget)} (min(4 GiB, half the available memory)); the file is corrupt, "
            "hostile or too large — save a smaller recording"
        )
    if file_bytes is not None:
        stored = max(int(file_bytes), 0)
        if n > MAX_EXPANSION * max(stored, MIN_STORED_BYTES):
            raise RecordingError(
                f"{what} declares {format_bytes(n)} but only {format_bytes(stored)} of the file hold it "
                f"(more than {MAX_EXPANSION}× larger, beyond what any compression gives); the file is "
                "corrupt or hostile — export it again"
            )
