"""The browser's data side: one QAbstractListModel over a list of image ids, and the MIME
format a drag of image ids carries.

The model holds only ids. Records are fetched from the project lazily, a page at a time, into a
small LRU, so a 100k-image project costs a list of ints until rows are actually painted.
Thumbnails come from gui.data.thumb_loader, requested only for tiles being painted.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractListModel, QByteArray, QMimeData, QModelIndex, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from gui.common.colors import qcolor

MIME_IDS = "application/x-topdown-image-ids"


def ids_to_mime(ids: Sequence[int]) -> QMimeData:
    """MIME data carrying image ids (what a drag from the browser holds)."""
    mime = QMimeData()
    mime.setData(MIME_IDS, QByteArray(json.dumps([int(i) for i in ids]).encode()))
    return mime


def ids_from_mime(mime: QMimeData | None) -> list[int]:
    """Image ids from a browser drag; [] for anything else or malformed data."""
    if mime is None or not mime.hasFormat(MIME_IDS):
        return []
    try:
        ids = json.loads(bytes(mime.data(MIME_IDS).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    return [int(i) for i in ids] if isinstance(ids, list) else []


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted rows -> contiguous (first, last) runs."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class ImageListModel(QAbstractListModel):
    """Rows are image ids; records and thumbnails are fetched lazily and cached (LRU)."""

    IdRole = Qt.ItemDataRole.UserRole + 1
    RecordRole = Qt.ItemDataRole.UserRole + 2
    ThumbRole = Qt.ItemDataRole.UserRole + 3  # QPixmap, or None while loading / unreadable
    ThumbErrorRole = Qt.ItemDataRole.UserRole + 4  # reason string when the file is unreadable

    def __init__(
        self, parent=None, page_size: int = 200, max_records: int = 4000, max_thumbs: int = 1500
    ):
        super().__init__(parent)
        self._ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._records: OrderedDict[int, object] = OrderedDict()
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()
        self._bad: dict[int, str] = {}
        self._page_size = page_size
        self._max_records = max_records
        self._max_thumbs = max_thumbs
        self.project = None
        self.loader = None
        self.task = "classification"
        self.class_colors: dict[str, QColor] = {}
        self.fetch_calls = 0  # project.images() calls
        self.fetch_count = 0  # records fetched in total

    # ------------------------------------------------------------------ setup
    def set_project(self, project, loader=None) -> None:
        self.beginResetModel()
        if self.loader is not None:
            self.loader.ready.disconnect(self._on_thumb)
            self.loader.failed.disconnect(self._on_thumb_failed)
        self.project, self.loader = project, loader
        if loader is not None:
            loader.ready.connect(self._on_thumb)
            loader.failed.connect(self._on_thumb_failed)
            loader.set_project(project)
        self._ids, self._row_of = [], None
        self._records.clear()
        self._thumbs.clear()
        self._bad.clear()
        self.task = project.task if project is not None else "classification"
        self.refresh_classes()
        self.endResetModel()

    def refresh_classes(self) -> None:
        """Re-read class colours (after a rename / recolour / merge)."""
        p = self.project
        self.class_colors = {c.name: qcolor(c.color) for c in p.classes()} if p else {}

    def set_ids(self, ids: Iterable[int]) -> None:
        """Show exactly these images (a full reset; use update_ids for small changes)."""
        self.beginResetModel()
        self._ids, self._row_of = list(ids), None
        self.endResetModel()

    def update_ids(self, new_ids: Iterable[int]) -> None:
        """Move to `new_ids` with row removals/insertions instead of a reset, so selection and
        scroll position survive (e.g. a labelled image leaving the 'unlabeled' filter)."""
        new_ids = list(new_ids)
        if new_ids == self._ids:
            return
        new_set = set(new_ids)
        gone = _runs([r for r, i in enumerate(self._ids) if i not in new_set])
        kept = set(self._ids) & new_set
        if len(gone) > 200 or [i for i in new_ids if i in kept] != [
            i for i in self._ids if i in kept
        ]:
            self.set_ids(new_ids)
            return
        for first, last in reversed(gone):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._ids[first : last + 1]
            self.endRemoveRows()
        k = 0
        while k < len(new_ids):
            if k < len(self._ids) and self._ids[k] == new_ids[k]:
                k += 1
                continue
            j = k
            while j < len(new_ids) and new_ids[j] not in kept:
                j += 1
            self.beginInsertRows(QModelIndex(), k, j - 1)
            self._ids[k:k] = new_ids[k:j]
            self.endInsertRows()
            k = j
        self._row_of = None

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Labels/split/mask of `ids` changed (None: of all): re-fetch them, repaint in place."""
        if ids is None:
            self._records.clear()
            if self._ids:
                self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))
            return
        rows = []
        for i in ids:
            self._records.pop(i, None)
            r = self.row_of(i)
            if r is not None:
                rows.append(r)
        for first, last in _runs(sorted(rows)):
            self.dataChanged.emit(self.index(first), self.index(last))

    # ------------------------------------------------------------------ lookups
    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    def row_of(self, image_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {iid: r for r, iid in enumerate(self._ids)}
        return self._row_of.get(image_id)

    def id_at(self, row: int) -> int:
        return self._ids[row]

    def record(self, row: int):
        """The ImageRecord at `row`, fetching its whole page on a miss."""
        iid = self._ids[row]
        rec = self._records.get(iid)
        if rec is not None:
            self._records.move_to_end(iid)
            return rec
        if self.project is None:
            return None
        start = row - row % self._page_size
        page = [i for i in self._ids[start : start + self._page_size] if i not in self._records]
        recs = self.project.images(page)
        self.fetch_calls += 1
        self.fetch_count += len(recs)
        for r in recs:
            self._records[r.id] = r
        while len(self._records) > self._max_records:
            self._records.popitem(last=False)
        return self._records.get(iid)

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        iid = self._ids[index.row()]
        if role == self.IdRole:
            return iid
        if role == self.ThumbRole:
            return self._thumb(index.row(), iid)
        if role == self.ThumbErrorRole:
            return self._bad.get(iid)
        rec = self.record(index.row())
        if rec is None:
            return None
        if role == self.RecordRole:
            return rec
        if role == Qt.ItemDataRole.DisplayRole:
            return rec.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(rec)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def mimeTypes(self) -> list[str]:
        return [MIME_IDS]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return ids_to_mime([self._ids[r] for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # ------------------------------------------------------------------ thumbnails
    def _thumb(self, row: int, iid: int):
        pm = self._thumbs.get(iid)
        if pm is not None:
            self._thumbs.move_to_end(iid)
            return pm
        if iid not in self._bad and self.loader is not None:
            rec = self.record(row)
            if rec is not None:
                self.loader.request(rec)
        return None

    def _on_thumb(self, iid: int, image: QImage) -> None:
        self._thumbs[iid] = QPixmap.fromImage(image)
        while len(self._thumbs) > self._max_thumbs:
            self._thumbs.popitem(last=False)
        self._repaint(iid)

    def _on_thumb_failed(self, iid: int, reason: str) -> None:
        self._bad[iid] = reason
        self._repaint(iid)

    def _repaint(self, iid: int) -> None:
        r = self.row_of(iid)
        if r is not None:
            idx = self.index(r)
            self.dataChanged.emit(idx, idx, [self.ThumbRole])

    def _tooltip(self, rec) -> str:
        parts = [rec.name, f"{rec.width} × {rec.height} px · {rec.split}"]
        if rec.values is not None:
            parts.append("value: " + ", ".join(f"{v:g}" for v in rec.values))
        elif rec.labels:
            parts.append("label: " + ", ".join(rec.labels))
        else:
            parts.append("unlabeled")
        if rec.mask:
            parts.append("has a mask")
        bad = self._bad.get(rec.id)
        if bad:
            parts.append(f"cannot read: {bad}")
        return "\n".join(parts)
