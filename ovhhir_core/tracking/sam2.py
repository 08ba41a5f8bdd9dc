"""Mask propagation with a SAM 2-style video model from transformers, in flat memory.

The model is SAM 2.1 (``Sam2VideoModel``) or EdgeTAM (``EdgeTamVideoModel``, same session API).

Frames are streamed in one by one (``Sam2VideoModel(inference_session=..., frame=...)``), never
the whole video. Each object gets its own inference session (objects are tracked independently,
as SAM 2 does); all sessions share one vision-feature cache so the image encoder runs once per
frame. After each frame, everything the memory bank will no longer read is dropped: the decoded
frame, the masks of past frames, and the memory features of frames older than ``num_maskmem``
(only the small object pointers of the last ``max_object_pointers_in_encoder`` frames are kept),
so memory stays constant however long the video is.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Sam2VideoConfig, Sam2VideoModel, Sam2VideoProcessor

import ovhhir_core.tracking.sam2_adapter as sam2_adapter
from ovhhir_core.tracking.config import TrackerConfig
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.weights.hub import resolve_weights

log = logging.getLogger(__name__)

FrameSource = Callable[[int, int, bool], Iterable[tuple[int, np.ndarray]]]
"""``source(start, end, reverse)`` yields ``(frame_idx, (h, w, 3) uint8 RGB)`` over [start, end),
in increasing order, or decreasing when ``reverse``."""


#: ``arch`` overrides of :func:`tracker_config` for SAM 2.1 hiera-large's image encoder (sam2's
#: ``configs/sam2.1/sam2.1_hiera_l.yaml``); the default config is hiera-tiny's.
HIERA_LARGE_ARCH = {
    "vision_config": {
        "backbone_config": {
            "hidden_size": 144,
            "num_attention_heads": 2,
            "blocks_per_stage": [2, 6, 36, 4],
            "embed_dim_per_stage": [144, 288, 576, 1152],
            "num_attention_heads_per_stage": [2, 4, 8, 16],
            "global_attention_blocks": [23, 33, 43],
            "window_size_per_stage": [8, 4, 16, 8],
            "window_positional_embedding_background_size": [7, 7],
        },
        "backbone_channel_list": [1152, 576, 288, 144],
    }
}

#: Frames decoded at once for the backward pass (read forward, then reversed).
_REVERSE_CHUNK = 16


def video_source(path, max_side: int) -> FrameSource:
    """A :data:`FrameSource` decoding ``path`` at most ``max_side`` large (backward: in chunks)."""
    from ovhhir_core.video import iter_frames

    def source(lo: int, hi: int, reverse: bool) -> Iterator[tuple[int, np.ndarray]]:
        if not reverse:
            yield from iter_frames(path, lo, hi, max_side=max_side)
            return
        for chunk_end in range(hi, lo, -_REVERSE_CHUNK):
            chunk_start = max(lo, chunk_end - _REVERSE_CHUNK)
            yield from reversed(list(iter_frames(path, chunk_start, chunk_end, max_side=max_side)))

    return source


def merge_overrides(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_overrides(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def sized(config: Any, input_size: int | None) -> Any:
    """``config`` (a SAM 2 or EdgeTAM video config) for ``input_size`` px input (None: as is).

    Sets every field tied to the input side: the image size, the prompt encoder's, the backbone
    feature-map sizes (strides 4, 8, 16) and the memory attention's RoPE grid (stride 16)."""
    if not input_size or input_size == config.image_size:
        return config
    if input_size % 64 or input_size < 128:
        raise TrackingError(f"tracker input size must be a multiple of 64, ≥ 128; got {input_size}")
    g = input_size // 16
    overrides: dict[str, Any] = {
        "image_size": input_size,
        "prompt_encoder_config": {"image_size": input_size},
        "vision_config": {"backbone_feature_sizes": [[4 * g, 4 * g], [2 * g, 2 * g], [g, g]]},
        "memory_attention_rope_feat_sizes": [g, g],
    }
    data = config.to_dict()
    if "image_size" in data["vision_config"].get("backbone_config", {}):  # Hiera
        overrides["vision_config"]["backbone_config"] = {"image_size": [input_size, input_size]}
    return type(config).from_dict(merge_overrides(data, overrides))


def load_video_model(model_class: Any, path: Any, input_size: int | None) -> tuple[Any, Any]:
    """``model_class.from_pretrained(path)`` at ``input_size`` px, with its processor."""
    if not input_size:
        model = model_class.from_pretrained(path)
        return model, load_processor(path, model.config)
    config = sized(model_class.config_class.from_pretrained(path), input_size)
    return model_class.from_pretrained(path, config=config), local_processor(config)


