"""build-dataset: generated videos + mask files → a valid HHIRChat JSONL; resume; shards; bad rows."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ovhhir_core import video
from ovhhir_core.commands.build import LLMDescriber
from ovhhir_core.data.build import BuildOptions, DatasetBuilder, existing_ids
from ovhhir_core.data.build.describe import template_describer
from ovhhir_core.data.build.inputs import (
    InputError,
    Prompt,
    load_masks,
    parse_prompt,
    parse_shard,
    read_rows,
    shard,
)
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.data.taxonomy import load_taxonomy
from ovhhir_core.streams import PERSONS

CLASSES = ["Punching", "Hugging", "Waving", "Kicking"]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """<root>/<label>/clip<i>.mp4 + clip<i>_masks.npz, 64x48, 6 frames."""
    root = tmp_path_factory.mktemp("src")
    for i, name in enumerate(CLASSES):
        clip = render_clip(name, seed=i, size=(64, 48), num_frames=6, fps=6)
        write_clip(clip, root / name, f"clip{i}")
    return root


def _build(source, out, **kw):
    builder = DatasetBuilder(BuildOptions(source=source, out=out, **kw))
    events = list(builder.run())
    return builder, events


def test_folder_of_videos_with_masks_gives_valid_hhirchat(source, tmp_path):
    out = tmp_path / "ds" / "train.jsonl"
    builder, events = _build(source, out)
    assert [e.status for e in events] == ["written"] * 4
    assert builder.report.written == 4 and not builder.report.errors
    assert not builder.report.errors_path.exists()
    samples = load_dataset(out, check_files=True)
    tax = load_taxonomy()
    assert sorted(s.label for s in samples) == sorted(CLASSES)
    for s in samples:
        assert s.answer in tax.by_class(s.label).soft_labels
        assert s.one_word == f"{s.label}."
        assert s.p1 == tmp_path / "ds" / "train_videos" / s.id / "person_1.mp4"
        assert (out.parent / s.extra["overlay"]).is_file()
        assert s.extra["frames"] == [0, 6] and s.extra["soft_label_from"] == "taxonomy"
    # the person_1 stream shows person 1 and nothing else
    s = next(x for x in samples if x.label == "Punching")
    labels = np.load(source / "Punching" / "clip0_masks.npz")["labels"]
    p1 = video.read_frame(s.p1, 3).astype(int).sum(-1)
    assert p1[labels[3] == 1].mean() > 60 and p1[labels[3] == 0].mean() < 25
    assert video.probe(s.bg).num_frames == 6
    assert "written per class" in builder.report.summary()


def test_resume_skips_done_samples_and_repairs_a_cut_line(source, tmp_path):
    out = tmp_path / "d.jsonl"
    _build(source, out)
    first = out.read_text()
    lines = first.splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])  # crash mid-line
    assert len(existing_ids(out)) == 2 and out.read_text() == "".join(lines[:2])
    builder, events = _build(source, out)
    assert [e.status for e in events].count("skipped") == 2
    assert builder.report.written == 2
    assert sorted(out.read_text().splitlines()) == sorted(first.splitlines())
    builder, events = _build(source, out)
    assert builder.report.skipped == 4 and builder.report.written == 0
    assert len(load_dataset(out)) == 4


def test_shards_partition_the_input(source, tmp_path):
    rows = read_rows(source)
    ids = [r.id for r in rows]
    parts = [[r.id for r in shard(rows, i, 3)] for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(ids) and len(set(sum(parts, []))) == len(ids)
    assert parts == [[r.id for r in shard(read_rows(source), i, 3)] for i in range(3)]
    built = []
    for i in range(2):
        out = tmp_path / f"part{i}.jsonl"
        _build(source, out, shard=(i, 2))
        built.append({s.id for s in load_dataset(out)})
    assert not built[0] & built[1] and built[0] | built[1] == set(ids)
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(InputError, match="shard"):
            parse_shard(bad)


def _png_zip(path: Path, labels: np.ndarray) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i, lab in enumerate(labels):
            img = Image.fromarray(lab, mode="L").convert("P")
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            zf.writestr(f"masks/{i:05d}.png", buf.getvalue())
    return path


def test_csv_with_dataset_labels_and_bad_rows(source, tmp_path):
    base = tmp_path / "in"
    base.mkdir()
    shutil.copy(source / "Punching" / "clip0.mp4", base / "a.mp4")
    shutil.copy(source / "Punching" / "clip0.mp4", base / "b.mp4")  # no mask beside it
    labels = np.load(source / "Punching" / "clip0_masks.npz")["labels"]
    _png_zip(base / "a_masks.zip", labels)
    np.savez(base / "empty.npz", labels=np.zeros_like(labels))
    (base / "broken.mp4").write_bytes(b"not a video")
    csv = base / "list.csv"
    csv.write_text(
        "id,video,label,dataset,p1,p2,mask\n"
        "ok,a.mp4,4,UT,,,a_masks.zip\n"  # UT-Interaction class id 4 = Punching
        "ntu,a.mp4,A058,NTU,,,a_masks.zip\n"
        "unknown,a.mp4,juggling,UT,,,a_masks.zip\n"
        "missing,nothere.mp4,punch,UT,,,a_masks.zip\n"
        "broken,broken.mp4,punch,UT,,,a_masks.zip\n"
        "noprompt,b.mp4,punch,UT,,,\n"
        "sidecar,a.mp4,punch,UT,,,\n"  # uses a_masks.zip found beside the video
        "badprompt,a.mp4,punch,UT,1;2,3,\n"
        "unquoted,a.mp4,punch,UT,1,2,3,4,\n"
        "nobody,a.mp4,punch,UT,,,empty.npz\n"
        "ok,a.mp4,hug,UT,,,a_masks.zip\n"
    )
    out = tmp_path / "o" / "d.jsonl"
    builder, events = _build(csv, out)
    status = {e.row_id: e.status for e in events if e.status == "written"}
    assert set(status) == {"ok", "ntu", "sidecar"}
    samples = {s.id: s for s in load_dataset(out, check_files=True)}
    assert samples["ok"].label == "Punching" and samples["ok"].source == "UT-Interaction"
    assert samples["ntu"].label == "Handshaking" and samples["ntu"].source == "NTU RGB+D 120"
    errors = {
        e["id"]: e for e in map(json.loads, builder.report.errors_path.read_text().splitlines())
    }
    expected = {
        "unknown": "not a UT-Interaction label",
        "missing": "not found",
        "broken": "broken.mp4",
        "noprompt": "no prompts",
        "badprompt": "each point is",
        "nobody": "never show person_1",
        "unquoted": "double quotes",
        "ok": "duplicate id",
    }
    assert set(errors) == set(expected)
    for key, needle in expected.items():
        assert needle in errors[key]["error"], (key, errors[key]["error"])
        assert errors[key]["where"].startswith("list.csv line")


def test_unknown_folder_label_and_label_map(source, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(source / "Waving", root / "say hello")
    builder, _ = _build(root, tmp_path / "a.jsonl")
    assert "unknown label 'say hello'" in builder.report.errors[0]["error"]
    builder, _ = _build(root, tmp_path / "b.jsonl", label_map={"say hello": "Waving"})
    assert builder.report.written == 1
    assert load_dataset(tmp_path / "b.jsonl")[0].label == "Waving"


def test_unseen_label_is_marked(source, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(source / "Waving", root / "A117")
    builder, _ = _build(root, tmp_path / "u.jsonl", dataset="NTU")
    s = load_dataset(tmp_path / "u.jsonl")[0]
    assert s.label == "Whispering" and s.extra["unseen"] is True


def test_prompt_parsing_and_mask_files(tmp_path, source):
    assert parse_prompt("10,20;30,40") == Prompt(((10, 20), (30, 40)), (1, 1))
    assert parse_prompt("10,20,0; 5,5,1") == Prompt(((10, 20), (5, 5)), (0, 1))
    assert parse_prompt("1,2,30,40") == Prompt(box=(1, 2, 30, 40))
    assert parse_prompt("box:1,2,30,40").box == (1, 2, 30, 40)
    for bad in ("", "a,b", "1,2,3,4;5,6", "1,2,7"):
        with pytest.raises(InputError):
            parse_prompt(bad)
    labels = np.load(source / "Hugging" / "clip1_masks.npz")["labels"]
    from_zip = load_masks(_png_zip(tmp_path / "m.zip", labels))
    assert sorted(from_zip) == list(range(6))
    assert all(np.array_equal(from_zip[i], labels[i]) for i in range(6))
    from ovhhir_core.masking import export_masks_npz

    exported = load_masks(export_masks_npz(dict(enumerate(labels)), tmp_path / "app.npz"))
    assert all(np.array_equal(exported[i], labels[i]) for i in range(6))
    np.savez(tmp_path / "bad.npz", other=labels)
    with pytest.raises(InputError, match="'labels'"):
        load_masks(tmp_path / "bad.npz")


def test_masks_of_another_size_are_resized(source, tmp_path):
    root = tmp_path / "src" / "Punching"
    root.mkdir(parents=True)
    shutil.copy(source / "Punching" / "clip0.mp4", root / "v.mp4")
    labels = np.load(source / "Punching" / "clip0_masks.npz")["labels"]
    np.savez(root / "v_masks.npz", labels=labels.repeat(2, axis=1).repeat(2, axis=2))
    builder, _ = _build(tmp_path / "src", tmp_path / "r.jsonl")
    assert builder.report.written == 1
    p1 = video.read_frame(load_dataset(tmp_path / "r.jsonl")[0].p1, 2).astype(int).sum(-1)
    assert p1[labels[2] == 1].mean() > 60 and p1[labels[2] == 0].mean() < 25


def test_other_people_stay_in_the_background_stream(tmp_path):
    clip = render_clip("Hugging", seed=2, size=(96, 72), num_frames=4, fps=4, crowded=True)
    write_clip(clip, tmp_path / "src" / "Hugging", "c")
    builder, _ = _build(tmp_path / "src", tmp_path / "c.jsonl")
    s = load_dataset(tmp_path / "c.jsonl")[0]
    bg = video.read_frame(s.bg, 2).astype(int)
    others = clip.labels[2] >= 3
    pair = clip.labels[2] == 1
    assert np.abs(bg[others] - clip.frames[2][others]).mean() < 30  # still there
    assert bg[pair].sum(-1).mean() < 60  # removed


def test_streams_dir_must_be_inside_output_folder(source, tmp_path):
    with pytest.raises(InputError, match="inside the output"):
        DatasetBuilder(
            BuildOptions(source, tmp_path / "a" / "d.jsonl", streams_dir=tmp_path / "elsewhere")
        )
    with pytest.raises(InputError, match=".jsonl"):
        DatasetBuilder(BuildOptions(source, tmp_path / "d.json"))


def test_llm_describer_writes_the_soft_label(source, tmp_path):
    """The describer path with the tiny preset's (random) LLM: text comes from the model."""
    from ovhhir_core.config import load_preset
    from ovhhir_core.model import GenerationConfig, load_model

    model = load_model(load_preset("tiny"), "cpu")
    describer = LLMDescriber(model, GenerationConfig(temperature=0.0, max_new_tokens=12))
    root = tmp_path / "src"
    shutil.copytree(source / "Kicking", root / "Kicking")
    out = tmp_path / "l.jsonl"
    builder = DatasetBuilder(BuildOptions(root, out), describer=describer)
    list(builder.run())
    s = load_dataset(out)[0]
    assert s.extra["soft_label_from"] == "describer"
    tax = load_taxonomy()
    kicking = tax.by_class("Kicking")
    reference = template_describer(tax)(kicking, s.id)  # the soft label the LLM rewrote
    assert s.answer == describer(kicking, reference)  # greedy decoding: reproducible
    assert s.answer not in kicking.soft_labels


