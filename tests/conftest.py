"""Shared pytest setup. Qt must see QT_QPA_PLATFORM before it is first imported (no display on CI)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
