"""A hostile or unlucky project folder (issue 19): paths in project.db or a run id that lead out
of the project, restore while the project is open elsewhere, masks of the wrong size, leftovers
of killed processes, a full disk while the model in use is written, names with control
characters. Nothing outside the project is read, written or deleted; every refusal names the
row or file. No training here (tiny, fast)."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from engine.errors import ProjectError, StorageError, shown
from engine.imaging import BadImage
from engine.project.paths import OutsideProjectError
from engine.project.store import Project
from engine.project.thumbnails import thumbnail
from tests.support.projects import make_project, make_seg_project


def _point_row(project: Project, column: str, value: str, image_id: int) -> None:
    """What a hostile project.db holds: a row's path replaced behind the app's back."""
    db = sqlite3.connect(project.path / "project.db")
    with db:
        db.execute(f"UPDATE images SET {column}=? WHERE id=?", (value, image_id))
    db.close()


@pytest.fixture
def victim(tmp_path):
    """A file outside the project that must stay as it is."""
    v = tmp_path / "victim"
    v.mkdir()
    f = v / "x.png"
    Image.new("L", (16, 16), 7).save(f)
    return f


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_a_mask_row_leading_out_cannot_overwrite_or_delete(tmp_path, victim, how):
    p, mask = make_seg_project(tmp_path / "p", size=16)
    iid = p.query()[0]
    before = victim.read_bytes()
    if how == "symlink":
        os.symlink(victim.parent, p.path / "masks" / "out")
        rel = "masks/out/x.png"
    else:
        rel = "../victim/x.png" if how == "relative" else str(victim)
    _point_row(p, "mask", rel, iid)
    with pytest.raises(OutsideProjectError, match=f"image {iid} .*scene.png") as e:
        p.save_mask(iid, np.zeros((16, 16), np.uint8))
    assert "project.db" in str(e.value)
    with pytest.raises(OutsideProjectError):
        p.clear_mask(iid)
    with pytest.raises(ProjectError):
        p.read_mask(iid)
    assert victim.read_bytes() == before
    assert p.image(iid).mask == rel  # the row stays for the user to see, nothing changed
    p.close()


def test_an_image_row_leading_out_is_not_read_or_copied(tmp_path, victim):
    p = make_project(tmp_path / "p", n=4, size=16)
    iid = p.query()[0]
    _point_row(p, "file", str(victim), iid)
    rec = p.image(iid)
    with pytest.raises(BadImage, match="absolute path"):  # the thumbnailer skips it, saying why
        thumbnail(p, rec)
    assert not [f for f in (p.path / "thumbs").iterdir() if f.suffix == ".jpg"]
    with pytest.raises(OutsideProjectError, match=f"image {iid}"):
        p.image_path(rec)
    # the data check reports it as unreadable instead of hashing /etc/...
    from engine.check.checks import run_check

    rep = run_check(p)
    unreadable = [f for f in rep.findings if f.kind == "unreadable"]
    assert unreadable and iid in unreadable[0].image_ids
    # removing the image does not move the outside file into the project's trash
    p.remove_images([iid])
    assert victim.exists()
    p.close()


def test_a_content_hash_leading_out_writes_no_thumbnail_there(tmp_path):
    p = make_project(tmp_path / "p", n=2, size=16)
    iid = p.query()[0]
    _point_row(p, "sha1", "../../escaped", iid)
    with pytest.raises(BadImage):
        thumbnail(p, p.image(iid))
    assert not (tmp_path / "escaped_128.jpg").exists()
    p.close()


def test_a_run_id_is_a_name_not_a_path(tmp_path):
    from engine.training.runs import get_run

    p = make_project(tmp_path / "p", n=2, size=16)
    other = tmp_path / "other" / "models" / "runs" / "ID"
    other.mkdir(parents=True)
    (other / "run.json").write_text(json.dumps({"run_id": "ID", "status": "finished"}))
    for bad in ("../../../other/models/runs/ID", str(other), ".."):
        with pytest.raises(OutsideProjectError, match="run id"):
            get_run(p, bad)
    p.close()


def test_restore_refuses_while_another_process_has_the_project_open(tmp_path):
    from engine.project.backup import restore

    p = make_project(tmp_path / "p", n=2, size=16)
    p.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from engine.project.store import Project; "
         "p = Project.open(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
         str(tmp_path / "p")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        (tmp_path / "p" / "project.db").write_bytes(b"damaged" * 100)
        with pytest.raises(ProjectError, match=f"open in another .*process {holder.pid}"):
            restore(tmp_path / "p")
        assert (tmp_path / "p" / "project.db").read_bytes() == b"damaged" * 100
    finally:
        holder.communicate("", timeout=30)
    # the holder has ended (without closing): its mark no longer counts, and is cleared
    from engine.project.locks import open_elsewhere

    assert open_elsewhere(tmp_path / "p") == []
    assert not list((tmp_path / "p" / ".open").glob("*.json"))


def test_a_killed_holder_does_not_block_restore_for_ever(tmp_path):
    from engine.project.locks import OPEN_DIR, open_elsewhere

    p = make_project(tmp_path / "p", n=2, size=16)
    assert len(open_elsewhere(p.path)) == 1  # this process
    p.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    mark = tmp_path / "p" / OPEN_DIR / f"{dead}.x.json"
    mark.write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename, "since": 0}))
    assert open_elsewhere(tmp_path / "p") == [] and not mark.exists()


def test_the_check_names_masks_of_the_wrong_size(tmp_path):
    from engine.check.checks import run_check

    p, _ = make_seg_project(tmp_path / "p", size=32)
    Image.fromarray(np.zeros((20, 50), np.uint8), "L").save(p.path / "masks/scene.png")
    rep = run_check(p)
    f = next(f for f in rep.findings if f.kind == "mask_size")
    assert f.severity == "high" and "50 × 20 px" in f.detail and "32 × 32 px" in f.detail
    assert "masks/scene.png" in f.detail
    p.close()


def test_an_import_names_a_mask_of_the_wrong_size(tmp_path):
    from engine.imports.api import import_segmentation

    (tmp_path / "img").mkdir()
    (tmp_path / "lab").mkdir()
    Image.new("RGB", (32, 32), (9, 9, 9)).save(tmp_path / "img" / "a.png")
    Image.fromarray(np.zeros((20, 50), np.uint8), "L").save(tmp_path / "lab" / "a.png")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_segmentation(p, tmp_path / "img", tmp_path / "lab")
    assert not rep.added and "50x20" in rep.skipped[0][1] and "a.png" in rep.skipped[0][1]
    p.close()


def test_killed_processes_leftovers_are_swept_on_open(tmp_path):
    p = make_project(tmp_path / "p", n=2, size=16)
    p.close()
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)  # fmt: skip
    run = tmp_path / "p" / "models" / "runs" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "status": "running"}))
    (run / "last.pt").write_bytes(b"state")
    stale = [
        tmp_path / "p" / "models" / f".best.pt.{dead}.tmp",
        run / f".last.pt.{dead}.tmp",
        tmp_path / "p" / "export" / "onnx" / f".model.onnx.{dead}.tmp",
        tmp_path / "p" / f".training.json.{dead}.1234.tmp",
    ]
    live = tmp_path / "p" / "models" / f".best.pt.{os.getpid()}.tmp"  # a write going on
    for f in [*stale, live]:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half")
    with Project.open(tmp_path / "p") as q:
        notes = " ".join(q.notices)
    assert not any(f.exists() for f in stale) and live.exists()
    assert "Removed 4" in notes and "interrupted" in notes and "--resume" in notes
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    from engine.training.runs import resumable_run

    with Project.open(tmp_path / "p") as q:
        assert resumable_run(q).run_id == run.name


def test_a_full_disk_while_the_model_in_use_is_written_leaves_no_temp(tmp_path, monkeypatch):
    import engine.atomic as atomic
    from engine.training.runs import RunRecord, install

    p = make_project(tmp_path / "p", n=2, size=16)
    run = tmp_path / "p" / "models" / "runs" / "R"
    run.mkdir(parents=True)
    (run / "best.pt").write_bytes(b"x" * 100_000)

    def full(src, dst, length=0):  # a part is written, then the disk is full
        dst.write(src.read(5000))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.shutil, "copyfileobj", full)
    with pytest.raises(StorageError, match="free disk space"):
        install(p, RunRecord("R", run), (None, None))
    assert not [f for f in (p.path / "models").iterdir() if f.name.endswith(".tmp")]
    assert not (p.path / "models" / "best.pt").exists()
    p.close()


def test_names_with_control_characters_print_on_one_line():
    assert shown("a\nb.png") == "a\\nb.png"
    assert shown("\x1b[2Jx\u202e.png") == "\\x1b[2Jx\\u202e.png"
    assert shown("é ü 画像.png") == "é ü 画像.png"
    assert "\n" not in str(BadImage("evil\nname.png", "the file is empty"))


def test_a_run_going_on_is_not_marked_interrupted(tmp_path):
    from engine.project.locks import project_lock

    p = make_project(tmp_path / "p", n=2, size=16)
    run = p.path / "models" / "runs" / "R"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"run_id": "R", "status": "running"}))
    with project_lock(p.path, "training"):  # a training of this process holds the project
        Project.open(p.path).close()
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    p.close()
