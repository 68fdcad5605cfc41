"""PyInstaller runtime hook: runs first in every process of the frozen app (worker processes too), so the
libraries' caches go to the user's cache folder before any of them is imported."""

from canns_gui.frozen import setup_environment

setup_environment()
