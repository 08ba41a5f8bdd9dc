"""Evaluation: answer→class mapping, candidate lists, nearest class, ranking, reports (the whole
loop with an answerer: test_eval_answerers.py)."""

from __future__ import annotations

import json

import pytest
from eval_utils import BagOfWords, sample_results

from ovhhir_core.eval import report
from ovhhir_core.eval.candidates import ClassSpace
from ovhhir_core.eval.classify import (
    NO_CLASS,
    class_prompt,
    display_name,
    map_answer_to_class,
    nearest_class,
    shuffled,
)

CANDS = ["Handshaking", "Hugging", "ForeheadKissing", "Kissing", "Punching", "HighFiving"]


@pytest.mark.parametrize(
    "answer, label, method",
    [
        ("Punching.", "Punching", "exact"),
        ("  forehead kissing ", "ForeheadKissing", "exact"),
        ("The answer is: hugging!", "Hugging", "contains"),
        ("they are forehead kissing, not kissing", "ForeheadKissing", "contains"),
        ("I think they hug", "Hugging", "fuzzy"),
        ("high five", "HighFiving", "fuzzy"),
        ("hand shake", "Handshaking", "fuzzy"),
    ],
)
def test_answer_to_class_mapping(answer, label, method):
    m = map_answer_to_class(answer, CANDS)
    assert (m.label, m.method) == (label, method)
    assert 0 < m.score <= 1


def test_unmatched_answer_without_embedder_maps_to_no_class():
    assert map_answer_to_class("zzz qqq", CANDS).label == NO_CLASS
    assert map_answer_to_class("", CANDS).method == "none"
    with pytest.raises(ValueError):
        map_answer_to_class("hug", [])


def test_embedding_fallback_uses_the_embedder():
    emb = BagOfWords()
    m = map_answer_to_class(
        "a punching motion with the fist", ["Waving", "Punching motion"], emb, fuzzy_cutoff=0.99
    )
    assert m.label == "Punching motion"
    m = map_answer_to_class("xyzzy", ["Waving", "Punching"], emb, embedding_cutoff=0.5)
    assert m.label == NO_CLASS  # below the cutoff


def test_display_name_and_prompt():
    assert display_name("ForeheadKissing") == "forehead kissing"
    assert display_name("hand_shake") == "hand shake"
    p = class_prompt(["Hugging", "Punching"])
    assert "<p1>" in p and "<p2>" in p and "<bg>" in p and "Hugging; Punching" in p
    assert "<bg>" not in class_prompt(["Hugging"], use_background=False)


def test_shuffle_is_a_seeded_permutation():
    names = [f"c{i}" for i in range(12)]
    a, b = shuffled(names, 0), shuffled(names, 0)
    assert a == b and sorted(a) == sorted(names)
    assert shuffled(names, 1) != a
    assert names == [f"c{i}" for i in range(12)]  # input untouched


def test_nearest_class_picks_closest_soft_labels():
    classes = {
        "Punching": ["a person punches another person with a fist"],
        "Hugging": ["two people hug each other warmly"],
    }
    got = nearest_class(["someone punches with a fist", "they hug"], classes, BagOfWords())
    assert got == ["Punching", "Hugging"]


class _S:
    def __init__(self, label, source, one_word=None):
        self.label, self.source, self.one_word = label, source, one_word


def test_class_space_candidates():
    samples = [
        _S("Punching", "UT-Interaction"),
        _S("handshake", "UT-Interaction"),
        _S(None, "home videos", "Waving."),
        _S("Bowing", "home videos"),
    ]
    space = ClassSpace.build(samples)
    ut = space.candidates("UT-Interaction")
    assert {"Handshaking", "Hugging", "Punching", "Pushing", "Kicking", "Pointing"} <= set(ut)
    assert "VolleyballSetting" not in ut
    assert space.canon("handshake") == "Handshaking" and space.canon("Punching.") == "Punching"
    assert space.candidates("home videos") == ["Waving", "Bowing"]
    assert space.open_set_enabled and space.is_unseen("Bowing")
    assert len(space.open_candidates()) == 109
    assert len(space.soft_labels("Punching")) >= 3
    assert space.soft_labels("MyOwnClass") == ["my own class"]
    assert not ClassSpace.build(samples[:3]).open_set_enabled
    assert ClassSpace.build(samples[:3], open_set="on").open_set_enabled
    assert "Hugging" in ClassSpace.build(samples, mode="all").candidates("home videos")


def test_markdown_table_in_the_paper_layout():
    md = report.markdown_table(sample_results())
    assert "| UT-Interaction | 3 | 0.628 ± 0.019 | 0.500 ± 0.100 | 0.400 |" in md
    assert "| **All** | 3 | 0.628 ± 0.019 | 0.500 ± 0.100 | 0.400 |" in md
    assert "| Unseen classes | 0.315 ± 0.000 | – |" in md
    assert "109 candidate classes" in md


def test_write_report_files(tmp_path):
    paths = report.write_report(sample_results(), tmp_path)
    assert set(paths) == {"json", "markdown", "confusion", "per_class_f1", "similarity_histogram"}
    data = json.loads(paths["json"].read_text())
    assert data["open_set"]["nearest_macro_f1_unseen"] is None  # NaN written as null
    for key in ("confusion", "per_class_f1", "similarity_histogram"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"


def test_compare_puts_two_runs_side_by_side(tmp_path):
    a, b = sample_results(), sample_results()
    a["meta"] = {"answerer_caption": "zero-shot · SmolVLM2 · preset small"}
    b["meta"] = {"backend": "ovhhir", "preset": "small", "checkpoint": "runs/a/final"}
    b["cosine"]["all"] = {"mean": 0.7, "std": 0.01, "n": 3}
    (tmp_path / "a.json").write_text(json.dumps(a))
    report.write_json(b, tmp_path / "b.json")
    path = report.write_comparison(tmp_path / "a.json", tmp_path / "b.json", out_dir=tmp_path)
    md = path.read_text()
    head = md.splitlines()[0]
    assert "Cosine similarity A | Cosine similarity B" in head
    assert "| **All** | 3 | 3 | 0.628 ± 0.019 | 0.700 ± 0.010 | 0.500 ± 0.100 |" in md
    assert "| open set, unseen classes | 1 | 1 |" in md
    assert "A: zero-shot · SmolVLM2 · preset small" in md
    assert "B: ovhhir · preset small · checkpoint runs/a/final" in md
