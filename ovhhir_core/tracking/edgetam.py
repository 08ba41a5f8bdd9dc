"""EdgeTAM: the CPU-speed tracker (``EdgeTamVideoModel``) and click segmenter (``EdgeTamModel``).

EdgeTAM is SAM 2 with a RepViT-M1 image encoder (through timm) and a perceiver that shrinks the
memory, so it tracks with the SAM 2 video session and processor (:mod:`ovhhir_core.tracking.sam2`)
at a fraction of the cost. Its image model shares the video model's encoder, prompt encoder and
mask decoder weights, so one EdgeTAM folder serves both the ``sam`` and the ``tracker`` component:
:func:`build_edgetam_image` loads the image model from an image or a video checkpoint.

Random builds start from the *published* architecture (:func:`published_config`: the config of
``yonigozlan/EdgeTAM-hf``, tensor for tensor; note that ``EdgeTamVideoConfig()`` with no arguments
builds a Hiera backbone and extra memory parts instead) with ``arch`` overrides; timm backbones are
always built with ``pretrained=False`` (no download).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import EdgeTamConfig, EdgeTamModel, EdgeTamVideoConfig, EdgeTamVideoModel

import ovhhir_core.tracking.sam2_adapter as sam2_adapter
from ovhhir_core.tracking.clicks import CachedClickSegmenter
from ovhhir_core.tracking.config import SamConfig, TrackerConfig
from ovhhir_core.tracking.sam2 import load_video_model, local_processor, merge_overrides, sized
from ovhhir_core.weights.hub import load_checked_config, resolve_weights

log = logging.getLogger(__name__)

#: RepViT-M1 through timm, as published (WEIGHTS.md): channels [384, 192, 96, 48] coarse to fine.
#: The timm model name and tag; the published backbone config names the model without the tag.
PUBLISHED_BACKBONE = "repvit_m1.dist_in1k"

#: Parts that ``EdgeTamVideoConfig`` switches on by default but the published checkpoint lacks
#: (``occlusion_spatial_embedding_parameter``, ``temporal_positional_encoding_projection_layer``).
PUBLISHED_SWITCHES = {
    "enable_occlusion_spatial_embedding": False,
    "enable_temporal_pos_encoding_for_object_pointers": False,
}


def published_backbone_config() -> Any:
    """The RepViT-M1 ``TimmWrapperConfig`` as the published config holds it: timm's own settings
    for ``repvit_m1.dist_in1k`` (no classifier is built: the features only)."""
    import timm
    from transformers import TimmWrapperConfig

    pretrained = timm.models.get_pretrained_cfg(PUBLISHED_BACKBONE).to_dict()
    pretrained = json.loads(json.dumps(pretrained))  # tuples as lists, as in the JSON file
    return TimmWrapperConfig(
        architecture=pretrained["architecture"],
        num_classes=pretrained["num_classes"],
        num_features=384,
        global_pool="avg",
        pretrained_cfg=pretrained,
        model_args={"in_chans": 3, "features_only": True, "out_indices": [0, 1, 2, 3]},
    )


def published_config(arch: Mapping[str, Any] | None = None) -> EdgeTamVideoConfig:
    """The published EdgeTAM video config (RepViT-M1, 1024 px; equal to ``yonigozlan/EdgeTAM-hf``'s
    ``config.json``) with nested ``arch`` overrides."""
    from transformers.models.edgetam.configuration_edgetam import EdgeTamVisionConfig

    vision = EdgeTamVisionConfig(backbone_config=published_backbone_config())
    base = EdgeTamVideoConfig(vision_config=vision, **PUBLISHED_SWITCHES).to_dict()
    return EdgeTamVideoConfig.from_dict(merge_overrides(base, arch or {}))


def image_config(video: EdgeTamVideoConfig) -> EdgeTamConfig:
    """The image-model config whose weights are a subset of the video model's."""
    return EdgeTamConfig(
        vision_config=video.vision_config,
        prompt_encoder_config=video.prompt_encoder_config,
        mask_decoder_config=video.mask_decoder_config,
    )


