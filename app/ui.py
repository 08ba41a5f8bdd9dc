"""The demo's page: the header, the model status and the three tabs, each built by its module.

No logic: every event calls one handler method of a tab module (``track.py``, ``chat.py``,
``review.py``); this module only composes the tabs and wires what crosses them.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.chat import build_chat
from app.common import GPU, loading_markdown, loading_settled, models_markdown
from app.review import build_review
from app.state import Services, delete_session
from app.status import status_routes
from app.timeline import TimelineHandlers
from app.track import ASSETS, build_track, example_videos

__all__ = ["GPU", "build_demo", "example_videos", "launch_kwargs"]

CSS = """
#frame img { cursor: crosshair; }
#untrained { border: 1px solid #d97706; border-radius: 6px; padding: 4px 10px; }
"""

# Review tab shortcuts: Alt+→ / Alt+← anywhere, → / ← / j / k outside text fields.
KEYS_JS = """
() => {
  document.addEventListener('keydown', (e) => {
    const typing = ['INPUT', 'TEXTAREA'].includes(e.target.tagName) || e.target.isContentEditable;
    let id = null;
    if (e.key === 'ArrowRight' || (!e.altKey && e.key === 'j')) id = 'review-next';
    if (e.key === 'ArrowLeft' || (!e.altKey && e.key === 'k')) id = 'review-prev';
    if (!id || (typing && !e.altKey)) return;
    const button = document.getElementById(id);
    if (button && button.offsetParent !== null) { e.preventDefault(); button.click(); }
  });
}
"""


def launch_kwargs(services: Services) -> dict[str, Any]:
    """Arguments for ``demo.launch`` that belong to the UI: theme, css, js, file limits, which
    files may be served, and the operator's ``/status.json`` route."""
    return {
        "theme": gr.themes.Soft(),
        "css": CSS,
        "js": KEYS_JS,
        # only the shipped examples are served by path; session files are handed out one by
        # one (app/storage.py: hand_out), never the whole root
        "allowed_paths": [str(ASSETS)],
        "max_file_size": services.settings.max_file_size,
        "app_kwargs": {"routes": status_routes(services)},  # GET /status.json
    }


#: Seconds between refreshes of the download and loading lines.
LOADING_REFRESH_S = 2.0


def _models_panel(services: Services) -> gr.Markdown:
    # Outside the accordion: a download in progress is seen without opening anything.
    loading_md = gr.Markdown(loading_markdown(services))
    timer = gr.Timer(LOADING_REFRESH_S)
    timer.tick(  # until nothing is left to load: an idle page then asks the server nothing
        lambda: (loading_markdown(services), gr.Timer(active=not loading_settled(services))),
        None,
        [loading_md, timer],
        queue=False,
        show_progress="hidden",
        api_visibility="private",
    )
    with gr.Accordion("Models", open=False):
        models_md = gr.Markdown(models_markdown(services))
        gr.Button("Refresh status", size="sm").click(
            lambda: models_markdown(services),
            None,
            models_md,
            queue=False,
            api_name="models_status",
        )
    return models_md


def build_demo(services: Services) -> gr.Blocks:
    """The whole app; nothing is loaded until a user needs it."""
    ttl = services.settings.session_ttl_s
    # Gradio's cache: every min(ttl, 1 h), files older than the session time-to-live go.
    with gr.Blocks(title="OV-HHIR", delete_cache=(min(ttl, 3600), ttl)) as demo:
        state = gr.State(
            lambda: services.new_session(),
            time_to_live=ttl,
            delete_callback=lambda s: delete_session(s, services.jobs),
        )
        gr.Markdown(
            "# OV-HHIR — who does what to whom?\nClick two people in a video, track them, "
            "then ask the model what they are doing."
        )
        models_md = _models_panel(services)
        with gr.Tab("Track", id="track"):
            track = build_track(services, state)
        with gr.Tab("Chat", id="chat"):
            chat = build_chat(services, state)
        with gr.Tab("Review", id="review"):
            build_review(services, state)
        # A new video, click, trim or tracking run resets the chat about the old result.
        quiet = {"api_visibility": "private", "show_progress": "hidden"}  # background updates
        for event in track.changes:
            event.then(chat.handlers.show, [state], chat.chatbot, **quiet)
        for event in [*track.changes[:-1], track.timeline]:  # the facts follow the timeline
            event.then(TimelineHandlers.facts, [state], chat.facts, **quiet)
        # Answer before the question: once tracking ends the clip is encoded for questions in
        # the background; a new video, click or trim drops that work.
        prepare_in = [state, *chat.prepare_inputs]
        track.changes[-1].then(chat.handlers.prepare, prepare_in, chat.preparing, **quiet)
        for event in track.changes[:-1]:
            event.then(chat.handlers.drop_prepared, [state], chat.preparing, **quiet)
        demo.load(
            lambda: (models_markdown(services), chat.handlers.provenance()),
            None,
            [models_md, chat.provenance],
            api_visibility="private",
        )
    return demo
