"""Configs of the click segmenter (SAM) and the video tracker (SAM 2.1): the preset's ``sam`` and
``tracker`` sections (re-exported by ``ovhhir_core.tracking.config``)."""

from __future__ import annotations

from dataclasses import dataclass

from ovhhir_core.config.weights import WeightsConfig


@dataclass
class SamConfig(WeightsConfig):
    """segment-anything click segmenter. ``weights=None`` builds random weights sized by ``arch``."""

    weights: str | None = "sam_vit_b"
    model_type: str = "vit_b"  # vit_b | vit_l | vit_h (ignored for random builds)
    embedding_cache_size: int = 8


@dataclass
class TrackerConfig(WeightsConfig):
    """SAM 2.1 video model from transformers. ``weights=None`` builds random weights from ``arch``."""

    weights: str | None = "sam2.1-hiera-tiny"
    max_side: int = 1024  # frames are decoded at most this large before tracking