def build_edgetam_tracker(cfg: TrackerConfig, device: torch.device):
    """``(EdgeTamVideoModel, Sam2VideoProcessor)``: random from ``arch`` or from the weights."""
    sam2_adapter.check_version()
    if cfg.weights is None and cfg.local_path is None:
        config = sized(published_config(cfg.arch), cfg.input_size)
        model = EdgeTamVideoModel(config)
        log.info("EdgeTAM tracker: random weights, %d px", config.image_size)
        return fused(model.to(device).eval()), local_processor(config)
    path = resolve_weights("tracker", cfg.weights, cfg.local_path)
    load_checked_config(path, "tracker", ("edgetam_video",))
    model, processor = load_video_model(EdgeTamVideoModel, path, cfg.input_size)
    log.info("EdgeTAM tracker: %s at %d px", path, model.config.image_size)
    return fused(model.to(device).eval()), processor


def build_edgetam_image(cfg: SamConfig, device: torch.device) -> EdgeTamModel:
    """EdgeTAM's image model (click masks), random or from an image or video checkpoint."""
    if cfg.weights is None and cfg.local_path is None:
        model = EdgeTamModel(image_config(published_config(cfg.arch)))
        log.info("EdgeTAM click segmenter: random weights")
        return fused(model.to(device).eval())
    path = resolve_weights("sam", cfg.weights, cfg.local_path)
    kind = load_checked_config(path, "sam", ("edgetam", "edgetam_video"))
    if kind == "edgetam":
        model = EdgeTamModel.from_pretrained(path)
    else:  # the video checkpoint holds the image model's weights under the same names
        video = EdgeTamVideoConfig.from_dict(json.loads((Path(path) / "config.json").read_text()))
        model = EdgeTamModel.from_pretrained(path, config=image_config(video))
    log.info("EdgeTAM click segmenter: %s", path)
    return fused(model.to(device).eval())


def fused(model: Any) -> Any:
    """``model`` (eval) with its RepViT backbone re-parameterised for inference, in place: batch
    norms folded into the convolutions and the RepVGG branches merged into one (timm's
    ``fuse``). The same outputs to float rounding, ~1.2x faster image encoding; the tracker is
    never trained, so nothing needs the unfused form."""
    from timm.utils.model import reparameterize_model

    backbone = model.vision_encoder.backbone
    backbone.timm_model = reparameterize_model(backbone.timm_model, inplace=True)
    return model


class EdgeTamClickSegmenter(CachedClickSegmenter):
    """Per-session click masks with EdgeTAM's image model; embeddings cached per frame."""

    def __init__(
        self, model: EdgeTamModel, cache_size: int, lock: threading.RLock | None = None
    ) -> None:
        from transformers import Sam2Processor
        from transformers.models.sam2.image_processing_sam2 import Sam2ImageProcessor

        super().__init__(cache_size, lock)
        self.model = model
        side = model.config.vision_config.backbone_feature_sizes[0][0] * 4  # input side
        self.side = side
        self.processor = Sam2Processor(
            image_processor=Sam2ImageProcessor(
                size={"height": side, "width": side},
                mask_size={"height": side // 4, "width": side // 4},
            ),
            target_size=side,
        )

    def _encode(self, frame_idx: int, frame: np.ndarray) -> tuple[list[torch.Tensor], list[int]]:
        pixels = self.processor(images=frame, return_tensors="pt").pixel_values
        param = next(self.model.parameters())
        embeddings = self.model.get_image_embeddings(pixels.to(param.device, param.dtype))
        return embeddings, list(frame.shape[:2])

    def _decode(self, frame_idx, embedding, points, labels, box, mask_input, multimask):
        embeddings, size = embedding
        kwargs: dict[str, Any] = {"original_sizes": [size], "return_tensors": "pt"}
        if points is not None:
            kwargs["input_points"] = [[points.tolist()]]
            kwargs["input_labels"] = [[labels.tolist()]]
        if box is not None:
            kwargs["input_boxes"] = [[box.tolist()]]
        prompts = self.processor(**kwargs)
        device = embeddings[0].device
        out = self.model(
            image_embeddings=embeddings,
            input_points=_to(prompts.get("input_points"), device),
            input_labels=_to(prompts.get("input_labels"), device),
            input_boxes=_to(prompts.get("input_boxes"), device),
            input_masks=None
            if mask_input is None
            else torch.from_numpy(mask_input)[None].to(device),
            multimask_output=multimask,
        )
        low = out.pred_masks[0, 0].float()  # (K, s, s)
        full = self.processor.post_process_masks(
            [low[None]], original_sizes=[size], binarize=False
        )[0][0]  # (K, H, W)
        scores = out.iou_scores[0, 0].float()
        return full.cpu().numpy(), scores.cpu().numpy(), low.cpu().numpy()


def _to(value: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return None if value is None else value.to(device)
