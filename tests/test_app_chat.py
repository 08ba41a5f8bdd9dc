"""Chat tab handlers as plain functions, on the tiny random-weight model (answers are noise)."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest
import torch

from app.chat import CLASSIFY_METHODS, ChatHandlers
from app.settings import Settings
from app.state import Services
from ovhhir_core.video import write_video

GEN = (0.7, 0.9, 1, 12, 4)  # temperature, top_p, beams, max new tokens, frames


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    svc = Services(Settings(preset="tiny", device="cpu", backend="ovhhir"), root=root / "sessions")
    yield svc
    svc.close()


@pytest.fixture()
def tracked(services, tmp_path):
    """A session whose Track tab produced three stream videos."""
    state = services.new_session()
    for k, name in enumerate(("person_1", "person_2", "background")):
        frames = [np.full((32, 48, 3), 40 * k + i, np.uint8) for i in range(8)]
        state.outputs[name] = write_video(tmp_path / f"{name}.mp4", frames, fps=8)
    return state


def test_describe_streams_a_growing_answer_beside_its_provenance(services, tracked):
    # random weights sample their answer: seeded, so that it is never an immediate stop token
    torch.manual_seed(0)
    ch = ChatHandlers(services)
    steps = list(ch.describe(tracked, True, *GEN))
    first_messages, box, _ = steps[0]
    assert first_messages[-1] == {"role": "assistant", "content": ""} and box == ""
    answers = [msgs[-1]["content"] for msgs, _, _ in steps]
    assert len(steps) >= 3
    assert all(b.startswith(a) for a, b in zip(answers[1:-1], answers[2:], strict=False))
    messages, _, provenance = steps[-1]
    assert messages[0] == {
        "role": "user",
        "content": "Describe interaction between `<p1>` and `<p2>` in `<bg>`?",
    }
    assert messages[1]["content"] == answers[-1] != ""
    # every answer is shown with what produced it, and the untrained branches are flagged
    caption = tracked.conversation.provenance.caption()
    assert all(shown == provenance for _, _, shown in steps)
    assert caption in provenance and "OV-HHIR" in caption and "NOT GROUNDED" in caption
    assert "Not grounded" in provenance and "untrained" in provenance
    assert tracked.conversation.history[0]["content"].startswith("Describe interaction between")


def test_multi_turn_regenerate_clear(services, tracked):
    ch = ChatHandlers(services)
    list(ch.describe(tracked, True, *GEN))
    messages = list(ch.ask(tracked, "And in <bg>?", True, *GEN))[-1][0]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert len(tracked.conversation.history) == 4
    regenerated = list(ch.regenerate(tracked, *GEN))[-1][0]
    assert regenerated[:3] == messages[:3] and len(regenerated) == 4
    assert len(tracked.conversation.history) == 4
    assert ch.clear(tracked) == [] and tracked.conversation.history == []
    # a different frame count rebuilds the clip's chat session
    conversation = tracked.conversation
    list(ch.one_word(tracked, True, *GEN[:-1], 6))
    assert tracked.conversation is not conversation and tracked.conversation_key == (6, True)
    assert tracked.messages[0]["content"] == "Describe the activity in one word."


def test_chat_needs_tracking_and_a_question(services, tracked):
    ch = ChatHandlers(services)
    with pytest.raises(gr.Error, match="Track the two people first"):
        list(ch.describe(services.new_session(), True, *GEN))
    with pytest.raises(gr.Error, match="Type a question"):
        list(ch.ask(tracked, "  ", True, *GEN))
    with pytest.raises(gr.Error, match="Nothing to regenerate"):
        list(ch.regenerate(services.new_session(), *GEN))


def test_default_classes_are_the_taxonomy(services):
    from ovhhir_core.data.taxonomy import load_taxonomy

    names = ChatHandlers(services).default_classes().splitlines()
    assert names == load_taxonomy().class_names(seen=True, unseen=True)
    assert len(names) > 100


@pytest.mark.parametrize("method", list(CLASSIFY_METHODS))
def test_classify_ranks_the_typed_classes(services, tracked, method):
    rows = ChatHandlers(services).classify(tracked, "hugging\npunching, waving\nhugging", method, 4)
    assert sorted(r[1] for r in rows) == ["hugging", "punching", "waving"]
    assert [r[0] for r in rows] == [1, 2, 3]
    scores = [r[2] for r in rows]
    assert scores == sorted(scores, reverse=True)
    if CLASSIFY_METHODS[method] == "likelihood":
        assert sum(scores) == pytest.approx(1.0, abs=1e-3)


def test_classify_needs_two_classes(services, tracked):
    with pytest.raises(gr.Error, match="at least two candidate classes"):
        ChatHandlers(services).classify(tracked, "hugging", next(iter(CLASSIFY_METHODS)), 4)


def test_generation_settings_parse_into_one_object():
    from app.common import GenerationSettings

    gen = GenerationSettings.parse((0.0, 0.5, 2.0, 16.0, 6.0))
    assert (gen.config.temperature, gen.config.top_p, gen.config.num_beams) == (0.0, 0.5, 2)
    assert (gen.config.max_new_tokens, gen.frames) == (16, 6)
    with pytest.raises(Exception, match="top_p must be in"):
        GenerationSettings.parse((0.7, 0.0, 1, 8, 4))
    with pytest.raises(Exception, match="got 4 values"):
        GenerationSettings.parse((0.7, 0.9, 1, 8))


def test_auto_backend_answers_with_its_provenance(tracked, tmp_path):
    services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path / "auto")
    try:
        assert services.settings.backend == "auto"
        messages, _, provenance = list(ChatHandlers(services).describe(tracked, True, *GEN))[-1]
        answerer = services.answerer()
        assert answerer.name != "ovhhir"  # never the untrained branches under auto
        assert tracked.conversation.provenance.caption() in provenance and messages[-1]["content"]
        assert "answerer" in services.status()
    finally:
        services.close()


def test_measured_facts_go_into_the_prompt_only_when_asked(services, tracked, tmp_path):
    """The facts checkbox: on, the timeline's facts text is in the conversation's prompt (and the
    provenance says so); off, the conversation is reopened without it."""
    from ovhhir_core.timeline import compute_timeline, facts_text, write_timeline

    labels = {}
    for i in range(8):  # two people walking towards each other until they touch
        lm = np.zeros((32, 48), np.uint8)
        lm[8:28, 2 + 2 * i : 8 + 2 * i] = 1
        lm[8:28, 40 - 2 * i : 46 - 2 * i] = 2
        labels[i] = lm
    timeline = compute_timeline(labels, fps=8.0)
    tracked.outputs.update(write_timeline(tmp_path / "tl", timeline, plot=False))
    list(ChatHandlers(services).describe(tracked, True, *GEN))
    given = tracked.conversation.prompt_facts
    assert given and facts_text(timeline) in given
    assert tracked.conversation.provenance.facts_in_prompt
    list(ChatHandlers(services).describe(tracked, False, *GEN))
    assert tracked.conversation.prompt_facts is None
    assert not tracked.conversation.provenance.facts_in_prompt
