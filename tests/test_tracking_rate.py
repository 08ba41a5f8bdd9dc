"""Tracking at a lower frame rate (masks filled between tracked frames) and at a smaller input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tracking_utils import centre, edgetam_micro_preset, make_clip, micro_preset

from ovhhir_core.commands.cli import main
from ovhhir_core.config import to_json
from ovhhir_core.tracking import TrackingError, TrackingSession, load_segmenters, rate
from ovhhir_core.tracking.edgetam import published_config
from ovhhir_core.tracking.sam2 import sized
from ovhhir_core.video import probe

W, H, N = 64, 48, 10


@pytest.fixture(scope="module")
def clip30(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "clip30.mp4", N, W, H, fps=30)


def test_processed_frames_keep_anchors_and_ends():
    assert rate.stride(30, 10) == 3 and rate.stride(30, None) == 1 and rate.stride(25, 30) == 1
    assert rate.processed_frames(0, 10, [4], 30, 10) == [0, 1, 4, 7, 9]
    assert rate.processed_frames(2, 9, [2, 3], 30, 15) == [2, 3, 4, 6, 8]
    assert rate.estimated_frames(300, 30, 10) == 101 and rate.estimated_frames(300, 30, None) == 300
    with pytest.raises(TrackingError, match="positive"):
        rate.stride(30, -1)


def test_skipped_frames_take_the_nearest_processed_frame():
    done = {0: np.full((2, 2), 1, np.uint8), 3: np.full((2, 2), 2, np.uint8)}
    held = {f: done[k] for f, k in rate.nearest(done, 0, 4).items()}
    assert sorted(held) == [1, 2]
    assert held[1][0, 0] == 1 and held[2][0, 0] == 2


def test_lower_rate_tracks_fewer_frames_and_fills_the_rest(clip30):
    torch.manual_seed(0)
    segs = load_segmenters(micro_preset(), "cpu")
    segs.tracker_config.between = "hold"
    calls = []
    hook = segs.tracker.vision_encoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        s = TrackingSession(segs, clip30)
        s.add_points(4, "person_1", [centre(4, 1, W, H)], [1])
        s.add_points(4, "person_2", [centre(4, 2, W, H)], [1])
        order = [f for f, _ in s.propagate(track_fps=10)]
    finally:
        hook.remove()
    processed = [0, 1, 4, 7, 9]
    assert sorted(order) == list(range(N)) and s.propagation_complete  # each frame once
    assert order.index(2) > order.index(4) and order.index(5) > order.index(4)  # after its source
    assert len(calls) == len(processed)  # the image encoder ran once per processed frame
    for f, src in {2: 1, 3: 4, 5: 4, 6: 7, 8: 7}.items():  # held from the nearest
        np.testing.assert_array_equal(s.labels[f], s.labels[src])


def test_smaller_input_size_sets_every_tied_field():
    cfg = sized(published_config(), 512)
    assert cfg.image_size == 512 and cfg.prompt_encoder_config.image_size == 512
    assert cfg.vision_config.backbone_feature_sizes == [[128, 128], [64, 64], [32, 32]]
    assert cfg.memory_attention_rope_feat_sizes == [32, 32]
    assert cfg.vision_config.backbone_config.architecture == "repvit_m1"  # as published
    with pytest.raises(TrackingError, match="multiple of 64"):
        sized(published_config(), 500)


def test_edgetam_tracks_at_another_input_size(clip30):
    preset = edgetam_micro_preset()
    preset.tracker.input_size = 192
    torch.manual_seed(0)
    segs = load_segmenters(preset, "cpu")
    assert segs.tracker.config.image_size == 192 and segs.processor.target_size == 192
    s = TrackingSession(segs, clip30, end=3)
    s.add_points(0, "person_1", [centre(0, 1, W, H)], [1])
    assert sorted(f for f, _ in s.propagate()) == [0, 1, 2]


def test_track_cli_rate_and_size_flags(clip30, tmp_path, capsys):
    preset = tmp_path / "micro.json"
    preset.write_text(to_json(micro_preset()))
    out = tmp_path / "out"
    p1, p2 = centre(0, 1, W, H), centre(0, 2, W, H)
    argv = ["track", str(clip30), "--p1", f"{p1[0]},{p1[1]}", "--p2", f"{p2[0]},{p2[1]}"]
    argv += ["--preset", str(preset), "--device", "cpu", "--out", str(out), "--no-progress"]
    assert main([*argv, "--track-fps", "10", "--tracker-size", "192"]) == 0
    err = capsys.readouterr().err
    assert "tracking: ~5 of 10 frames at ~10 fps, tracker input 192 px" in err
    assert probe(out / "person_1.mp4").num_frames == N  # streams keep every frame
    assert main([*argv, "--tracker-size", "100"]) == 1
    assert "multiple of 64" in capsys.readouterr().err
