"""Headless core of canns-gui: attractor structure analysis (ASA) of neural recordings.

Never imports Qt. Each stage is a plain function
``stage(input, config, progress=None, cancel=None) -> result``.
"""

__version__ = "0.1.0"
