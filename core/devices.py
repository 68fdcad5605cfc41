"""Compute devices for the simulations: list JAX's devices, run on the chosen one, fall back to the CPU.

``list_devices()`` always has the CPU and adds every GPU JAX can see (never forcing ``JAX_PLATFORMS``, which
crashes at start-up where no GPU exists). ``run_on_device(fn, "gpu")`` runs ``fn`` under
``jax.default_device``; if no GPU exists or the GPU run fails, it runs ``fn`` again on the CPU and says why in
a one-line message. The name of the device that ran is what recordings keep in their provenance.

The models are pure JAX (``jax.jit`` + ``lax.scan``), not BrainPy: BrainPy keeps its defaults per thread, so
each worker thread would need the GUI thread's environment copied in, and ``bm.for_loop`` retraces per call;
plain JAX runs the same equations in any thread, compiled once, with one dependency fewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.errors import AsaError, ConfigError

T = TypeVar("T")
GPU_PLATFORMS = ("gpu", "cuda", "rocm")


@dataclass(frozen=True)
class DeviceInfo:
    """One compute device: ``name`` ("cpu:0", "gpu:1") as the CLI and GUI spell it, JAX's ``platform`` and a
    human ``description`` (e.g. "NVIDIA H100 80GB HBM3")."""

    name: str
    platform: str
    description: str

    @property
    def is_gpu(self) -> bool:
        return self.platform == "gpu"


def _jax():
    try:
        import jax
    except ImportError as exc:  # pragma: no cover - jax is a dependency
        raise ConfigError(f"JAX is not installed ({exc}); the simulations need it") from None
    return jax


def _gpu_devices() -> list:
    jax = _jax()
    found = []
    for platform in ("gpu", "rocm"):
        try:
            found += [d for d in jax.devices(platform) if d not in found]
        except RuntimeError:  # no such backend here
            continue
    return found


def list_devices() -> list[DeviceInfo]:
    """The CPU (always) and every GPU JAX can use, in that order."""
    jax = _jax()
    cpu = jax.devices("cpu")[0]
    out = [DeviceInfo("cpu:0", "cpu", getattr(cpu, "device_kind", "cpu"))]
    for d in _gpu_devices():
        out.append(DeviceInfo(f"gpu:{d.id}", "gpu", getattr(d, "device_kind", "GPU")))
    return out


def device_names() -> list[str]:
    """Names for a choice list: "auto", then every device of :func:`list_devices`."""
    return ["auto"] + [d.name for d in list_devices()]


def resolve_device(name: str = "auto") -> tuple[Any, str]:
    """(jax device, message) for "auto" (a GPU when one exists, else the CPU), "cpu", "gpu" (the first GPU)
    or "cpu:N" / "gpu:N". Asking for a GPU where none exists gives the CPU and says so."""
    jax = _jax()
    name = (name or "auto").strip().lower()
    platform, _, index = name.partition(":")
    if platform not in ("auto", "cpu", "gpu", "cuda"):
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, gpu or gpu:N")
    if index and not index.isdigit():
        raise ConfigError(f"device index must be a number, got {name!r}")
    cpu = jax.devices("cpu")[0]
    if platform == "cpu":
        return cpu, ""
    gpus = _gpu_devices()
    if platform == "auto":
        return (gpus[0] if gpus else cpu), ""
    if not gpus:
        return cpu, f"no GPU is available to JAX; running on the CPU instead of {name}"
    if index:
        match = [d for d in gpus if d.id == int(index)]
        if not match:
            ids = ", ".join(f"gpu:{d.id}" for d in gpus)
            raise ConfigError(f"no device {name!r}; available GPUs: {ids}")
        return match[0], ""
    return gpus[0], ""


def device_label(device: Any) -> str:
    """ "cpu:0" / "gpu:0" for a jax device."""
    platform = "gpu" if device.platform in GPU_PLATFORMS else device.platform
    return f"{platform}:{device.id}"


def run_on_device(
    fn: Callable[[], T], device: str = "auto", on_message: Callable[[str], None] | None = None
) -> tuple[T, str, str]:
    """Run ``fn()`` with ``device`` as JAX's default device.

    Returns (result, name of the device that ran it, message).

    A GPU run that fails (out of memory, driver or compilation error; not a user error or a cancel) is run
    again on the CPU; the message says so and why. ``on_message`` also receives it as soon as it is known.
    """
    jax = _jax()
    dev, message = resolve_device(device)

    def note(text: str) -> None:
        if text and on_message is not None:
            on_message(text)

    note(message)
    if dev.platform in GPU_PLATFORMS:
        try:
            with jax.default_device(dev):
                return fn(), device_label(dev), message
        except AsaError:
            raise
        except Exception as exc:  # the GPU failed: say why and use the CPU
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            message = (
                f"the run failed on {device_label(dev)} ({type(exc).__name__}: {detail[:200]}); "
                "ran on the CPU"
            )
            note(message)
            dev = jax.devices("cpu")[0]
    with jax.default_device(dev):
        return fn(), device_label(dev), message


# --------------------------------------------------------------------------- compiled code kept for later

COMPILATION_CACHE_BYTES = 256 * 2**20
_CACHE: dict[str, Path | None] = {}


def enable_compilation_cache() -> Path | None:
    """Keep JAX's compiled programs in the user's cache folder (``<user cache>/canns-gui/jax``), so that a
    model compiled once on this machine loads in later sessions: measured on CANN2D 100 × 100, the first run
    of a session takes 0.16 s instead of 0.57 s and ~25 MB less peak memory. At most 256 MB, least recently
used programs dropped first. Once per process;
    ``JAX_COMPILATION_CACHE_DIR`` in the environment wins. Returns the folder (None when unusable)."""
    if "folder" not in _CACHE:
        import os

        from platformdirs import user_cache_dir

        jax = _jax()
        default = Path(user_cache_dir("canns-gui")) / "jax"
        folder = Path(os.environ.get("JAX_COMPILATION_CACHE_DIR") or default)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            jax.config.update("jax_compilation_cache_dir", str(folder))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_compilation_cache_max_size", COMPILATION_CACHE_BYTES)  # oldest go first
        except (OSError, AttributeError, ValueError):  # read-only home, an older JAX: compile every session
            folder = None
        _CACHE["folder"] = folder
    return _CACHE["folder"]
