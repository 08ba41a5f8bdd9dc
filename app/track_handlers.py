"""Event handlers of the Track tab: one method per UI event (layout and wiring: ``track.py``).

Each method takes the user's :class:`~app.state.SessionState` plus the values of the input
components and returns the values of the output components; the work is done by ``ovhhir_core``.
Click counts come from the tracking session's own prompt history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from app.common import fail, user_errors, video_info_markdown
from app.jobs import Cancelled
from app.state import Services, SessionState, on_gpu
from app.storage import publish
from app.track_people import BOX_MODE, PeopleTools
from ovhhir_core.streams import DISPLAY_NAMES, PERSONS, STREAMS

PERSON_CHOICES = {DISPLAY_NAMES[p]: p for p in PERSONS}
POLARITY_CHOICES = {"Positive (this is the person)": 1, "Negative (not this)": 0}
CLICK_KINDS = (*POLARITY_CHOICES, BOX_MODE)
#: Result videos of the tab, in the order the track event returns them.
RESULT_VIDEOS = ("overlay", "person_1", "person_2", "background")
NO_RESULTS = (None, None, None, None, None)  # four videos and the downloads
#: Colour of the removed pixels in the app's streams (recorded in the track folder).
TRACK_FILL = (0, 0, 0)


class TrackHandlers:
    """Track tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.caps = services.settings.caps
        self.people = PeopleTools(services)
        self.track = user_errors(on_gpu(duration=180)(self._track))  # tracking, then pose

    @user_errors
    def load_video(self, state: SessionState, path: str | None) -> tuple:
        """A video was uploaded or picked: check the caps, show its info and first frame.

        Returns ``(state, info_markdown, start_slider, end_slider, frame_slider, frame_image)``.
        """
        from ovhhir_core.video import probe, read_frame

        state.reset_video()
        if not path:
            none = gr.update(minimum=0, maximum=1, value=0)
            return state, "Upload a video or pick an example.", none, none, none, None
        self.caps.check_file_size(path)
        info = probe(path)
        self.caps.check_video(info.fps, info.num_frames, info.width, info.height, info.duration)
        state.video_path, state.info = Path(path), info
        state.start, state.end, state.frame_idx = 0, info.num_frames, 0
        last = max(info.num_frames - 1, 1)  # sliders need minimum < maximum
        return (
            state,
            video_info_markdown(info),
            gr.update(minimum=0, maximum=last, value=0, step=1),
            gr.update(minimum=1, maximum=max(info.num_frames, 2), value=info.num_frames, step=1),
            gr.update(minimum=0, maximum=last, value=0, step=1),
            read_frame(path, 0),
        )

    @user_errors
    def set_range(self, state: SessionState, start: float, end: float) -> tuple:
        """Trim changed: clamp it, restart tracking if it moved, keep the frame inside it.

        Returns ``(start_slider, end_slider, frame_slider, frame_image, status)``.
        """
        info = self._need_video(state)
        start = int(min(max(start, 0), info.num_frames - 1))
        end = int(min(max(end, start + 1), info.num_frames))
        status = ""
        if (start, end) != (state.start, state.end):
            if any(self._counts(state).values()):
                status = "Trim changed: clicks were cleared, click the two people again."
            state.start, state.end = start, end
            state.tracking = None
            state.reset_outputs()
        state.frame_idx = int(min(max(state.frame_idx, start), end - 1))
        return (
            gr.update(value=start),
            gr.update(value=end),
            gr.update(minimum=start, maximum=max(end - 1, start + 1), value=state.frame_idx),
            self._render(state),
            status,
        )

    @user_errors
    def show_frame(self, state: SessionState, frame_idx: float) -> np.ndarray | None:
        """The annotation frame changed: draw it with the current masks."""
        if state.info is None:
            return None
        state.frame_idx = int(min(max(frame_idx, state.start), state.end - 1))
        return self._render(state)

    def click(
        self, state: SessionState, person: str, polarity: str, evt: gr.SelectData
    ) -> tuple[np.ndarray, str]:
        """A click on the frame: add a point for the chosen person, return the frame with masks."""
        x, y = evt.index[:2]
        return self.click_at(state, person, polarity, x, y)

    @user_errors
    def click_at(
        self, state: SessionState, person: str, polarity: str, x: float, y: float
    ) -> tuple[np.ndarray, str]:
        """A click at pixel (``x``, ``y``) of the annotation frame (the API form of a click).
        A short model job: it never waits behind another session's tracking."""
        self._need_video(state)
        point = (int(round(float(x))), int(round(float(y))))
        obj_id = PERSON_CHOICES[person]

        def work(_job: Any) -> tuple[np.ndarray, str]:
            session = self._session(state)
            status = self.people.click(state, session, obj_id, polarity, point)
            if status is None:
                label = POLARITY_CHOICES[polarity]
                session.add_points(state.frame_idx, obj_id, points=[point], labels=[label])
            state.reset_outputs()
            # drawn inside the job: clicks are answered in order, each with every click so far
            return self._render(state), self._clicks_text(state, status)

        kind = "click" if state.tracking is not None else "frame"  # "frame": encodes it first
        return self.services.jobs.run(state.sid, kind, work, frames=1)

    @user_errors
    def find_people(self, state: SessionState, min_score: float) -> tuple[np.ndarray, str]:
        """*Find people*: the person proposals on the annotation frame, numbered on it."""
        self._need_video(state)
        work = lambda _job: self.people.find(state, self._session(state), min_score)  # noqa: E731
        info = self.services.jobs.run(state.sid, "find", work, frames=1)
        return self._render(state), info

    def set_min_score(self, state: SessionState, min_score: float) -> tuple:
        """The confidence slider moved: redraw the proposals above it."""
        if state.people is None:
            return gr.update(), ""
        state.people.min_score = float(min_score)
        return self._render(state), self.people.info(state)

    @user_errors
    def undo(self, state: SessionState, person: str) -> tuple[np.ndarray | None, str]:
        """Remove the chosen person's last click."""
        obj_id = PERSON_CHOICES[person]
        if self.people.undo_corner(state, obj_id):
            return self._render(state), self._clicks_text(state, f"{person}: corner removed.")
        if not self._counts(state)[obj_id]:
            gr.Warning(f"{person} has no click to undo.")
            return self._render(state), self._clicks_text(state)
        state.tracking.undo(obj_id)
        state.reset_outputs()
        return self._render(state), self._clicks_text(state)

    @user_errors
    def clear_person(self, state: SessionState, person: str) -> tuple[np.ndarray | None, str]:
        """Remove all of the chosen person's clicks and masks."""
        obj_id = PERSON_CHOICES[person]
        if self._counts(state)[obj_id]:
            state.tracking.clear_object(obj_id)
        state.reset_outputs()
        return self._render(state), self._clicks_text(state)

    def stale_results(self, state: SessionState) -> tuple:
        """Blank the result videos and downloads when the tracking results were reset
        (``state.outputs`` empty); leave them as they are otherwise."""
        if state.outputs:
            return tuple(gr.update() for _ in NO_RESULTS)
        return NO_RESULTS

    def set_track_fps(self, state: SessionState, fps: float | None) -> str:
        """The tracking-rate control changed (0 = every frame); returns the cost line."""
        state.track_fps = float(fps) if fps is not None else None
        return self.cost(state)

    def cost(self, state: SessionState) -> str:
        """What Track will cost: frames the tracker processes and its input size."""
        from ovhhir_core.tracking.rate import estimated_frames

        if state.info is None:
            return ""
        tracker = self.services.preset.tracker
        fps = tracker.track_fps if state.track_fps is None else (state.track_fps or None)
        total = (state.end or state.info.num_frames) - state.start
        n = estimated_frames(total, state.info.fps, fps)
        size = f"{tracker.input_size} px" if tracker.input_size else "the model's own size"
        return f"Track will process ~{n} of {total} frames (tracker input: {size})."

    def cancel(self, state: SessionState) -> str:
        """Ask a running (or waiting) Track job to stop after the current frame."""
        state.cancel_requested = True
        self.services.jobs.drop(state.sid, {"track"})
        return "Cancelling…"

    def _track(self, state: SessionState, progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:  # noqa: B008
        """Propagate both people over [start, end), then write the streams and exports.

        Yields ``(status, overlay, person_1, person_2, background, downloads)``.
        """
        self._need_video(state)
        counts = self._counts(state)
        missing = [DISPLAY_NAMES[p] for p in PERSONS if not counts[p]]
        if missing:
            fail(f"Click on {' and '.join(missing)} first (positive clicks on the frame).")
        state.cancel_requested = False
        state.reset_outputs()
        total = state.end - state.start
        tracking = state.tracking

        def work(job: Any) -> int:
            done: set[int] = set()
            cancel = lambda: state.cancel_requested or job.cancelled  # noqa: E731
            for frame_idx, _ in tracking.propagate(cancel=cancel, track_fps=state.track_fps):
                done.add(frame_idx)
                job.step(len(done), total)  # progress; the model may go to another session
            return len(done)

        yield ("Tracking…", *NO_RESULTS)
        job = self.services.jobs.submit(state.sid, "track", work, frames=total)
        try:
            for line in job.follow():
                progress((job.done, total), desc="Tracking", unit="frames")
                yield (f"Tracking… {line}", *NO_RESULTS)
        finally:  # the page went away mid-run: stop the job rather than finish it for no one
            if not job.finished:
                job.cancel()
        try:
            done = job.result()
        except Cancelled:
            done = job.done
        if state.cancel_requested or job.cancelled or not tracking.propagation_complete:
            state.cancel_requested = False
            yield (f"Cancelled after {done} of {total} frames.", *NO_RESULTS)
            return
        yield ("Writing the streams and the timeline…", *NO_RESULTS)
        files = self._write_results(state)
        yield (
            f"Tracked {done} frames ({state.start}–{state.end - 1}).",
            *(state.hand_out(state.outputs[k]) for k in RESULT_VIDEOS),
            [state.hand_out(f) for f in files],
        )

    def _write_results(self, state: SessionState) -> list[Path]:
        """The track folder (``ovhhir_core.tracking.folder``: streams, overlay, masks, HHIRChat
        sample, timeline, the fill used) into ``state.outputs``, then the downloads: the whole
        folder zipped (unzipped, ``describe --track-dir`` reads it), the masks and the streams.
        Everything is written into a ``.part`` folder that is renamed once complete."""
        from ovhhir_core.tracking.folder import write_track_folder, zip_track_folder

        part = state.out_dir("tracked")
        stem = re.sub(r"[^\w-]+", "_", state.video_path.stem).strip("_") or "clip"
        args = (state.video_path, state.tracking.labels, part)
        kwargs = dict(
            start=state.start,
            end=state.end,
            fill=TRACK_FILL,
            sample_id=stem,
            preset=self.services.preset,
            device=str(self.services.device),
        )
        # a job of its own (the timeline's pose model runs here): frames are chunks
        work = lambda job: write_track_folder(*args, **kwargs, progress=job.step)  # noqa: E731
        paths = self.services.jobs.run(state.sid, "write", work, frames=state.end - state.start)
        zip_track_folder(part, part / f"{stem}_track.zip")
        out = publish(part)
        state.outputs = {k: out / Path(p).relative_to(part) for k, p in paths.items()}
        state.outputs["masks"] = state.outputs["masks_npz"]  # label maps for the answerers
        return [
            out / f"{stem}_track.zip",
            state.outputs["masks_npz"],
            state.outputs["masks_png"],
            *(state.outputs[p] for p in STREAMS),
        ]

    # ------------------------------------------------------------------ helpers

    def _need_video(self, state: SessionState) -> Any:
        if state.info is None:
            fail("Upload a video or pick an example first.")
        return state.info

    def _session(self, state: SessionState) -> Any:
        """The user's tracking session, created on the first click (loads the segmenters)."""
        if state.tracking is None:
            from ovhhir_core.tracking import TrackingSession

            segs = self.services.segmenters()
            state.tracking = TrackingSession(
                segs, state.video_path, start=state.start, end=state.end
            )
        return state.tracking

    @staticmethod
    def _counts(state: SessionState) -> dict[str, int]:
        """Each person's prompts, as the tracking session records them."""
        session = state.tracking
        return {p: session.prompt_count(p) if session else 0 for p in PERSONS}

    def _render(self, state: SessionState) -> np.ndarray | None:
        """The annotation frame, with the current masks and legend when there are any."""
        from ovhhir_core.masking import overlay_frame
        from ovhhir_core.video import read_frame

        if state.info is None:
            return None
        if state.frame is None or state.frame[0] != state.frame_idx:
            state.frame = (state.frame_idx, read_frame(state.video_path, state.frame_idx))
        frame = state.frame[1]
        if any(self._counts(state).values()):
            frame = overlay_frame(frame, state.tracking.label_map(state.frame_idx))
        return self.people.decorate(state, frame)

    def _clicks_text(self, state: SessionState, status: str | None = None) -> str:
        counts = ", ".join(
            f"{DISPLAY_NAMES[p]}: {n} click(s)" for p, n in self._counts(state).items()
        )
        return f"{counts}\n\n{status}" if status else counts
