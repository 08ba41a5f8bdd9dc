"""Evaluation: answer→class mapping, candidate lists, nearest class, ranking, reports, and the
whole evaluation loop with an open set, with any answerer (a scripted one, the tiny OV-HHIR
model; real MiniLM embedder)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from ovhhir_core.eval import report
from ovhhir_core.eval.candidates import ClassSpace
from ovhhir_core.eval.classify import (
    NO_CLASS,
    class_prompt,
    display_name,
    map_answer_to_class,
    nearest_class,
    rank_classes,
    shuffled,
)

CANDS = ["Handshaking", "Hugging", "ForeheadKissing", "Kissing", "Punching", "HighFiving"]


class BagOfWords:
    """A deterministic stand-in for a sentence embedder: normalised word counts."""

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def encode(self, texts):
        rows = []
        for t in texts:
            v = np.zeros(64, np.float32)
            for w in re.findall(r"[a-z]+", t.lower()):
                v[self.vocab.setdefault(w, len(self.vocab)) % 64] += 1
            rows.append(v / max(np.linalg.norm(v), 1e-12))
        return np.stack(rows)


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


def _results():
    return {
        "meta": {"preset": "tiny", "checkpoint": "ck", "seeds": [0, 1], "embedder": "e"},
        "num_samples_by_source": {"UT-Interaction": 3, "all": 3},
        "cosine": {
            "UT-Interaction": {"mean": 0.628, "std": 0.019, "n": 3},
            "all": {"mean": 0.628, "std": 0.019, "n": 3},
        },
        "prompt_classifier": {
            "macro_f1": {
                "UT-Interaction": {"mean": 0.5, "std": 0.1, "n": 2},
                "all": {"mean": 0.5, "std": 0.1, "n": 2},
            },
            "per_class": {"Hugging": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}},
            "confusion": {"labels": ["Hugging", "Punching"], "matrix": [[1, 1], [0, 1]]},
        },
        "nearest_class": {"macro_f1": {"UT-Interaction": 0.4, "all": 0.4}},
        "open_set": {
            "num_candidates": 109,
            "num_unseen_samples": 1,
            "prompt_macro_f1_unseen": {"mean": 0.315, "std": 0.0, "n": 2},
            "prompt_macro_f1_all": {"mean": 0.25, "std": 0.05, "n": 2},
            "nearest_macro_f1_unseen": float("nan"),
            "nearest_macro_f1_all": 0.2,
        },
        "samples": [{"cosine": 0.6}, {"cosine": 0.7}, {"cosine": 0.5}],
    }


def test_markdown_table_in_the_paper_layout():
    md = report.markdown_table(_results())
    assert "| UT-Interaction | 3 | 0.628 ± 0.019 | 0.500 ± 0.100 | 0.400 |" in md
    assert "| **All** | 3 | 0.628 ± 0.019 | 0.500 ± 0.100 | 0.400 |" in md
    assert "| Unseen classes | 0.315 ± 0.000 | – |" in md
    assert "109 candidate classes" in md


def test_write_report_files(tmp_path):
    paths = report.write_report(_results(), tmp_path)
    assert set(paths) == {"json", "markdown", "confusion", "per_class_f1", "similarity_histogram"}
    data = json.loads(paths["json"].read_text())
    assert data["open_set"]["nearest_macro_f1_unseen"] is None  # NaN written as null
    for key in ("confusion", "per_class_f1", "similarity_histogram"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"


def test_compare_puts_two_runs_side_by_side(tmp_path):
    a, b = _results(), _results()
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


# ------------------------------------------------------------ with any answerer (protocol only)


class Scripted:
    """A conversation that knows the answer: ``score`` prefers ``truth`` and a class question is
    answered with it; descriptions are the reference text. Counts its calls."""

    def __init__(self, truth: str, description: str):
        from ovhhir_core.answering import Provenance

        self.truth, self.description = truth, description
        self.provenance = Provenance("scripted", "rules", "none", grounded=True, frames=4)
        self.history: list[dict[str, str]] = []
        self.prompt_facts = None
        self.asked: list[str] = []

    def ask(self, text, gen=None):
        self.asked.append(text)
        answer = self.truth if "Which one" in text else self.description
        self.history += [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]
        for i in range(1, len(answer) + 1, 3):
            self.history[-1]["content"] = answer[:i]
            yield answer[:i]
        self.history[-1]["content"] = answer
        yield answer

    def regenerate(self, gen=None):
        raise NotImplementedError

    def clear(self):
        self.history = []

    def score(self, question, answers):
        return [-0.1 if a.rstrip(".") == self.truth else -2.0 for a in answers]


class ScriptedAnswerer:
    name = "scripted"

    def __init__(self, samples):
        self.by_stream = {str(s.p1): s for s in samples}
        self.opened = []

    def open(self, clip, frames=16, use_facts=True):
        sample = self.by_stream[str(clip.streams["person_1"])]
        self.opened.append((clip, frames))
        return Scripted(sample.label, sample.answer)


def test_rank_classes_follows_the_conversation_scores_and_keeps_its_turns():
    conv = Scripted("Punching", "two people fight")
    conv.history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    ranked = rank_classes(conv, ["Hugging", "Punching", " Waving ", "Hugging", ""])
    assert [n for n, _ in ranked][0] == "Punching"
    assert sorted(n for n, _ in ranked) == ["Hugging", "Punching", "Waving"]
    assert sum(s for _, s in ranked) == pytest.approx(1.0)
    by_text = rank_classes(conv, ["Hugging", "fight"], embedder=BagOfWords())
    assert by_text[0][0] == "fight" and conv.asked[-1].startswith("Describe interaction")
    assert conv.history[0]["content"] == "hi" and len(conv.history) == 2
    with pytest.raises(ValueError):
        rank_classes(conv, ["  "])


def test_evaluation_runs_with_any_answerer(synth):
    from ovhhir_core.eval.evaluate import EvalOptions, evaluate

    answerer = ScriptedAnswerer(synth)
    space = ClassSpace.build(synth, open_set="on")
    opts = EvalOptions(seeds=(0, 1), frames=4)
    res = list(evaluate(answerer, synth, BagOfWords(), space, opts))[-1][2]
    assert [c.streams["person_2"] for c, _ in answerer.opened] == [s.p2 for s in synth]
    assert [c.fill for c, _ in answerer.opened] == [s.fill for s in synth]
    assert {f for _, f in answerer.opened} == {4}
    assert res["prompt_classifier"]["macro_f1"]["all"]["mean"] == pytest.approx(1.0)
    assert res["open_set"]["prompt_macro_f1_all"]["mean"] == pytest.approx(1.0)
    assert res["cosine"]["all"]["mean"] == pytest.approx(1.0, abs=1e-5)
    assert res["meta"]["answerer"]["answerer"] == "scripted"
    assert "scripted" in report.markdown_table(res)


# ----------------------------------------------------------------------- with the tiny model


@pytest.fixture(scope="module")
def tiny():
    from ovhhir_core.config import load_preset
    from ovhhir_core.model import load_model

    preset = load_preset("tiny")
    preset.model.num_frames = 4
    return load_model(preset.model, "cpu", torch.float32).eval()


@pytest.fixture(scope="module")
def synth_path(tmp_path_factory):
    from ovhhir_core.data.synthetic import make_dataset

    return make_dataset(
        tmp_path_factory.mktemp("synth"),
        n_per_class=1,
        classes=["Hugging", "Punching"],
        size=(96, 72),
        num_frames=8,
    )


@pytest.fixture(scope="module")
def synth(synth_path):
    from ovhhir_core.data.hhirchat import load_dataset

    return load_dataset(synth_path)


@pytest.fixture(scope="module")
def embedder():
    from ovhhir_core.config import EmbedderConfig
    from ovhhir_core.eval.embedder import load_embedder

    return load_embedder(EmbedderConfig())


def _open(model, sample):
    from ovhhir_core.eval.evaluate import sample_clip
    from ovhhir_core.model import OVHHIRAnswerer

    return OVHHIRAnswerer(model).open(sample_clip(sample), frames=4)


def test_answer_likelihood_equals_the_training_loss(tiny, synth):
    from ovhhir_core.model import collate_features, load_clip

    clip = load_clip(synth[0].streams, num_frames=4)
    feats = tiny.extract_features(clip)
    visual = {k: v[0] for k, v in tiny.embed(collate_features([feats])).items()}
    prompt = "Describe interaction between <p1> and <p2> in <bg>?"
    answer = "Two people hug."
    conv = [[{"from": "human", "value": prompt}, {"from": "gpt", "value": answer}]]
    with torch.no_grad():
        loss = float(tiny.training_loss(collate_features([feats]), conv))
    ll = tiny.score_answers(visual, prompt, [answer, "Punching.", "A hug."], batch_size=2)
    assert ll[0] == pytest.approx(-loss, abs=1e-4)
    assert all(x < 0 for x in ll)
    assert tiny.score_answers(visual, prompt, ["A hug."])[0] == pytest.approx(ll[2], abs=1e-4)


def test_rank_classes_with_the_tiny_model(tiny, synth):
    conversation = _open(tiny, synth[0])
    ranked = rank_classes(conversation, ["Hugging", "Punching", "Waving"])
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1.0)
    prompt = class_prompt(["Hugging", "Punching", "Waving"])
    direct = conversation.score(prompt, ["Hugging.", "Punching.", "Waving."])
    best = ["Hugging", "Punching", "Waving"][int(np.argmax(direct))]
    assert ranked[0][0] == best


@pytest.mark.offline_models
def test_embedding_match_and_rank_with_minilm(tiny, synth, embedder):
    m = map_answer_to_class(
        "two people embrace each other",
        ["Hugging", "Punching", "Waving"],
        embedder,
        fuzzy_cutoff=0.95,
    )
    assert (m.label, m.method) == ("Hugging", "embedding")
    ranked = rank_classes(_open(tiny, synth[0]), ["Hugging", "Punching"], embedder)
    assert len(ranked) == 2 and all(-1 <= s <= 1 for _, s in ranked)


def test_evaluation_loop_with_open_set(tiny, synth):
    from ovhhir_core.eval.evaluate import EvalOptions, evaluate
    from ovhhir_core.model import OVHHIRAnswerer

    embedder = BagOfWords()  # any embedder; MiniLM over 109 classes' soft labels is slow here
    space = ClassSpace.build(synth, open_set="auto", extra_unseen=["Punching"])
    opts = EvalOptions(seeds=(0, 1), max_new_tokens=4, class_max_new_tokens=4, frames=4)
    events = list(evaluate(OVHHIRAnswerer(tiny), synth, embedder, space, opts))
    assert [e[0] for e in events] == [1, 2, 2] and events[-1][2] is not None
    res = events[-1][2]
    assert res["meta"]["answerer"]["grounded"] is False  # untrained branches, said so
    assert res["num_samples_by_source"] == {"synthetic": 2, "all": 2}
    gen = embedder.encode([s["generated"] for s in res["samples"]])
    ref = embedder.encode([s["reference"] for s in res["samples"]])
    want = (gen * ref).sum(axis=1)  # unit vectors: cosine = dot product
    assert [s["cosine"] for s in res["samples"]] == pytest.approx(want.tolist(), abs=1e-5)
    assert res["cosine"]["all"]["mean"] == pytest.approx(float(want.mean()), abs=1e-5)
    op = res["open_set"]
    assert op["num_unseen_samples"] == 1 and op["num_candidates"] == 109
    assert op["prompt_macro_f1_all"]["n"] == 2
    assert 0 <= op["prompt_macro_f1_unseen"]["mean"] <= 1
    assert all(len(s["open_answers"]) == 2 for s in res["samples"])
    f1 = res["prompt_classifier"]["macro_f1"]["synthetic"]
    assert 0 <= f1["mean"] <= 1 and not math.isnan(f1["std"])
    assert sum(res["prompt_classifier"]["mapping_methods"].values()) == 4


@pytest.mark.offline_models
def test_evaluate_cli_with_a_chosen_backend_and_a_comparison(synth_path, tmp_path):
    from ovhhir_core.eval import cli as evaluate_cli

    other = _results()
    other["meta"] = {"answerer_caption": "zero-shot · a video-LLM · preset tiny"}
    report.write_json(other, tmp_path / "other.json")
    args = ["--data", str(synth_path), "--preset", "tiny", "--device", "cpu", "--backend", "ovhhir"]
    args += ["--out", str(tmp_path / "run"), "--seeds", "0", "--max-new-tokens", "3"]
    args += ["--max-samples", "1", "--open-set", "off", "--compare", str(tmp_path / "other.json")]
    assert evaluate_cli.main(args) == 0
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert res["meta"]["backend"] == "ovhhir" and res["meta"]["answerer"]["grounded"] is False
    md = (tmp_path / "run" / "comparison.md").read_text()
    assert "A: OV-HHIR · random tiny LLM + untrained branches" in md
    assert "B: zero-shot · a video-LLM · preset tiny" in md


def test_evaluation_and_ranking_with_the_zero_shot_answerer(synth):
    from ovhhir_core.config import load_preset
    from ovhhir_core.eval.evaluate import EvalOptions, evaluate, sample_clip
    from ovhhir_core.zeroshot import load_zeroshot_answerer

    answerer = load_zeroshot_answerer(load_preset("tiny"), "cpu")
    space = ClassSpace.build(synth, open_set="off")
    opts = EvalOptions(seeds=(0,), max_new_tokens=3, class_max_new_tokens=3, frames=4)
    res = list(evaluate(answerer, synth[:1], BagOfWords(), space, opts))[-1][2]
    assert res["meta"]["answerer"]["answerer"] == "zeroshot"
    assert res["prompt_classifier"]["macro_f1"]["all"]["n"] == 1
    assert len(res["samples"][0]["prompt_answers"]) == 1
    ranked = rank_classes(answerer.open(sample_clip(synth[0]), frames=4), ["Hugging", "Punching"])
    assert sum(s for _, s in ranked) == pytest.approx(1.0)
