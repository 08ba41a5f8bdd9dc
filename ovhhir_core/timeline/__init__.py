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

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "config": ("TimelineConfig",),
    "core": ("SCHEMA", "Timeline", "compute_timeline"),
    "facts": ("describe", "facts_text"),
    "facts_answerer": ("FactsAnswerer",),
    "io": ("TIMELINE_JSON", "TIMELINE_PNG", "MaskFile", "load_timeline", "write_timeline"),
    "measure": ("TimelineError",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
