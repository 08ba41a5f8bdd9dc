"""HHIRChat schema: round trips, path safety, VideoChat input, and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hhirchat_utils import make_record, write_records

from ovhhir_core.data.hhirchat import (
    DatasetError,
    Sample,
    Turn,
    append_sample,
    load_dataset,
    make_conversations,
    save_dataset,
)
from ovhhir_core.streams import DESCRIBE_QUESTION as DEFAULT_QUESTION
from ovhhir_core.streams import ONE_WORD_QUESTION


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_round_trip(tmp_path, suffix):
    src = write_records(
        tmp_path / f"in{suffix}",
        [make_record(0), make_record(1, bg=None, note="kept")],
        jsonl=suffix == ".jsonl",
    )
    samples = load_dataset(src)
    assert [s.id for s in samples] == ["0", "1"]
    s0 = samples[0]
    assert s0.p1 == (tmp_path / "v/0_p1.mp4").resolve()
    assert s0.streams == {"person_1": s0.p1, "person_2": s0.p2, "background": s0.bg}
    assert s0.answer == "A person swings a punch at another person."
    assert s0.one_word == "Punching."
    assert s0.label == "Punching" and s0.source == "UT-Interaction"
    assert samples[1].bg is None and samples[1].extra == {"note": "kept"}

    out = save_dataset(samples, tmp_path / f"out{suffix}")
    again = load_dataset(out)
    assert again == samples
    # paths are written relative to the file, with forward slashes
    raw = out.read_text()
    assert '"v/0_p1.mp4"' in raw and str(tmp_path) not in raw


def test_save_into_other_folder_rewrites_relative_paths(tmp_path):
    samples = load_dataset(write_records(tmp_path / "a.json", [make_record(0)]))
    out = save_dataset(samples, tmp_path / "v" / "b.jsonl")
    assert json.loads(out.read_text())["p1"] == "0_p1.mp4"
    assert load_dataset(out)[0].p1 == samples[0].p1
    with pytest.raises(DatasetError, match="outside the dataset folder"):
        save_dataset(samples, tmp_path / "elsewhere" / "c.json")


def test_append_sample_builds_jsonl(tmp_path):
    s = Sample(
        "x",
        tmp_path / "a.mp4",
        tmp_path / "b.mp4",
        None,
        make_conversations("Two people hug.", "Hugging"),
        label="Hugging",
    )
    out = tmp_path / "d.jsonl"
    append_sample(s, out)
    append_sample(Sample("y", s.p1, s.p2, s.bg, s.conversations), out)
    loaded = load_dataset(out)
    assert [x.id for x in loaded] == ["x", "y"]
    assert loaded[0].one_word == "Hugging." and loaded[0].conversations[0].text == DEFAULT_QUESTION


@pytest.mark.parametrize("bad", ["../secret.mp4", "v/../../secret.mp4", "/etc/passwd"])
def test_path_escape_refused(tmp_path, bad):
    path = write_records(tmp_path / "d.json", [make_record(0), make_record(1, p2=bad)])
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    msg = str(info.value)
    assert "escapes" in msg and "sample 1" in msg and "'p2'" in msg and str(path) in msg
    assert info.value.index == 1 and info.value.field == "p2" and info.value.sample_id == "1"


def test_absolute_path_inside_root_is_fine(tmp_path):
    path = write_records(tmp_path / "d.json", [make_record(0, p1=str(tmp_path / "v" / "a.mp4"))])
    assert load_dataset(path)[0].p1 == (tmp_path / "v" / "a.mp4").resolve()


def test_symlink_escape_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    path = write_records(root / "d.json", [make_record(0, p1="link/a.mp4")])
    with pytest.raises(DatasetError, match="escapes"):
        load_dataset(path)


@pytest.mark.parametrize(
    "record, field, needle",
    [
        ({k: v for k, v in make_record(3).items() if k != "id"}, "id", "missing"),
        (make_record(3, id=[1]), "id", "string or integer"),
        (make_record(3, p1=5), "p1", "string path"),
        ({k: v for k, v in make_record(3).items() if k != "p2"}, "p2", "missing"),
        (make_record(3, conversations=[]), "conversations", "empty"),
        (make_record(3, conversations="hi"), "conversations", "list"),
        (
            make_record(3, conversations=[{"from": "robot", "value": "x"}]),
            "conversations[0].from",
            "unknown role",
        ),
        (
            make_record(3, conversations=[{"from": "gpt", "value": 3}]),
            "conversations[0].value",
            "string",
        ),
        (
            make_record(3, conversations=[{"from": "human", "value": "hi"}]),
            "conversations",
            "no gpt turn",
        ),
        (make_record(3, label=7), "label", "string"),
    ],
)
def test_errors_name_file_index_field(tmp_path, record, field, needle):
    path = write_records(
        tmp_path / "d.json", [make_record(0), make_record(1), make_record(2), record]
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    err = info.value
    assert err.file == str(path) and err.index == 3 and err.field == field
    msg = str(err)
    assert str(path) in msg and "sample 3" in msg and repr(field) in msg and needle in msg


def test_duplicate_ids(tmp_path):
    path = write_records(tmp_path / "d.json", [make_record(0), make_record(1), make_record(0)])
    with pytest.raises(DatasetError, match="duplicate id") as info:
        load_dataset(path)
    assert info.value.index == 2 and info.value.field == "id" and "sample 0" in str(info.value)


def test_jsonl_bad_line_has_line_number(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(make_record(0)) + "\n\n" + '{"id": "1", "p1": \n')
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert info.value.line == 3 and "line 3" in str(info.value)


def test_jsonl_field_error_has_line_and_index(tmp_path):
    path = write_records(
        tmp_path / "d.jsonl", [make_record(0), make_record(1, p1=None)], jsonl=True
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert info.value.line == 2 and info.value.index == 1 and info.value.field == "p1"


def test_bad_json_and_wrong_top_level(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{]")
    with pytest.raises(DatasetError, match="invalid JSON at line 1"):
        load_dataset(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("3")
    with pytest.raises(DatasetError, match="list of samples"):
        load_dataset(wrong)
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(tmp_path / "missing.json")
    with pytest.raises(DatasetError, match=r"\.json or \.jsonl"):
        save_dataset([], tmp_path / "x.csv")


def test_check_files(tmp_path):
    path = write_records(tmp_path / "d.json", [make_record(0, bg=None)])
    assert load_dataset(path)  # not checked by default
    with pytest.raises(DatasetError, match="does not exist") as info:
        load_dataset(path, check_files=True)
    assert info.value.field == "p1"
    (tmp_path / "v").mkdir()
    for name in ("0_p1.mp4", "0_p2.mp4"):
        (tmp_path / "v" / name).write_bytes(b"x")
    assert len(load_dataset(path, check_files=True)) == 1


def test_human_turn_without_placeholders_is_fine(tmp_path):
    rec = make_record(
        0,
        conversations=[
            {"from": "human", "value": "What happens?"},
            {"from": "gpt", "value": "A hug."},
        ],
    )
    s = load_dataset(write_records(tmp_path / "d.json", [rec]))[0]
    assert s.answer == "A hug." and s.one_word is None


def test_videochat_format_read_as_single_stream(tmp_path):
    recs = [
        {
            "video": "clips/a.mp4",
            "QA": [{"i": "Watch the video.", "q": "What happens?", "a": "Two people shake hands."}],
        },
        {
            "video": "clips/a.mp4",
            "QA": [
                {"q": "Who moves?", "a": "The man on the left."},
                {"q": ONE_WORD_QUESTION, "a": "Walking."},
            ],
        },
        {
            "video": "clips/b.mp4",
            "id": "b1",
            "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}],
        },
    ]
    samples = load_dataset(write_records(tmp_path / "vc.json", recs))
    a = (tmp_path / "clips/a.mp4").resolve()
    assert samples[0].p1 == samples[0].p2 == samples[0].bg == a
    assert samples[0].extra["single_stream"] is True
    assert samples[0].conversations == [
        Turn("human", "Watch the video. What happens?"),
        Turn("gpt", "Two people shake hands."),
    ]
    assert samples[0].id != samples[1].id  # same video twice stays unique
    assert samples[1].one_word == "Walking."
    assert samples[2].id == "b1" and samples[2].answer == "A"
    # saved as HHIRChat, loads back the same
    out = save_dataset(samples, tmp_path / "hh.jsonl")
    again = load_dataset(out)
    assert [(s.id, s.p1, s.bg, s.conversations) for s in again] == [
        (s.id, s.p1, s.bg, s.conversations) for s in samples
    ]
    with pytest.raises(DatasetError, match="escapes"):
        load_dataset(
            write_records(
                tmp_path / "e.json", [{"video": "../x.mp4", "QA": [{"q": "a", "a": "b"}]}]
            )
        )
    with pytest.raises(DatasetError) as info:
        load_dataset(write_records(tmp_path / "f.json", [{"video": "x.mp4", "QA": [{"q": "a"}]}]))
    assert info.value.field == "QA[0].a"


def test_make_conversations_one_word_punctuation():
    turns = make_conversations("desc", "Hugging")
    assert [t.role for t in turns] == ["human", "gpt", "human", "gpt"]
    assert turns[-1].text == "Hugging." and turns[2].text == ONE_WORD_QUESTION
    assert len(make_conversations("desc")) == 2


def test_fill_is_recorded_validated_and_round_trips(tmp_path):
    rec = make_record(0)
    (tmp_path / "a.json").write_text(json.dumps([rec]))
    assert load_dataset(tmp_path / "a.json")[0].fill == (0, 0, 0)  # absent: black
    for fill, want in ((255, (255, 255, 255)), ([0, 128, 255], (0, 128, 255))):
        (tmp_path / "b.json").write_text(json.dumps([{**rec, "fill": fill}]))
        (s,) = load_dataset(tmp_path / "b.json")
        assert s.fill == want
        save_dataset([s], tmp_path / "c.jsonl")
        assert json.loads((tmp_path / "c.jsonl").read_text())["fill"] == list(want)
        assert load_dataset(tmp_path / "c.jsonl")[0].fill == want
    for bad in (256, -1, [0, 0], "white", True, [0, 0, 1.5]):
        (tmp_path / "d.json").write_text(json.dumps([{**rec, "fill": bad}]))
        with pytest.raises(DatasetError, match="'fill'"):
            load_dataset(tmp_path / "d.json")
    with pytest.raises(DatasetError, match="fill"):
        Sample("x", Path("a"), Path("b"), None, [], fill=300)
