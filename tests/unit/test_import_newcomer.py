"""What a newcomer's first import says: train/ and val/ named as the splits they became, an
"image not found" placeholder and a tracking pixel skipped with a reason (not imported as ants)."""

from __future__ import annotations

from PIL import Image

from engine.imports.api import import_folder
from engine.project.store import Project
from tests.support.images import write_class_folders


def test_split_folders_are_named_and_placeholders_skipped(tmp_path):
    data = tmp_path / "hymenoptera_data"
    write_class_folders(data / "train", ("ants", "bees"), per_class=3)
    write_class_folders(data / "val", ("ants", "bees"), per_class=2, seed=1)
    Image.new("P", (64, 48)).save(data / "train" / "ants" / "imageNotFound.gif")
    Image.new("RGB", (1, 1)).save(data / "train" / "bees" / "pixel.png")
    p = Project.create(tmp_path / "p", "classification")
    report = import_folder(p, data)
    assert p.counts().per_split == {"train": 6, "valid": 4}
    assert p.counts().per_class == {"ants": 5, "bees": 5}
    details = "\n".join(report.details())
    assert (
        "train/ and val/ were used as the training and validation splits (train 6, valid 4)."
        in details
    )
    reasons = {path.split("/")[-1]: why for path, why in report.skipped}
    assert reasons["imageNotFound.gif"] == "a placeholder (“image not found”), not a photo"
    assert reasons["pixel.png"] == "too small to be a picture (1 × 1 px)"
