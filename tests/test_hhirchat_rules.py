"""HHIRChat validation rules: turn order and placeholders, the text cap, the single-stream import,
empty datasets (refused by the loader, train and evaluate)."""

from __future__ import annotations

import pytest
from hhirchat_utils import make_record, write_records

from ovhhir_core.data.hhirchat import (
    DatasetError,
    load_dataset,
)


@pytest.mark.parametrize(
    ("turns", "field", "message"),
    [
        ([("gpt", "Punching."), ("human", "What?")], "conversations[0].from", "start"),
        ([("human", "a"), ("human", "b"), ("gpt", "c")], "conversations[1].from", "alternates"),
        ([("human", "a"), ("gpt", "b"), ("gpt", "c")], "conversations[2].from", "alternates"),
        ([("human", "What do <p1> and <p3> do?"), ("gpt", "x")], "conversations[0].value", "<p3>"),
        ([("human", "<video> then <p1>"), ("gpt", "x")], "conversations[0].value", "<video>"),
    ],
)
def test_conversations_alternate_from_a_human_turn_with_known_placeholders(
    tmp_path, turns, field, message
):
    rec = make_record(0, conversations=[{"from": r, "value": t} for r, t in turns])
    with pytest.raises(DatasetError) as info:
        load_dataset(write_records(tmp_path / "d.json", [rec]))
    assert info.value.field == field and message in str(info.value)
    if "placeholder" in str(info.value):
        assert "<p1> <p2> <bg>" in str(info.value)  # names the known ones


def test_placeholders_in_answers_and_plain_angle_brackets_are_fine(tmp_path):
    turns = [("human", "Is 2 < 3 and 4 > 1 for <p1>?"), ("gpt", "Yes, <p1> waves.")]
    rec = make_record(0, conversations=[{"from": r, "value": t} for r, t in turns])
    assert load_dataset(write_records(tmp_path / "d.json", [rec]))[0].answer == "Yes, <p1> waves."


def test_videochat_import_is_checked_too(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"")
    qa = [{"q": "What happens?", "a": "A hug."}, {"q": "And <p3>?", "a": "Nothing."}]
    with pytest.raises(DatasetError) as info:
        load_dataset(write_records(tmp_path / "d.json", [{"video": "v.mp4", "QA": qa}]))
    assert info.value.field == "QA[1].q" and "<p1> <p2> <bg>" in str(info.value)
    llama = {"video": "v.mp4", "conversations": [{"from": "gpt", "value": "Hi."}]}
    with pytest.raises(DatasetError) as info:
        load_dataset(write_records(tmp_path / "e.json", [llama]))
    assert info.value.field == "conversations[0].from"


@pytest.mark.parametrize("field", ["label", "source", "note", "conversations[1].value"])
def test_text_over_the_cap_is_refused_naming_the_field(tmp_path, field):
    from ovhhir_core.data.validation import MAX_TEXT_CHARS

    big = "x" * (MAX_TEXT_CHARS + 1)
    rec = make_record(0)
    if field.startswith("conversations"):
        rec["conversations"][1]["value"] = big
    else:
        rec[field] = big
    with pytest.raises(DatasetError) as info:
        load_dataset(write_records(tmp_path / "d.jsonl", [rec], jsonl=True))
    assert info.value.field == field and f"{MAX_TEXT_CHARS:,}" in str(info.value)
    rec = make_record(0, label="y" * MAX_TEXT_CHARS)  # at the cap: accepted
    assert load_dataset(write_records(tmp_path / "e.json", [rec]))[0].label == "y" * MAX_TEXT_CHARS


@pytest.mark.parametrize("content", ["[]", "", "\n\n"])
def test_an_empty_dataset_is_an_error_naming_the_file(tmp_path, content):
    from ovhhir_core.data.hhirchat import require_samples

    path = tmp_path / ("empty.json" if content == "[]" else "empty.jsonl")
    path.write_text(content)
    with pytest.raises(DatasetError, match="empty.json.*no samples"):
        load_dataset(path)
    assert load_dataset(path, allow_empty=True) == []
    with pytest.raises(DatasetError, match="x.json: holds no samples to train on"):
        require_samples([], "x.json", "to train on")
    assert require_samples([1], "x.json") == [1]


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_train_and_evaluate_refuse_an_empty_dataset(tmp_path, capsys, command):
    from ovhhir_core.commands.cli import main

    (tmp_path / "empty.json").write_text("[]")
    args = [command, "--data", str(tmp_path / "empty.json"), "--out", str(tmp_path / "o")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "empty.json" in err and "no samples" in err and "Traceback" not in err
