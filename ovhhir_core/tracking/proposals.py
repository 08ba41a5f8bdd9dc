"""Person proposals: detected people offered as ready-made masks, picked with one click.

A person detector (:mod:`ovhhir_core.tracking.detector`) finds the people on a frame; each person
box becomes a box prompt for the session's click segmenter, giving one mask per person. The
proposals of a frame are computed once and cached per session (:class:`SessionProposals`); ids
number them best score first (1, 2, ...) and stay the same whatever threshold is shown. One click
inside a proposal assigns it to a person as a box prompt, so clicks refine it and undo removes it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.tracking.session import TrackingSession
from ovhhir_core.video import read_frame

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


class Detector(Protocol):
    """What proposals need from a detector (:class:`~ovhhir_core.tracking.detector.PersonDetector`
    or, in tests, one that reports known boxes)."""

    source: str
    trained: bool

    def detect(self, frame: np.ndarray) -> Sequence:
        """(H, W, 3) uint8 RGB → detections with ``box`` (x0, y0, x1, y1) and ``score``, best
        first."""


@dataclass(frozen=True)
class Proposal:
    """One proposed person on one frame: ``id`` (1 = best score), ``box`` (x0, y0, x1, y1 in
    video pixels), ``score`` (detector confidence), ``mask`` ((H, W) bool from the box prompt)."""

    id: int
    box: Box
    score: float
    mask: np.ndarray

    @property
    def area(self) -> int:
        """Pixels in the mask."""
        return int(self.mask.sum())

    @property
    def box_area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= x <= x1 and y0 <= y <= y1

    def as_json(self) -> dict:
        """``{"id", "box": [x0, y0, x1, y1], "score", "area"}`` (box rounded to 0.1 px)."""
        box = [round(v, 1) for v in self.box]
        return {"id": self.id, "box": box, "score": self.score, "area": self.area}


def pick(proposals: Sequence[Proposal], x: float, y: float) -> Proposal | None:
    """The proposal whose box holds (x, y); where several do, the smallest box (a person inside a
    group's box, or a child in front of an adult), ties to the higher score. None if none does."""
    hits = [p for p in proposals if p.contains(x, y)]
    if not hits:
        return None
    return min(hits, key=lambda p: (p.box_area, -p.score))


def shown(proposals: Sequence[Proposal], min_score: float) -> list[Proposal]:
    """The proposals at or above ``min_score`` (their ids unchanged)."""
    return [p for p in proposals if p.score >= min_score]


class SessionProposals:
    """One user's person proposals on one :class:`TrackingSession`, cached per frame.

    ``detector`` is shared and read-only; the masks come from the session's click segmenter (its
    embedding cache included), so picking a proposal afterwards costs no image encode.
    ``detect_count`` counts detector runs (one per frame while cached).
    """

    def __init__(self, detector: Detector, session: TrackingSession) -> None:
        self.detector = detector
        self.session = session
        self.detect_count = 0
        self._frames: dict[int, list[Proposal]] = {}

    @property
    def source(self) -> str:
        """What produced the proposals (model, trained or not), to show beside them."""
        return self.detector.source

    def cached_frames(self) -> list[int]:
        return sorted(self._frames)

    def get(self, frame_idx: int, min_score: float = 0.0) -> list[Proposal]:
        """The proposals on ``frame_idx`` scoring at least ``min_score``, best first (computed on
        the first call for the frame, then from the cache)."""
        if frame_idx not in self._frames:
            lo, hi = self.session.start, self.session.end
            if not (isinstance(frame_idx, (int, np.integer)) and lo <= frame_idx < hi):
                raise TrackingError(
                    f"frame {frame_idx} is outside the tracked range {lo}..{hi - 1}"
                )
            frame = read_frame(self.session.video_path, frame_idx)
            found = self.detector.detect(frame)
            self.detect_count += 1
            self._frames[frame_idx] = [
                Proposal(
                    i, tuple(d.box), float(d.score), self.session.segment_box(frame_idx, d.box)
                )
                for i, d in enumerate(found, start=1)
            ]
            log.debug("frame %d: %d person proposals", frame_idx, len(found))
        return shown(self._frames[frame_idx], min_score)

    def by_id(self, frame_idx: int, proposal_id: int) -> Proposal:
        """Proposal ``proposal_id`` on ``frame_idx`` (any score)."""
        for p in self.get(frame_idx):
            if p.id == proposal_id:
                return p
        n = len(self._frames[frame_idx])
        raise TrackingError(
            f"no person proposal {proposal_id} on frame {frame_idx} ({n} found: ids 1..{n})"
            if n
            else f"no person was found on frame {frame_idx}"
        )

    def assign(self, frame_idx: int, obj_id: str, proposal: Proposal) -> np.ndarray:
        """Make ``proposal`` ``obj_id``'s box prompt on ``frame_idx``; returns its (H, W) mask."""
        return self.session.add_box(frame_idx, obj_id, proposal.box)

    def click(
        self, frame_idx: int, obj_id: str, x: float, y: float, min_score: float = 0.0
    ) -> Proposal | None:
        """Assign the shown proposal under (x, y) to ``obj_id`` (see :func:`pick`); returns it, or
        None (nothing assigned) when no shown proposal holds the click."""
        chosen = pick(self.get(frame_idx, min_score), x, y)
        if chosen is not None:
            self.assign(frame_idx, obj_id, chosen)
        return chosen


#: Outline colours of drawn proposals, by id (cycled).
COLOURS = ((255, 200, 0), (0, 220, 255), (255, 80, 200), (120, 255, 80), (255, 140, 40))


def draw_proposals(frame: np.ndarray, proposals: Sequence[Proposal]) -> np.ndarray:
    """(H, W, 3) uint8 copy of ``frame`` with each proposal's mask tinted, its box outlined and
    its id written in the box's top-left corner (the numbers a user clicks or names)."""
    from PIL import Image, ImageDraw

    out = frame.astype(np.float32)
    for p in proposals:
        colour = np.asarray(COLOURS[(p.id - 1) % len(COLOURS)], np.float32)
        out[p.mask] = 0.6 * out[p.mask] + 0.4 * colour
    image = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    side = max(10, min(frame.shape[:2]) // 20)
    for p in proposals:
        colour = COLOURS[(p.id - 1) % len(COLOURS)]
        x0, y0, x1, y1 = p.box
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=max(1, side // 6))
        draw.rectangle((x0, y0, x0 + side, y0 + side), fill=colour)
        draw.text((x0 + side * 0.25, y0), str(p.id), fill=(0, 0, 0), font_size=side)
    return np.asarray(image)
