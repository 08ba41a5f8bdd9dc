"""Event handlers of the Track and Chat tabs: one small method per UI event.

Each method takes the user's :class:`~app.state.SessionState` plus the values of the input
components and returns the values of the output components. All work is delegated to
``ovhhir_core``; no tensor maths here. Errors meant for the user (``UserError``) become
``gr.Error`` popups with their message, never a stack trace.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from app.state import PERSONS, Services, SessionState, on_gpu
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

PERSON_CHOICES = {"Person 1": "person_1", "Person 2": "person_2"}
POLARITY_CHOICES = {"Positive (this is the person)": 1, "Negative (not this)": 0}
STREAM_LABELS = {
    "overlay": "Overlay",
    "person_1": "Person 1",
    "person_2": "Person 2",
    "background": "Background",
}


def user_errors(fn: Callable) -> Callable:
    """Show ``UserError`` messages as ``gr.Error`` (a popup with the message, no traceback)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except UserError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper


def video_info_markdown(info: Any) -> str:
    """One line describing a probed video (``ovhhir_core.video.VideoInfo``)."""
    return (
        f"**{Path(info.path).name}** — {info.width}×{info.height} px, {info.fps:.2f} fps, "
        f"{info.num_frames} frames, {info.duration:.2f} s, codec {info.codec}"
    )


def models_markdown(services: Services) -> str:
    """The model status panel: what is loaded, and for anything missing what to do."""
    lines = [f"Preset **{services.preset.name}** on **{services.device}**."]
    for name, status in services.status().items():
        if status in ("loaded", "not loaded yet"):
            lines.append(f"- {name}: {status}")
        else:
            lines.append(f"- {name}: **unavailable** — {status}".replace("\n", "\n  "))
    return "\n".join(lines)


