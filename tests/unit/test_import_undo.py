"""An import is one undo step: undo takes out every image it added (and the classes it made),
redo brings the same images back; the user's originals are never touched."""

from __future__ import annotations

from engine.imaging import file_sha1
from engine.imports.api import import_folder
from engine.project.history import History
from engine.project.import_undo import ImportMark
from engine.project.store import Project
from tests.support.images import write_class_folders


def test_undo_an_import_into_a_labelled_project_then_redo(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    write_class_folders(tmp_path / "demo", ("cat", "dog"), per_class=3)
    import_folder(p, tmp_path / "demo")
    before = {r.id: r for r in p.images()}
    h = History(p)
    h.set_labels([next(iter(before))], ["dog"])  # an earlier edit stays in the history

    originals = write_class_folders(tmp_path / "hymenoptera", ("ants", "bees"), per_class=4, seed=1)
    sums = {f: file_sha1(f) for f in originals}
    mark = ImportMark.take(p)
    import_folder(p, tmp_path / "hymenoptera")
    assert p.count() == 14 and p.class_names() == ["cat", "dog", "ants", "bees"]
    assert h.record_import(mark, "hymenoptera") == 8
    assert h.undo_text == "import 8 images from hymenoptera"

    assert h.undo() == "import 8 images from hymenoptera"
    assert p.count() == 6 and p.class_names() == ["cat", "dog"]
    assert set(before) == {r.id for r in p.images()}
    assert not [f for f in (p.path / "images").rglob("*") if f.name.startswith(("ants", "bees"))]
    assert h.undo_text == "label 1 image as dog"  # the import was exactly one step

    assert h.redo() == "import 8 images from hymenoptera"
    assert p.count() == 14
    assert p.counts().per_class == {"cat": 2, "dog": 4, "ants": 4, "bees": 4}
    for r in p.images():
        assert p.abspath(r.file).is_file()
    assert {f: file_sha1(f) for f in originals} == sums  # originals untouched throughout


def test_a_class_that_already_existed_stays_after_undo(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    p.add_class("ants")
    h = History(p)
    write_class_folders(tmp_path / "src", ("ants",), per_class=2)
    mark = ImportMark.take(p)
    import_folder(p, tmp_path / "src")
    h.record_import(mark)
    h.undo()
    assert p.count() == 0 and p.class_names() == ["ants"]


def test_a_new_change_after_undo_deletes_the_undone_copies(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    write_class_folders(tmp_path / "first", ("a",), per_class=1)
    import_folder(p, tmp_path / "first")
    h = History(p)
    write_class_folders(tmp_path / "src", ("b", "c"), per_class=2, seed=1)
    mark = ImportMark.take(p)
    import_folder(p, tmp_path / "src")
    h.record_import(mark)
    h.undo()
    assert any((p.path / "trash").iterdir())  # waiting for a redo
    h.set_labels(p.query(), [])  # any new step drops the redo
    assert not h.can_redo and not any((p.path / "trash").iterdir())


def test_nothing_added_records_nothing(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    h = History(p)
    assert h.record_import(ImportMark.take(p)) == 0 and not h.can_undo
