"""Where the views are written: a reusable export process (no Qt here).

matplotlib renders a figure in long calls that hold Python's GIL, so rendering on a worker *thread* would
still freeze the window for 0.1–0.4 s at a time. Each export therefore runs in a reusable worker process
(:class:`core.interruptible.InterruptibleWorker`; Cancel kills it). A tab's export job is
``functools.partial(core.views.registry.export_one, key, result, sources, **options)``, called as
``job(folder, provenance_record)`` and returning the files.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from core.interruptible import InterruptibleWorker

WORKER = InterruptibleWorker()
atexit.register(WORKER.close)  # end the process before the interpreter tears multiprocessing down


def run(job, folder: Path, record: dict, check) -> list[Path]:
    """``job(folder, record)`` in the export process; ``check()`` is polled and may raise to cancel."""
    return WORKER.call(job, (Path(folder), record), check)
