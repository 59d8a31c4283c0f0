"""Help ▸ Ideas and shortcuts: the ideas behind training in plain words (the same texts as the
"?" buttons, gui.common.help_texts) and every keyboard shortcut of the app, on one page."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gui.common.help_texts import HELP

IDEAS = (  # in the order a newcomer meets them
    "validation", "test", "loss", "metric", "overfitting", "pretrained", "frozen", "epochs",
    "lr", "lr_finder", "batch_size", "image_size", "augmentation", "device", "confusion",
    "top_losses", "f1", "iou",
)  # fmt: skip
SEGMENTATION = (
    "Segmentation",
    "Instead of one answer per image, the model gives every pixel a class: road, car, sky. "
    "You teach it by painting masks on the Data page (✎ Paint mask); pixels left as “ignore” "
    "are skipped, so a few strokes per image are enough to start. It is scored by IoU.",
)
SHORTCUTS = (
    ("Anywhere", (
        ("Ctrl+N / Ctrl+O", "New project / open a project"),
        ("Ctrl+I", "Import images or a folder"),
        ("Ctrl+Z", "Undo the last change (labels, splits, masks, removals, imports)"),
        ("Ctrl+Shift+Z or Ctrl+Y", "Redo"),
        ("Ctrl+W", "Close the project"),
        ("Ctrl+Q", "Quit"),
        ("F1", "This page"),
    )),
    ("Data page: the images", (
        ("1–9", "Label the selected images with that class"),
        ("0 or Backspace", "Unlabel the selected images"),
        ("Delete", "Remove the selected images from the project (undoable)"),
        ("Enter or double-click", "Open the image in the viewer"),
        ("N", "Label next: the image the model is least sure of"),
    )),
    ("Viewer and mask editor", (
        ("Left / Right", "Previous / next image"),
        ("Esc", "Close the viewer"),
        ("B, E, F, P", "Brush, eraser, fill, polygon"),
        ("[ / ]", "Smaller / bigger brush"),
        ("1–9, 0", "Paint that class; 0 paints “ignore”"),
        ("Wheel; middle button or Space + drag", "Zoom; pan"),
    )),
    ("Evaluate page", (("1–9", "Fix the label of the selected validation image"),)),
)  # fmt: skip


def help_html() -> str:
    parts = ["<h2>The ideas</h2>"]
    for key in IDEAS:
        title, text = HELP[key]
        parts.append(f"<h3>{html.escape(title)}</h3><p>{html.escape(text)}</p>")
    title, text = SEGMENTATION
    parts.append(f"<h3>{title}</h3><p>{html.escape(text)}</p>")
    parts.append("<h2>Keyboard shortcuts</h2>")
    for group, rows in SHORTCUTS:
        parts.append(f"<h3>{html.escape(group)}</h3><table cellpadding='3'>")
        parts += [
            f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows
        ]
        parts.append("</table>")
    return "".join(parts)


class HelpDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("helpDialog")
        self.setWindowTitle("Topdown — ideas and shortcuts")
        self.resize(720, 640)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(help_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