def tracker_config(arch: Mapping[str, Any]) -> Sam2VideoConfig:
    """``Sam2VideoConfig`` (hiera-tiny sized by default) with the nested ``arch`` overrides."""
    return Sam2VideoConfig.from_dict(merge_overrides(Sam2VideoConfig().to_dict(), arch))


def local_processor(config: Sam2VideoConfig) -> Sam2VideoProcessor:
    """A ``Sam2VideoProcessor`` for ``config`` built from its parts (no Hub access)."""
    from transformers.models.sam2.image_processing_sam2 import Sam2ImageProcessor
    from transformers.models.sam2_video.video_processing_sam2_video import (
        Sam2VideoVideoProcessor,
    )

    size = {"height": config.image_size, "width": config.image_size}
    mask_size = {"height": config.image_size // 4, "width": config.image_size // 4}
    return Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size=size, mask_size=mask_size),
        video_processor=Sam2VideoVideoProcessor(size=size),
        target_size=config.image_size,
    )


def load_processor(path, config) -> Sam2VideoProcessor:
    """The processor saved beside the weights, else one built for ``config``."""
    try:
        return Sam2VideoProcessor.from_pretrained(path)
    except (OSError, ValueError):
        return local_processor(config)


def build_tracker(
    cfg: TrackerConfig, device: torch.device
) -> tuple[Sam2VideoModel, Sam2VideoProcessor]:
    """The SAM 2.1 video model (eval, on ``device``) and its processor.

    ``cfg.weights=None`` (and no ``local_path``) builds random weights from ``cfg.arch``;
    otherwise the Hub snapshot from :func:`ovhhir_core.weights.hub.resolve_weights` is loaded.
    """
    sam2_adapter.check_version()
    if cfg.weights is None and cfg.local_path is None:
        config = sized(tracker_config(cfg.arch), cfg.input_size)
        model = Sam2VideoModel(config)
        processor = local_processor(config)
        log.info("SAM 2 tracker: random weights, %d px", config.image_size)
    else:
        path = resolve_weights("tracker", cfg.weights, cfg.local_path)
        model, processor = load_video_model(Sam2VideoModel, path, cfg.input_size)
        log.info("SAM 2 tracker: %s at %d px", path, model.config.image_size)
    return model.to(device).eval(), processor


class _SharedVisionCache:
    """One frame's vision features, shared by every object's inference session."""

    def __init__(self) -> None:
        self._frame: int | None = None
        self._features: dict | None = None

    def cache_vision_features(self, frame_idx: int, features: dict) -> None:
        self._frame, self._features = frame_idx, features

    def get_vision_features(self, frame_idx: int) -> dict | None:
        return self._features if frame_idx == self._frame else None

    def clear_all(self) -> None:
        self._frame, self._features = None, None


