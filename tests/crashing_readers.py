"""Readers that fail the worst ways a native library can, for tests/test_isolated_load.py (importable by the
child process that runs them)."""

import ctypes
import time


def segfault(path):
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def exhaust_memory(path):
    return bytearray(2**50)  # 1 PiB: past any address-space cap


def hang(path):
    time.sleep(3600)


def refuse(path):
    from core.errors import RecordingError

    raise RecordingError(f"{path}: not a recording")
