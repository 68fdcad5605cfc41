"""Units…: every unit's scores in a sortable table (rate, spatial information, gridness, module, HD
tuning), a query that selects rows (``core.subsets``), and "Analyse these units" to run the whole analysis on
the selection as a named analysis beside the full recording."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConfigError
from core.subsets import select

HEADERS = {
    "unit": "unit",
    "rate_hz": "rate (Hz)",
    "spikes": "spikes",
    "spatial_info": "spatial info (bit/spike)",
    "gridness": "gridness",
    "is_grid": "grid cell",
    "module": "module",
    "spacing_cm": "spacing (cm)",
    "hd_mvl": "HD mean vector length",
}


class NumberItem(QTableWidgetItem):
    """A cell that sorts by its number, not its text."""

    def __init__(self, value) -> None:
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        super().__init__(text)
        self.value = float(value) if isinstance(value, int | float) else float("nan")
        self.setFlags(self.flags() & ~Qt.ItemIsEditable)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.value, getattr(other, "value", float("nan"))
        if mine != mine or theirs != theirs:  # NaN last
            return theirs != theirs and mine == mine
        return mine < theirs


class UnitsDialog(QDialog):
    """The unit table of the current recording; ``analyse(name, indices)`` is emitted for the selection."""

    analyse = Signal(str, list)

    def __init__(self, table: list[dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Units")
        self.resize(860, 560)
        self.rows = table
        columns = [c for c in HEADERS if any(c in row for row in table)]
        layout = QVBoxLayout(self)
        quick = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText("query, e.g. module == 1   or   is_grid == 1 and rate_hz > 0.5")
        self.query.textChanged.connect(self.apply_query)
        quick.addWidget(QLabel("Select"))
        quick.addWidget(self.query, 1)
        self.module = QComboBox()
        modules = sorted({row["module"] for row in table if row.get("module", -1) >= 0})
        self.module.addItem("a module…", None)
        for m in modules:
            self.module.addItem(f"module {m}", m)
        self.module.activated.connect(self._module_chosen)
        self.module.setEnabled(bool(modules))
        grid = QPushButton("grid cells")
        grid.setEnabled("is_grid" in columns)
        grid.clicked.connect(lambda: self.query.setText("is_grid == 1"))
        everyone = QPushButton("all")
        everyone.clicked.connect(lambda: self.query.setText(""))
        for w in (self.module, grid, everyone):
            quick.addWidget(w)
        layout.addLayout(quick)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b02a37;")
        layout.addWidget(self.problem)
        self.table = QTableWidget(len(table), len(columns))
        self.table.setHorizontalHeaderLabels([HEADERS[c] for c in columns])
        for r, row in enumerate(table):
            for c, column in enumerate(columns):
                self.table.setItem(r, c, NumberItem(row.get(column, float("nan"))))
            self.table.item(r, 0).setData(Qt.UserRole, r)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.resizeColumnsToContents()
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.itemSelectionChanged.connect(self._count)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.count = QLabel("")
        self.name = QLineEdit()
        self.name.setPlaceholderText("name of the analysis (default: the query)")
        self.run_button = QPushButton("Analyse these units")
        self.run_button.clicked.connect(self._analyse)
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.name, 1)
        bottom.addWidget(self.run_button)
        layout.addLayout(bottom)
        self._count()

    def _module_chosen(self, index: int) -> None:
        module = self.module.itemData(index)
        if module is not None:
            self.query.setText(f"module == {module}")

    def selected(self) -> list[int]:
        """Indices (recording order) of the selected rows."""
        rows = {i.row() for i in self.table.selectedIndexes()}
        return sorted(self.table.item(r, 0).data(Qt.UserRole) for r in rows)

    def apply_query(self, text: str) -> None:
        """Select the rows the query picks; a query that cannot be read is shown in red, nothing changes."""
        if not text.strip():
            self.problem.setText("")
            self.query.setStyleSheet("")
            self.table.clearSelection()
            return
        try:
            picked = set(select(self.rows, text))
        except ConfigError as exc:
            self.problem.setText(str(exc))
            self.query.setStyleSheet("border: 1px solid #b02a37;")
            return
        self.problem.setText("")
        self.query.setStyleSheet("")
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QTableWidget.MultiSelection)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.UserRole) in picked:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)
        self._count()

    def _count(self) -> None:
        n = len(self.selected())
        self.count.setText(f"{n} of {len(self.rows)} units selected")
        self.run_button.setEnabled(n >= 3)

    def _analyse(self) -> None:
        indices = self.selected()
        name = self.name.text().strip() or self.query.text().strip() or f"{len(indices)} units"
        self.analyse.emit(name, indices)
        self.accept()
