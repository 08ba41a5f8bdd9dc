"""Frames keep their shape on the way to a zero-shot model; the family table (tiny builds)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ovhhir_core.answering import TrackedClip
from ovhhir_core.config import load_preset
from ovhhir_core.config.zeroshot import FAMILIES
from ovhhir_core.errors import UserError
from ovhhir_core.zeroshot import load_zeroshot_answerer
from ovhhir_core.zeroshot.engine import VideoPrefix
from ovhhir_core.zeroshot.families import FAMILY_TABLE, family_of
from ovhhir_core.zeroshot.frames import letterbox
from tests.zeroshot_utils import make_track_dir

META = {"fps": 2.0, "total_num_frames": 2, "duration": 1.0, "frames_indices": [0, 1]}


def _answerer(family: str, frame_size=None, **text):
    preset = load_preset("tiny")
    preset.zeroshot.arch = {"family": family, "text": text}
    preset.zeroshot.frame_size = frame_size
    return load_zeroshot_answerer(preset)


def _circle_video(height=180, width=320, radius=60):
    video = np.full((2, height, width, 3), 40, np.uint8)
    for frame in video:
        cv2.circle(frame, (width // 2, height // 2), radius, (255, 255, 255), -1)
    return video


def _extent(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1


def test_every_family_has_a_table_entry_and_unknown_ones_are_refused():
    assert tuple(FAMILY_TABLE) == FAMILIES
    with pytest.raises(UserError, match="smolvlm .SmolVLM2., qwen3_vl .Qwen3-VL."):
        family_of("llava", "some/folder")


def test_letterbox_scales_by_one_factor_and_pads():
    boxed = letterbox(_circle_video(), 64, 64)
    assert boxed.shape == (2, 64, 64, 3)
    h, w = _extent(boxed[0, ..., 0] > 128)
    assert abs(h - w) <= 1 and h == pytest.approx(120 * 64 / 320, abs=1)
    assert (boxed[0, :14] == 0).all() and (boxed[0, -14:] == 0).all()  # padded, not stretched


def test_tiny_smolvlm_circle_stays_round_in_the_pixel_values():
    answerer = _answerer("smolvlm")
    prefix = VideoPrefix(answerer.loaded, "<|im_start|>User: <video>", [_circle_video()], [META])
    pixels = prefix.inputs["pixel_values"][0, 0, 0].numpy()  # (64, 64) red channel
    assert pixels.shape == (64, 64)
    h, w = _extent(pixels > 0.5)
    assert abs(h - w) <= 1  # squashed to a square it would be 16/9 wider than high


def test_tiny_qwen_keeps_the_frame_shape_on_its_grid():
    answerer = _answerer("qwen3_vl")
    video = _circle_video()
    prefix = VideoPrefix(answerer.loaded, "<|im_start|>user\n<|vision_start|><|video_pad|>"
                         "<|vision_end|>", [video], [META])  # fmt: skip
    g = prefix.geometry
    assert (g.height % 32, g.width % 32) == (0, 0) and g.width / g.height == pytest.approx(2.0)
    t, gh, gw = prefix.inputs["video_grid_thw"][0].tolist()
    assert (gh * 16, gw * 16) == (g.height, g.width)  # the processor resized nothing
    assert g.tokens_per_frame == gh * gw / 4 / 2


def test_frame_size_sets_the_square_and_the_tokens(tmp_path):
    answerer = _answerer("smolvlm", frame_size=32)  # tiny: 64 px input, 32 px per token side
    clip = TrackedClip.from_track_dir(make_track_dir(tmp_path / "clip"))
    conv = answerer.open(clip, frames=4)
    assert tuple(conv.prefix.inputs["pixel_values"].shape) == (1, 4, 3, 32, 32)
    image = answerer.loaded.model.config.image_token_id
    assert conv.prefix.ids[0].tolist().count(image) == 4 * 1
    assert conv.prefix.geometry.tokens_per_frame == 1 + 3
    with pytest.raises(UserError, match="multiple of 32"):
        _answerer("smolvlm", frame_size=48)


def test_frames_that_do_not_fit_the_context_are_refused(tmp_path):
    answerer = _answerer("smolvlm", max_position_embeddings=1100)
    clip = TrackedClip.from_track_dir(make_track_dir(tmp_path / "clip"))
    answerer.open(clip, frames=8)  # 8 x 7 tokens fit
    with pytest.raises(UserError, match="fewer frames"):
        answerer.open(clip, frames=12)  # 12 x 7 + 1024 reserved > 1100
