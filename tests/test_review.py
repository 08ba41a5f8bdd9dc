"""ovhhir_core.review without any UI: unpacking uploads, verdicts and edits, JSONL/CSV export."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ovhhir_core.data.hhirchat import Sample, make_conversations, save_dataset
from ovhhir_core.review import (
    CSV_FIELDS,
    ReviewError,
    ReviewSet,
    is_inside,
    unpack_uploads,
)
from ovhhir_core.video import write_video


@pytest.fixture()
def dataset(tmp_path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    samples = []
    for i, (desc, word) in enumerate([("A pushes B.", "Pushing"), ("They shake hands.", "Hand")]):
        streams = []
        for k, s in enumerate(("p1", "p2", "bg")):
            frames = [np.full((16, 16, 3), 40 * k + i, np.uint8) for _ in range(3)]
            streams.append(write_video(root / f"{i}_{s}.mp4", frames, fps=3))
        samples.append(Sample(str(i), *streams, make_conversations(desc, word), label=word))
    return save_dataset(samples, root / "set.jsonl")


def test_unpack_zip_and_files_and_refuse_escapes(dataset, tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in dataset.parent.iterdir():
            zf.write(p, f"inner/{p.name}")
    found = unpack_uploads([archive], tmp_path / "a")
    assert found == tmp_path / "a" / "inner" / "set.jsonl"
    assert len(ReviewSet.open(found).samples) == 2
    files = unpack_uploads(sorted(dataset.parent.iterdir()), tmp_path / "b")
    assert files.name == "set.jsonl" and (tmp_path / "b" / "0_p1.mp4").is_file()
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.jsonl", "[]")
    with pytest.raises(ReviewError, match="escapes the archive"):
        unpack_uploads([evil], tmp_path / "c")
    assert not (tmp_path / "outside.jsonl").exists()
    with pytest.raises(ReviewError, match="No .json or .jsonl"):
        unpack_uploads([dataset.parent / "0_p1.mp4"], tmp_path / "d")


def test_is_inside(tmp_path):
    root = tmp_path / "r"
    (root / "x").mkdir(parents=True)
    assert is_inside(root / "x" / "f.jsonl", [str(root)])
    assert not is_inside(root / ".." / "f.jsonl", [str(root)])


def test_empty_dataset_is_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(Exception, match="empty.jsonl"):
        ReviewSet.open(empty)


def test_verdicts_moves_and_export(dataset, tmp_path):
    rv = ReviewSet.open(dataset)
    assert rv.current.id == "0"
    rv.record()["prediction"] = "Someone pushes."
    rv.record()["similarity"] = 0.5
    assert rv.save("wrong", "A shoves B.", "vague") == 1
    rv.move(1)
    assert rv.save("correct", rv.current.answer, "") == 2
    rv.move(1)
    assert rv.current.id == "0"  # wraps around
    with pytest.raises(ReviewError, match="verdict must be one of"):
        rv.save("maybe", "", "")
    jsonl, table = rv.export(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "reviewed.csv",
        "reviewed.jsonl",
    ]
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert lines[0]["conversations"][1]["value"] == "A shoves B."
    assert lines[0]["review"] == {
        "verdict": "wrong",
        "prediction": "Someone pushes.",
        "similarity": 0.5,
        "note": "vague",
        "edited_answer": "A shoves B.",
        "original_answer": "A pushes B.",
    }
    assert lines[0]["p1"] == "0_p1.mp4"
    assert lines[1]["review"]["edited_answer"] is None  # the unchanged answer is no edit
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_FIELDS
    assert (rows[0]["similarity"], rows[1]["verdict"]) == ("0.5000", "correct")
    with pytest.raises(ReviewError, match="Open a dataset first"):
        ReviewSet().export(tmp_path / "none")
