"""Interaction events from the measured series: approach, contact, separation, walk_together,
pass_by and follow, each with start/end frame and time.

Every event is a dict ``{"kind", "start_frame", "end_frame", "start_s", "end_s", ...}`` (end
inclusive) with kind-specific fields (who closes the distance, who leads, ...). Thresholds come
from :class:`~ovhhir_core.timeline.config.TimelineConfig`.
"""

from __future__ import annotations

import math

import numpy as np

from ovhhir_core.streams import PERSONS
from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.measure import Series

#: Event kinds from the masks, in the order the plot lists them.
MASK_EVENTS = ("approach", "contact", "separation", "walk_together", "pass_by", "follow")


def runs(flags: np.ndarray, merge: int = 0, min_len: int = 1) -> list[tuple[int, int]]:
    """Inclusive ``(start, end)`` index ranges where ``flags`` is True; runs separated by at most
    ``merge`` False entries are joined; runs shorter than ``min_len`` are dropped."""
    idx = np.flatnonzero(np.asarray(flags, bool))
    out: list[list[int]] = []
    for i in idx:
        if out and i - out[-1][1] - 1 <= merge:
            out[-1][1] = int(i)
        else:
            out.append([int(i), int(i)])
    return [(a, b) for a, b in out if b - a + 1 >= min_len]


def seconds_to_frames(seconds: float, fps: float) -> int:
    return max(1, int(math.ceil(seconds * fps - 1e-9)))


def make_event(kind: str, s: Series, a: int, b: int, **extra) -> dict:
    return {
        "kind": kind,
        "start_frame": int(s.frame_idx[a]),
        "end_frame": int(s.frame_idx[b]),
        "start_s": round(float(s.t[a]), 3),
        "end_s": round(float(s.t[b]), 3),
        **extra,
    }


def _r(x: float) -> float | None:
    return round(float(x), 3) if np.isfinite(x) else None


def _movers(closing: np.ndarray, sign: float, cfg: TimelineConfig) -> str:
    """Who changes the distance over a run: "person_1", "person_2" or "both"."""
    mean = sign * np.nanmean(closing, axis=0) if np.isfinite(closing).any() else np.zeros(2)
    active = [p for p, m in zip(PERSONS, mean, strict=True) if m >= 0.5 * cfg.move_speed]
    if len(active) == 1:
        return active[0]
    if not active:  # both slow: the faster one, if clearly faster
        if mean[0] > 2 * mean[1] and mean[0] > 0:
            return PERSONS[0]
        if mean[1] > 2 * mean[0] and mean[1] > 0:
            return PERSONS[1]
    return "both"


def _distance_events(s: Series, fps: float, cfg: TimelineConfig) -> list[dict]:
    out = []
    merge, min_len = (
        seconds_to_frames(cfg.merge_s, fps) - 1,
        seconds_to_frames(cfg.min_motion_s, fps),
    )
    for kind, sign in (("approach", -1.0), ("separation", 1.0)):
        flags = np.nan_to_num(sign * s.approach_speed, nan=-1.0) >= cfg.min_speed
        for a, b in runs(flags, merge, min_len):
            # From the frame before the run to the frame after: the distance still changes
            # where the speed is just below the threshold (robust to the frame rate).
            d = s.distance[max(0, a - 1) : b + 2]
            d0, d1 = d[np.isfinite(d)][[0, -1]] if np.isfinite(d).any() else (np.nan, np.nan)
            if not sign * (d1 - d0) >= cfg.min_change:
                continue
            by = _movers(s.closing[a : b + 1], -sign, cfg)
            out.append(make_event(kind, s, a, b, by=by, from_distance=_r(d0), to_distance=_r(d1)))
    return out


def _contact_events(s: Series, fps: float, cfg: TimelineConfig) -> list[dict]:
    flags = s.contact == 1
    spans = runs(
        flags, seconds_to_frames(cfg.merge_s, fps) - 1, seconds_to_frames(cfg.min_contact_s, fps)
    )
    out = []
    for a, b in spans:
        occ = s.occluded[a : b + 1].any(axis=0)
        hidden = [p for p, o in zip(PERSONS, occ, strict=True) if o]
        out.append(make_event("contact", s, a, b, occluded=hidden))
    return out


