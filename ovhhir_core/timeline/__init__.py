"""The interaction timeline: what the tracked masks (and, where weights exist, pose) measure.

Per-frame measurements of the two people and their pair (distance in body heights, gap between
the masks, approach speed, who closes the distance, same-way or opposite-way motion, occlusion),
events (the kinds from the masks are :data:`.events.MASK_EVENTS`; pose events besides), the
``timeline.json`` / ``timeline.png`` outputs, a facts text for answerers' prompts, and the
measured-facts answerer used when no grounded model is available::

    from ovhhir_core.timeline import compute_timeline, facts_text, write_timeline
    timeline = compute_timeline(labels, fps=25.0)
    write_timeline("out/", timeline)        # timeline.json + timeline.png
    print(facts_text(timeline))

A new event kind is its detector and its name in ``MASK_EVENTS`` (``events.py``), its sentence
(``facts.py``; without one it reads as its name), and its test; the plot gives a kind without a
colour of its own (``plot.COLOURS``) the pose colour, and its thresholds, if it needs new ones,
go in :class:`~ovhhir_core.config.timeline.TimelineConfig`.
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
