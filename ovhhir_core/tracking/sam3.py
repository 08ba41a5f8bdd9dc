"""Optional person proposer: SAM 3 (transformers ``Sam3Model``) prompted with the text "person".

``facebook/sam3`` is gated (request access on the Hub, then log in / set ``HF_TOKEN``) and released
under Meta's SAM License, which is not an open-source licence. A preset opts in with
``"detector": {"kind": "sam3", "weights": "sam3"}``; no preset shipped here uses it by default.
Only its boxes and scores are used: the click segmenter turns each box into the proposal's mask, as
for RT-DETR, so a picked proposal refines with clicks the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from ovhhir_core.tracking.config import DetectorConfig
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.weights.hub import resolve_weights

log = logging.getLogger(__name__)

LICENCE_NOTE = (
    "SAM 3 (facebook/sam3) is gated and under Meta's SAM License, not an open-source licence"
)


def sam3_runner(
    cfg: DetectorConfig, device: torch.device
) -> tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], str]:
    """Load SAM 3 from ``cfg.weights`` (default table key ``sam3``) or ``cfg.local_path``;
    returns ``(run, source)`` where ``run(frame)`` gives ((N, 4) xyxy boxes, (N,) scores) of
    the instances of ``cfg.text`` on an (H, W, 3) uint8 RGB frame.

    There is no random build: without weights this raises
    :class:`ovhhir_core.weights.hub.MissingWeightsError` naming the ``detector`` component.
    """
    if cfg.weights is None and cfg.local_path is None:
        raise TrackingError(
            'detector.kind "sam3" needs weights: set "weights": "sam3" (gated; '
            f"{LICENCE_NOTE}) or pass --weights detector=PATH"
        )
    from transformers import Sam3Model, Sam3Processor

    path = resolve_weights("detector", cfg.weights, cfg.local_path)
    model = Sam3Model.from_pretrained(path).to(device).eval()
    processor = Sam3Processor.from_pretrained(path)

    def run(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs = processor(images=frame, text=cfg.text, return_tensors="pt").to(device)
        out = model(**inputs)
        (found,) = processor.post_process_object_detection(
            out, threshold=0.0, target_sizes=[frame.shape[:2]]
        )
        return found["boxes"].float().cpu().numpy(), found["scores"].float().cpu().numpy()

    source = f'SAM 3 {cfg.weights or path}, text "{cfg.text}" ({LICENCE_NOTE})'
    log.info("person detector: %s", source)
    return run, source
