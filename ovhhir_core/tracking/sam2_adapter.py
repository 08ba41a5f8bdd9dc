"""Everything we do inside transformers' SAM 2 / EdgeTAM video inference session.

The tracker streams frames into one inference session per object and keeps memory flat. Both need
the session's internals (transformers ``models/sam2_video/modeling_sam2_video.py`` and
``models/edgetam_video/modeling_edgetam_video.py``, which share the session layout):

- ``session.cache`` is replaced by one vision-feature cache shared by every object's session, so
  the image encoder runs once per frame;
- ``session.processed_frames``, ``output_dict_per_obj[..]["non_cond_frame_outputs"]`` and
  ``frames_tracked_per_obj`` are pruned after each frame.

:func:`check_version` refuses transformers releases these were not tested with.
"""

from __future__ import annotations

from typing import Any

from ovhhir_core.tracking.compat import require_tested

DISTRIBUTION = "transformers"
TESTED_VERSIONS = ("5.24",)


def check_version(version: str | None = None) -> str:
    """Raise ``UntestedVersionError`` unless transformers is a tested release."""
    return require_tested(
        DISTRIBUTION, TESTED_VERSIONS, "the SAM 2 / EdgeTAM video-session adapter", version=version
    )


def share_vision_cache(session: Any, cache: Any) -> None:
    """Make ``session`` read and write vision features through ``cache`` (shared per frame)."""
    session.cache = cache


def prune(session: Any, frame_idx: int, reverse: bool, num_maskmem: int, max_ptrs: int) -> None:
    """Drop what the memory bank will not read again after ``frame_idx`` (keeps memory flat).

    Frames older than ``max_ptrs`` go entirely; those older than ``num_maskmem - 1`` keep only their
    object pointer; younger ones lose their full-size masks. Conditioning frames are kept.
    """
    session.processed_frames.pop(frame_idx, None)
    for per_obj in session.output_dict_per_obj.values():
        non_cond = per_obj["non_cond_frame_outputs"]
        for f in list(non_cond):
            age = (f - frame_idx) if reverse else (frame_idx - f)
            if age >= max_ptrs or age < 0:
                del non_cond[f]
            elif age >= num_maskmem - 1:
                non_cond[f] = {"object_pointer": non_cond[f]["object_pointer"]}
            else:
                non_cond[f].pop("high_res_masks", None)
    for tracked in session.frames_tracked_per_obj.values():
        tracked.clear()


def forget_tracked_memories(session: Any) -> None:
    """Drop every non-conditioning memory (before a pass in the other direction)."""
    for per_obj in session.output_dict_per_obj.values():
        per_obj["non_cond_frame_outputs"].clear()