class Propagator:
    """One propagation run over [start, end) seeded with masks; see :meth:`run`.

    ``seeds``: ``{frame_idx: {label_value: (H, W) bool mask}}`` at the video's size.
    ``out_size``: (H, W) of the label maps it yields (the video's size).
    ``frames``: the video frames the source will yield when it skips some (a lower tracking rate);
    the model then sees them as consecutive, so its memory bank holds the last processed frames.
    """

    def __init__(
        self,
        model: Sam2VideoModel,
        processor: Sam2VideoProcessor,
        device: torch.device,
        lock: threading.RLock,
        seeds: Mapping[int, Mapping[int, np.ndarray]],
        out_size: tuple[int, int],
        frames: Sequence[int] | None = None,
    ) -> None:
        if not seeds or not any(seeds.values()):
            raise TrackingError("nothing to propagate: add clicks or a box for an object first")
        self.model, self.processor, self.device, self.lock = model, processor, device, lock
        self.seeds = {f: dict(objs) for f, objs in sorted(seeds.items()) if objs}
        self.out_size = out_size
        self.values = sorted({v for objs in self.seeds.values() for v in objs})
        #: first annotated frame of each object (label value)
        self.first = {v: min(f for f, objs in self.seeds.items() if v in objs) for v in self.values}
        self._cache = _SharedVisionCache()
        self._sessions: dict[int, Any] = {}
        #: video frame index -> the index the model sees
        self._index = {f: i for i, f in enumerate(sorted(frames))} if frames else None
        self.num_maskmem = model.config.num_maskmem
        self.max_ptrs = model.config.max_object_pointers_in_encoder

    # ------------------------------------------------------------------ sessions and frames
    def _new_sessions(self) -> None:
        self._cache.clear_all()
        self._sessions = {}
        for value in self.values:
            session = self.processor.init_video_session(
                inference_device=self.device, dtype=self.model.dtype
            )
            sam2_adapter.share_vision_cache(session, self._cache)
            self._sessions[value] = session

    def _model_index(self, frame_idx: int) -> int:
        return frame_idx if self._index is None else self._index[frame_idx]

    def _pixels(self, frame: np.ndarray) -> torch.Tensor:
        inputs = self.processor(images=frame, return_tensors="pt")
        return inputs.pixel_values[0].to(self.device, self.model.dtype)  # (3, S, S)

    def _step(
        self, value: int, frame_idx: int, pixels: torch.Tensor, reverse: bool
    ) -> torch.Tensor:
        """Run one object on one frame; returns its low-res logits (1, 1, s, s) on the CPU."""
        session = self._sessions[value]
        idx = self._model_index(frame_idx)
        out = self.model(inference_session=session, frame=pixels, frame_idx=idx, reverse=reverse)
        sam2_adapter.prune(session, idx, reverse, self.num_maskmem, self.max_ptrs)
        return out.pred_masks.float().cpu()

    def _label_map(self, logits: dict[int, torch.Tensor]) -> np.ndarray:
        """(H, W) uint8 label map: highest positive logit wins, 0 where none is positive."""
        h, w = self.out_size
        if not logits:
            return np.zeros((h, w), np.uint8)
        values = list(logits)
        low = torch.cat([logits[v] for v in values], dim=0)  # (K, 1, s, s)
        up = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)[
            :, 0
        ]  # (K, H, W)
        best, idx = up.max(dim=0)  # (H, W)
        lut = torch.tensor(values, dtype=torch.uint8)
        return torch.where(best > 0, lut[idx], torch.zeros((), dtype=torch.uint8)).numpy()

    # ------------------------------------------------------------------ the run
    def _seed(self, source: FrameSource) -> None:
        """Run every annotated frame with its mask prompts (conditioning frames)."""
        for frame_idx, objs in self.seeds.items():
            ((_, frame),) = list(source(frame_idx, frame_idx + 1, False))
            pixels = self._pixels(frame)
            for value, mask in objs.items():
                self.processor.add_inputs_to_inference_session(
                    inference_session=self._sessions[value],
                    frame_idx=self._model_index(frame_idx),
                    obj_ids=1,
                    input_masks=np.asarray(mask, dtype=bool),
                    original_size=frame.shape[:2],
                )
                with self.lock, torch.inference_mode():
                    self._step(value, frame_idx, pixels, reverse=False)

    def _pass(
        self,
        source: FrameSource,
        lo: int,
        hi: int,
        reverse: bool,
        active: Callable[[int, int], bool],
        cancel: Callable[[], bool] | None,
    ) -> Iterator[tuple[int, dict[int, torch.Tensor]]]:
        for frame_idx, frame in source(lo, hi, reverse):
            if cancel is not None and cancel():
                return
            pixels = self._pixels(frame)
            logits = {}
            with self.lock, torch.inference_mode():
                for value in self.values:
                    if active(value, frame_idx):
                        logits[value] = self._step(value, frame_idx, pixels, reverse)
            yield frame_idx, logits

    def run(
        self,
        source: FrameSource,
        start: int,
        end: int,
        cancel: Callable[[], bool] | None = None,
    ) -> Iterator[tuple[int, np.ndarray, list[int]]]:
        """Track each object forward from its first annotated frame to ``end`` and backward from
        there to ``start``; yields ``(frame_idx, (H, W) uint8 label map, values tracked on it)``
        once per frame, with every object (where objects overlap, the highest logit wins).

        One forward pass over [first annotation, end), then one backward pass over [start, last
        first annotation). Frames between two objects' first annotations get some objects from
        each pass: their forward logits (low-res, float16, on the CPU) wait for the backward pass,
        and the frame is yielded then. ``cancel()`` is polled before each frame; when it returns
        True the run stops (frames still waiting are not yielded).
        """
        self._new_sessions()
        self._seed(source)
        lo, hi = min(self.first.values()), max(self.first.values())
        waiting: dict[int, dict[int, torch.Tensor]] = {}
        forward = self._pass(source, lo, end, False, lambda v, f: f >= self.first[v], cancel)
        for frame_idx, logits in forward:
            if frame_idx < hi:  # objects first marked later are added by the backward pass
                waiting[frame_idx] = {v: t.half() for v, t in logits.items()}
                continue
            yield frame_idx, self._label_map(logits), list(logits)
        if cancel is not None and cancel():
            return
        if hi > start:
            for session in self._sessions.values():  # the forward pass's memories are not reused
                sam2_adapter.forget_tracked_memories(session)
            backward = self._pass(source, start, hi, True, lambda v, f: f < self.first[v], cancel)
            for frame_idx, logits in backward:
                earlier = {v: t.float() for v, t in waiting.pop(frame_idx, {}).items()}
                logits = {**earlier, **logits}
                yield frame_idx, self._label_map(dict(sorted(logits.items()))), sorted(logits)
        self._sessions = {}
        self._cache.clear_all()
