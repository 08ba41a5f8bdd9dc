"""The timeline as words: a short facts block for answerers' prompts, and a description built
only from those measurements (what the measured-facts answerer says for "Describe").

Pose events from random (untrained) pose weights are never stated as facts; when the masks
themselves came from a segmenter with random weights, every text built here says so first.
"""

from __future__ import annotations

import numpy as np

from ovhhir_core.streams import DISPLAY_NAMES, PERSONS
from ovhhir_core.timeline.core import Timeline

#: At most this many events are listed in the facts block (the rest are counted).
MAX_FACT_EVENTS = 12

P1, P2 = DISPLAY_NAMES["person_1"], DISPLAY_NAMES["person_2"]


def _name(person: str | None) -> str:
    return DISPLAY_NAMES.get(person or "", "someone")


def _other(person: str) -> str:
    return P2 if person == "person_1" else P1


def event_phrase(e: dict) -> str:
    """What happened in event ``e``, as a clause (no times)."""
    kind, by = e["kind"], e.get("by")
    dist = ""
    if e.get("from_distance") is not None and e.get("to_distance") is not None:
        dist = f" (distance {e['from_distance']:.2f} → {e['to_distance']:.2f} heights)"
    if kind == "approach":
        who = (
            "they move toward each other"
            if by == "both"
            else f"{_name(by)} moves toward {_other(by)}"
        )
        return who + dist
    if kind == "separation":
        who = "they move apart" if by == "both" else f"{_name(by)} moves away from {_other(by)}"
        return who + dist
    if kind == "contact":
        hidden = [f"{_name(p)} partly hidden behind {_other(p)}" for p in e.get("occluded") or []]
        return "they touch (the masks meet)" + (f"; {', '.join(hidden)}" if hidden else "")
    if kind == "walk_together":
        return f"they walk the same way together, about {e.get('distance', 0):.2f} heights apart"
    if kind == "follow":
        return f"{_name(e['follower'])} follows {_name(e['leader'])} (same direction, behind)"
    if kind == "pass_by":
        return "they pass each other without touching"
    if kind == "limb_touch":
        return f"{_name(e['person'])}'s {e['limb']} touches {_other(e['person'])}"
    if kind == "facing":
        return f"{_name(e['person'])} faces {e['direction']}"
    return kind.replace("_", " ")


def _when(e: dict) -> str:
    a, b = e["start_s"], e["end_s"]
    return f"{a:.1f} s" if abs(b - a) < 0.05 else f"{a:.1f}–{b:.1f} s"


def random_masks_note(timeline: Timeline) -> str | None:
    """A plain sentence when the masks came from a segmenter with random weights (then every
    measurement is noise), else None. ``metadata["segmenter"]`` says what made the masks."""
    seg = timeline.metadata.get("segmenter") or {}
    if seg.get("trained", True):
        return None
    return (
        f"The masks were made by a segmenter with RANDOM weights ({seg.get('model', 'unknown')}; "
        f"preset {seg.get('preset', '?')}), so these measurements are noise, not facts about "
        "the video."
    )


def random_pose_note(timeline: Timeline) -> str | None:
    """A plain sentence when the keypoints came from a pose model with random weights."""
    pose = timeline.metadata.get("pose")
    if not pose or pose.get("trained"):
        return None
    return f"Pose: {pose['model']} has RANDOM weights, so its keypoints and events are noise."


def event_source_note(timeline: Timeline, e: dict) -> str | None:
    """Why event ``e`` is not a finding (random mask or pose weights), or None."""
    if random_masks_note(timeline):
        return "masks from RANDOM segmenter weights: not a finding"
    if e.get("source") == "pose" and random_pose_note(timeline):
        return "pose from RANDOM weights: not a finding"
    return None


def reported_events(timeline: Timeline) -> list[dict]:
    """Events that may be stated as facts: pose events only from trained pose weights."""
    pose = timeline.metadata.get("pose") or {}
    trusted = bool(pose.get("trained"))
    return [e for e in timeline.events if e.get("source") != "pose" or trusted]


def _distances(timeline: Timeline) -> tuple[tuple[float, float] | None, ...]:
    pts = [(r["t"], r["pair"]["distance"]) for r in timeline.frames]
    pts = [(t, d) for t, d in pts if d is not None]
    if not pts:
        return None, None, None
    closest = min(pts, key=lambda p: p[1])
    return pts[0], closest, pts[-1]


def facts_text(timeline: Timeline) -> str:
    """A short block of the measured facts (times in seconds, lengths in body heights)."""
    meta = timeline.metadata
    n = meta["num_frames"]
    masks_note = random_masks_note(timeline)
    lines = [f"WARNING: {masks_note}"] if masks_note else []
    lines.append(f"Clip: {meta['duration_s']:.1f} s ({n} frames at {meta['fps']:g} fps).")
    seen = [sum(bool(r[p]["visible"]) for r in timeline.frames) for p in PERSONS]
    lines.append(f"Visible: {P1} in {seen[0]}/{n} frames, {P2} in {seen[1]}/{n} frames.")
    first, closest, last = _distances(timeline)
    if first is None:
        lines.append("Distance: never measured (the two people are never both visible).")
    else:
        lines.append(
            f"Distance between the two (in body heights): {first[1]:.2f} at {first[0]:.1f} s, "
            f"closest {closest[1]:.2f} at {closest[0]:.1f} s, {last[1]:.2f} at {last[0]:.1f} s."
        )
    events = reported_events(timeline)
    if not events:
        lines.append("Events: none measured (no approach, contact, separation or joint motion).")
    else:
        lines.append("Events:")
        lines += [
            f"- {_when(e)}: {e['kind']}: {event_phrase(e)}." for e in events[:MAX_FACT_EVENTS]
        ]
        if len(events) > MAX_FACT_EVENTS:
            lines.append(f"- ... and {len(events) - MAX_FACT_EVENTS} more events.")
    pose = meta.get("pose")
    if pose and not pose.get("trained"):
        lines.append(f"Pose: {pose['model']} has random weights; its events are not reported.")
    return "\n".join(lines)


def describe(timeline: Timeline) -> str:
    """A plain description built only from the measurements (no model looked at the video)."""
    meta = timeline.metadata
    first, closest, last = _distances(timeline)
    masks_note = random_masks_note(timeline)
    parts = [f"{masks_note} What they say:"] if masks_note else []
    parts.append(f"Measured from the tracked masks only (no model looked at the video), over "
                 f"{meta['duration_s']:.1f} s:")  # fmt: skip
    if first is None:
        parts.append(
            f"{P1} and {P2} are never both visible, so nothing about them can be measured."
        )
        return " ".join(parts)
    parts.append(f"{P1} and {P2} start {first[1]:.2f} body heights apart.")
    events = reported_events(timeline)
    for e in events[:MAX_FACT_EVENTS]:
        clause = event_phrase(e)
        parts.append(f"At {_when(e)}, {clause}.")
    if not events:
        parts.append("Neither approaches, touches nor leaves the other; they stay apart.")
    if np.isfinite(last[1]):
        parts.append(f"They end {last[1]:.2f} body heights apart.")
    return " ".join(parts)
