"""Masks between tracked frames carried by optical flow, and the tracker's dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tracking_utils import centre, edgetam_micro_preset, make_clip

from ovhhir_core.data.synthetic import render_clip
from ovhhir_core.device import fast_dtype
from ovhhir_core.tracking import TrackingError, TrackingSession, load_segmenters
from ovhhir_core.tracking.flow import BetweenFrames, carry, check_mode, small_grey
from ovhhir_core.tracking.models import weights_dtype
from ovhhir_core.tracking.rate import processed_frames


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / max(1, np.logical_or(a, b).sum()))


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (h // 8, w // 8, 3), dtype=np.uint8)
    return np.kron(small, np.ones((8, 8, 1), np.uint8))


def test_carry_moves_a_label_map_with_the_motion():
    h, w = 120, 160
    frames, labels = [], []
    for dx in (0, 9):  # a textured square moves 9 px right over a still background
        frame, lab = _textured(h, w, 1).copy(), np.zeros((h, w), np.uint8)
        frame[40:80, 30 + dx : 70 + dx] = _textured(40, 40, 2)
        lab[40:80, 30 + dx : 70 + dx] = 1
        frames.append(frame)
        labels.append(lab)
    moved = carry(labels[0], small_grey(frames[0]), small_grey(frames[1]))
    assert moved.shape == (h, w) and moved.dtype == np.uint8
    assert _iou(moved == 1, labels[1] == 1) > 0.72  # held still: 0.63
    assert _iou(moved == 1, labels[1] == 1) > _iou(labels[0] == 1, labels[1] == 1) + 0.1


def _fill(clip, kept, mode):
    n = len(clip.labels)
    between, out, most = BetweenFrames(kept, 0, n, mode), {}, 0
    for f in range(n):
        between.see(f, clip.frames[f])
        most = max(most, between.pending())
        if f in kept:
            filled = [(f, clip.labels[f]), *between.tracked(f, clip.labels[f])]
            for g, m in filled:
                assert g not in out  # every frame once
                out[g] = m
    return out, most


def test_flow_beats_holding_on_the_synthetic_truth():
    clip = render_clip("Chasing", seed=1, size=(256, 144), num_frames=25, fps=30)
    kept = processed_frames(0, 25, [0], 30, 5)  # every 6th frame
    scores = {}
    for mode in ("hold", "flow"):
        out, most = _fill(clip, kept, mode)
        assert sorted(out) == list(range(25))
        assert most <= 8  # grey copies held: about one stride, not the whole clip
        skipped = [f for f in range(25) if f not in kept]
        scores[mode] = np.mean(
            [_iou(out[f] == v, clip.labels[f] == v) for f in skipped for v in (1, 2)]
        )
    assert scores["flow"] > scores["hold"] + 0.03, scores


def test_unknown_mode_is_refused():
    with pytest.raises(TrackingError, match="flow or hold"):
        check_mode("blend")


def test_session_fills_every_frame_with_flow(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", 8, 64, 48, fps=30)
    preset = edgetam_micro_preset()
    preset.tracker.track_fps, preset.tracker.between = 10, "flow"
    torch.manual_seed(0)
    session = TrackingSession(load_segmenters(preset, "cpu"), clip)
    session.add_points(0, "person_1", [centre(0, 1, 64, 48)], [1])
    order = [f for f, _ in session.propagate()]
    assert sorted(order) == list(range(8)) and session.propagation_complete


def test_auto_dtype_is_the_fast_dtype_and_names_are_checked():
    cpu = torch.device("cpu")
    assert weights_dtype("auto", cpu) == fast_dtype(cpu)
    assert weights_dtype(None, cpu) == torch.float32
    assert weights_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(TrackingError, match="auto or one of"):
        weights_dtype("int3", cpu)


def _clicked(clip, dtype: str, track: bool) -> tuple[np.ndarray, dict]:
    preset = edgetam_micro_preset()
    preset.sam.dtype = preset.tracker.dtype = dtype
    torch.manual_seed(0)
    segs = load_segmenters(preset, "cpu")
    assert segs.sam.dtype == segs.tracker.dtype == getattr(torch, dtype)
    session = TrackingSession(segs, clip)
    session.add_points(0, "person_1", [centre(0, 1, 64, 48)], [1])
    logits = np.asarray(session._prompts["person_1"][0].result.logits, np.float32)
    maps = dict(session.propagate(track_fps=0)) if track else {}
    return logits, maps


def _signs_agree(ref: np.ndarray, low: np.ndarray) -> float:
    """Share of the confident half of the pixels (largest fp32 |logit|; random tiny weights give
    small logits) where the signs agree."""
    confident = np.abs(ref) > np.quantile(np.abs(ref), 0.5)
    assert confident.any() and np.abs(ref).max() > 0
    return float((np.sign(ref[confident]) == np.sign(low[confident])).mean())


def test_bfloat16_click_masks_agree_with_float32(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", 2, 64, 48)
    ref, _ = _clicked(clip, "float32", False)
    low, _ = _clicked(clip, "bfloat16", False)
    assert _signs_agree(ref, low) > 0.99


@pytest.mark.slow
def test_bfloat16_tracking_agrees_with_float32(tmp_path):
    """bf16 tracking runs and its masks match fp32's (slow on CPUs without native bf16)."""
    clip = make_clip(tmp_path / "c.mp4", 3, 64, 48)
    _, ref = _clicked(clip, "float32", True)
    _, low = _clicked(clip, "bfloat16", True)
    assert sorted(low) == [0, 1, 2]
    for f in (1, 2):
        assert _iou(ref[f] == 1, low[f] == 1) > 0.9 or not (ref[f] == 1).any()


def test_precision_line_says_what_auto_resolved_to():
    from ovhhir_core.config import load_preset
    from ovhhir_core.device import cpu_native_bf16
    from ovhhir_core.tracking.models import precision_line

    line = precision_line(load_preset("cpu"), torch.device("cpu"))
    dtype = "bfloat16" if cpu_native_bf16() else "float32"
    assert line.startswith(f"click model and tracker: {dtype} (dtype auto)")
    assert ("computes bfloat16 natively" in line) == cpu_native_bf16()
    assert "(dtype float32)" in precision_line(load_preset("small"), "cpu")
