"""Draw the application icon: a shaded torus (the attractor the app looks for) on a rounded dark square.

    python resources/make_icon.py      # writes canns-gui.svg and canns-gui.png (256 px) beside this file

The torus is a mesh of quads, projected orthographically after a tilt, sorted back to front (painter's
algorithm) and shaded by a Lambert term; the PNG is the SVG rendered by Qt's QSvgRenderer, so the two match.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

SIZE = 256
R_MAJOR, R_MINOR = 1.0, 0.42
TILT = math.radians(58)  # rotation about the x axis: how far the ring leans towards the viewer
N_U, N_V = 40, 20  # quads around the ring and around the tube
LIGHT = (-0.45, 0.55, 0.70)
BASE = (64, 196, 220)  # cyan
DARK = (18, 52, 92)


def _unit(v: tuple[float, float, float]) -> tuple[float, float, float]:
    n = math.sqrt(sum(c * c for c in v))
    return (v[0] / n, v[1] / n, v[2] / n)


def _point(u: float, v: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Position and unit normal of the tilted torus at angles (u, v); z points at the viewer."""
    cu, su, cv, sv = math.cos(u), math.sin(u), math.cos(v), math.sin(v)
    p = ((R_MAJOR + R_MINOR * cv) * cu, (R_MAJOR + R_MINOR * cv) * su, R_MINOR * sv)
    n = (cv * cu, cv * su, sv)
    ct, st = math.cos(TILT), math.sin(TILT)

    def rot(a: tuple[float, float, float]) -> tuple[float, float, float]:
        return (a[0], a[1] * ct - a[2] * st, a[1] * st + a[2] * ct)

    return rot(p), rot(n)


def _quads() -> list[tuple[float, list[tuple[float, float]], float]]:
    """(depth, 2-D corners in pixels, brightness) of every quad facing the viewer."""
    light = _unit(LIGHT)
    scale = SIZE * 0.27
    out = []
    for i in range(N_U):
        for j in range(N_V):
            u0, u1 = 2 * math.pi * i / N_U, 2 * math.pi * (i + 1) / N_U
            v0, v1 = 2 * math.pi * j / N_V, 2 * math.pi * (j + 1) / N_V
            corners = [_point(u, v) for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))]
            centre, normal = _point((u0 + u1) / 2, (v0 + v1) / 2)
            if normal[2] <= 0:  # faces away: hidden by the front of the tube
                continue
            shade = max(0.0, sum(a * b for a, b in zip(normal, light, strict=True)))
            xy = [(SIZE / 2 + scale * p[0], SIZE / 2 - scale * p[1]) for p, _ in corners]
            out.append((centre[2], xy, 0.25 + 0.75 * shade))
    out.sort(key=lambda q: q[0])
    return out


def _colour(brightness: float) -> str:
    rgb = [round(d + (b - d) * brightness) for b, d in zip(BASE, DARK, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def svg() -> str:
    """The icon as SVG text."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}">',
        '<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#1d2b4a"/><stop offset="1" stop-color="#0b1122"/>'
        "</linearGradient></defs>",
        f'<rect x="8" y="8" width="{SIZE - 16}" height="{SIZE - 16}" rx="44" fill="url(#bg)"/>',
    ]
    for _, xy, brightness in _quads():
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        colour = _colour(brightness)
        parts.append(f'<polygon points="{points}" fill="{colour}" stroke="{colour}" stroke-width="0.6"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_png(svg_path: Path, png_path: Path, size: int = SIZE) -> None:
    """Render ``svg_path`` to a ``size`` px PNG with Qt (no display needed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg_path)).render(painter)
    painter.end()
    if not image.save(str(png_path)):
        raise OSError(f"could not write {png_path}")


def main() -> None:
    here = Path(__file__).resolve().parent
    svg_path, png_path = here / "canns-gui.svg", here / "canns-gui.png"
    svg_path.write_text(svg())
    render_png(svg_path, png_path)
    print(f"wrote {svg_path.name} and {png_path.name}")


if __name__ == "__main__":
    main()
