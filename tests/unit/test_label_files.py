"""Label files name only files inside the folder being imported; CSV problems are reported per
row (issue 12): traversal and absolute paths refused, missing labels, conflicting repeats."""

from __future__ import annotations

from pathlib import Path

from engine.imports.api import import_csv
from engine.project.store import Project
from tests.support.images import write_image


def test_csv_rows_leaving_the_folder_are_refused_with_their_line(tmp_path):
    data = tmp_path / "data"
    write_image(data / "a.jpg", seed=1)
    write_image(tmp_path / "outside" / "secret.jpg", seed=2)
    write_image(tmp_path / "abs.jpg", seed=3)
    (data / "sub").mkdir()
    write_image(data / "sub" / "b.jpg", seed=4)
    rows = [
        "a.jpg,dog",
        "../outside/secret.jpg,cat",
        f"{tmp_path / 'abs.jpg'},cat",
        "../../../../etc/hostname,cat",
        "sub/../../outside/secret.jpg,cat",
        "sub/../sub/b.jpg,cat",  # stays inside: allowed
    ]
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    p = Project.create(tmp_path / "p", "classification")
    rep = import_csv(p, data / "labels.csv")
    assert sorted(r.name for r in p.images()) == ["a.jpg", "b.jpg"]
    refused = [r for _, r in rep.skipped]
    assert len(refused) == 4
    for line, r in zip((2, 3, 4, 5), refused, strict=True):
        assert r.startswith(f"listed in labels.csv line {line} but refused:"), r
    assert "absolute path" in refused[1] and "outside the images folder" in refused[0]
    names = {f.name for f in (p.path / "images").iterdir()}
    assert "secret.jpg" not in names and "abs.jpg" not in names
    assert sorted(p.skipped()) == sorted(rep.skipped)


def test_csv_missing_label_conflicts_and_unknown_files_are_listed_by_line(tmp_path):
    for k, n in enumerate(("a", "b", "c")):
        write_image(tmp_path / f"{n}.jpg", seed=k)
    (tmp_path / "l.csv").write_text(
        "filename,label\na.jpg,dog\na.jpg,cat\nb.jpg,\nc.jpg,cat\nc.jpg,cat\nzz.jpg,dog\n"
    )
    p = Project.create(tmp_path / "p", "classification")
    rep = import_csv(p, tmp_path / "l.csv")
    labels = {r.name: r.labels for r in p.images()}
    assert labels == {"a.jpg": ("dog",), "b.jpg": (), "c.jpg": ("cat",)}
    reasons = {Path(f).name: r for f, r in rep.skipped}
    assert set(reasons) == {"a.jpg", "zz.jpg"}  # an identical repeat (c.jpg) is no problem
    assert "l.csv line 3" in reasons["a.jpg"] and "'cat'" in reasons["a.jpg"]
    assert "line 2 gave 'dog', which is kept" in reasons["a.jpg"]
    assert reasons["zz.jpg"].startswith("listed in l.csv line 7 but not found")
    assert rep.notes == ["l.csv: 1 row with no label (line 4) imported unlabeled."]
