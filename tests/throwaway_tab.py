"""The GUI tab of tests/throwaway_view.py: a label with the largest mean rate."""

from PySide6.QtWidgets import QLabel

from canns_gui.views.common import ViewTab


class MeanRateTab(ViewTab):
    title = "MeanRate"
    key = "meanrate"

    def build(self) -> None:
        self.label = QLabel("")
        self.content_layout.addWidget(self.label)

    def draw(self) -> None:
        view = self.data.views[self.key]
        self.label.setText(f"largest mean rate {float(view.rate_hz.max()):.2f} Hz × {view.scale:g}")
