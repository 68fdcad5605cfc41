"""Devices: listing, choosing, falling back to the CPU; simulations and BrainPy in worker threads."""

import threading
from pathlib import Path

import numpy as np
import pytest

from core import devices
from core.errors import ConfigError
from core.simulation import CANN1D, CANN1DConfig, GridNetwork, tasks


def test_the_cpu_is_always_listed_first():
    found = devices.list_devices()
    assert found[0].name == "cpu:0" and found[0].platform == "cpu"
    assert devices.device_names()[:2] == ["auto", "cpu:0"]
    assert all(d.name.startswith("gpu:") for d in found[1:])


def test_resolve_device_names():
    dev, msg = devices.resolve_device("cpu")
    assert dev.platform == "cpu" and msg == ""
    with pytest.raises(ConfigError):
        devices.resolve_device("tpu")
    with pytest.raises(ConfigError):
        devices.resolve_device("gpu:x")
    if not any(d.is_gpu for d in devices.list_devices()):
        dev, msg = devices.resolve_device("gpu")
        assert dev.platform == "cpu" and "no GPU" in msg


class FakeGpu:
    platform = "gpu"
    id = 0


def test_a_gpu_jax_refuses_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(devices, "resolve_device", lambda name: (FakeGpu(), ""))
    value, used, message = devices.run_on_device(lambda: 42, "gpu")
    assert (value, used) == (42, "cpu:0")
    assert message.startswith("the run failed on gpu:0") and message.endswith("ran on the CPU")


def test_a_failing_gpu_run_falls_back_to_the_cpu_with_a_message(monkeypatch):
    import contextlib

    import jax

    monkeypatch.setattr(devices, "resolve_device", lambda name: (FakeGpu(), ""))
    real = jax.default_device
    monkeypatch.setattr(
        jax, "default_device", lambda d: contextlib.nullcontext() if d.platform == "gpu" else real(d)
    )
    calls, messages = [], []

    def run():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY: out of memory")
        return float(jax.numpy.ones(3).sum())

    value, used, message = devices.run_on_device(run, "gpu", on_message=messages.append)
    assert value == 3.0 and used == "cpu:0" and len(calls) == 2
    assert "failed on gpu:0" in message and "ran on the CPU" in message
    assert messages == [message]


def test_user_errors_are_not_retried_on_the_cpu(monkeypatch):
    import contextlib

    import jax

    monkeypatch.setattr(devices, "resolve_device", lambda name: (FakeGpu(), ""))
    monkeypatch.setattr(jax, "default_device", lambda d: contextlib.nullcontext())

    def run():
        raise ConfigError("bad parameter")

    with pytest.raises(ConfigError, match="bad parameter"):
        devices.run_on_device(run, "gpu")


def test_a_run_records_the_device_that_ran_it():
    net = CANN1D(CANN1DConfig(n=32))
    result, used, _ = devices.run_on_device(lambda: net.simulate(tasks.no_input(0.0, 0.2)), "cpu")
    assert result.device == used == "cpu:0"
    assert result.provenance()["device"] == "cpu:0"


def run_in_thread(fn):
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive()
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_simulations_run_in_a_worker_thread():
    net = CANN1D(CANN1DConfig(n=64))
    task = tasks.moving_stimulus(1.0, 1.0)
    here = net.simulate(task)
    there = run_in_thread(lambda: net.simulate(task))
    np.testing.assert_array_equal(here.rates, there.rates)
    grid = GridNetwork()
    state = run_in_thread(lambda: grid.initial_state(seed=1, settle_ms=200))
    assert state["s"].max() > 0.2  # the pattern formed in the thread


def test_compiled_runs_are_kept_in_the_user_cache_folder(tmp_path):
    """A fresh process compiles a model once; the program lands in <user cache>/canns-gui/jax for later."""
    import os
    import subprocess
    import sys

    code = (
        "from core.simulation import CANN1D, CANN1DConfig; from core.simulation import tasks; "
        "CANN1D(CANN1DConfig(n=64)).simulate(tasks.moving_stimulus(1.0, 0.1))"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    root = Path(__file__).parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root, timeout=300)
    assert any(p.name.startswith("jit_chunk") for p in (tmp_path / "canns-gui" / "jax").iterdir())
