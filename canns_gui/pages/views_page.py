"""Views: Barcode, CohoMap, CohoSpace, PathCompare, FR, FRM, GridScore (filled as the view modules land)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget

from canns_gui.pages.base import Page


class ViewsPage(Page):
    title = "Views"
    help_text = "Interactive views of the decoded structure. Each view exports its figure and data."

    def __init__(self, session, window, log) -> None:
        super().__init__(session, window, log)
        self.tabs = QTabWidget()
        for name in ("Barcode", "CohoMap", "CohoSpace", "PathCompare", "FR", "FRM", "GridScore"):
            label = QLabel(f"{name}: run TDA and Decode first.")
            self.tabs.addTab(label, name)
        self.body.addWidget(self.tabs, 1)
