"""Export one simulation run: recording, arrays, model-analysis figures, provenance and an animation.

``export_run`` writes into a folder:

- ``recording.npz`` (the ASA layout, like ``canns-asa simulate``) and ``recording.json`` (its provenance),
- ``simulation.npz``: record times (s), rates of the recorded neurons, decoded bump (position, width,
  amplitude), stimulus / true position, unit indices and positions; the state trace when the run kept it,
- one figure per model analysis that applies (:func:`model_figures`) as PNG (+ SVG/PDF on request),
- ``animation.gif`` (Pillow, which comes with matplotlib) and ``animation.mp4`` when an ``ffmpeg`` program is
  on PATH, when the run kept its state.

Everything runs on matplotlib's Agg canvas (no pyplot state), so it is safe in worker threads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from core.errors import ConfigError
from core.figures import save_figure
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.simulation import analysis
from core.simulation.base import SimulationResult
from core.simulation.recording import SimulationRun

MAX_FRAMES = 200  # frames of an exported animation (the state trace is subsampled evenly)


def model_figures(result: SimulationResult, analyses: dict[str, object] | None = None) -> dict[str, Figure]:
    """A figure per model analysis that applies (:func:`analysis.analyse`; pass its output to reuse it), by
    file stem, plus the final state of 2-D sheets."""
    title = f"{result.model} ({result.task.name if result.task is not None else 'no task'})"
    analyses = analysis.analyse(result) if analyses is None else analyses
    draw = {
        "tracking": lambda a: analysis.tracking_figure(a, result, title),
        "path_integration": lambda a: analysis.path_integration_figure(a, title),
        "tuning": lambda a: analysis.tuning_figure(a, title=title),
        "space_time": lambda a: analysis.energy_landscape_figure(a, title),
        "drift": lambda a: analysis.drift_figure(a, title),
    }
    figures = {name: draw[name](value) for name, value in analyses.items() if name in draw}
    state = _sheet_state(result.final_state)
    if state is not None:
        figures["final_sheet"] = analysis.sheet_figure(state, f"{title}: final state")
    return figures


def _sheet_state(state: dict[str, np.ndarray]) -> np.ndarray | None:
    """The 2-D activity variable of a sheet model's state (CANN2D ``u``, grid network ``s``), else None."""
    for key in ("u", "s"):
        value = state.get(key)
        if value is not None and np.ndim(value) == 2:
            return np.asarray(value)
    return None


def save_simulation_npz(result: SimulationResult, path: Path) -> Path:
    """The run's arrays (see the module doc) as a compressed ``.npz`` (no pickled objects)."""
    arrays = {
        "t_s": result.t_s,
        "rates": result.rates,
        "unit_index": result.unit_index,
        "unit_position": np.asarray(result.unit_position, dtype=np.float64),
        "bump_position": result.bump_position,
        "bump_width": result.bump_width,
        "bump_amplitude": result.bump_amplitude,
    }
    if result.stimulus is not None:
        arrays["stimulus"] = result.stimulus
    if result.state_trace is not None:
        arrays["state_trace"] = np.asarray(result.state_trace, dtype=np.float32)
    np.savez_compressed(path, **arrays)
    return path


