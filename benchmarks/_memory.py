"""Memory and compile-time probes shared by the simulation benchmark's two sides (stdlib only, so that the
reference runner can import it in the reference's own environment: run as scripts, both find it beside them).
"""

from __future__ import annotations

import resource


def lifetime_peak_bytes() -> int:
    """Peak resident set size of this process since start or the last reset (bytes; ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int | None:
    """Resident set size now (bytes), from /proc/self/status; None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (Linux ≥ 4.0), so that ru_maxrss reads the peak from now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# XLA compilation and lowering (not tracing, whose events nest), summed from JAX's own timing events.
COMPILE_EVENTS = (
    "/jax/core/compile/backend_compile_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
)
_COMPILE_S = [0.0]


def watch_compilation() -> None:
    """Sum the seconds JAX spends compiling from now on into ``_COMPILE_S`` (``jax.monitoring`` listener)."""
    import jax.monitoring

    def listener(event: str, duration: float, **kwargs: object) -> None:
        if event in COMPILE_EVENTS:
            _COMPILE_S[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listener)


def end_stage(out: dict, name: str) -> None:
    """Record the peak RSS during stage ``name`` and the RSS at its end (bytes), then reset the peak."""
    out.setdefault("stage_peak_rss_bytes", {})[name] = lifetime_peak_bytes()
    out.setdefault("stage_end_rss_bytes", {})[name] = current_rss_bytes()
    reset_peak()


def warm_up_jax() -> None:
    """Start the JAX runtime as any run would: one tiny compiled scan with a matmul, an FFT and random numbers
    (thread pools, compiler start-up; paid once per process by either side, so it belongs to the baseline)."""
    import jax
    import jax.numpy as jnp

    def body(c, _):
        noise = jax.random.normal(jax.random.PRNGKey(0), c.shape, c.dtype)
        return jnp.fft.irfft2(jnp.fft.rfft2(c @ c.T), s=c.shape) * 1e-3 + noise * 1e-6, None

    jax.jit(lambda x: jax.lax.scan(body, x, None, length=4)[0])(jnp.eye(8)).block_until_ready()
