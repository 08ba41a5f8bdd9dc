"""Synthetic clips with known masks for the tracking and masking tests.

Two coloured shapes move on a textured grey background: person_1 (a red rectangle) walks right,
person_2 (a blue rectangle) walks left, so the true label map of every frame is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ovhhir_core.config import load_preset
from ovhhir_core.video import write_video

P1_COLOUR = (220, 40, 40)
P2_COLOUR = (40, 60, 220)


def boxes(i: int, width: int, height: int) -> dict[int, tuple[int, int, int, int]]:
    """True boxes (x0, y0, x1, y1, exclusive ends) of label 1 and 2 on frame ``i``."""
    bw, bh = max(4, width // 5), max(6, height // 2)
    y0 = height // 4
    x1 = min(width - bw, 2 + 2 * i)
    x2 = max(0, width - bw - 2 - 2 * i)
    return {1: (x1, y0, x1 + bw, y0 + bh), 2: (x2, y0 + 2, x2 + bw, y0 + 2 + bh)}


def true_labels(i: int, width: int, height: int) -> np.ndarray:
    """(H, W) uint8 true label map of frame ``i`` (person_2 drawn over person_1)."""
    out = np.zeros((height, width), np.uint8)
    for value, (x0, y0, x1, y1) in boxes(i, width, height).items():
        out[y0:y1, x0:x1] = value
    return out


def make_frame(i: int, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB frame ``i``."""
    yy, xx = np.mgrid[0:height, 0:width]
    grey = (110 + 20 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.uint8)
    frame = np.repeat(grey[..., None], 3, axis=2)
    labels = true_labels(i, width, height)
    frame[labels == 1] = P1_COLOUR
    frame[labels == 2] = P2_COLOUR
    return frame


def make_clip(
    path: str | Path, num_frames: int = 8, width: int = 64, height: int = 48, fps: float = 10
) -> Path:
    """Write the synthetic clip as H.264 MP4; returns its path."""
    return write_video(path, (make_frame(i, width, height) for i in range(num_frames)), fps)


def centre(i: int, value: int, width: int, height: int) -> tuple[float, float]:
    """A point inside object ``value`` on frame ``i``."""
    x0, y0, x1, y1 = boxes(i, width, height)[value]
    return (x0 + x1) / 2, (y0 + y1) / 2


def tiny_segmenters():
    """The tiny preset's random SAM and SAM 2 on the CPU (seeded)."""
    from ovhhir_core.tracking import load_segmenters

    torch.manual_seed(0)
    return load_segmenters(load_preset("tiny"), torch.device("cpu"))


def micro_preset():
    """The tiny preset shrunk further for fast tracking tests: SAM at 128 px, SAM 2 at 128 px with
    one memory-attention layer, a 3-frame memory bank and 4 object pointers."""
    preset = load_preset("tiny")
    preset.sam.arch["image_size"] = 128
    arch = preset.tracker.arch
    arch.update(
        {
            "image_size": 128,
            "memory_attention_rope_feat_sizes": [8, 8],
            "memory_attention_num_layers": 1,
            "num_maskmem": 3,
            "max_object_pointers_in_encoder": 4,
        }
    )
    arch["vision_config"]["backbone_config"]["image_size"] = [128, 128]
    arch["vision_config"]["backbone_feature_sizes"] = [[32, 32], [16, 16], [8, 8]]
    arch["prompt_encoder_config"]["image_size"] = 128
    preset.tracker.max_side = 128
    return preset


def micro_segmenters():
    """:func:`micro_preset`'s random SAM and SAM 2 on the CPU (seeded)."""
    from ovhhir_core.tracking import load_segmenters

    torch.manual_seed(0)
    return load_segmenters(micro_preset(), torch.device("cpu"))


#: EdgeTAM at 128 px with timm's tiny ``test_convnext`` backbone (built with pretrained=False:
#: no download), one memory-attention and one perceiver layer.
EDGETAM_MICRO_ARCH = {
    "image_size": 128,
    "vision_config": {
        "backbone_config": {"architecture": "test_convnext"},
        "backbone_channel_list": [64, 48, 32, 24],
        "fpn_hidden_size": 128,
        "backbone_feature_sizes": [[32, 32], [16, 16], [8, 8]],
    },
    "prompt_encoder_config": {"image_size": 128, "hidden_size": 128},
    "mask_decoder_config": {"hidden_size": 128, "iou_head_hidden_dim": 64, "mlp_dim": 128},
    "memory_attention_rope_feat_sizes": [8, 8],
    "memory_attention_num_layers": 1,
    "memory_attention_hidden_size": 128,
    "memory_attention_mlp_hidden_size": 128,
    "memory_encoder_hidden_size": 128,
    "mask_downsampler_embed_dim": 128,
    "memory_fuser_embed_dim": 128,
    "memory_fuser_intermediate_dim": 128,
    "perceiver_resampler_hidden_size": 64,
    "perceiver_resampler_mlp_intermediate_size": 128,
    "perceiver_resampler_num_layers": 1,
    "perceiver_resampler_num_latents": 64,
    "perceiver_resampler_num_latents_2d": 16,  # = the product of memory_attention_rope_k_sizes
    "memory_attention_rope_k_sizes": [4, 4],
    "num_maskmem": 3,
    "max_object_pointers_in_encoder": 4,
}


def edgetam_micro_preset():
    """The ``cpu`` preset's EdgeTAM click segmenter and tracker as tiny random builds."""
    import copy

    preset = load_preset("cpu")
    for section in (preset.sam, preset.tracker):
        section.weights, section.arch = None, copy.deepcopy(EDGETAM_MICRO_ARCH)
    preset.tracker.max_side = 128
    return preset


#: The published small files of EdgeTAM (config and processors, no weights).
PUBLISHED_EDGETAM = Path(__file__).parent / "published" / "yonigozlan__EdgeTAM-hf"


def save_published_edgetam(folder: Path) -> Path:
    """EdgeTAM built from its published ``config.json`` with random weights, saved in the
    published layout (``model.safetensors`` beside the published config and processor files)."""
    import shutil

    from transformers import EdgeTamVideoConfig, EdgeTamVideoModel

    torch.manual_seed(0)
    model = EdgeTamVideoModel(EdgeTamVideoConfig.from_pretrained(PUBLISHED_EDGETAM))
    model.save_pretrained(folder)
    for name in PUBLISHED_EDGETAM.glob("*.json"):
        if name.name != "config.json":
            shutil.copy(name, folder / name.name)
    return Path(folder)
