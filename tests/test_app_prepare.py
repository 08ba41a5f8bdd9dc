"""Answer before the question: the clip is encoded for questions in the background once tracking
ends (tiny preset, zero-shot answerer with random weights: the answers are noise)."""

from __future__ import annotations

import contextlib
import threading

import pytest

from app.chat import ChatHandlers
from app.settings import Settings, parse_settings
from app.state import Services
from tests.zeroshot_utils import make_track_dir

GEN = (0.0, 0.9, 1, 4, 8)  # temperature, top_p, beams, max new tokens, frames
FRAMES, FACTS = 8, True


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepare")
    settings = Settings(preset="tiny", device="cpu", backend="zeroshot")
    svc = Services(settings, root=root / "sessions")
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return make_track_dir(tmp_path_factory.mktemp("prepare-clip") / "clip")


def _tracked(services, clip_dir):
    state = services.new_session()
    for name in ("person_1", "person_2", "background"):
        state.outputs[name] = clip_dir / f"{name}.mp4"
    state.outputs["masks"] = clip_dir / "masks.npz"
    return state


@contextlib.contextmanager
def held_encoding(services):
    """Encoding stops at the text model's first layer until ``release`` is set; yields
    ``(started, release)`` events (``started``: an encoding reached that layer)."""
    started, release = threading.Event(), threading.Event()
    layer = services.answerer().loaded.model.model.text_model.layers[0]

    def hold(*_):
        if not release.is_set():
            started.set()
            release.wait(30)

    handle = layer.register_forward_hook(hold)
    try:
        yield started, release
    finally:
        release.set()
        handle.remove()


@contextlib.contextmanager
def encodes(services):
    """Count the vision tower's forward passes (one per clip encoding)."""
    calls = []
    tower = services.answerer().loaded.vision_tower()
    handle = tower.register_forward_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def test_settings_and_preset_take_the_quantize_choice(tmp_path):
    assert parse_settings(["--quantize", "int8"], {}).quantize == "int8"
    assert parse_settings([], {"OVHHIR_QUANTIZE": "none"}).quantize == "none"
    assert parse_settings([], {}).quantize is None
    with pytest.raises(SystemExit):
        parse_settings(["--quantize", "int4"], {})
    svc = Services(Settings(preset="tiny", device="cpu", quantize="int8"), root=tmp_path / "s")
    try:
        assert svc.preset.zeroshot.quantize == "int8"
    finally:
        svc.close()


def test_tracking_end_prepares_the_video_and_the_question_reuses_it(services, clip_dir):
    ch = ChatHandlers(services)
    state = _tracked(services, clip_dir)
    with encodes(services) as seen:
        lines = list(ch.prepare(state, FRAMES, FACTS))
        assert len(seen) == 1
        assert any("Preparing the video for questions" in line and "%" in line for line in lines)
        assert "ready for questions" in lines[-1]
        assert state.conversation is not None and state.conversation_key == (FRAMES, FACTS)
        steps = list(ch.describe(state, FACTS, *GEN))
        assert len(seen) == 1  # asked after: the prepared encoding answers it
    assert steps[-1][0][-1]["role"] == "assistant"
    assert state.conversation.history[0]["content"].startswith("Describe")


def test_a_question_asked_during_preparation_waits_for_it(services, clip_dir):
    ch = ChatHandlers(services)
    state = _tracked(services, clip_dir)
    # hold the encoding at its first layer until the question is waiting
    with encodes(services) as seen, held_encoding(services) as (started, release):
        preparing = ch.prepare(state, FRAMES, FACTS)
        next(preparing)  # submitted
        assert started.wait(60)
        asking = ch.describe(state, FACTS, *GEN)
        first = next(asking)
        assert "Preparing the video for questions" in first[0][-1]["content"]
        release.set()
        steps = [first, *asking]
        list(preparing)
        assert len(seen) == 1  # one encoding, not a second one for the question
    assert steps[-1][0][-1]["content"] != first[0][-1]["content"]


def test_tracking_again_drops_the_preparation(services, clip_dir):
    ch = ChatHandlers(services)
    state = _tracked(services, clip_dir)
    with held_encoding(services) as (started, release):
        preparing = ch.prepare(state, FRAMES, FACTS)
        next(preparing)
        assert started.wait(60)
        job = services.jobs.latest(state.sid, "encode")
        assert job is not None
        ch.drop_prepared(state)  # what a new tracking run or a new video does
        release.set()
    lines = list(preparing)
    assert job.finished and job.state == "cancelled"
    assert state.conversation is None  # nothing half-encoded is kept
    assert lines == [] or "ready" not in lines[-1]
