"""The ``timeline`` section of a preset: the thresholds of the interaction timeline, in one
dataclass whose field comments are the one place their defaults are documented (re-exported by
``ovhhir_core.timeline.config``).

Lengths are in units of the people's height (the mean box height of the two people in that frame),
so the same clip at another resolution gives the same numbers; durations are in seconds, so the
same clip at another frame rate gives the same events. A preset changes any of them with a
``"timeline": {"min_speed": 0.2}`` section; the ``timeline`` command with
``--set min_speed=0.2`` (repeatable, applied over the preset's).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

from ovhhir_core.errors import UserError

#: Thresholds that are fractions (at most 1).
FRACTIONS = ("occlusion_area", "min_keypoint_score")


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

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            top = 1.0 if name in FRACTIONS else math.inf
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= top):
                limit = "a number in [0, 1]" if name in FRACTIONS else "a number >= 0"
                raise UserError(f"timeline threshold {name} must be {limit}, got {value!r}")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def with_settings(self, items: list[str] | None) -> TimelineConfig:
        """A copy with ``KEY=VALUE`` settings applied (the ``--set`` flags); an unknown key or a
        value that is not a number raises :class:`UserError`."""
        values = {}
        for item in items or []:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep:
                raise UserError(f"--set expects KEY=VALUE (e.g. min_speed=0.2), got {item!r}")
            if key not in self.as_dict():
                raise UserError(
                    f"--set: unknown timeline threshold {key!r}; known: "
                    + ", ".join(sorted(self.as_dict()))
                )
            try:
                values[key] = float(text)
            except ValueError:
                raise UserError(f"--set {key}: expected a number, got {text!r}") from None
        return dataclasses.replace(self, **values)


def settings_help() -> str:
    """``KEY=DEFAULT`` of every threshold, for ``--help`` (written from the dataclass)."""
    return ", ".join(f"{k}={v:g}" for k, v in TimelineConfig().as_dict().items())
