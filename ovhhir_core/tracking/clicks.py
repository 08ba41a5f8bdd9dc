"""What every click segmenter shares: the result type and a per-session embedding cache.

A click segmenter turns clicks (and boxes) on one frame into a mask. The model is shared and
read-only; each tracking session owns one :class:`CachedClickSegmenter` subclass instance holding a
bounded LRU of image embeddings keyed by frame index, so later clicks on a frame cost only the
prompt encoder and mask decoder, never a second image encode. Subclasses: segment-anything
(:mod:`ovhhir_core.tracking.sam`) and EdgeTAM's image model (:mod:`ovhhir_core.tracking.edgetam`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ovhhir_core.tracking.errors import TrackingError

log = logging.getLogger(__name__)


@dataclass
class ClickResult:
    """One click-mask prediction at the frame's full size.

    ``logits``: (H, W) float16 mask logits (> 0 = object); ``low_res``: (1, s, s) float32 logits
    (s = 256 for the released models) to feed back as the next click's ``mask_input``; ``score``:
    predicted IoU in [0, 1].
    """

    logits: np.ndarray
    low_res: np.ndarray
    score: float

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool mask."""
        return self.logits > 0


class CachedClickSegmenter:
    """Per-session click segmenter with a bounded LRU cache of image embeddings (by frame index).

    Subclasses implement :meth:`_encode` (one image-encoder pass) and :meth:`_decode` (prompts to
    candidate masks). ``lock`` serialises use of the shared model across sessions.
    ``encode_count`` counts image-encoder runs (one per distinct frame while it stays cached).
    """

    def __init__(self, cache_size: int, lock: threading.RLock | None = None) -> None:
        if cache_size < 1:
            raise TrackingError(f"sam.embedding_cache_size must be ≥ 1, got {cache_size}")
        self.cache_size = cache_size
        self.lock = lock or threading.RLock()
        self.encode_count = 0
        self._cache: OrderedDict[int, Any] = OrderedDict()

    def cached_frames(self) -> list[int]:
        """Frame indices whose embeddings are cached, least recently used first."""
        return list(self._cache)

    def _embedding(self, frame_idx: int, get_frame: Callable[[], np.ndarray]) -> Any:
        if frame_idx in self._cache:
            self._cache.move_to_end(frame_idx)
            return self._cache[frame_idx]
        embedding = self._encode(frame_idx, get_frame())  # frame: (H, W, 3) uint8 RGB
        self.encode_count += 1
        self._cache[frame_idx] = embedding
        while len(self._cache) > self.cache_size:
            evicted, _ = self._cache.popitem(last=False)
            log.debug("click embedding cache: evicted frame %d", evicted)
        return embedding

    def _encode(self, frame_idx: int, frame: np.ndarray) -> Any:
        raise NotImplementedError

    def _decode(
        self,
        frame_idx: int,
        embedding: Any,
        points: np.ndarray | None,
        labels: np.ndarray | None,
        box: np.ndarray | None,
        mask_input: np.ndarray | None,
        multimask: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(K, H, W) logits, (K,) scores, (K, s, s) low-res logits for K candidate masks."""
        raise NotImplementedError

    def predict(
        self,
        frame_idx: int,
        get_frame: Callable[[], np.ndarray],
        points: np.ndarray | None,
        labels: np.ndarray | None,
        box: np.ndarray | None = None,
        mask_input: np.ndarray | None = None,
    ) -> ClickResult:
        """Mask for one object on one frame.

        ``points``: (N, 2) float (x, y) in frame pixels; ``labels``: (N,) int, 1 = positive,
        0 = negative; ``box``: (4,) x0, y0, x1, y1; ``mask_input``: (1, s, s) previous low-res
        logits (refines the last mask; then a single mask is predicted). Without ``mask_input``
        and with one point and no box, three candidate masks are scored and the best kept.
        ``get_frame`` is called only when the frame's embedding is not cached.
        """
        multimask = mask_input is None and box is None and (points is None or len(points) == 1)
        with self.lock, torch.inference_mode():
            embedding = self._embedding(frame_idx, get_frame)
            logits, scores, low_res = self._decode(
                frame_idx, embedding, points, labels, box, mask_input, multimask
            )
        best = int(np.argmax(scores))
        return ClickResult(
            logits=logits[best].astype(np.float16),
            low_res=low_res[best : best + 1].astype(np.float32),
            score=float(scores[best]),
        )
