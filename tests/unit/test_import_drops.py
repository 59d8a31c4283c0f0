"""Every file left out of an import has a recorded reason (issue 12): symlink loops, dangling
symlinks, links to folders, FIFOs, and a folder named like an image."""

from __future__ import annotations

import os
from pathlib import Path

from engine.imports.api import import_folder, import_regex
from engine.project.store import Project
from tests.support.images import write_image


def _odd_folder(root: Path) -> Path:
    cls = root / "data" / "cat"
    write_image(cls / "good.jpg", seed=1)
    os.symlink("loop_b.jpg", cls / "loop_a.jpg")
    os.symlink("loop_a.jpg", cls / "loop_b.jpg")
    os.symlink(root / "gone.jpg", cls / "dangling.jpg")
    os.mkfifo(cls / "pipe.jpg")
    (cls / "x.jpg").mkdir()
    (root / "elsewhere").mkdir()
    os.symlink(root / "elsewhere", cls / "linked_dir")
    return root / "data"


def _reasons(rep) -> dict[str, str]:
    return {Path(p).name: r for p, r in rep.skipped}


def test_odd_entries_in_an_import_are_reported_with_a_reason(tmp_path):
    data = _odd_folder(tmp_path)
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, data)  # a FIFO must not block the import
    assert [r.name for r in p.images()] == ["good.jpg"]
    why = _reasons(rep)
    assert set(why) == {"loop_a.jpg", "loop_b.jpg", "dangling.jpg", "pipe.jpg", "x.jpg",
                        "linked_dir"}  # fmt: skip
    assert why["loop_a.jpg"] == "a symbolic link loop, not a file"
    assert (
        why["dangling.jpg"].startswith("a symbolic link to ")
        and "does not exist" in why["dangling.jpg"]
    )
    assert why["pipe.jpg"] == "a FIFO (named pipe), not a regular file"
    assert why["x.jpg"] == "a folder named like an image, with nothing in it"
    assert "not followed" in why["linked_dir"]
    assert sorted(p.skipped()) == sorted(rep.skipped)  # kept in the project too


def test_odd_entries_reported_by_regex_import_and_at_the_top(tmp_path):
    data = _odd_folder(tmp_path)
    os.symlink(tmp_path / "nothing.png", data / "top_dangling.png")
    os.mkfifo(data / "top_pipe.png")
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, data)
    assert {"top_dangling.png", "top_pipe.png"} <= set(_reasons(rep))
    q = Project.create(tmp_path / "q", "classification")
    rep = import_regex(q, data / "cat", r"^(\w+)\.jpg$")
    assert [r.labels for r in q.images()] == [("good",)]
    assert {"loop_a.jpg", "dangling.jpg", "pipe.jpg", "x.jpg"} <= set(_reasons(rep))
