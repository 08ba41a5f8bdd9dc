"""Choosing the answerer (``backends.load_answerer``) and the OV-HHIR answerer on a track folder."""

from __future__ import annotations

import numpy as np
import pytest
from model_utils import CaptureEmbeds

from ovhhir_core import video
from ovhhir_core.answering import Answerer, Conversation, GenerationConfig, TrackedClip, backends
from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.model import load_clip, load_model
from ovhhir_core.model.answerer import UNTRAINED_WARNING, OVHHIRAnswerer
from ovhhir_core.streams import MASKS_FILE, TRACK_FILES
from ovhhir_core.weights.hub import MissingWeightsError

GREEDY = GenerationConfig(temperature=0, max_new_tokens=4)
QUESTION = "Describe interaction between <p1> and <p2> in <bg>?"


@pytest.fixture(scope="module")
def preset():
    return load_preset("tiny")


@pytest.fixture(scope="module")
def checkpoint(preset, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "final"
    load_model(preset, "cpu").save_checkpoint(path)
    return path


@pytest.fixture(scope="module")
def track_dir(tmp_path_factory):
    """A folder as ``track`` writes it: three streams on a white fill, and the label maps."""
    d = tmp_path_factory.mktemp("track")
    rng = np.random.default_rng(0)
    n, h, w = 8, 64, 80
    labels = np.zeros((n, h, w), np.uint8)
    labels[:, 10:50, 10:30] = 1
    labels[:, 14:54, 50:70] = 2
    white = np.full((n, h, w, 3), 255, np.uint8)
    people = rng.integers(60, 200, (n, h, w, 3), dtype=np.uint8)
    for stream, value in (("person_1", 1), ("person_2", 2)):
        frames = np.where((labels == value)[..., None], people, white)
        video.write_video(d / TRACK_FILES[stream], list(frames), fps=8)
    video.write_video(d / TRACK_FILES["background"], list(people), fps=8)
    np.savez_compressed(d / MASKS_FILE, **{f"frame_{i:05d}": labels[i] for i in range(n)})
    return d


def test_auto_picks_ovhhir_only_with_a_trained_checkpoint(preset, checkpoint, track_dir):
    answerer = backends.load_answerer(preset, "auto", "cpu", checkpoint=checkpoint)
    assert isinstance(answerer, OVHHIRAnswerer) and isinstance(answerer, Answerer)
    prov = answerer.provenance(frames=4)
    assert prov.grounded and prov.warning is None
    assert prov.answerer == "ovhhir" and f"checkpoint {checkpoint}" in prov.model_id
    conversation = answerer.open(TrackedClip.from_track_dir(track_dir), frames=4)
    assert isinstance(conversation, Conversation)
    assert conversation.provenance == prov
    assert "NOT GROUNDED" not in prov.caption() and "4 frames" in prov.caption()


def test_explicit_ovhhir_without_checkpoint_is_ungrounded_with_the_warning(preset, track_dir):
    answerer = backends.load_answerer(preset, "ovhhir", "cpu")
    conversation = answerer.open(TrackedClip.from_track_dir(track_dir), frames=4)
    prov = conversation.provenance
    assert not prov.grounded and prov.warning == UNTRAINED_WARNING
    assert "untrained branches" in prov.model_id and "NOT GROUNDED" in prov.caption()
    answers = list(conversation.ask(QUESTION, GREEDY))
    assert answers and all(b.startswith(a) for a, b in zip(answers, answers[1:], strict=False))
    assert conversation.history[-1] == {"role": "assistant", "content": answers[-1]}
    again = list(conversation.regenerate(GREEDY))
    assert again[-1] == answers[-1] and len(conversation.history) == 2
    conversation.clear()
    assert conversation.history == []


def _no_zeroshot(monkeypatch):
    def missing(preset, device, dtype):
        raise MissingWeightsError("zeroshot", "smolvlm2", ["the Hub: offline"], "--weights ...")

    monkeypatch.setattr(backends, "load_zeroshot", missing)


def test_auto_without_checkpoint_or_zeroshot_answers_from_facts(preset, monkeypatch):
    _no_zeroshot(monkeypatch)
    answerer = backends.load_answerer(preset, "auto", "cpu")
    assert answerer.name == "facts"
    prov = answerer.provenance()
    assert prov.answerer == "facts" and "untrained" not in prov.model_id
    assert prov.warning.startswith("No model that looks at the video could be loaded")
    assert "smolvlm2" in prov.warning and "the Hub: offline" in prov.warning
    assert "--weights zeroshot=PATH" in prov.warning and "--checkpoint" in prov.warning


def test_explicit_zeroshot_errors_propagate_and_unknown_backend_is_refused(preset, monkeypatch):
    _no_zeroshot(monkeypatch)
    with pytest.raises(MissingWeightsError, match="zeroshot"):
        backends.load_answerer(preset, "zeroshot", "cpu")
    with pytest.raises(UserError, match="unknown backend"):
        backends.load_answerer(preset, "gpt", "cpu")


def test_facts_go_into_the_prompt_and_the_history_keeps_the_question(preset, track_dir):
    answerer = OVHHIRAnswerer(load_model(preset, "cpu"))
    facts = "Person 1 and Person 2 are 0.4 m apart from 1.2 s to 3.0 s."
    clip = TrackedClip.from_track_dir(track_dir)
    clip.facts = facts
    lengths = {}
    for use in (True, False):
        conversation = answerer.open(clip, frames=4, use_facts=use)
        assert conversation.provenance.facts_in_prompt is use
        assert conversation.prompt_facts == (facts if use else None)
        with CaptureEmbeds(answerer.model.llm) as cap:
            list(conversation.ask(QUESTION, GREEDY))
        lengths[use] = cap.calls[0].shape[1]
        assert conversation.history[0] == {"role": "user", "content": QUESTION}
        scores = conversation.score("Describe the activity in one word.", ["Hugging.", "Kicking."])
        assert len(scores) == 2 and all(s <= 0 for s in scores)
    assert lengths[True] > lengths[False] + 10  # the facts block is in the prompt
    assert "timeline facts in prompt" in answerer.provenance(4, facts=True).caption()


def test_open_takes_person_boxes_from_the_masks_and_honours_the_fill(track_dir):
    streams = {s: track_dir / TRACK_FILES[s] for s in ("person_1", "person_2")}
    from_masks = load_clip(streams, num_frames=4, masks=track_dir / MASKS_FILE)
    from_white = load_clip(streams, num_frames=4, fill=(255, 255, 255))
    from_black = load_clip(streams, num_frames=4)  # the wrong fill: the whole frame
    assert from_masks.boxes["person_1"][0] == (10, 10, 30, 50)
    assert from_masks.boxes["person_2"][0] == (50, 14, 70, 54)
    for a, b in zip(from_masks.boxes["person_1"], from_white.boxes["person_1"], strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 2
    assert from_black.boxes["person_1"][0] == (0, 0, 80, 64)


def test_open_reads_only_the_sampled_frames_masks(track_dir, mask_reads):
    streams = {s: track_dir / TRACK_FILES[s] for s in ("person_1", "person_2")}
    everything = sorted(np.load(track_dir / MASKS_FILE).files)  # frame_00000 ...
    clip = load_clip(streams, num_frames=3, masks=track_dir / MASKS_FILE)
    picked = [int(everything[i].rsplit("_", 1)[1]) for i in clip.frame_indices["person_1"]]
    assert mask_reads == [picked]
    assert len(everything) > 3 and clip.boxes["person_1"][0] == (10, 10, 30, 50)
