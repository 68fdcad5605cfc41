"""What every page shares: access to the session, the task runner, the log, and a stale-result banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QScrollArea, QVBoxLayout, QWidget

from canns_gui.session import Session
from canns_gui.tasks import TaskRunner


class Page(QWidget):
    """A wizard page: a title, a help text, a banner for stale results, then the page's own content."""

    title = ""
    help_text = ""

    def __init__(self, session: Session, runner: TaskRunner, log) -> None:
        super().__init__()
        self.session, self.runner, self.log = session, runner, log
        outer = QVBoxLayout(self)
        heading = QLabel(f"<h2>{self.title}</h2>")
        helper = QLabel(self.help_text)
        helper.setWordWrap(True)
        helper.setStyleSheet("color: palette(mid);")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px;")
        self.banner.hide()
        outer.addWidget(heading)
        outer.addWidget(helper)
        outer.addWidget(self.banner)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))


def parameter_column(layout: QLayout, width: int = 470) -> QScrollArea:
    """A page's left column: ``layout`` (forms, buttons) in a fixed-width area that scrolls vertically."""
    holder = QWidget()
    holder.setLayout(layout)
    scroll = QScrollArea()
    scroll.setWidget(holder)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setFixedWidth(width)
    return scroll
