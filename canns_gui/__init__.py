"""Qt (PySide6) front end of canns-gui: gathers parameters, runs ``core`` stages on workers, shows results."""

from core import __version__

__all__ = ["__version__"]
