"""Stage results cached by a hash of their inputs and config, so repeating a step never recomputes."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np

from core.recording import Recording


def config_hash(*parts: Any) -> str:
    """Stable hex digest of configs (dataclasses), strings and numbers."""
    h = hashlib.sha256()
    for part in parts:
        value = asdict(part) if is_dataclass(part) else part
        h.update(json.dumps(value, sort_keys=True, default=str).encode())
    return h.hexdigest()


def recording_fingerprint(recording: Recording) -> str:
    """Hex digest of a recording's content (spikes, rates, time base, tracking), independent of its file."""
    h = hashlib.sha256()
    for arr in (recording.t, recording.x, recording.y, recording.hd, recording.rates):
        h.update(b"-" if arr is None else np.ascontiguousarray(arr).tobytes())
    for uid, train in zip(recording.unit_ids, recording.spike_times, strict=True):
        h.update(str(uid).encode())
        h.update(np.ascontiguousarray(train, dtype=np.float64).tobytes())
    return h.hexdigest()


class StageCache:
    """In-memory LRU of stage results keyed by digest."""

    def __init__(self, max_items: int = 32) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self.max_items = max_items
        self.hits = 0

    def get(self, key: str) -> Any | None:
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        return None

    def put(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
