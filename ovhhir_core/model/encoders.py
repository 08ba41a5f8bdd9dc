"""Frozen vision encoders: ViTPose backbone on person crops, vanilla ViT on background frames.

Both take batches of frames from all streams at once (``EncoderConfig.batch_size`` frames per
pass). Person frames are cropped around the person box at ViTPose's H×W aspect (256×192 for the
real model), padded with the fill colour, resized and normalised with ImageNet statistics; frames
where the person is absent are not encoded at all (the branch gets an explicit "absent" token).
Background frames are resized to the ViT's square input and normalised with mean = std = 0.5.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from ovhhir_core.model.clip import Box, Clip, ClipError
from ovhhir_core.model.config import EncoderConfig
from ovhhir_core.streams import PERSONS
from ovhhir_core.weights import hub

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: ViTPose's top-down convention: the person box is enlarged by this factor before cropping.
BOX_PADDING = 1.25


def _as_hw(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def _build_vitpose(cfg: EncoderConfig, component: str) -> nn.Module:
    from transformers import VitPoseBackbone, VitPoseBackboneConfig

    if cfg.weights is None and not cfg.local_path:
        arch = dict(cfg.arch)
        layers = arch.get("num_hidden_layers", VitPoseBackboneConfig().num_hidden_layers)
        arch.setdefault("out_indices", [layers])
        return VitPoseBackbone(VitPoseBackboneConfig(**arch))
    from transformers import VitPoseForPoseEstimation

    path = hub.resolve_weights(component, cfg.weights, cfg.local_path)
    return VitPoseForPoseEstimation.from_pretrained(path).backbone


def _build_vit(cfg: EncoderConfig, component: str) -> nn.Module:
    from transformers import ViTConfig, ViTModel

    if cfg.weights is None and not cfg.local_path:
        return ViTModel(ViTConfig(**cfg.arch), add_pooling_layer=False)
    path = hub.resolve_weights(component, cfg.weights, cfg.local_path)
    return ViTModel.from_pretrained(path, add_pooling_layer=False)


def crop_person(frame: np.ndarray, box: Box, out_hw: tuple[int, int], fill: int = 0) -> np.ndarray:
    """Crop an (H, W, 3) uint8 frame around ``box`` at the aspect of ``out_hw`` (H, W).

    The box (x0, y0, x1, y1) is enlarged to the target aspect and by :data:`BOX_PADDING`, centred;
    parts outside the frame are filled with ``fill``. Returns the crop, not yet resized (h, w, 3).
    """
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bw, bh = max(x1 - x0, 1), max(y1 - y0, 1)
    aspect = out_hw[1] / out_hw[0]  # W / H
    if bw / bh > aspect:
        bh = bw / aspect
    else:
        bw = bh * aspect
    bw, bh = bw * BOX_PADDING, bh * BOX_PADDING
    cx0, cy0 = int(round(cx - bw / 2)), int(round(cy - bh / 2))
    cw, ch = max(int(round(bw)), 1), max(int(round(bh)), 1)
    canvas = np.full((ch, cw, 3), fill, dtype=np.uint8)
    h, w = frame.shape[:2]
    sx0, sy0 = max(cx0, 0), max(cy0, 0)
    sx1, sy1 = min(cx0 + cw, w), min(cy0 + ch, h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - cy0 : sy1 - cy0, sx0 - cx0 : sx1 - cx0] = frame[sy0:sy1, sx0:sx1]
    return canvas


def _resize(image: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) uint8 → (H, W, 3) uint8; area averaging when shrinking, bilinear when growing."""
    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if h * w > out_hw[0] * out_hw[1] else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(image), (out_hw[1], out_hw[0]), interpolation=interp)


def _to_tensor(images: list[np.ndarray], out_hw: tuple[int, int]) -> torch.Tensor:
    """K (H, W, 3) uint8 images → (K, 3, H, W) float32 in [0, 1]."""
    if not images:
        return torch.zeros(0, 3, *out_hw)
    batch = torch.from_numpy(np.stack(images))  # (K, H, W, 3) uint8
    return batch.permute(0, 3, 1, 2).float() / 255.0  # (K, 3, H, W)


