"""The interaction timeline: what the tracked masks (and, where weights exist, pose) measure.

Per-frame measurements of the two people and their pair (distance in body heights, gap between
the masks, approach speed, who closes the distance, same-way or opposite-way motion, occlusion),
events (approach, contact, separation, walk_together, pass_by, follow, and pose events), the
``timeline.json`` / ``timeline.png`` outputs, a facts text for answerers' prompts, and the
measured-facts answerer used when no grounded model is available::

    from ovhhir_core.timeline import compute_timeline, facts_text, write_timeline
    timeline = compute_timeline(labels, fps=25.0)
    write_timeline("out/", timeline)        # timeline.json + timeline.png
    print(facts_text(timeline))
"""

from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.core import SCHEMA, Timeline, compute_timeline
from ovhhir_core.timeline.facts import describe, facts_text
from ovhhir_core.timeline.facts_answerer import FactsAnswerer
from ovhhir_core.timeline.io import (
    TIMELINE_JSON,
    TIMELINE_PNG,
    MaskFile,
    load_timeline,
    write_timeline,
)
from ovhhir_core.timeline.measure import TimelineError

__all__ = [
    "SCHEMA",
    "TIMELINE_JSON",
    "TIMELINE_PNG",
    "FactsAnswerer",
    "MaskFile",
    "Timeline",
    "TimelineConfig",
    "TimelineError",
    "compute_timeline",
    "describe",
    "facts_text",
    "load_timeline",
    "write_timeline",
]
