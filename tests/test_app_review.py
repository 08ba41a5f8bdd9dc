"""Review tab handlers as plain functions: open, browse, verdicts and edits, export."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from app.review import ReviewHandlers
from app.settings import Settings
from app.state import Services
from ovhhir_core.data.hhirchat import Sample, make_conversations, save_dataset
from ovhhir_core.video import write_video


def _clip(path: Path, shade: int) -> Path:
    frames = [np.full((32, 48, 3), shade + i, np.uint8) for i in range(6)]
    return write_video(path, frames, fps=6)


@pytest.fixture()
def dataset(tmp_path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    samples = []
    for i, (desc, word) in enumerate(
        [("One person pushes the other.", "Pushing"), ("Two people shake hands.", "Handshaking")]
    ):
        streams = [_clip(root / f"{i}_{s}.mp4", 40 * k) for k, s in enumerate(("p1", "p2", "bg"))]
        samples.append(Sample(str(i), *streams, make_conversations(desc, word), label=word))
    return save_dataset(samples, root / "set.jsonl")


@pytest.fixture()
def services(tmp_path) -> Services:
    svc = Services(
        Settings(
            preset="tiny", device="cpu", backend="ovhhir", review_roots=[str(tmp_path / "data")]
        ),
        root=tmp_path / "sessions",
    )
    yield svc
    svc.close()


def test_open_by_upload_browse_review_and_export(dataset, services):
    rh = ReviewHandlers(services)
    state = services.new_session()
    uploads = [str(p) for p in sorted(dataset.parent.iterdir())]
    state, position, p1, p2, bg, conv, pred, sim, verdict, edited, note = rh.open(
        state, uploads, ""
    )
    assert "Sample 1 of 2" in position and "Pushing" in position
    assert Path(p1).name == "0_p1.mp4" and Path(bg).name == "0_bg.mp4"
    assert Path(p1).is_relative_to(state.workdir)  # uploads are copied into the session folder
    assert conv[0] == {
        "role": "user",
        "content": "Describe interaction between `<p1>` and `<p2>` in `<bg>`?",
    }
    assert conv[1]["content"] == "One person pushes the other."
    assert (pred, sim, verdict, edited, note) == ("", "", "unreviewed", conv[1]["content"], "")

    pred, sim, provenance = rh.run_model(state, "", 0.0, 0.9, 1, 8, 4)
    assert pred and -1.0 <= float(sim) <= 1.0
    assert "Answered by: OV-HHIR" in provenance and "Not grounded" in provenance
    pred, sim, provenance = rh.run_model(state, "zeroshot", 0.0, 0.9, 1, 8, 4)
    assert pred and "Answered by: zero-shot" in provenance  # either answerer, same sample
    shown = rh.next(state, "wrong", "One person shoves the other away.", "too vague")
    assert "Sample 2 of 2" in shown[0]
    shown = rh.next(state, "correct", shown[8], "")
    assert "Sample 1 of 2" in shown[0]  # wraps around, and the edits came back
    assert shown[7:] == ("wrong", "One person shoves the other away.", "too vague")
    assert "Sample 2 of 2" in rh.previous(state, *shown[7:])[0]

    jsonl, table = rh.export(state, "correct", "Two people shake hands.", "")
    lines = [json.loads(line) for line in Path(jsonl).read_text().splitlines()]
    assert [r["id"] for r in lines] == ["0", "1"]
    assert lines[0]["review"]["verdict"] == "wrong"
    assert lines[0]["review"]["prediction"] == pred
    assert lines[0]["review"]["similarity"] == pytest.approx(float(sim), abs=1e-3)
    assert lines[0]["conversations"][1]["value"] == "One person shoves the other away."
    assert lines[0]["review"]["original_answer"] == "One person pushes the other."
    assert lines[0]["p1"] == "0_p1.mp4"  # relative to the dataset folder, like the original
    assert lines[1]["review"]["edited_answer"] is None  # unchanged answer is not an edit
    rows = list(csv.DictReader(open(table, encoding="utf-8")))
    assert [(r["id"], r["verdict"], r["note"]) for r in rows] == [
        ("0", "wrong", "too vague"),
        ("1", "correct", ""),
    ]


def test_open_zip_and_path_under_root_only(dataset, services, tmp_path):
    rh = ReviewHandlers(services)
    state = services.new_session()
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in dataset.parent.iterdir():
            zf.write(p, f"set/{p.name}")
    assert "Sample 1 of 2" in rh.open(state, [str(archive)], "")[1]
    assert "Sample 1 of 2" in rh.open(state, None, str(dataset))[1]
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text(dataset.read_text())
    with pytest.raises(gr.Error, match="not under an allowed folder"):
        rh.open(state, None, str(outside))


def test_open_errors_are_messages(dataset, services, tmp_path):
    rh = ReviewHandlers(services)
    state = services.new_session()
    with pytest.raises(gr.Error, match="Upload a dataset"):
        rh.open(state, None, "")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "p1": "../../etc/passwd", "p2": "a.mp4", "conversations": []}\n')
    with pytest.raises(gr.Error, match="escapes the dataset folder"):
        rh.open(state, [str(bad)], "")
    only_json = [str(dataset)]  # the videos were not uploaded with it
    with pytest.raises(gr.Error, match="does not exist"):
        rh.open(state, only_json, "")
    with pytest.raises(gr.Error, match="Open a dataset first"):
        rh.export(services.new_session(), "correct", "", "")
    with pytest.raises(gr.Error, match="Open a dataset first"):
        rh.run_model(services.new_session(), "", 0.0, 0.9, 1, 8, 4)


def test_example_set_opens(services):
    state, position, p1, *_ = ReviewHandlers(services).open_example(services.new_session())
    assert "Sample 1 of 3" in position and Path(p1).is_file()
