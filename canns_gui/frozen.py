"""What the installed (PyInstaller) app needs that a source checkout does not.

- caches go to the user's cache folder (platformdirs), never to the install folder, which may be read-only:
  matplotlib's font list, numba's and JAX's compilation caches (``core.cache`` keeps its results there too);
- files of ``resources/`` are found through :mod:`importlib.resources` (the spec puts them in
  ``canns_gui/resources``); a source checkout falls back to the top-level ``resources/`` folder;
- the first launch of an installed copy builds matplotlib's font cache (seconds to a minute); the app says so
  meanwhile (a splash screen, or one line on stderr for ``--headless``).

:func:`setup_environment` runs first in every process of the frozen app, worker processes included (the
spec's runtime hook ``packaging/rthook_caches.py``), before any library reads its settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from core import __version__

APP = "canns-gui"
ICON = "canns-gui.png"


def is_frozen() -> bool:
    """True in the PyInstaller-built app."""
    return bool(getattr(sys, "frozen", False))


def cache_dir() -> Path:
    """The user's cache folder for canns-gui (e.g. ``~/.cache/canns-gui`` on Linux)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP, appauthor=False))


def _install_tag() -> str:
    """Version and a short hash of the install folder: two installed copies never share a font cache."""
    where = getattr(sys, "_MEIPASS", None) or str(Path(__file__).resolve().parent)
    return f"{__version__}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def setup_environment(env: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Point matplotlib's, numba's and JAX's caches into :func:`cache_dir` (unless the user chose others);
    returns the variables it looked at with their final values."""
    env = os.environ if env is None else env
    base = cache_dir()
    wanted = {
        "MPLCONFIGDIR": base / f"matplotlib-{_install_tag()}",
        "NUMBA_CACHE_DIR": base / "numba",
        "JAX_COMPILATION_CACHE_DIR": base / "jax",
    }
    for name, folder in wanted.items():
        env.setdefault(name, str(folder))
    with contextlib.suppress(OSError):  # matplotlib falls back to a temporary folder itself
        Path(env["MPLCONFIGDIR"]).mkdir(parents=True, exist_ok=True)
    return {name: env[name] for name in wanted}


def first_launch() -> bool:
    """True when matplotlib's font cache of this installed copy is not built yet (frozen app only)."""
    if not is_frozen():
        return False
    folder = os.environ.get("MPLCONFIGDIR")
    return folder is not None and not any(Path(folder).glob("fontlist-*.json"))


def prepare_caches() -> None:
    """Build the caches the first launch needs (importing matplotlib's font manager scans the fonts)."""
    import matplotlib.font_manager  # noqa: F401


def resource_bytes(name: str) -> bytes | None:
    """Content of ``resources/<name>``: via importlib.resources (installed app), else the source tree."""
    try:
        ref = importlib.resources.files("canns_gui").joinpath("resources", name)
        if ref.is_file():
            return ref.read_bytes()
    except (ModuleNotFoundError, OSError):
        pass
    path = Path(__file__).resolve().parent.parent / "resources" / name
    return path.read_bytes() if path.is_file() else None


def app_icon():
    """The application icon as a QIcon (empty when the file is missing)."""
    from PySide6.QtGui import QIcon, QPixmap

    data = resource_bytes(ICON)
    pixmap = QPixmap()
    if data is not None:
        pixmap.loadFromData(data)
    return QIcon(pixmap)


def first_launch_notice(app):
    """On the first launch, show a splash screen while the caches are built; returns it (``finish`` it once
    the main window is up) or None when there was nothing to do."""
    if not first_launch():
        return None
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QSplashScreen

    picture = QPixmap(420, 300)
    picture.fill(QColor("#0b1122"))
    painter = QPainter(picture)
    painter.drawPixmap(100, 10, app_icon().pixmap(220, 220))
    painter.end()
    splash = QSplashScreen(picture)
    splash.showMessage(
        f"canns-gui {__version__}\nFirst launch: building caches (once, up to a minute)…",
        Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
        Qt.GlobalColor.white,
    )
    splash.show()
    app.processEvents()
    prepare_caches()
    return splash


def headless_first_launch_notice() -> None:
    """The first-launch notice of ``--headless`` runs: one line on stderr, then build the caches."""
    if first_launch():
        print(f"first launch: building caches in {cache_dir()} (once)", file=sys.stderr, flush=True)
        prepare_caches()
