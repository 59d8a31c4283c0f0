"""The Train page's network chooser: the curated networks (small / fast first, one line each:
size, CPU speed, when to use) and a last entry, "More networks…", that opens a searchable list
of every model timm can build (engine.models.timm_models.all_names).

`NetworkCombo` is a QComboBox whose item data is the architecture's registry name; choosing a
network from the search adds it to the list (as `timm/<name>`, or `timm-unet/<name>` for a
segmentation project) and selects it, so the rest of the page treats it like any other.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, QSortFilterProxyModel, QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from engine.models.registry import fitting_arch

MORE = "__more__"  # item data of the "More networks…" entry
MORE_TEXT = "More networks…"


class _TwoColumnDelegate(QStyledItemDelegate):
    """Popup rows as 'name   description' (the description in grey, elided to the row)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        desc = index.data(Qt.ItemDataRole.ToolTipRole) or ""
        if not desc or index.data(Qt.ItemDataRole.UserRole) == MORE:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        rect = opt.rect.adjusted(6, 0, -6, 0)
        fm = opt.fontMetrics
        name_w = max(fm.horizontalAdvance(name) + 16, 230)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        pen = opt.palette.highlightedText().color() if selected else opt.palette.text().color()
        painter.setPen(pen)
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        painter.setPen(pen if selected else QColor("#666"))
        rest = rect.adjusted(name_w, 0, 0, 0)
        text = fm.elidedText(desc, Qt.TextElideMode.ElideRight, rest.width())
        painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        s = super().sizeHint(option, index)
        return QSize(max(s.width(), 820), s.height() + 4)


class NetworkCombo(QComboBox):
    """Networks for the project's task; item data = registry name, tooltip = one-line text."""

    more_requested = Signal()  # "More networks…" was chosen (the dialog is opened here)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.task = "classification"
        self._previous = -1
        self.setItemDelegate(_TwoColumnDelegate(self))
        self.view().setMinimumWidth(820)
        self.currentIndexChanged.connect(self._index_changed)  # before the page's own slots
        self.dialog: MoreNetworksDialog | None = None

    def set_archs(self, specs, task: str) -> None:
        """The curated list, smallest first, then "More networks…" (keeps a chosen extra)."""
        current = self.currentData()
        self.task = task
        self.blockSignals(True)
        try:
            self.clear()
            for spec in sorted(specs, key=lambda s: s.params_m):
                self.add_network(spec.name, spec.description, select=False)
            self.addItem(MORE_TEXT, MORE)
            self.setItemData(self.count() - 1, "Search all of timm's networks (over a thousand).",
                             Qt.ItemDataRole.ToolTipRole)  # fmt: skip
            # a chosen extra stays while it fits the task (not the last project's classifier)
            if current and current != MORE and self.findData(current) < 0:
                if fitting_arch(current, task) == current:
                    self.add_network(current, "", select=False)
            i = self.findData(current)
            self.setCurrentIndex(i if i >= 0 else 0)
        finally:
            self.blockSignals(False)
        self._previous = self.currentIndex()

    def add_network(self, name: str, description: str = "", select: bool = True) -> int:
        """Add `name` (before "More networks…") unless it is listed; return its index."""
        i = self.findData(name)
        if i < 0:
            more = self.findData(MORE)
            i = more if more >= 0 else self.count()
            self.insertItem(i, name, name)
            self.setItemData(i, description or f"timm's {name.split('/', 1)[-1]}.",
                             Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        if select:
            self.setCurrentIndex(i)
        return i

    def _index_changed(self, index: int) -> None:
        if self.itemData(index) != MORE:
            self._previous = index
            return
        self.blockSignals(True)  # keep showing the network in use until one is chosen
        self.setCurrentIndex(self._previous if self._previous >= 0 else 0)
        self.blockSignals(False)
        self.open_more()

    def open_more(self) -> MoreNetworksDialog:
        """Open the searchable list (window-modal); a choice is added and selected."""
        self.dialog = MoreNetworksDialog(self.task, self)
        self.dialog.chosen.connect(self._chosen)
        self.more_requested.emit()
        self.dialog.open()
        return self.dialog

    def _chosen(self, arch: str) -> None:
        self.add_network(arch)


class MoreNetworksDialog(QDialog):
    """A filter box over every timm model name; OK / double-click chooses one."""

    chosen = Signal(str)  # the registry name: timm/<name> or timm-unet/<name>

    def __init__(self, task: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.task = task
        self.setWindowTitle("More networks")
        self.resize(460, 520)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            from engine.models.timm_models import all_names

            names = all_names()
        finally:
            QApplication.restoreOverrideCursor()
        kind = "a U-Net on" if task == "segmentation" else "a network from"
        intro = QLabel(
            f"Every model of timm (pytorch-image-models), {len(names)} in all: choose one to train "
            f"{kind} it. Type to search, e.g. 'efficientnet', 'mobilenet', 'convnext'. "
            "Pretrained weights are fetched from the internet on first use."
        )
        intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search networks…")
        self.search.setClearButtonEnabled(True)
        self.names = QStringListModel(names, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.names)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.list = QListView()
        self.list.setModel(self.proxy)
        self.list.setUniformItemSizes(True)
        self.count = QLabel()
        self.count.setStyleSheet("color:#555;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Use this network")
        lay = QVBoxLayout(self)
        for w in (intro, self.search, self.list, self.count, buttons):
            lay.addWidget(w)
        self.search.textChanged.connect(self._filter)
        self.list.doubleClicked.connect(lambda _i: self.accept())
        self.list.selectionModel().currentChanged.connect(lambda *_a: self._sync())
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._filter("")

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if self.proxy.rowCount():
            self.list.setCurrentIndex(self.proxy.index(0, 0))
        self._sync()

    def _sync(self) -> None:
        n = self.proxy.rowCount()
        self.count.setText(f"{n} network{'s' if n != 1 else ''}")
        self.ok.setEnabled(self.list.currentIndex().isValid() and n > 0)

    def current_name(self) -> str:
        i = self.list.currentIndex()
        return str(i.data()) if i.isValid() else ""

    def accept(self) -> None:
        name = self.current_name()
        if not name:
            return
        prefix = "timm-unet/" if self.task == "segmentation" else "timm/"
        super().accept()
        self.chosen.emit(prefix + name)
