"""The shared, read-only models of click-to-track: SAM (clicks) and SAM 2.1 (propagation)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import torch
from segment_anything.modeling import Sam
from transformers import Sam2VideoModel, Sam2VideoProcessor

from ovhhir_core.tracking.config import SamConfig, TrackerConfig
from ovhhir_core.tracking.sam import ClickSegmenter, build_sam
from ovhhir_core.tracking.sam2 import build_tracker


@dataclass
class Segmenters:
    """Models shared by every tracking session; per-user state never lives here.

    ``lock`` serialises model work (one accelerator, many users): sessions hold it per click and
    per propagated frame, so concurrent users interleave instead of waiting for a whole video.
    """

    sam: Sam
    tracker: Sam2VideoModel
    processor: Sam2VideoProcessor
    sam_config: SamConfig
    tracker_config: TrackerConfig
    device: torch.device
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_click_segmenter(self) -> ClickSegmenter:
        """A per-session SAM predictor with its own embedding cache (bounded LRU)."""
        return ClickSegmenter(self.sam, self.sam_config.embedding_cache_size, self.lock)


def load_segmenters(preset, device: torch.device) -> Segmenters:
    """Build (or load) SAM and SAM 2.1 as the preset's ``sam`` and ``tracker`` sections say.

    ``preset`` is a :class:`ovhhir_core.config.PresetConfig`. Real weights resolve through
    :func:`ovhhir_core.hub.resolve_weights` (local paths, cache, lazy download); a missing
    checkpoint raises :class:`ovhhir_core.hub.MissingWeightsError`.
    """
    device = torch.device(device)
    sam = build_sam(preset.sam, device)
    tracker, processor = build_tracker(preset.tracker, device)
    return Segmenters(sam, tracker, processor, preset.sam, preset.tracker, device)
