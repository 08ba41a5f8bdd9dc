"""One user's click-to-track session on one video: prompts per object and frame, masks, propagation.

A session holds only per-user state (prompts, click masks, a SAM predictor with its embedding
cache, the propagated label maps); the models come from a shared, read-only :class:`Segmenters`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import ovhhir_core.tracking.rate as rate
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.tracking.flow import BetweenFrames, observed
from ovhhir_core.tracking.labels import LabelStore
from ovhhir_core.tracking.models import Segmenters
from ovhhir_core.tracking.sam import ClickResult
from ovhhir_core.tracking.sam2 import Propagator, video_source
from ovhhir_core.video import VideoInfo, probe, read_frame

log = logging.getLogger(__name__)

_PERSON = re.compile(r"^person_(\d+)$")


@dataclass
class _FramePrompts:
    """One object's prompts on one frame and the mask they give."""

    points: list[tuple[float, float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    box: tuple[float, float, float, float] | None = None
    result: ClickResult | None = None
    #: undo stack, one entry per call: ("points", number added, previous result) or
    #: ("box", previous box, previous result)
    history: list[tuple[str, object, ClickResult | None]] = field(default_factory=list)


class TrackingSession:
    """Click-to-track on ``video_path`` over frames [start, end) (``end=None``: to the last frame).

    Object ids are strings ("person_1", "person_2", any others); ``label_value`` gives each its
    value in label maps (person_k -> k; other ids get the next free values). Masks returned are
    (H, W) bool at the video's size; label maps are (H, W) uint8, 0 = background.
    """

    def __init__(
        self, segs: Segmenters, video_path: str | Path, start: int = 0, end: int | None = None
    ) -> None:
        self.segs = segs
        self.video_path = Path(video_path)
        self.info: VideoInfo = probe(self.video_path)
        n = self.info.num_frames
        end = n if end is None else end
        if not (0 <= start < n):
            raise TrackingError(f"start frame {start} is outside the video (frames 0..{n - 1})")
        if not (start < end <= n):
            raise TrackingError(f"end frame {end} must be in {start + 1}..{n} (start is {start})")
        self.start, self.end = start, end
        self.labels = LabelStore()
        #: False after a cancelled propagation (``labels`` then holds the frames done so far)
        self.propagation_complete = False
        self._clicker = segs.new_click_segmenter()
        self._prompts: dict[str, dict[int, _FramePrompts]] = {}
        self._order: dict[str, list[int]] = {}  # frames prompted, in order, per object (undo)
        self._values: dict[str, int] = {}

    # ------------------------------------------------------------------ objects
    @property
    def objects(self) -> list[str]:
        """Object ids in the order they were first prompted."""
        return list(self._values)

    @property
    def encode_count(self) -> int:
        """How many times this session ran SAM's image encoder."""
        return self._clicker.encode_count

    def label_value(self, obj_id: str) -> int:
        """The object's value in label maps (person_1 -> 1, person_2 -> 2, ...)."""
        if obj_id in self._values:
            return self._values[obj_id]
        taken = set(self._values.values())
        match = _PERSON.match(obj_id)
        if match and 1 <= int(match.group(1)) <= 255 and int(match.group(1)) not in taken:
            return int(match.group(1))
        value = 3  # 1 and 2 stay free for person_1 and person_2
        while value in taken:
            value += 1
        if value > 255:
            raise TrackingError("at most 255 objects fit in a uint8 label map")
        return value

    def _register(self, obj_id: str) -> None:
        if not isinstance(obj_id, str) or not obj_id:
            raise TrackingError(
                f"object ids are non-empty strings such as 'person_1', got {obj_id!r}"
            )
        if obj_id not in self._values:
            self._values[obj_id] = self.label_value(obj_id)
            self._prompts[obj_id] = {}
            self._order[obj_id] = []

    def _check_object(self, obj_id: str) -> None:
        if obj_id not in self._values:
            known = ", ".join(self._values) or "none yet"
            raise TrackingError(f"unknown object {obj_id!r} (objects: {known})")

    # ------------------------------------------------------------------ prompts
    def _check_frame(self, frame_idx: int) -> None:
        if not isinstance(frame_idx, (int, np.integer)) or not (self.start <= frame_idx < self.end):
            raise TrackingError(
                f"frame {frame_idx} is outside the tracked range {self.start}..{self.end - 1}"
            )

    def _check_xy(self, x: float, y: float, what: str) -> None:
        w, h = self.info.width, self.info.height
        if not (0 <= x < w and 0 <= y < h):
            raise TrackingError(
                f"{what} ({x:g}, {y:g}) is outside the frame ({w}x{h}); click inside the image"
            )

    def _frame_getter(self, frame_idx: int) -> Callable[[], np.ndarray]:
        return lambda: read_frame(self.video_path, frame_idx)

    def _predict(self, frame_idx: int, fp: _FramePrompts, refine: bool) -> ClickResult:
        pts = np.asarray(fp.points, dtype=np.float32).reshape(-1, 2) if fp.points else None
        lbl = np.asarray(fp.labels, dtype=np.int64) if fp.points else None
        box = np.asarray(fp.box, dtype=np.float32) if fp.box is not None else None
        mask_input = fp.result.low_res if (refine and fp.result is not None) else None
        return self._clicker.predict(
            frame_idx, self._frame_getter(frame_idx), pts, lbl, box, mask_input
        )

    def add_points(
        self, frame_idx: int, obj_id: str, points: Sequence[Sequence[float]], labels: Sequence[int]
    ) -> np.ndarray:
        """Append clicks (x, y in video pixels; label 1 positive, 0 negative) to ``obj_id`` on
        ``frame_idx``; returns the object's (H, W) bool mask there. Later clicks refine the
        previous mask (its low-res logits are SAM's ``mask_input``)."""
        self._check_frame(frame_idx)
        points = [tuple(map(float, p)) for p in points]
        labels = [int(v) for v in labels]
        if not points or len(points) != len(labels):
            raise TrackingError(
                f"give one label per point ({len(points)} points, "
                f"{len(labels)} labels) and at least one point"
            )
        if any(len(p) != 2 for p in points) or any(v not in (0, 1) for v in labels):
            raise TrackingError(
                "points are (x, y) pairs and labels are 1 (positive) or 0 (negative)"
            )
        for x, y in points:
            self._check_xy(x, y, "click")
        fp = self._prompts.get(obj_id, {}).get(frame_idx, _FramePrompts())
        if 1 not in fp.labels + labels and fp.box is None:
            raise TrackingError(
                f"{obj_id} has only negative clicks on frame {frame_idx}; add a positive click "
                "(or a box) on the person first"
            )
        trial = _FramePrompts(fp.points + points, fp.labels + labels, fp.box, fp.result)
        result = self._predict(frame_idx, trial, refine=True)  # may fail: fp is untouched
        self._register(obj_id)
        fp.points, fp.labels = trial.points, trial.labels
        fp.history.append(("points", len(points), fp.result))
        fp.result = result
        self._prompts[obj_id][frame_idx] = fp
        self._order[obj_id].append(frame_idx)
        return result.mask

    def add_box(
        self, frame_idx: int, obj_id: str, box: tuple[float, float, float, float]
    ) -> np.ndarray:
        """Set ``obj_id``'s box (x0, y0, x1, y1, video pixels) on ``frame_idx`` (replacing an
        earlier box there; points are kept); returns the (H, W) bool mask."""
        self._check_frame(frame_idx)
        fp = self._prompts.get(obj_id, {}).get(frame_idx, _FramePrompts())
        trial = _FramePrompts(fp.points, fp.labels, self._check_box(box), fp.result)
        result = self._predict(frame_idx, trial, refine=False)  # may fail: fp is untouched
        self._register(obj_id)
        fp.history.append(("box", fp.box, fp.result))
        fp.box = trial.box
        fp.result = result
        self._prompts[obj_id][frame_idx] = fp
        self._order[obj_id].append(frame_idx)
        return result.mask

    def _check_box(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        if len(box) != 4:
            raise TrackingError(f"a box is (x0, y0, x1, y1), got {box!r}")
        x0, y0, x1, y1 = map(float, box)
        w, h = self.info.width, self.info.height
        if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
            raise TrackingError(
                f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) must have x0 < x1, y0 < y1 and lie inside "
                f"the frame ({w}x{h})"
            )
        return x0, y0, x1, y1

    def segment_box(self, frame_idx: int, box: Sequence[float]) -> np.ndarray:
        """(H, W) bool mask for ``box`` alone on ``frame_idx`` without adding a prompt (person
        proposals); uses the session's embedding cache, so a later click there costs no encode."""
        self._check_frame(frame_idx)
        return self._predict(frame_idx, _FramePrompts(box=self._check_box(box)), False).mask

    def undo(self, obj_id: str) -> np.ndarray | None:
        """Undo ``obj_id``'s last prompt (a click batch or a box); returns the mask on that frame
        afterwards, or None when the frame has no prompts left (or there was nothing to undo)."""
        self._check_object(obj_id)
        if not self._order[obj_id]:
            return None
        frame_idx = self._order[obj_id].pop()
        fp = self._prompts[obj_id][frame_idx]
        kind, payload, previous_result = fp.history.pop()
        if kind == "points":  # payload: how many points that call added
            fp.points, fp.labels = fp.points[:-payload], fp.labels[:-payload]
        else:  # payload: the box before that call
            fp.box = payload
        fp.result = previous_result
        if fp.result is None:
            del self._prompts[obj_id][frame_idx]
            return None
        return fp.result.mask

    def clear_object(self, obj_id: str) -> None:
        """Drop every prompt and mask of ``obj_id`` (it stays in :attr:`objects`)."""
        self._check_object(obj_id)
        self._prompts[obj_id] = {}
        self._order[obj_id] = []
        self.labels.remove_value(self._values[obj_id])

    def remove_object(self, obj_id: str) -> None:
        """Drop ``obj_id`` entirely (prompts, masks, its pixels in propagated label maps)."""
        self._check_object(obj_id)
        self.labels.remove_value(self._values[obj_id])
        self._forget(obj_id)

    def _forget(self, obj_id: str) -> None:
        self._values.pop(obj_id, None)
        self._prompts.pop(obj_id, None)
        self._order.pop(obj_id, None)

    # ------------------------------------------------------------------ masks
    def prompt_count(self, obj_id: str) -> int:
        """How many prompts (click batches and boxes, undone ones not counted) ``obj_id`` has
        now; 0 for an object never prompted."""
        return len(self._order.get(obj_id, ()))

    def prompted_frames(self, obj_id: str) -> list[int]:
        """Frames where ``obj_id`` has prompts now, in order ([] for an object never prompted)."""
        return sorted(self._prompts.get(obj_id, {}))

    def annotated_frames(self) -> list[int]:
        """Frames holding at least one prompt, in order."""
        return sorted({f for per_obj in self._prompts.values() for f in per_obj})

    def mask(self, frame_idx: int, obj_id: str) -> np.ndarray:
        """(H, W) bool mask of ``obj_id`` on ``frame_idx`` from the current label map."""
        self._check_object(obj_id)
        return self.label_map(frame_idx) == self._values[obj_id]

    def label_map(self, frame_idx: int) -> np.ndarray:
        """(H, W) uint8 label map of ``frame_idx``: click masks where the frame has prompts (where
        they overlap, the highest logit wins), propagated masks for the other objects."""
        self._check_frame(frame_idx)
        h, w = self.info.height, self.info.width
        base = self.labels[frame_idx] if frame_idx in self.labels else np.zeros((h, w), np.uint8)
        clicked = {
            self._values[o]: per_obj[frame_idx].result
            for o, per_obj in self._prompts.items()
            if frame_idx in per_obj and per_obj[frame_idx].result is not None
        }
        if not clicked:
            return base
        for value in clicked:
            base[base == value] = 0
        values = list(clicked)
        logits = np.stack([clicked[v].logits for v in values])  # (K, H, W) float16
        best = logits.argmax(axis=0)  # (H, W)
        positive = np.take_along_axis(logits, best[None], axis=0)[0] > 0
        lut = np.asarray(values, dtype=np.uint8)
        return np.where(positive, lut[best], base).astype(np.uint8)

    # ------------------------------------------------------------------ propagation
    def _source(self, lo: int, hi: int, reverse: bool) -> Iterator[tuple[int, np.ndarray]]:
        return video_source(self.video_path, self.segs.tracker_config.max_side)(lo, hi, reverse)

    def propagate(
        self, cancel: Callable[[], bool] | None = None, track_fps: float | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Track every prompted object over [start, end), forward and backward from the frame
        where it was first prompted (so a person who enters later is tracked over the whole
        range), seeded with the click masks of every annotated frame.

        ``track_fps`` (default: the tracker config's ``track_fps``; None = every frame) runs the
        tracker on fewer frames; each frame between takes the nearest processed frame's map,
        carried by optical flow or held still as the tracker config's ``between`` says
        (:mod:`ovhhir_core.tracking.flow`), and is yielded as soon as that frame is done.

        Yields ``(frame_idx, (H, W) uint8 label map)`` once per frame, as each frame is done
        (where objects overlap, the highest logit wins). Results go to
        :attr:`labels` (replacing earlier ones) when the run ends; a cancelled run keeps the frames
        done so far and sets :attr:`propagation_complete` to False; a failed run leaves
        :attr:`labels` as it was.
        """
        seeds: dict[int, dict[int, np.ndarray]] = {}
        seed_maps: dict[int, np.ndarray] = {}  # annotated frames: the click masks only
        for frame_idx in self.annotated_frames():
            label_map = self.label_map(frame_idx)
            seeds[frame_idx] = {
                self._values[o]: label_map == self._values[o]
                for o, per_obj in self._prompts.items()
                if frame_idx in per_obj and per_obj[frame_idx].result is not None
            }
            seeded = np.isin(label_map, list(seeds[frame_idx]))
            seed_maps[frame_idx] = np.where(seeded, label_map, 0).astype(np.uint8)
        if not any(seeds.values()):
            raise TrackingError(
                "nothing to propagate: click on person_1 and person_2 (or draw boxes) first"
            )
        segs, size = self.segs, (self.info.height, self.info.width)
        fps = segs.tracker_config.track_fps if track_fps is None else track_fps
        frames = rate.processed_frames(self.start, self.end, seeds, self.info.fps, fps)
        kept = range(self.start, self.end) if frames is None else frames
        between = BetweenFrames(kept, self.start, self.end, segs.tracker_config.between)
        source = self._source if frames is None else observed(self._source, between, frames)
        runner = Propagator(
            segs.tracker, segs.processor, segs.device, segs.lock, seeds, size, frames=frames
        )
        new = LabelStore()
        done: set[int] = set()
        for frame_idx, label_map, _values in runner.run(source, self.start, self.end, cancel):
            if frame_idx in seed_maps:  # the click masks stand; tracked objects fill the rest
                seed = seed_maps[frame_idx]
                tracked = np.where(np.isin(label_map, list(seeds[frame_idx])), 0, label_map)
                label_map = np.where(seed > 0, seed, tracked).astype(np.uint8)
            # with it, the skipped frames whose nearest tracked frame this is (as they come)
            for f, m in [(frame_idx, label_map), *between.tracked(frame_idx, label_map)]:
                new[f] = m
                done.add(f)
                yield f, m
        self.propagation_complete = len(done) == self.end - self.start
        if not self.propagation_complete:
            log.info("propagation stopped after %d of %d frames", len(done), self.end - self.start)
        self.labels = new
