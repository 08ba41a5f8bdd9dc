"""The whole evaluation loop with any answerer: a scripted one (the protocol alone), the tiny
OV-HHIR model (real MiniLM embedder), the zero-shot answerer; the evaluate command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from eval_utils import BagOfWords, sample_results

from ovhhir_core.eval import report
from ovhhir_core.eval.candidates import ClassSpace
from ovhhir_core.eval.classify import (
    class_prompt,
    map_answer_to_class,
    rank_classes,
)

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
    from ovhhir_core.commands import evaluate as evaluate_cli

    other = sample_results()
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
