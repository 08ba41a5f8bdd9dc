"""The shared, read-only models of click-to-track: the click segmenter and the video tracker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import Sam2VideoProcessor

from ovhhir_core.tracking.clicks import CachedClickSegmenter
from ovhhir_core.tracking.config import SamConfig, TrackerConfig
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.tracking.sam import ClickSegmenter, build_sam
from ovhhir_core.tracking.sam2 import build_tracker


@dataclass
class Segmenters:
    """Models shared by every tracking session; per-user state never lives here.

    ``lock`` serialises model work (one accelerator, many users): sessions hold it per click and
    per propagated frame, so concurrent users interleave instead of waiting for a whole video.
    """

    sam: Any  # segment_anything Sam, or transformers EdgeTamModel
    tracker: Any  # transformers Sam2VideoModel or EdgeTamVideoModel
    processor: Sam2VideoProcessor
    sam_config: SamConfig
    tracker_config: TrackerConfig
    device: torch.device
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_click_segmenter(self) -> CachedClickSegmenter:
        """A per-session click segmenter with its own embedding cache (bounded LRU)."""
        size = self.sam_config.embedding_cache_size
        if self.sam_config.kind == "edgetam":
            from ovhhir_core.tracking.edgetam import EdgeTamClickSegmenter

            return EdgeTamClickSegmenter(self.sam, size, self.lock)
        return ClickSegmenter(self.sam, size, self.lock)


def load_segmenters(preset, device: torch.device) -> Segmenters:
    """Build (or load) the click segmenter and tracker as the preset's ``sam`` and ``tracker``
    sections say (SAM / SAM 2.1, or EdgeTAM for both).

    ``preset`` is a :class:`ovhhir_core.config.PresetConfig`. Real weights resolve through
    :func:`ovhhir_core.hub.resolve_weights` (local paths, cache, lazy download); a missing
    checkpoint raises :class:`ovhhir_core.hub.MissingWeightsError`.
    """
    device = torch.device(device)
    if preset.sam.kind == "edgetam":
        from ovhhir_core.tracking.edgetam import build_edgetam_image

        sam = build_edgetam_image(preset.sam, device)
    elif preset.sam.kind == "sam":
        sam = build_sam(preset.sam, device)
    else:
        raise TrackingError(f"unknown sam kind {preset.sam.kind!r}; use sam or edgetam")
    if preset.tracker.kind == "edgetam":
        from ovhhir_core.tracking.edgetam import build_edgetam_tracker

        tracker, processor = build_edgetam_tracker(preset.tracker, device)
    elif preset.tracker.kind == "sam2":
        tracker, processor = build_tracker(preset.tracker, device)
    else:
        raise TrackingError(f"unknown tracker kind {preset.tracker.kind!r}; use sam2 or edgetam")
    if preset.sam.kind == "edgetam":
        sam = _cast(sam, preset.sam, device)
    tracker = _cast(tracker, preset.tracker, device)
    return Segmenters(sam, tracker, processor, preset.sam, preset.tracker, device)


def weights_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """The dtype a ``sam`` or ``tracker`` section's ``dtype`` names on ``device``: ``auto`` is
    :func:`ovhhir_core.device.fast_dtype` (bfloat16 only where the hardware computes it natively),
    anything else one of :data:`ovhhir_core.device.DTYPES` (default float32)."""
    from ovhhir_core.device import DTYPES, fast_dtype

    if name == "auto":
        return fast_dtype(torch.device(device))
    if name in (None, ""):
        return torch.float32
    if name not in DTYPES:
        raise TrackingError(
            f"unknown tracker dtype {name!r}; use auto or one of {', '.join(DTYPES)}"
        )
    return DTYPES[name]


def _cast(model: Any, cfg: Any, device: torch.device) -> Any:
    dtype = weights_dtype(getattr(cfg, "dtype", None), device)
    return model if model.dtype == dtype else model.to(dtype)


def precision_line(preset, device: torch.device) -> str:
    """One line saying the dtype the click model and the tracker run in on ``device`` and why,
    e.g. ``click model and tracker: float32 (dtype auto; this CPU has no native bfloat16)``."""
    from ovhhir_core.device import cpu_native_bf16

    device = torch.device(device)
    parts = {}
    for what, cfg in (("click model", preset.sam), ("tracker", preset.tracker)):
        asked = "float32" if what == "click model" and cfg.kind == "sam" else cfg.dtype
        dtype = str(weights_dtype(asked, device)).removeprefix("torch.")
        parts.setdefault((dtype, asked), []).append(what)
    text = "; ".join(
        f"{' and '.join(names)}: {dtype} (dtype {asked})" for (dtype, asked), names in parts.items()
    )
    if any(asked == "auto" for _, asked in parts) and device.type == "cpu":
        native = cpu_native_bf16()
        text += "; this CPU " + (
            "computes bfloat16 natively" if native else "has no native bfloat16"
        )
    return text
