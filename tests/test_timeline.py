"""Timeline measurements and events against the synthetic generator's exact label maps.

Tolerance: contact frames agree with the frames where the drawn figures touch (each figure
rendered alone, without occlusion, with its true height; touching = closer than the contact
dilation, 2 % of the height) within ``TOL_FRAMES`` frames at 16 fps (0.125 s); the same clip at half resolution and half frame rate (every other pixel and
frame of the same label maps) gives the same events, each within ``TOL_S`` seconds, except brief
contacts (under ``BRIEF_S``: masks a pixel apart) that may come and go with the resolution.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from ovhhir_core.data.synthetic import CLASSES, render_clip
from ovhhir_core.timeline import TimelineConfig, TimelineError, compute_timeline
from ovhhir_core.timeline.events import runs

TOL_FRAMES = 2
TOL_S = 0.4
BRIEF_S = 0.2
MOTION = {"approach", "separation", "walk_together", "pass_by", "follow"}
#: class -> (event kinds the script must produce, kinds it must not)
EXPECTED = {
    "Approaching": ({"approach"}, {"contact", "separation", "pass_by", "walk_together"}),
    "Departing": ({"separation"}, {"approach", "contact", "pass_by"}),
    "Handshaking": ({"approach", "contact"}, {"separation", "pass_by", "follow"}),
    "Hugging": ({"approach", "contact"}, {"pass_by", "follow"}),
    "Pushing": ({"approach", "contact", "separation"}, {"pass_by", "follow"}),
    "Punching": ({"approach", "contact"}, {"pass_by", "follow"}),
    "Kicking": ({"approach", "contact"}, {"pass_by", "follow"}),
    "Waving": (set(), MOTION | {"contact"}),
    "HighFiving": ({"approach", "contact", "separation"}, {"pass_by", "follow"}),
    "Pointing": (set(), MOTION | {"contact"}),
    "FistBumping": ({"approach", "contact"}, {"separation", "pass_by", "follow"}),
    "Chasing": ({"follow"}, {"pass_by", "walk_together", "separation"}),
}


def render_with_truth(monkeypatch, name: str, seed: int, **kw):
    """Render a clip and, per frame, whether the two figures drawn alone touch."""
    module = sys.modules[render_clip.__module__]
    draw = module.draw_figure
    alone: list[tuple[int, np.ndarray, float]] = []

    def spy(frame, labels, pose, fig):
        draw(frame, labels, pose, fig)
        canvas = np.zeros(labels.shape, np.uint8)
        draw(np.zeros_like(frame), canvas, pose, fig)
        alone.append((fig.label, canvas == fig.label, fig.h))

    monkeypatch.setattr(module, "draw_figure", spy)
    clip = render_clip(name, seed=seed, **kw)
    monkeypatch.setattr(module, "draw_figure", draw)
    touch = []
    for (la, ma, ha), (_, mb, hb) in zip(alone[0::2], alone[1::2], strict=True):
        a, b = (ma, mb) if la == 1 else (mb, ma)
        r = max(1, int(np.ceil(TimelineConfig().contact_gap * 0.5 * (ha + hb))))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        touch.append(bool((cv2.dilate(a.view(np.uint8), kernel).astype(bool) & b).any()))
    return clip, np.array(touch)


def _kinds(timeline) -> set[str]:
    return {e["kind"] for e in timeline.events}


def _first(timeline, kind):
    return next(e for e in timeline.events if e["kind"] == kind)


def _near_any(frames: np.ndarray, targets: np.ndarray, tol: int) -> bool:
    return (
        all(np.abs(targets - f).min() <= tol for f in frames) if len(targets) else not len(frames)
    )


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_events_match_the_script(monkeypatch, name, seed):
    clip, touch = render_with_truth(monkeypatch, name, seed)
    timeline = compute_timeline(enumerate(clip.labels), clip.fps)
    kinds = _kinds(timeline)
    must, must_not = EXPECTED[name]
    assert must <= kinds, f"{name}: missing {must - kinds}; events {timeline.events}"
    assert not kinds & must_not, f"{name}: unexpected {kinds & must_not}"
    measured = np.array([i for i, r in enumerate(timeline.frames) if r["pair"]["contact"]])
    truth = np.flatnonzero(touch)
    assert _near_any(measured, truth, TOL_FRAMES), "contact where the figures do not touch"
    long_truth = [a for a, b in runs(touch) if b - a + 1 >= 2]  # touches of 2+ frames are seen
    assert _near_any(np.array(long_truth), measured, TOL_FRAMES), "a touch was missed"
    if "contact" in kinds and "approach" in kinds:
        assert _first(timeline, "approach")["start_s"] < _first(timeline, "contact")["start_s"]
    if "contact" in kinds and "separation" in kinds:
        sep, con = _first(timeline, "separation"), _first(timeline, "contact")
        assert sep["end_s"] > con["end_s"]
        assert sep["start_s"] >= con["start_s"] - 0.25  # the push starts with the touch


def _unmatched(a: list[dict], b: list[dict]) -> list[dict]:
    """Events of ``a`` (brief contacts aside) with no event of the same kind in ``b`` overlapping
    them within ``TOL_S``."""
    out = []
    for e in a:
        if e["kind"] == "contact" and e["end_s"] - e["start_s"] < BRIEF_S:
            continue
        if not any(
            f["kind"] == e["kind"]
            and f["start_s"] - TOL_S <= e["end_s"]
            and e["start_s"] <= f["end_s"] + TOL_S
            and abs(f["start_s"] - e["start_s"]) <= TOL_S
            for f in b
        ):
            out.append(e)
    return out


@pytest.mark.parametrize("name", CLASSES)
def test_half_resolution_and_frame_rate_give_the_same_events(name):
    clip = render_clip(name, seed=2)
    full = compute_timeline(enumerate(clip.labels), clip.fps).events
    half = compute_timeline(enumerate(clip.labels[::2, ::2, ::2]), clip.fps / 2).events
    assert not _unmatched(full, half), f"{name}: {full} vs {half}"
    assert not _unmatched(half, full), f"{name}: {half} vs {full}"


def test_frames_with_a_person_missing_stay_empty():
    clip = render_clip("Handshaking", seed=0)
    labels = clip.labels.copy()
    labels[20:30][labels[20:30] == 2] = 0  # person 2 leaves the picture for 10 frames
    timeline = compute_timeline(enumerate(labels), clip.fps)
    for r in timeline.frames[20:30]:
        assert r["person_2"] == {k: (False if k == "visible" else None) for k in r["person_2"]}
        assert r["pair"]["measured"] is False
        assert all(v is None for k, v in r["pair"].items() if k != "measured")
        assert r["person_1"]["visible"] and r["person_1"]["height"] > 0
    assert timeline.frames[19]["pair"]["distance"] is not None
    for e in timeline.events:  # no event is made of frames where person 2 was not seen
        assert not (e["kind"] == "contact" and 20 <= e["start_frame"] < 30)


def test_one_frame_clip():
    clip = render_clip("Hugging", seed=0, num_frames=1)
    timeline = compute_timeline(enumerate(clip.labels), clip.fps)
    assert len(timeline.frames) == 1 and timeline.metadata["duration_s"] == pytest.approx(
        1 / 16, abs=1e-3
    )
    row = timeline.frames[0]
    assert row["person_1"]["velocity"] is None and row["pair"]["approach_speed"] is None
    assert row["pair"]["distance"] > 0
    assert [e["kind"] for e in timeline.events if e["kind"] != "contact"] == []


def test_masks_of_another_size_than_the_video():
    clip = render_clip("Pushing", seed=0, num_frames=24, fps=8.0)
    same = compute_timeline(enumerate(clip.labels), clip.fps)
    scaled = compute_timeline(enumerate(clip.labels), clip.fps, video_size=(640, 480))
    assert scaled.metadata["size"] == [640, 480] and scaled.metadata["mask_size"] == [320, 240]
    r1, r2 = same.frames[5], scaled.frames[5]
    assert r2["person_1"]["box"] == [2 * v for v in r1["person_1"]["box"]]
    assert r2["person_1"]["area"] == pytest.approx(4 * r1["person_1"]["area"])
    assert r2["pair"]["distance"] == pytest.approx(r1["pair"]["distance"], abs=1e-3)
    assert [e["kind"] for e in scaled.events] == [e["kind"] for e in same.events]


def test_bad_masks_are_user_errors():
    with pytest.raises(TimelineError, match="no label maps"):
        compute_timeline([], 10.0)
    maps = [(0, np.zeros((8, 8), np.uint8)), (1, np.zeros((8, 9), np.uint8))]
    with pytest.raises(TimelineError, match="one size"):
        compute_timeline(maps, 10.0)
    with pytest.raises(TimelineError, match="fps"):
        compute_timeline(maps[:1], 0)


def _boxes(n: int, xs1, xs2, y2: int = 50) -> list[tuple[int, np.ndarray]]:
    """Two 40-pixel-tall rectangles at the given x positions per frame (person 2's top at
    ``y2``: 5 lets them pass without touching)."""
    out = []
    for i in range(n):
        m = np.zeros((100, 200), np.uint8)
        for value, xs, y in ((1, xs1, 50), (2, xs2, y2)):
            x = int(round(xs[i]))
            m[y : y + 40, max(0, x) : max(0, x + 10)] = value
        out.append((i, m))
    return out


def test_walk_together_follow_and_pass_by_from_moving_boxes():
    n, fps = 40, 10.0
    step = np.arange(n) * 2.0  # 20 px/s = 0.5 heights/s
    together = compute_timeline(_boxes(n, 10 + step, 35 + step), fps)
    assert "walk_together" in _kinds(together) and "follow" not in _kinds(together)
    follow = compute_timeline(_boxes(n, 10 + 1.5 * step, 60 + 0.5 * step), fps)
    event = _first(follow, "follow")
    assert (event["leader"], event["follower"]) == ("person_2", "person_1")
    passing = compute_timeline(_boxes(n, 20 + 2 * step, 180 - 2 * step, y2=5), fps)
    assert "pass_by" in _kinds(passing)
    assert _first(passing, "approach")["by"] == "both"
    assert [r["pair"]["motion"] for r in passing.frames][5] == "opposite"
    still = compute_timeline(_boxes(n, np.full(n, 20.0), np.full(n, 120.0)), fps)
    assert still.events == []


def test_event_profiles_tell_touching_from_distant_interactions():
    from ovhhir_core.timeline.profile import NearestClass, event_profile

    def profiles(seeds):
        out = []
        for name in ("Hugging", "Pointing", "Departing"):
            for seed in seeds:
                clip = render_clip(name, seed, (160, 120), 24, 6.0)
                out.append((event_profile(compute_timeline(enumerate(clip.labels), 6.0)), name))
        return np.stack([p for p, _ in out]), [n for _, n in out]

    x, y = profiles([0, 1])
    assert x.shape == (len(y), 25)
    x_test, y_test = profiles([7])
    assert NearestClass().fit(x, y).predict(x_test) == y_test
