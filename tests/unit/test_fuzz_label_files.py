"""Hostile label files (issue 12), fuzzed with hypothesis: whatever bytes a labels CSV or a
codes.txt holds (bad encodings, NULs, a BOM, CRLF, quotes, huge fields, odd delimiters), and
whatever pattern and file names meet the regex labeler, the parser returns its items or raises
the project's own error (engine.errors.EngineError) that names the file, never another
exception. A few hundred examples each keep the suite fast."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import EngineError
from engine.imports.formats import csv_items, regex_items
from engine.imports.pipeline import ImportReport
from engine.imports.segmentation import class_setup, read_class_list
from engine.project.store import Project

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
IMAGES = ("a.jpg", "b.png", "sub/c.jpg", "d e.jpg")

# pieces a hostile or broken label file is made of
_PIECES = st.sampled_from(
    [",", ";", "\t", '"', '""', "\r\n", "\n", "\r", "\x00", "\ufeff", "\\", "/", "..", "../",
     "/etc/hostname", "C:\\x.jpg", "a.jpg", "b", "sub/c.jpg", "d e.jpg", "filename", "label",
     "is_valid", "split", "true", "valid", "1.5", "nan", "inf", "-", " ", "é", "\u202e",
     "\udcff", "x" * 300, "y" * 140_000]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=30).map("".join)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="surrogatepass" if encoding == "utf-8" else "replace")


_BYTES = st.one_of(
    st.binary(max_size=400),
    st.tuples(_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])).map(
        lambda t: _encode(*t)
    ),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder of (tiny, unreadable-as-image is fine for parsing) image files."""
    root = tmp_path_factory.mktemp("images")
    for name in IMAGES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"\x89PNG not really")
    return root


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("projects")
    made = {t: Project.create(root / t, t) for t in ("classification", "multilabel", "regression")}
    yield made
    for p in made.values():
        p.close()


@FUZZ
@given(data=_BYTES, task=st.sampled_from(["classification", "multilabel", "regression"]))
def test_labels_csv_parses_or_says_why(projects, folder, tmp_path, data, task):
    csv_file = tmp_path / "labels.csv"
    csv_file.write_bytes(data)
    report = ImportReport()
    try:
        items = csv_items(projects[task], csv_file, folder, report)
    except EngineError as e:
        assert "labels.csv" in str(e)  # the message names the file
        return
    for item in items:
        assert item.skip or item.src.resolve().is_relative_to(folder.resolve())


_NAME_CHARS = st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00")
_FILE_NAMES = st.lists(
    st.text(_NAME_CHARS, min_size=1, max_size=40).filter(lambda n: n not in (".", "..")),
    max_size=4,
)
_PATTERNS = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from(["(", ")", "(?P<label>", "(.+)", "_", r"\d+", "*", "+", "?", "{99999}",
                         "[", "]", "^", "$", "|", r"\.", "jpg", "(?", "\\", "(?P<x>", "a"]),
        max_size=12,
    ).map("".join),
)  # fmt: skip


@pytest.mark.filterwarnings("ignore::FutureWarning")  # re: "possible nested set"
@FUZZ
@given(pattern=_PATTERNS, names=_FILE_NAMES, task=st.sampled_from(["classification", "regression"]))
def test_regex_labeler_labels_or_says_why(projects, pattern, names, task):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for n in names:
            try:
                (folder / n).write_bytes(b"x")
            except OSError:  # a name this filesystem refuses (too long in bytes)
                continue
        try:
            items = regex_items(projects[task], folder, pattern)
        except EngineError as e:
            assert repr(pattern) in str(e) or str(folder) in str(e)
            return
        for item in items:
            assert item.skip or item.labels or item.values is not None or task == "regression"


@pytest.fixture(scope="module")
def seg_project(tmp_path_factory):
    with Project.create(tmp_path_factory.mktemp("seg") / "p", "segmentation") as project:
        yield project


@FUZZ
@given(data=_BYTES)
def test_codes_txt_parses_or_says_why(seg_project, tmp_path, data):
    codes = tmp_path / "codes.txt"
    codes.write_bytes(data)
    try:
        names = read_class_list(codes)
    except EngineError as e:
        assert "codes.txt" in str(e)
        return
    assert names and all(n == n.strip() and n for n in names)
    with seg_project._db:  # each example starts from a project with no class (a new project
        seg_project._db.execute("DELETE FROM classes")  # per example costs seconds of fsync)
    try:
        class_setup(seg_project, codes, [], ImportReport())
    except EngineError as e:
        assert "codes.txt" in str(e) or "class" in str(e)
        return
    void = [n for n in names if n.strip().lower() in ("void", "unlabelled", "unlabeled", "ignore")]
    assert seg_project.class_names() == [n for n in names if n not in void]


@pytest.fixture(scope="module")
def real_images(tmp_path_factory):
    """The same file names as `folder`, as real (tiny, distinct) PNGs."""
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("real")
    for k, name in enumerate(IMAGES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((4, 4, 3), 40 * k, np.uint8)).save(root / name, "PNG")
    return root


@settings(FUZZ, max_examples=25)
@given(data=_BYTES, task=st.sampled_from(["classification", "multilabel", "regression"]))
def test_labels_csv_import_end_to_end(real_images, tmp_path, data, task):
    """The whole import (copies, classes, database rows) on a fuzzed CSV, into a new project."""
    from engine.imports.api import import_csv

    csv_file = tmp_path / "labels.csv"
    csv_file.write_bytes(data)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    with Project.create(folder / "p", task) as project:
        try:
            import_csv(project, csv_file, real_images)
        except EngineError as e:
            assert "labels.csv" in str(e)
            return
        assert project.count() <= len(IMAGES)
        assert all(n and n == n.strip() for n in project.class_names())
        assert {r.name for r in project.images()} <= {Path(n).name for n in IMAGES}