class Handlers:
    """Track and Chat tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.caps = services.settings.caps
        self.track = user_errors(on_gpu(duration=120)(self._track))

    # ------------------------------------------------------------------ state

    def new_state(self) -> SessionState:
        """Initial value of the per-user ``gr.State``."""
        return self.services.new_session()

    # ------------------------------------------------------------------ track tab

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
            if state.tracking is not None and any(state.clicks.values()):
                status = "Trim changed: clicks were cleared, click the two people again."
            state.start, state.end = start, end
            state.tracking = None
            state.clicks = {p: 0 for p in PERSONS}
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

    @user_errors
    def click(
        self, state: SessionState, person: str, polarity: str, evt: gr.SelectData
    ) -> tuple[np.ndarray, str]:
        """A click on the frame: add a point for the chosen person, return the frame with masks."""
        self._need_video(state)
        x, y = (int(round(v)) for v in evt.index[:2])
        obj_id = PERSON_CHOICES[person]
        label = POLARITY_CHOICES[polarity]
        session = self._session(state)
        session.add_points(state.frame_idx, obj_id, points=[(x, y)], labels=[label])
        state.clicks[obj_id] += 1
        state.reset_outputs()
        return self._render(state), self._clicks_text(state)

    @user_errors
    def undo(self, state: SessionState, person: str) -> tuple[np.ndarray | None, str]:
        """Remove the chosen person's last click."""
        obj_id = PERSON_CHOICES[person]
        if state.tracking is None or not state.clicks[obj_id]:
            gr.Warning(f"{person} has no click to undo.")
            return self._render(state), self._clicks_text(state)
        state.tracking.undo(obj_id)
        state.clicks[obj_id] -= 1
        state.reset_outputs()
        return self._render(state), self._clicks_text(state)

    @user_errors
    def clear_person(self, state: SessionState, person: str) -> tuple[np.ndarray | None, str]:
        """Remove all of the chosen person's clicks and masks."""
        obj_id = PERSON_CHOICES[person]
        if state.tracking is not None and state.clicks[obj_id]:
            state.tracking.clear_object(obj_id)
        state.clicks[obj_id] = 0
        state.reset_outputs()
        return self._render(state), self._clicks_text(state)

    def stale_results(self, state: SessionState) -> tuple:
        """Blank the result videos, downloads and chat when the tracking results were reset
        (``state.outputs`` empty); leave them as they are otherwise."""
        if state.outputs:
            return tuple(gr.update() for _ in range(6))
        return (None, None, None, None, None, [])

    def cancel(self, state: SessionState) -> str:
        """Ask a running Track job to stop after the current frame."""
        state.cancel_requested = True
        return "Cancelling…"

    def _track(self, state: SessionState, progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:  # noqa: B008
        """Propagate both people over [start, end), then write the streams and exports.

        Yields ``(status, overlay, person_1, person_2, background, downloads)``.
        """
        from ovhhir_core.masking import write_streams

        self._need_video(state)
        missing = [p for p in PERSONS if not state.clicks[p]]
        if state.tracking is None or missing:
            names = " and ".join(p.replace("person_", "Person ") for p in missing)
            raise gr.Error(
                f"Click on {names} first (positive clicks on the frame).", print_exception=False
            )
        state.cancel_requested = False
        state.reset_outputs()
        total = state.end - state.start
        done: set[int] = set()
        yield "Tracking…", None, None, None, None, None
        progress((0, total), desc="Tracking", unit="frames")
        for frame_idx, _label_map in state.tracking.propagate(
            cancel=lambda: state.cancel_requested
        ):
            done.add(frame_idx)
            progress((len(done), total), desc="Tracking", unit="frames")
        if state.cancel_requested or not state.tracking.propagation_complete:
            state.cancel_requested = False
            yield f"Cancelled after {len(done)} of {total} frames.", None, None, None, None, None
            return
        yield "Writing the streams…", None, None, None, None, None
        out = state.out_dir("tracked")
        labels = state.tracking.labels
        streams = write_streams(
            state.video_path,
            labels,
            out,
            start=state.start,
            end=state.end,
            progress=lambda i, n: progress((i, n), desc="Writing the streams", unit="frames"),
        )
        state.outputs = dict(streams)
        files = self._exports(state, labels, streams, out)
        yield (
            f"Tracked {len(done)} frames ({state.start}–{state.end - 1}).",
            str(streams["overlay"]),
            str(streams["person_1"]),
            str(streams["person_2"]),
            str(streams["background"]),
            [str(f) for f in files],
        )

    @staticmethod
    def _exports(
        state: SessionState, labels: Any, streams: dict[str, Path], out: Path
    ) -> list[Path]:
        """Masks (PNG zip, npz), the three streams and a zipped HHIRChat sample, for download."""
        from ovhhir_core.data.export import export_hhirchat_sample
        from ovhhir_core.masking import export_masks_npz, export_masks_png_zip

        stem = re.sub(r"[^\w-]+", "_", state.video_path.stem).strip("_") or "clip"
        sample_dir = out / "hhirchat_sample"
        export_hhirchat_sample(streams, sample_dir, sample_id=stem)
        sample_zip = Path(shutil.make_archive(str(out / f"{stem}_hhirchat"), "zip", sample_dir))
        return [
            export_masks_png_zip(labels, out / f"{stem}_masks_png.zip"),
            export_masks_npz(labels, out / f"{stem}_masks.npz"),
            streams["person_1"],
            streams["person_2"],
            streams["background"],
            sample_zip,
        ]

    # ------------------------------------------------------------------ helpers

    def _need_video(self, state: SessionState) -> Any:
        if state.info is None:
            raise gr.Error("Upload a video or pick an example first.", print_exception=False)
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

    def _render(self, state: SessionState) -> np.ndarray | None:
        """The annotation frame, with the current masks and legend when there are any."""
        from ovhhir_core.masking import overlay_frame
        from ovhhir_core.video import read_frame

        if state.info is None:
            return None
        if state.frame is None or state.frame[0] != state.frame_idx:
            state.frame = (state.frame_idx, read_frame(state.video_path, state.frame_idx))
        frame = state.frame[1]
        if state.tracking is None or not any(state.clicks.values()):
            return frame
        return overlay_frame(frame, state.tracking.label_map(state.frame_idx))

    @staticmethod
    def _clicks_text(state: SessionState) -> str:
        return ", ".join(
            f"{p.replace('person_', 'Person ')}: {n} click(s)" for p, n in state.clicks.items()
        )
