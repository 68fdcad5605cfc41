"""Progress reporting and cooperative cancellation shared by every stage.

A stage receives ``progress(fraction, message)`` with ``fraction`` in [0, 1] and ``cancel()`` returning True
when the user asked to stop; both are optional. ``Reporter`` turns them into one helper object.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import Cancelled

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool]


class Reporter:
    """Maps a stage's local progress into a sub-range [start, stop] of the caller's progress bar."""

    def __init__(
        self,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        start: float = 0.0,
        stop: float = 1.0,
    ) -> None:
        self._progress = progress
        self._cancel = cancel
        self.start = start
        self.stop = stop

    def __call__(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` (0..1 of this stage) and raise ``Cancelled`` if cancellation was requested."""
        self.check()
        if self._progress is not None:
            f = min(max(fraction, 0.0), 1.0)
            self._progress(self.start + f * (self.stop - self.start), message)

    @property
    def cancellable(self) -> bool:
        """True when somebody can cancel (a cancel check was given)."""
        return self._cancel is not None

    def check(self) -> None:
        """Raise ``Cancelled`` when the cancel check says so."""
        if self._cancel is not None and self._cancel():
            raise Cancelled("cancelled by user")

    def sub(self, start: float, stop: float) -> Reporter:
        """A reporter for a part [start, stop] (fractions of this stage)."""
        span = self.stop - self.start
        return Reporter(self._progress, self._cancel, self.start + start * span, self.start + stop * span)