def test_cli_in_process(source, tmp_path, capsys):
    from ovhhir_core.commands.cli import main

    out = tmp_path / "cli.jsonl"
    assert (
        main(["build-dataset", str(source), "--out", str(out), "--no-progress", "--shard", "0/2"])
        == 0
    )
    assert "2 written" in capsys.readouterr().out
    assert len(load_dataset(out)) == 2
    assert main(["build-dataset", str(source), "--out", str(out), "--shard", "5/2"]) == 1
    assert "shard" in capsys.readouterr().err


def test_fill_255_dataset_gives_the_same_person_boxes_as_fill_0(source, tmp_path):
    """The fill is recorded in each sample and honoured when its clip is loaded: a white-filled
    dataset must not give full-frame person boxes."""
    from ovhhir_core.model import load_clip

    boxes = {}
    for fill in (0, 255):
        out = tmp_path / f"fill{fill}" / "d.jsonl"
        _build(source, out, fill=fill)
        samples = sorted(load_dataset(out), key=lambda s: s.id)
        assert all(s.fill == (fill,) * 3 for s in samples)
        boxes[fill] = [load_clip(s.streams, num_frames=4, fill=s.fill).boxes for s in samples]
    n_boxes = 0
    for black, white in zip(boxes[0], boxes[255], strict=True):
        for stream in PERSONS:
            for a, b in zip(black[stream], white[stream], strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    n_boxes += 1
                    assert max(abs(u - v) for u, v in zip(a, b, strict=True)) <= 4, (a, b)
                    assert (b[2] - b[0], b[3] - b[1]) != (64, 48)  # not the whole frame
    assert n_boxes >= 16
