"""Click masks with segment-anything: model loading and a per-session predictor with an embedding cache.

The SAM model is shared and read-only; each tracking session owns a :class:`ClickSegmenter`
(a ``SamPredictor`` plus the bounded LRU of image embeddings of
:class:`~ovhhir_core.tracking.clicks.CachedClickSegmenter`).
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import torch
from segment_anything import SamPredictor, sam_model_registry
from segment_anything.build_sam import _build_sam
from segment_anything.modeling import Sam

import ovhhir_core.tracking.sam_adapter as sam_adapter
from ovhhir_core.tracking.clicks import CachedClickSegmenter, ClickResult
from ovhhir_core.tracking.config import SamConfig
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.weights.hub import resolve_weights

log = logging.getLogger(__name__)

__all__ = ["ClickResult", "ClickSegmenter", "build_sam"]

#: Keys ``SamConfig.arch`` may set: those of ``segment_anything.build_sam._build_sam`` and
#: ``image_size`` (the encoder's input side, a multiple of 16; 1024 in every released model).
_ARCH_KEYS = (
    "encoder_embed_dim",
    "encoder_depth",
    "encoder_num_heads",
    "encoder_global_attn_indexes",
    "image_size",
)


def _random_sam(arch: dict) -> Sam:
    """A random-weight SAM of the given size (tests and offline plumbing)."""
    unknown = set(arch) - set(_ARCH_KEYS)
    if unknown:
        raise TrackingError(f"unknown SAM arch keys {sorted(unknown)}; use {_ARCH_KEYS}")
    arch = dict(arch)
    image_size = int(arch.pop("image_size", 1024))
    if image_size == 1024:
        return _build_sam(**arch, checkpoint=None)
    if image_size % 16:
        raise TrackingError(f"SAM arch image_size must be a multiple of 16, got {image_size}")
    from functools import partial

    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        TwoWayTransformer,
    )

    grid = image_size // 16  # image embedding side (patch size 16)
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=image_size,
            patch_size=16,
            embed_dim=arch["encoder_embed_dim"],
            depth=arch["encoder_depth"],
            num_heads=arch["encoder_num_heads"],
            mlp_ratio=4,
            out_chans=256,
            qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=min(14, grid),
            global_attn_indexes=arch["encoder_global_attn_indexes"],
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=256,
            image_embedding_size=(grid, grid),
            input_image_size=(image_size, image_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer_dim=256,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
            transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )


def build_sam(cfg: SamConfig, device: torch.device) -> Sam:
    """Build the SAM click model in eval mode on ``device``.

    ``cfg.weights=None`` (and no ``local_path``) builds random weights: the ``arch`` overrides of
    ``_build_sam`` if given, else the ``model_type`` architecture. Otherwise the original ``.pth``
    checkpoint is resolved through :func:`ovhhir_core.weights.hub.resolve_weights` and loaded strictly.
    """
    sam_adapter.check_version()
    if cfg.model_type not in sam_model_registry:
        raise TrackingError(
            f"unknown SAM model_type {cfg.model_type!r}; use one of "
            f"{', '.join(k for k in sam_model_registry if k != 'default')}"
        )
    if cfg.weights is None and cfg.local_path is None:
        if cfg.arch:
            model = _random_sam(cfg.arch)
        else:
            model = sam_model_registry[cfg.model_type](checkpoint=None)
        log.info("SAM: random weights (%s)", cfg.arch or cfg.model_type)
    else:
        path = resolve_weights("sam", cfg.weights, cfg.local_path)
        model = sam_model_registry[cfg.model_type](checkpoint=None)
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise TrackingError(
                f"SAM checkpoint {path} does not match model_type {cfg.model_type!r} "
                f"({str(exc).splitlines()[0]}); set sam.model_type to the checkpoint's size"
            ) from exc
        log.info("SAM: %s from %s", cfg.model_type, path)
    return model.to(device).eval()


class ClickSegmenter(CachedClickSegmenter):
    """Per-session segment-anything predictor with the embedding cache of the base class."""

    def __init__(self, model: Sam, cache_size: int, lock: threading.RLock | None = None) -> None:
        super().__init__(cache_size, lock)
        self.predictor = SamPredictor(model)
        self._current: int | None = None  # frame whose embedding the predictor holds

    def _encode(self, frame_idx: int, frame: np.ndarray) -> tuple:
        self.predictor.set_image(frame, image_format="RGB")
        self._current = frame_idx
        return sam_adapter.save_embedding(self.predictor)

    def _decode(self, frame_idx, embedding, points, labels, box, mask_input, multimask):
        if self._current != frame_idx:
            sam_adapter.restore_embedding(self.predictor, embedding)
            self._current = frame_idx
        return self.predictor.predict(
            point_coords=points,
            point_labels=labels,
            box=box,
            mask_input=mask_input,
            multimask_output=multimask,
            return_logits=True,
        )