def animation_frames(result: SimulationResult, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Indices of the records an animation shows (evenly spaced, at most ``max_frames``)."""
    if result.state_trace is None:
        raise ConfigError(
            "this run did not keep its full state (too long for memory): simulate a shorter run to export "
            "an animation"
        )
    n = len(result.state_trace)
    return np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int))


def render_frames(result: SimulationResult, dpi: int = 80) -> list[np.ndarray]:
    """RGB frames (H, W, 3) uint8 of the network state over time: the 1-D bump as a curve over the ring with
    the stimulus marked, a 2-D sheet as an image. The axes are drawn once and only the changing artists per
    frame (matplotlib blitting), ~100× faster than a full redraw."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from core.simulation.base import ring_positions

    frames = animation_frames(result)
    trace = np.asarray(result.state_trace)
    fig = Figure(figsize=(5.0, 4.0), dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    clock = ax.set_title("t = 0.00 s", fontsize=10)  # the title is the clock (space reserved by the layout)
    if trace.ndim == 2:  # ring: u over preferred position
        (curve,) = ax.plot(ring_positions(trace.shape[1]), trace[frames[0]], lw=1.5)
        marker = ax.axvline(0.0, color="0.5", ls="--", lw=1)
        ax.set_xlim(-np.pi, np.pi)
        ax.set_ylim(min(0.0, float(trace.min())), float(trace.max()) * 1.05 + 1e-12)
        ax.set_xlabel("preferred position (rad)")
        ax.set_ylabel("u")
        stimulus = result.stimulus if result.stimulus is not None and result.stimulus.ndim == 1 else None
        marker.set_visible(stimulus is not None)
        artists = [curve, marker, clock]

        def update(k: int) -> None:
            curve.set_ydata(trace[k])
            if stimulus is not None:
                marker.set_xdata([stimulus[k], stimulus[k]])
    else:  # sheet: one image per frame
        image = ax.imshow(trace[frames[0]], origin="lower", cmap="viridis", vmin=0.0, vmax=float(trace.max()))
        fig.colorbar(image, ax=ax)
        ax.set_xlabel("neuron x")
        ax.set_ylabel("neuron y")
        artists = [image, clock]

        def update(k: int) -> None:
            image.set_data(trace[k])

    for artist in artists:
        artist.set_animated(True)
    canvas.draw()
    fig.set_layout_engine("none")
    background = canvas.copy_from_bbox(fig.bbox)
    out = []
    for k in frames:
        update(k)
        clock.set_text(f"t = {result.t_s[k]:.2f} s")
        canvas.restore_region(background)
        for artist in artists:
            ax.draw_artist(artist)
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return out


def export_animation(result: SimulationResult, path: Path, fps: int = 20) -> Path:
    """The network state over time (:func:`render_frames`) as ``path``: .gif (Pillow) or .mp4 (the ffmpeg
    program, H.264). ConfigError when it cannot be made (no state kept, no ffmpeg)."""
    import subprocess

    from PIL import Image

    path = Path(path)
    ffmpeg = shutil.which("ffmpeg")
    if path.suffix == ".mp4" and ffmpeg is None:
        raise ConfigError("MP4 needs the ffmpeg program on PATH; export a GIF instead")
    frames = render_frames(result)
    if path.suffix == ".mp4":
        h, w = frames[0].shape[:2]
        cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"]
        cmd += ["-r", str(fps), "-i", "-", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p"]
        subprocess.run([*cmd, str(path)], input=b"".join(f.tobytes() for f in frames), check=True)
        return path
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def export_run(
    run: SimulationRun,
    folder: Path,
    formats: tuple[str, ...] = ("png",),
    animate: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> list[Path]:
    """Write the run into ``folder`` (see the module doc); returns the paths written."""
    from core.io import save_recording_npz

    report = Reporter(progress, cancel)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result = run.result
    report(0.0, "writing the recording")
    written = [save_recording_npz(run.recording, folder / "recording.npz")]
    provenance = {**run.recording.metadata, "settings": run.settings}
    (folder / "recording.json").write_text(json.dumps(provenance, indent=1, default=str))
    written += [folder / "recording.json", save_simulation_npz(result, folder / "simulation.npz")]
    report(0.2, "drawing the model analysis")
    for name, fig in model_figures(result).items():
        report.check()
        written += save_figure(fig, folder / name, formats)
    if animate and result.state_trace is not None:
        report(0.5, "rendering the animation")
        written.append(export_animation(result, folder / "animation.gif"))
        if shutil.which("ffmpeg") is not None:
            report.check()
            written.append(export_animation(result, folder / "animation.mp4"))
    report(1.0, f"exported {len(written)} files to {folder}")
    return written
