"""Simulate: attractor network models (an honest placeholder until the simulation core lands)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from canns_gui.pages.base import Page


class SimulatePage(Page):
    title = "Simulate"
    help_text = (
        "BrainPy/JAX attractor models (1-D/2-D continuous attractor networks, head-direction ring, grid-cell "
        "torus) whose spikes feed the same analysis."
    )

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        note = QLabel(
            "Not available yet: the simulation core is still being built. Meanwhile the demo recording "
            "(File → Open demo recording) is a synthetic grid module with known answer (a torus)."
        )
        note.setWordWrap(True)
        self.body.addWidget(note)
        self.body.addStretch(1)
