"""The timeline's thresholds (:class:`TimelineConfig`, the preset's ``timeline`` section).

Defined in :mod:`ovhhir_core.config.timeline` (every preset section lives under
``ovhhir_core.config``, which imports no other package); re-exported here for this package,
with the window function the measurements use.
"""

from __future__ import annotations

from ovhhir_core.config.timeline import TimelineConfig

__all__ = ["TimelineConfig", "window_frames"]


def window_frames(seconds: float, fps: float) -> int:
    """An odd window length in frames covering about ``seconds`` at ``fps`` (at least 1)."""
    n = max(1, int(round(seconds * fps)))
    return n if n % 2 == 1 else n + 1
