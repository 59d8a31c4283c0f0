"""The questions a drop asks before it changes anything big: a folder dropped on a project that
already holds images (a new project from it, or add it to this one?), and a folder of many
images dropped on the Predict page (predict them all?). Each answer is a button a person reads;
the boxes are plain QMessageBoxes, so a test can press them."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

NEW, ADD = "new", "add"
MANY_TO_PREDICT = 50  # more images than this in a dropped folder: ask before predicting
COUNT_LIMIT = 100_000  # stop counting a huge folder here (the question only needs a size)


def count_images(paths: list[str], limit: int = COUNT_LIMIT) -> int:
    """Image files among `paths` and under the folders among them (up to `limit`)."""
    from engine.imaging import is_image_name

    n = 0
    for p in paths:
        if os.path.isfile(p):
            n += is_image_name(p)
            continue
        for _root, _dirs, files in os.walk(p):
            n += sum(1 for f in files if is_image_name(f))
            if n >= limit:
                return n
    return n


def dropped_name(paths: list[str]) -> str:
    """“ants_bees” for one folder, “3 items” for several."""
    return Path(paths[0]).name if len(paths) == 1 else f"{len(paths)} items"


def has_folder(paths: list[str]) -> bool:
    return any(os.path.isdir(p) for p in paths)


def _question(parent: QWidget, name: str, title: str, text: str, info: str) -> QMessageBox:
    """A question box (its buttons are the caller's)."""
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(info)
    return box


def ask_new_or_add(parent: QWidget, paths: list[str], project) -> str | None:
    """A folder dropped on an open project with images: NEW, ADD or None (cancel)."""
    what = dropped_name(paths)
    n = count_images(paths)
    have = project.count()
    box = _question(
        parent,
        "dropChoice",
        "Where should these images go?",
        f"You dropped “{what}” ({n:,} image{'s' if n != 1 else ''}).",
        f"Make a new project from it, or add the images to “{project.name}” "
        f"({have:,} image{'s' if have != 1 else ''} now)? Adding can be undone with Ctrl+Z.",
    )
    new = box.addButton("New project from it…", QMessageBox.ButtonRole.AcceptRole)
    add = box.addButton(f"Add to “{project.name}”", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(new)
    box.exec()
    clicked = box.clickedButton()
    return NEW if clicked is new else ADD if clicked is add else None


def ask_predict_many(parent: QWidget, paths: list[str], n: int) -> bool:
    """A dropped folder of many images on the Predict page: predict them all?"""
    box = _question(
        parent,
        "predictManyChoice",
        "Predict all these images?",
        f"“{dropped_name(paths)}” holds {n:,} images.",
        "Predict every one of them here? To keep the answers, “Predict a folder…” "
        "writes them to a file instead. To add the images to the project, drop them on the "
        "Data page.",
    )
    go = box.addButton(f"Predict {n:,} images", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(go)
    box.exec()
    return box.clickedButton() is go
