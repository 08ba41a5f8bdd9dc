"""Thresholds of the interaction timeline, in one dataclass with documented defaults.

Lengths are in units of the people's height (the mean box height of the two people in that frame),
so the same clip at another resolution gives the same numbers; durations are in seconds, so the
same clip at another frame rate gives the same events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TimelineConfig:
    """Measurement and event thresholds (defaults chosen on the synthetic choreographies and on
    walking speeds of real people: about 0.8 heights per second)."""

    #: Centred moving-average window for positions, sizes and distances (s).
    smooth_s: float = 0.3
    #: Running-median window of each person's height, the unit of the pair's lengths (s).
    height_window_s: float = 2.0
    #: Masks closer than this (heights; at least 1 pixel) count as touching: a small dilation.
    contact_gap: float = 0.02
    #: Shortest contact kept (s); shorter runs are dropped, gaps up to ``merge_s`` are bridged.
    min_contact_s: float = 0.05
    #: Runs of the same state separated by less than this (s) are merged into one event.
    merge_s: float = 0.25
    #: Distance must change faster than this (heights/s) to count as approaching / separating.
    min_speed: float = 0.12
    #: An approach / separation must change the distance by at least this much (heights)...
    min_change: float = 0.15
    #: ... and last at least this long (s).
    min_motion_s: float = 0.3
    #: A person moves when its centroid moves faster than this (heights/s).
    move_speed: float = 0.15
    #: Same-way motion must last this long (s) to be ``walk_together`` or ``follow``.
    min_together_s: float = 0.6
    #: ``walk_together``: distance at most this (heights) and changing by at most ``min_change``.
    together_distance: float = 1.2
    #: A person counts as occluded when its area falls below this fraction of its running median
    #: while the two masks touch.
    occlusion_area: float = 0.8
    #: Window of that running median (s).
    occlusion_window_s: float = 2.0
    #: A keypoint is used when its score is at least this.
    min_keypoint_score: float = 0.3
    #: A wrist (or ankle) within this distance (heights) of the other person's mask touches them.
    limb_touch: float = 0.03

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def window_frames(seconds: float, fps: float) -> int:
    """An odd window length in frames covering about ``seconds`` at ``fps`` (at least 1)."""
    n = max(1, int(round(seconds * fps)))
    return n if n % 2 == 1 else n + 1
