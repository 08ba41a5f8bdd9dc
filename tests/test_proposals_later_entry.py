"""A person who enters later: first marked on frame 10 of a 20-frame clip, tracked over 0..19.

Person 2 walks in from the right on frame 3, passes in front of person 1 on frames 8..10 (mostly
before the frame where they are first marked) and leaves the picture after frame 12. The passes
run as in a real propagation, but each tracking step reports an oracle's logits instead of SAM
2's (person 1: its whole rectangle, occluded part included, at a lower logit; person 2: its
visible rectangle, higher), so the merged label maps can be compared with the known ones pixel
for pixel.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tracking_utils import micro_segmenters

from ovhhir_core.tracking import TrackingSession
from ovhhir_core.tracking import session as session_module
from ovhhir_core.tracking.sam2 import Propagator
from ovhhir_core.video import write_video

W, H, N = 64, 48, 20
FIRST_P2 = 10


def rects(i: int) -> dict[int, tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of person 1 (slow, left) and person 2 (enters on the right at frame 3,
    passes in front of person 1 on frames 8..10, leaves on the left after frame 12)."""
    p1 = (10 + i // 2, 10, 22 + i // 2, 40)
    x2 = 64 - 7 * (i - 2)
    return {1: p1, 2: (x2, 12, x2 + 10, 42)}


def amodal(i: int, value: int) -> np.ndarray:
    x0, y0, x1, y1 = rects(i)[value]
    out = np.zeros((H, W), bool)
    out[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    return out


def truth(i: int) -> np.ndarray:
    """Visible label map: person 2 in front of person 1."""
    out = np.zeros((H, W), np.uint8)
    out[amodal(i, 1)] = 1
    out[amodal(i, 2)] = 2
    return out


class Oracle(Propagator):
    """Reports the oracle's logits at the video's size instead of running SAM 2."""

    visits: list[tuple[int, int]] = []

    def _step(self, value, frame_idx, pixels, reverse):
        Oracle.visits.append((frame_idx, value))
        level = {1: 4.0, 2: 8.0}[value]
        logits = np.where(amodal(frame_idx, value), level, -level).astype(np.float32)
        return torch.from_numpy(logits)[None, None]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    def frame(i):
        img = np.full((H, W, 3), 120, np.uint8)
        img[truth(i) == 1] = (220, 40, 40)
        img[truth(i) == 2] = (40, 60, 220)
        return img

    return write_video(tmp_path_factory.mktemp("later") / "later.mp4", map(frame, range(N)), 10)


def test_person_first_marked_later_is_tracked_over_the_whole_clip(clip, monkeypatch):
    assert not amodal(2, 2).any() and (amodal(8, 1) & amodal(8, 2)).any()
    monkeypatch.setattr(session_module, "Propagator", Oracle)
    Oracle.visits = []
    s = TrackingSession(micro_segmenters(), clip)
    s.add_box(0, "person_1", rects(0)[1])
    s.add_box(FIRST_P2, "person_2", rects(FIRST_P2)[2])
    seeds = {f: s.label_map(f) for f in (0, FIRST_P2)}
    frames = [f for f, _ in s.propagate()]
    assert sorted(frames) == list(range(N))  # every frame once, with both people
    assert frames[: N - FIRST_P2] == list(range(FIRST_P2, N))  # forward from frame 10 first
    assert sorted(set(Oracle.visits)) == sorted((f, v) for f in range(N) for v in (1, 2))
    for f in range(N):
        if f in seeds:  # the click masks stand where they were given
            np.testing.assert_array_equal(s.labels[f][seeds[f] > 0], seeds[f][seeds[f] > 0])
            continue
        np.testing.assert_array_equal(s.labels[f], truth(f), err_msg=f"frame {f}")
    visible = [f for f in range(N) if (truth(f) == 2).any()]
    assert visible == list(range(3, 13))
    assert [f for f in range(N) if f not in seeds and (s.labels[f] == 2).any()] == [
        f for f in visible if f not in seeds
    ]
