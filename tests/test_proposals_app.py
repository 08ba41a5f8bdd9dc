"""Track tab, picking people: *Find people*, one click on a proposal, the threshold, box prompts
with two clicks and undo (handlers as plain functions, tiny random-weight models)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np
import pytest

from app.settings import Caps, Settings
from app.state import Services
from app.track_handlers import TrackHandlers
from app.track_people import BOX_MODE
from ovhhir_core.data.synthetic import render_clip
from ovhhir_core.tracking.detector import Detection
from ovhhir_core.video import write_video

P1, P2 = "Person 1", "Person 2"
POS, NEG = "Positive (this is the person)", "Negative (not this)"


def bbox(labels: np.ndarray, value: int) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(labels == value)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def inside(labels: np.ndarray, value: int) -> tuple[int, int]:
    """A pixel of person ``value`` outside the other person's box."""
    x0, y0, x1, y1 = (int(v) for v in bbox(labels, 3 - value))
    mine = labels == value
    mine[y0:y1, x0:x1] = False
    ys, xs = np.nonzero(mine)
    k = len(ys) // 2
    return int(xs[k]), int(ys[k])


@dataclass
class KnownPeople:
    """Reports the synthetic clip's true person boxes (person 1 scored higher)."""

    labels: np.ndarray
    source: str = "true boxes of the synthetic clip"
    trained: bool = True

    def detect(self, frame):
        return [Detection(bbox(self.labels, 1), 0.9), Detection(bbox(self.labels, 2), 0.6)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    c = render_clip("Pushing", seed=2, size=(160, 120), num_frames=4, fps=4.0)
    return str(
        write_video(tmp_path_factory.mktemp("clip") / "p.mp4", iter(c.frames), 4.0)
    ), c.labels


@pytest.fixture
def services(tmp_path):
    svc = Services(Settings(preset="tiny", device="cpu", caps=Caps(max_frames=50)), root=tmp_path)
    yield svc
    svc.close()


def _loaded(services, path):
    h = TrackHandlers(services)
    state = services.new_session()
    h.load_video(state, path)
    return h, state


def test_find_people_with_the_tiny_detector_says_it_is_untrained(services, clip):
    h, state = _loaded(services, clip[0])
    plain = h.show_frame(state, 0)
    frame, info = h.find_people(state, 0.0)
    assert frame.shape == plain.shape and (frame != plain).any()  # numbered boxes drawn
    assert "random weights" in info and "untrained" in info and "preset tiny" in info
    assert state.people.proposals.detect_count == 1
    h.find_people(state, 0.0)
    assert state.people.proposals.detect_count == 1  # cached for the frame
    _, info = h.set_min_score(state, 1.0)
    assert "none above the threshold" in info


def test_one_click_picks_a_proposal_and_clicks_refine_it(services, clip, monkeypatch):
    path, labels = clip
    monkeypatch.setattr(services, "detector", lambda: KnownPeople(labels[0]))
    h, state = _loaded(services, path)
    _, info = h.find_people(state, 0.5)
    assert "1 (0.90), 2 (0.60)" in info
    _, text = h.click_at(state, P1, POS, *inside(labels[0], 1))
    assert text.startswith("Person 1: 1 click(s), Person 2: 0 click(s)") and "proposal 1" in text
    picked = state.people.proposals.by_id(0, 1)
    np.testing.assert_array_equal(state.tracking.mask(0, "person_1"), picked.mask)
    # person 1 is prompted on this frame: a second positive click refines, it does not re-pick
    _, text = h.click_at(state, P1, NEG, *inside(labels[0], 1))
    assert text == "Person 1: 2 click(s), Person 2: 0 click(s)"
    # above the threshold only person 1 is shown: a click on person 2 is an ordinary point
    h.set_min_score(state, 0.7)
    _, text = h.click_at(state, P2, POS, *inside(labels[0], 2))
    assert text == "Person 1: 2 click(s), Person 2: 1 click(s)"
    assert state.tracking.prompted_frames("person_2") == [0]


def test_box_prompt_with_two_clicks_and_undo(services, clip):
    path, labels = clip
    h, state = _loaded(services, path)
    x0, y0, x1, y1 = (int(v) for v in bbox(labels[0], 2))
    _, text = h.click_at(state, P2, BOX_MODE, x1 - 1, y1 - 1)
    assert "first corner" in text and text.startswith("Person 1: 0 click(s), Person 2: 0")
    frame, text = h.undo(state, P2)
    assert "corner removed" in text and state.people.corner is None
    h.click_at(state, P2, BOX_MODE, x1 - 1, y1 - 1)
    _, text = h.click_at(state, P2, BOX_MODE, x0, y0)  # opposite corner, in either order
    assert text.startswith("Person 1: 0 click(s), Person 2: 1 click(s)")
    assert f"box ({x0}, {y0}, {x1}, {y1})" in text
    np.testing.assert_array_equal(
        state.tracking.mask(0, "person_2"), state.tracking.segment_box(0, (x0, y0, x1, y1))
    )
    _, text = h.undo(state, P2)
    assert text == "Person 1: 0 click(s), Person 2: 0 click(s)"
    with pytest.raises(gr.Error, match="Click on Person 1 and Person 2 first"):
        list(h.track(state))