class FrameEncoder(nn.Module):
    """A frozen image encoder over batches of frames: (K, 3, H, W) in [0, 1] → (K, N, C) tokens.

    ``kind`` ``vitpose``: N = patch grid (192 for 256×192 input), no CLS token.
    ``kind`` ``vit``: N = patches + CLS (197 for ViT-B/16 at 224).
    """

    def __init__(self, cfg: EncoderConfig, component: str):
        super().__init__()
        if cfg.kind == "vitpose":
            self.net = _build_vitpose(cfg, component)
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        elif cfg.kind == "vit":
            self.net = _build_vit(cfg, component)
            mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        else:
            raise ValueError(f"{component}: unknown encoder kind {cfg.kind!r} (vitpose or vit)")
        self.kind = cfg.kind
        self.batch_size = max(int(cfg.batch_size), 1)
        self.input_hw = _as_hw(self.net.config.image_size)
        self.width = int(self.net.config.hidden_size)
        self._num_tokens: int | None = None
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrameEncoder:
        """Frozen: always stays in eval mode."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(K, 3, H, W) float in [0, 1] → (K, N, C) tokens, in ``batch_size`` chunks."""
        dtype = self.mean.dtype
        if images.shape[0] == 0:  # e.g. nobody visible in any frame
            return torch.zeros(0, self.num_tokens, self.width, device=self.mean.device, dtype=dtype)
        outs = []
        for start in range(0, images.shape[0], self.batch_size):
            chunk = images[start : start + self.batch_size].to(self.mean.device, dtype)
            chunk = (chunk - self.mean) / self.std  # (k, 3, H, W)
            if self.kind == "vitpose":
                tokens = self.net(pixel_values=chunk).feature_maps[-1]  # (k, N, C)
            else:
                tokens = self.net(pixel_values=chunk).last_hidden_state  # (k, 1 + N, C)
            outs.append(tokens)
        return torch.cat(outs, dim=0)

    @property
    def num_tokens(self) -> int:
        """Tokens per frame N (measured once with a blank frame)."""
        if self._num_tokens is None:
            probe = torch.zeros(1, 3, *self.input_hw, device=self.mean.device)
            self._num_tokens = int(self(probe).shape[1])
        return self._num_tokens

    def prepare_person(
        self, frames: np.ndarray, boxes: Sequence[Box | None]
    ) -> tuple[torch.Tensor, np.ndarray]:
        """Crops of the present frames: (K, 3, H, W) in [0, 1], and the (T,) bool presence."""
        present = np.array([b is not None for b in boxes], dtype=bool)
        crops = [
            _resize(crop_person(f, b, self.input_hw), self.input_hw)
            for f, b in zip(frames, boxes, strict=True)
            if b is not None
        ]
        return _to_tensor(crops, self.input_hw), present

    def prepare_full(self, frames: np.ndarray) -> torch.Tensor:
        """Whole frames resized to the input size: (T, 3, H, W) in [0, 1]."""
        return _to_tensor([_resize(f, self.input_hw) for f in frames], self.input_hw)


@torch.no_grad()
def encode_clip(
    person: FrameEncoder, background: FrameEncoder | None, clip: Clip
) -> dict[str, torch.Tensor]:
    """Frozen-encoder tokens of a clip, all frames of a kind in one batched pass.

    Returns ``{"person_1": (T, N, C), "person_1.present": (T,) bool, "person_2": ...,
    "person_2.present": ..., "background": (T, N_bg, C_bg)}`` on the encoders' device and dtype;
    absent frames hold zeros (the branch ignores them). ``background`` only when a background
    encoder is given; the clip must then have a background stream.
    """
    crops, presents = [], {}
    for stream in PERSONS:
        images, present = person.prepare_person(clip.frames[stream], clip.boxes[stream])
        crops.append(images)
        presents[stream] = present
    tokens = person(torch.cat(crops, dim=0))  # (K1 + K2, N, C)
    feats: dict[str, torch.Tensor] = {}
    start = 0
    for stream in PERSONS:
        present = torch.from_numpy(presents[stream]).to(tokens.device)
        k = int(present.sum())
        full = tokens.new_zeros(len(present), tokens.shape[1], tokens.shape[2])  # (T, N, C)
        full[present] = tokens[start : start + k]
        start += k
        feats[stream] = full
        feats[f"{stream}.present"] = present
    if background is not None:
        if not clip.has_background:
            raise ClipError(
                "this model has a background branch but the clip has no background stream; "
                "provide one (--bg) or use a preset with use_background false"
            )
        feats["background"] = background(background.prepare_full(clip.frames["background"]))
    return feats