def _motion(s: Series, cfg: TimelineConfig) -> np.ndarray:
    """Per frame: +1 both move the same way, -1 opposite ways, 0 otherwise."""
    v1, v2 = s.velocity[:, 0], s.velocity[:, 1]
    n1, n2 = np.linalg.norm(v1, axis=1), np.linalg.norm(v2, axis=1)
    cos = (v1 * v2).sum(axis=1) / np.maximum(n1 * n2, 1e-12)
    moving = np.nan_to_num(np.minimum(n1, n2), nan=0.0) >= cfg.move_speed
    return np.where(moving & (cos > 0.5), 1, np.where(moving & (cos < -0.5), -1, 0))


def motion_label(s: Series, cfg: TimelineConfig) -> list[str | None]:
    """Per frame: "same" / "opposite" (both move, the same / opposite ways), "mixed" (both move,
    at an angle), "one" (only one moves), "still", or None (not both seen)."""
    code = _motion(s, cfg)
    speed = np.linalg.norm(s.velocity, axis=2)
    out: list[str | None] = []
    for i in range(len(code)):
        if not np.isfinite(speed[i]).all():
            out.append(None)
        elif code[i]:
            out.append("same" if code[i] > 0 else "opposite")
        else:
            moving = int((speed[i] >= cfg.move_speed).sum())
            out.append(("still", "one", "mixed")[moving])
    return out


def _together_events(s: Series, fps: float, cfg: TimelineConfig) -> list[dict]:
    out = []
    same = _motion(s, cfg) == 1
    for a, b in runs(
        same, seconds_to_frames(cfg.merge_s, fps) - 1, seconds_to_frames(cfg.min_together_s, fps)
    ):
        d = s.distance[a : b + 1]
        if not np.isfinite(d).any():
            continue
        change = float(np.nanmax(d) - np.nanmin(d))
        if np.nanmean(d) <= cfg.together_distance and change < cfg.min_change:
            out.append(make_event("walk_together", s, a, b, distance=_r(np.nanmean(d))))
            continue
        heading = np.nanmean(s.velocity[a : b + 1].sum(axis=1), axis=0)
        ahead = np.nanmean(s.centroid[a : b + 1] @ heading, axis=0)  # (P,) along the heading
        lead = int(np.argmax(ahead))
        out.append(make_event("follow", s, a, b, leader=PERSONS[lead], follower=PERSONS[1 - lead]))
    return out


def _pass_events(s: Series, fps: float, cfg: TimelineConfig) -> list[dict]:
    """Relative motion during which the people swap sides (left/right in the image). Crossing in
    front of each other may also show as a brief contact: 2D masks cannot tell occlusion from
    touch (the rows' ``occluded`` flags say which one was hidden)."""
    rel = np.linalg.norm(s.velocity[:, 1] - s.velocity[:, 0], axis=1)
    side = np.sign(s.centroid[:, 1, 0] - s.centroid[:, 0, 0])
    out = []
    for a, b in runs(
        np.nan_to_num(rel, nan=0.0) >= cfg.move_speed, seconds_to_frames(cfg.merge_s, fps) - 1
    ):
        sides = side[a : b + 1]
        sides = sides[np.isfinite(sides) & (sides != 0)]
        if len(sides) > 1 and (sides != sides[0]).any():
            out.append(make_event("pass_by", s, a, b))
    return out


def detect_events(s: Series, fps: float, cfg: TimelineConfig) -> list[dict]:
    """All mask events of ``s``, sorted by start time then kind order."""
    events = (
        _distance_events(s, fps, cfg)
        + _contact_events(s, fps, cfg)
        + _together_events(s, fps, cfg)
        + _pass_events(s, fps, cfg)
    )
    order = {k: i for i, k in enumerate(MASK_EVENTS)}
    return sorted(events, key=lambda e: (e["start_frame"], order.get(e["kind"], 99)))
