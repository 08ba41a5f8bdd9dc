"""The app's timeline panel (Track tab) and facts accordion (Chat tab), as plain handler calls."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from app.settings import Caps, Settings
from app.state import Services
from app.timeline import NO_FACTS, SEEK_JS, TimelineHandlers, clip_facts, event_rows
from app.track_handlers import TrackHandlers
from ovhhir_core.data.synthetic import render_clip
from ovhhir_core.timeline import load_timeline
from ovhhir_core.video import write_video


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    root = tmp_path_factory.mktemp("tl-app")
    svc = Services(Settings(preset="tiny", device="cpu", caps=Caps(max_frames=50)), root=root)
    yield svc
    svc.close()


def _click(label_map: np.ndarray, value: int) -> gr.SelectData:
    ys, xs = np.nonzero(label_map == value)
    i = len(ys) // 2
    return gr.SelectData(None, {"index": [int(xs[i]), int(ys[i])], "value": None, "selected": True})


def test_timeline_after_tracking_then_blank_when_stale(services, tmp_path):
    clip = render_clip("Handshaking", seed=1, size=(160, 120), num_frames=4, fps=4.0)
    video = write_video(tmp_path / "clip.mp4", iter(clip.frames), clip.fps)
    track, panel = TrackHandlers(services), TimelineHandlers(services)
    state = track.load_video(services.new_session(), str(video))[0]
    assert panel.make(state) == panel.clear()  # nothing tracked yet
    assert panel.facts(state) == NO_FACTS
    pos = "Positive (this is the person)"
    track.click(state, "Person 1", pos, _click(clip.labels[0], 1))
    track.click(state, "Person 2", pos, _click(clip.labels[0], 2))
    list(track.track(state))
    plot, rows, files, overlay = panel.make(state)
    assert plot.endswith("timeline.png") and sorted(f.rsplit("/", 1)[-1] for f in files) == [
        "timeline.json",
        "timeline.png",
    ]
    timeline = load_timeline(state.outputs["timeline_json"])
    assert rows == event_rows(timeline) and len(timeline.frames) == 4
    assert timeline.metadata["pose"]["trained"] is False  # tiny: random ViTPose, said so
    # skeletons drawn: the overlay is handed out again (a link to the same file, for this session)
    assert Path(overlay).samefile(state.outputs["overlay"]) and overlay != str(
        state.outputs["overlay"]
    )
    facts = panel.facts(state)
    assert facts.startswith("```text\nWARNING: The masks were made by a segmenter with RANDOM")
    assert "\nClip: 1.0 s (4 frames at 4 fps)" in facts
    assert clip_facts(state) in facts
    assert all(u == gr.update() for u in panel.clear_if_stale(state))
    track.click(state, "Person 1", pos, _click(clip.labels[0], 1))  # the result is now stale
    assert panel.clear_if_stale(state) == panel.clear() and panel.facts(state) == NO_FACTS


def test_selecting_an_event_seeks_to_its_start():
    evt = gr.SelectData(None, {"index": [1, 2], "value": "x", "row_value": [1.25, 2.0, "contact"]})
    assert TimelineHandlers.seek(evt) == 1.25
    assert TimelineHandlers.seek(gr.SelectData(None, {"index": [0, 0], "value": None})) is None
    assert "#${id} video" in SEEK_JS and "out-overlay" in SEEK_JS


def test_event_rows_are_short_lines_with_times():
    clip = render_clip("Pushing", seed=0, size=(160, 120), num_frames=24, fps=6.0)
    from ovhhir_core.timeline import compute_timeline

    rows = event_rows(compute_timeline(enumerate(clip.labels), clip.fps))
    assert [r[2].split(":")[0] for r in rows][:1] == ["approach"]
    assert all(isinstance(r[0], float) and r[0] <= r[1] for r in rows)
