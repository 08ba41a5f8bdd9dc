"""Tracking sessions: clicks, the embedding cache, undo/clear/remove, isolation, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tracking_utils import centre, micro_preset

from ovhhir_core.errors import UserError
from ovhhir_core.tracking import TrackingError, TrackingSession
from ovhhir_core.tracking.sam import ClickSegmenter

W, H, N = 64, 48, 6


@pytest.fixture
def encoder_calls(segs):
    calls = []
    handle = segs.sam.image_encoder.register_forward_hook(lambda *a: calls.append(1))
    yield calls
    handle.remove()


def test_one_image_encode_per_frame_however_many_clicks(segs, clip, encoder_calls):
    s = TrackingSession(segs, clip)
    m = s.add_points(2, "person_1", [centre(2, 1, W, H)], [1])
    assert m.shape == (H, W) and m.dtype == bool
    s.add_points(2, "person_1", [(1, 1)], [0])
    s.add_points(2, "person_1", [centre(2, 1, W, H)], [1])
    s.add_points(2, "person_2", [centre(2, 2, W, H)], [1])
    s.add_box(2, "person_2", (30, 10, 60, 40))
    assert len(encoder_calls) == 1 and s.encode_count == 1
    s.add_points(4, "person_1", [centre(4, 1, W, H)], [1])
    assert len(encoder_calls) == 2
    s.add_points(2, "person_2", [(5, 40)], [0])  # back to frame 2: still cached
    assert len(encoder_calls) == 2


def test_embedding_cache_is_bounded_lru(segs, clip):
    clicker = ClickSegmenter(segs.sam, cache_size=2)
    frame = np.zeros((H, W, 3), np.uint8)
    point, label = np.array([[10.0, 10.0]]), np.array([1])
    for f in (0, 1, 0, 2):  # 0 is used again, so 1 is the least recently used when 2 arrives
        clicker.predict(f, lambda: frame, point, label)
    assert clicker.encode_count == 3 and clicker.cached_frames() == [0, 2]
    clicker.predict(1, lambda: frame, point, label)
    assert clicker.encode_count == 4 and clicker.cached_frames() == [2, 1]
    with pytest.raises(TrackingError):
        ClickSegmenter(segs.sam, cache_size=0)


def test_negative_click_refines_with_previous_logits(segs, clip, monkeypatch):
    s = TrackingSession(segs, clip)
    s.add_points(1, "person_1", [centre(1, 1, W, H)], [1])
    seen = []
    real = s._clicker.predict

    def spy(frame_idx, get_frame, points, labels, box=None, mask_input=None):
        seen.append((len(points), mask_input))
        return real(frame_idx, get_frame, points, labels, box, mask_input)

    monkeypatch.setattr(s._clicker, "predict", spy)
    s.add_points(1, "person_1", [(2, 2)], [0])
    ((n_points, mask_input),) = seen
    assert n_points == 2 and mask_input is not None and mask_input.shape[0] == 1


def test_undo_clear_remove(segs, clip):
    s = TrackingSession(segs, clip)
    first = s.add_points(0, "person_1", [centre(0, 1, W, H)], [1])
    s.add_points(0, "person_1", [(3, 3), (60, 3)], [0, 0])
    s.add_box(0, "person_1", (0, 0, 40, 40))
    s.add_points(0, "person_2", [centre(0, 2, W, H)], [1])
    assert s.objects == ["person_1", "person_2"]
    assert (s.label_value("person_1"), s.label_value("person_2")) == (1, 2)
    s.undo("person_1")  # the box
    after_points = s.undo("person_1")  # both negative points at once
    np.testing.assert_array_equal(after_points, first)
    assert s.undo("person_1") is None  # no prompt left on that frame
    assert s.undo("person_1") is None  # nothing to undo
    s.clear_object("person_2")
    assert s.objects == ["person_1", "person_2"] and s.annotated_frames() == []
    s.add_points(3, "ball", [(5, 5)], [1])
    assert s.label_value("ball") == 3
    assert set(np.unique(s.label_map(3))) <= {0, 3}
    s.remove_object("ball")
    assert s.objects == ["person_1", "person_2"]
    with pytest.raises(TrackingError, match="unknown object"):
        s.undo("ball")


def test_label_map_overlap_goes_to_the_highest_logit(segs, clip):
    s = TrackingSession(segs, clip)
    s.add_box(2, "person_1", (0, 0, W, H))
    s.add_box(2, "person_2", (0, 0, W, H))
    lm = s.label_map(2)
    assert lm.shape == (H, W) and lm.dtype == np.uint8
    p1 = s._prompts["person_1"][2].result.logits.astype(np.float32)
    p2 = s._prompts["person_2"][2].result.logits.astype(np.float32)
    want = np.where((p1 > 0) | (p2 > 0), np.where(p2 > p1, 2, 1), 0)
    np.testing.assert_array_equal(lm, want)
    assert np.array_equal(s.mask(2, "person_1"), lm == 1)


def test_two_sessions_do_not_interfere(segs, clip):
    a, b = TrackingSession(segs, clip), TrackingSession(segs, clip, start=1, end=5)
    mask_a = a.add_points(2, "person_1", [centre(2, 1, W, H)], [1])
    b.add_points(2, "person_1", [(2, 2)], [1])
    b.add_points(2, "person_1", [(60, 40)], [0])
    b.add_points(3, "person_2", [centre(3, 2, W, H)], [1])
    assert a.objects == ["person_1"] and b.objects == ["person_1", "person_2"]
    np.testing.assert_array_equal(a.label_map(2) == 1, mask_a)
    assert a._prompts["person_1"][2].points == [centre(2, 1, W, H)]
    assert a.encode_count == 1 and b.encode_count == 2
    assert (a.start, a.end, b.start, b.end) == (0, N, 1, 5)


def test_bad_input_gives_clear_errors(segs, clip):
    s = TrackingSession(segs, clip, start=1, end=4)
    assert issubclass(TrackingError, UserError)
    with pytest.raises(TrackingError, match="outside the frame"):
        s.add_points(1, "person_1", [(W, 5)], [1])
    with pytest.raises(TrackingError, match="outside the frame"):
        s.add_points(1, "person_1", [(-1, 5)], [1])
    with pytest.raises(TrackingError, match="outside the tracked range 1..3"):
        s.add_points(4, "person_1", [(5, 5)], [1])
    with pytest.raises(TrackingError, match="outside the tracked range"):
        s.add_box(0, "person_1", (0, 0, 5, 5))
    with pytest.raises(TrackingError, match="only negative"):
        s.add_points(1, "person_1", [(5, 5)], [0])
    assert s.objects == []  # the refused click did not create the object
    with pytest.raises(TrackingError, match="x0 < x1"):
        s.add_box(1, "person_1", (10, 10, 5, 20))
    with pytest.raises(TrackingError, match="one label per point"):
        s.add_points(1, "person_1", [(5, 5)], [1, 0])
    with pytest.raises(TrackingError, match="nothing to propagate"):
        next(s.propagate())
    with pytest.raises(TrackingError, match="start frame"):
        TrackingSession(segs, clip, start=N)
    with pytest.raises(TrackingError, match="end frame"):
        TrackingSession(segs, clip, start=2, end=2)
    with pytest.raises(UserError):
        TrackingSession(segs, clip.parent / "missing.mp4")


def test_real_weight_paths_offline_give_clear_errors(monkeypatch, tmp_path):
    from ovhhir_core.config import load_preset
    from ovhhir_core.tracking import load_segmenters
    from ovhhir_core.weights.hub import MissingWeightsError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="'sam'.*sam_vit_b") as err:
        load_segmenters(load_preset("small"), "cpu")
    assert "--weights sam=PATH" in str(err.value)
    preset = load_preset("tiny", {"tracker": str(tmp_path / "nowhere")})
    with pytest.raises(MissingWeightsError, match="'tracker'"):
        load_segmenters(preset, "cpu")


def test_tracker_loads_from_a_local_folder(segs, tmp_path):
    """The real loading path (from_pretrained), fed a saved random model instead of the Hub's."""
    from ovhhir_core.tracking import load_segmenters

    segs.tracker.save_pretrained(tmp_path / "sam2")
    preset = micro_preset()
    preset.tracker.weights, preset.tracker.local_path = "sam2.1-hiera-tiny", str(tmp_path / "sam2")
    loaded = load_segmenters(preset, "cpu")
    assert loaded.processor.target_size == segs.tracker.config.image_size
    want, got = segs.tracker.state_dict(), loaded.tracker.state_dict()
    assert list(want) == list(got)
    for name in want:
        assert torch.equal(want[name], got[name]), name
