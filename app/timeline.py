"""The interaction timeline in the app: on the Track tab the plot, the events as a short list
(selecting one seeks the result videos to its start) and the files; on the Chat tab the measured
facts, in an accordion.

The Track event writes the timeline with the rest of the track folder
(``ovhhir_core.tracking.folder``, the same as ``track``: measure the tracked masks, run pose where
the preset's weights allow, write ``timeline.json`` / ``timeline.png``, draw skeletons on the
overlay); this panel shows it. Events built on random mask or pose weights say so in their row.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.common import gpu_queue, user_errors
from app.state import Services, SessionState
from ovhhir_core.timeline.facts import (
    event_phrase,
    event_source_note,
    facts_text,
    random_masks_note,
)

#: Result videos seeked when an event is selected (their elem_ids on the Track tab).
SEEK_VIDEOS = ("out-overlay", "out-person_1", "out-person_2", "out-background")
SEEK_JS = (
    "(t) => { if (t === null || t === undefined || Number.isNaN(t)) return t; "
    + "const ids = "
    + str(list(SEEK_VIDEOS)).replace("'", '"')
    + "; for (const id of ids) { const v = document.querySelector(`#${id} video`); "
    "if (v) { v.currentTime = t; } } return t; }"
)
EVENT_HEADERS = ["from (s)", "to (s)", "event"]
NO_FACTS = "Track two people first: the measured facts appear here."


def event_rows(timeline: Any) -> list[list[Any]]:
    """One ``[start_s, end_s, what happened]`` row per event, in time order; an event built on
    random mask or pose weights says so beside it, and with random masks a first row says that
    nothing below is a finding."""
    rows = []
    masks_note = random_masks_note(timeline)
    if masks_note:
        rows.append([None, None, f"WARNING: {masks_note}"])
    for e in timeline.events:
        text = f"{e['kind'].replace('_', ' ')}: {event_phrase(e)}"
        note = event_source_note(timeline, e)
        rows.append([e["start_s"], e["end_s"], f"{text} ({note})" if note else text])
    return rows


def clip_facts(state: SessionState) -> str | None:
    """The facts text of the user's tracked clip (``TrackedClip.facts``), None before tracking."""
    from ovhhir_core.timeline.io import load_timeline

    path = state.outputs.get("timeline_json")
    return facts_text(load_timeline(path)) if path else None


class TimelineHandlers:
    """Timeline events of the Track and Chat tabs."""

    def __init__(self, services: Services):
        self.services = services
        self.make = user_errors(self._make)

    def _make(self, state: SessionState) -> tuple:
        """After tracking: ``(plot, event rows, files, overlay)``; blanks when nothing is tracked."""
        if state.tracking is None or "timeline_json" not in state.outputs:
            return self.clear()
        from ovhhir_core.timeline.io import load_timeline

        paths = {k: state.outputs[k] for k in ("timeline_json", "timeline_png")}
        timeline = load_timeline(paths["timeline_json"])
        overlay = state.outputs["overlay"]
        redrawn = state.hand_out(overlay) if timeline.metadata.get("pose") else gr.update()
        files = [state.hand_out(p) for p in paths.values()]
        return state.hand_out(paths["timeline_png"]), event_rows(timeline), files, redrawn

    @staticmethod
    def clear() -> tuple:
        return None, [], None, gr.update()

    @classmethod
    def clear_if_stale(cls, state: SessionState) -> tuple:
        """Blank the panel once the tracked result is gone (a click, trim or new video)."""
        if "timeline_json" in state.outputs:
            return tuple(gr.update() for _ in range(4))
        return cls.clear()

    @staticmethod
    def seek(evt: gr.SelectData) -> float | None:
        """The start time of the selected event row (the JS then seeks the videos there)."""
        row = evt.row_value or []
        try:
            return float(row[0])
        except (IndexError, TypeError, ValueError):
            return None

    @staticmethod
    def facts(state: SessionState) -> str:
        text = clip_facts(state)
        return f"```text\n{text}\n```" if text else NO_FACTS


def build_timeline(
    services: Services, state: gr.State, tracked: Any, stale: list[Any], overlay: Any
) -> Any:
    """The timeline panel below the Track tab's results. ``tracked``: the Track event;
    ``stale``: events after which the result is gone; ``overlay``: the overlay video (redrawn
    with skeletons when pose ran). Returns the event that finished the timeline."""
    h = TimelineHandlers(services)
    with gr.Accordion("Interaction timeline (measured from the masks)", open=True):
        with gr.Row():
            plot = gr.Image(label="Timeline", type="filepath", interactive=False, scale=3)
            with gr.Column(scale=2):
                events = gr.Dataframe(
                    headers=EVENT_HEADERS,
                    interactive=False,
                    label="Events (select one to seek the videos to it)",
                    elem_id="timeline-events",
                )
                files = gr.File(
                    label="timeline.json, timeline.png", file_count="multiple", interactive=False
                )
        seek_time = gr.Number(visible=False)
    outputs = [plot, events, files, overlay]
    done = tracked.then(
        h.make,
        [state],
        outputs,
        api_visibility="private",
        show_progress="minimal",
        show_progress_on=[files],
        **gpu_queue(services),
    )
    for event in stale:
        event.then(
            h.clear_if_stale, [state], outputs, api_visibility="private", show_progress="hidden"
        )
    selected = events.select(h.seek, None, seek_time, api_visibility="private")
    selected.then(None, [seek_time], None, js=SEEK_JS)
    return done


def build_facts_panel() -> Any:
    """The Chat tab's accordion showing the measured facts of the tracked clip."""
    with gr.Accordion("Measured facts of the tracked clip (timeline)", open=False):
        return gr.Markdown(NO_FACTS, elem_id="timeline-facts")
