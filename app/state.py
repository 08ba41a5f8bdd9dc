"""Per-user session state and the process-wide, read-only model services.

``Services`` holds the frozen models, shared by every user and loaded lazily on first use under a
lock (so a missing checkpoint never blocks start-up, and tracking still works while the LLM is
missing). ``SessionState`` is what one browser tab owns (kept in ``gr.State``): its video, its
tracking session, its outputs, its chat and its review progress, plus a private folder under the
process's :class:`~app.storage.SessionStore`, deleted when Gradio drops the state, when the session
is idle past its time-to-live, and when the process stops.

Every use of the models goes through ``Services.jobs`` (:class:`app.jobs.ModelJobs`): clicks in
a short lane, tracking and answers in a long lane that is shared fairly between sessions.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.jobs import ModelJobs
from app.settings import Settings
from app.storage import PART, SessionStore, hand_out
from ovhhir_core.cpushare import CpuShare, cap_threads, use_threads
from ovhhir_core.errors import UserError
from ovhhir_core.review import ReviewSet

log = logging.getLogger(__name__)


def on_gpu(duration: int = 60) -> Callable[[Callable], Callable]:
    """``spaces.GPU(duration=...)`` on Hugging Face ZeroGPU; a no-op decorator elsewhere."""
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return lambda fn: fn
    return spaces.GPU(duration=duration)


class Services:
    """Shared, read-only models: segmenters (click + tracker), answerer, sentence embedder.

    Each is loaded on first use. A failure (for instance :class:`MissingWeightsError`) is kept and
    re-raised as a :class:`UserError` on every later use, so the UI can say what is missing while
    everything that does not need that model keeps working.
    """

    def __init__(self, settings: Settings, root: str | Path | None = None):
        """``root``: the shared folder for every process's files (default ``settings.root``,
        else ``<tmp>/ovhhir-app``); folders of dead processes there are removed now."""
        from ovhhir_core.config import load_preset
        from ovhhir_core.device import resolve_device, resolve_dtype

        self.settings = settings
        self.preset = load_preset(settings.preset, settings.weights, device=settings.device)
        if settings.quantize and getattr(self.preset, "zeroshot", None) is not None:
            self.preset.zeroshot.quantize = settings.quantize
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        self.store = SessionStore(root or settings.root, settings.session_ttl_s)
        self.root = self.store.dir  # this process's folder
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._errors: dict[str, UserError] = {}
        self._loading: str | None = None  # the model being loaded now (read without the lock)
        #: cores busy with other processes, so each model job gets threads that will run
        self.cpu = CpuShare(budget=cap_threads()).start()
        self.jobs = ModelJobs(long_slots=settings.concurrency_limit, on_start=self._give_threads)

    def _give_threads(self, job: Any) -> None:
        """Each time a model job gets the model: as many CPU threads as the machine has free."""
        job.threads = self.cpu.threads()
        use_threads(job.threads)

    def _get(self, name: str, build: Callable[[], Any]) -> Any:
        loaded = self._loaded.get(name)  # a loaded model never waits for another one loading
        if loaded is not None:
            return loaded
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            if name in self._errors:
                raise self._errors[name]
            log.info("loading %s (preset %s, device %s)", name, self.preset.name, self.device)
            self._loading = name
            try:
                value = build()
            except UserError as exc:
                self._errors[name] = exc
                raise
            finally:
                self._loading = None
            self._loaded[name] = value
            return value

    def segmenters(self) -> Any:
        """The click segmenter and the video tracker (``ovhhir_core.tracking.Segmenters``)."""
        from ovhhir_core.tracking import load_segmenters

        return self._get("segmenters", lambda: load_segmenters(self.preset, self.device))

    def detector(self) -> Any:
        """The person detector behind *Find people* (``ovhhir_core.tracking.detector``)."""
        from ovhhir_core.tracking.detector import load_detector

        lock = self.segmenters().lock  # outside _get: its lock is not re-entrant
        return self._get("detector", lambda: load_detector(self.preset.detector, self.device, lock))

    def answerer(self, backend: str | None = None) -> Any:
        """The answerer of ``backend`` (``auto|ovhhir|zeroshot``; default ``settings.backend``;
        an ``ovhhir_core.answering.Answerer``), shared read-only by every user."""
        from ovhhir_core.answering import load_answerer

        s = self.settings
        backend = backend or s.backend
        name = "answerer" if backend == s.backend else f"answerer:{backend}"

        def build() -> Any:
            return load_answerer(self.preset, backend, self.device, self.dtype, s.checkpoint)

        return self._get(name, build)

    def embedder(self) -> Any:
        """The sentence embedder used for cosine similarity and open-vocabulary ranking."""
        from ovhhir_core.eval.embedder import load_embedder

        return self._get("embedder", lambda: load_embedder(self.preset.embedder, self.device))

    def warm_up(self) -> None:
        """Load every model now (e.g. in a background thread at start-up); failures are kept."""
        for load in (self.segmenters, self.embedder, self.answerer):
            try:
                load()
            except UserError as exc:
                log.warning("%s", exc)
            except Exception:  # noqa: BLE001 - a broken model must not stop the server
                log.exception("loading failed")

    def status(self) -> dict[str, str]:
        """``{name: "loaded" | "loading" | "not loaded yet" | error message}`` for the status
        panel."""
        out = {}
        loading = self._loading
        for name in ("segmenters", "answerer", "embedder"):
            if name in self._loaded:
                out[name] = "loaded"
            elif name == loading or (loading or "").startswith(name + ":"):
                out[name] = "loading"
            elif name in self._errors:
                out[name] = str(self._errors[name])
            else:
                out[name] = "not loaded yet"
        return out

    def new_session(self) -> SessionState:
        """A fresh per-user state; its folder is made on first write. Sessions idle past their
        time-to-live are swept first."""
        self.store.sweep_expired()
        return SessionState(workdir=self.store.new_workdir())

    def close(self) -> None:
        """Delete every file of this process (its sessions and Gradio's cache)."""
        self.cpu.stop()
        self.store.close()


@dataclass
class SessionState:
    """Everything one user owns. Lives in ``gr.State``; never shared between users."""

    workdir: Path
    video_path: Path | None = None
    info: Any = None  # ovhhir_core.video.VideoInfo
    start: int = 0
    end: int | None = None
    frame_idx: int = 0
    frame: tuple[int, Any] | None = None  # (frame_idx, (H, W, 3) uint8): the frame on screen
    tracking: Any = None  # ovhhir_core.tracking.TrackingSession
    people: Any = None  # app.track_people.PeopleState: proposals shown, a pending box corner
    outputs: dict[str, Path] = field(default_factory=dict)  # streams, overlay, exports
    conversation: Any = None  # ovhhir_core.answering.Conversation about the tracked clip
    conversation_key: tuple | None = None  # (frames, use_facts) it was opened with
    messages: list[dict[str, str]] = field(default_factory=list)  # gr.Chatbot messages
    review: ReviewSet = field(default_factory=ReviewSet)
    cancel_requested: bool = False  # set by the Cancel button, read between tracked frames
    track_fps: float | None = None  # tracking rate asked for in the Track tab (None: the preset's)
    version: int = 0  # bumped for every new video; names output folders
    sid: str = field(default_factory=lambda: secrets.token_hex(4))  # for logs, not a secret
    handed: list[Path] = field(default_factory=list)  # folders of files handed to the browser

    def reset_video(self) -> None:
        """Forget the video, tracking, outputs and chat (the review tab is kept)."""
        self.video_path = None
        self.info = None
        self.start, self.end, self.frame_idx = 0, None, 0
        self.frame = None
        self.tracking = None
        self.people = None
        self.reset_outputs()
        self.version += 1

    def reset_outputs(self) -> None:
        """Forget tracking results and the chat that was built on them."""
        self.outputs = {}
        self.conversation = None
        self.conversation_key = None
        self.messages = []

    def out_dir(self, name: str) -> Path:
        """A fresh ``<name>.part`` folder for this video's outputs inside the session folder;
        :func:`app.storage.publish` renames it to ``<name>`` once every file is written."""
        path = self.workdir / f"v{self.version}" / f"{name}{PART}"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def hand_out(self, path: str | os.PathLike) -> str:
        """The path to return to this session's browser for ``path`` (see
        :func:`app.storage.hand_out`); removed with the session."""
        served = hand_out(path)
        self.handed.append(Path(served).parent)
        return served

    def touch(self) -> None:
        """Mark the session active (its idle time-to-live restarts). When its folder was swept
        meanwhile, forget the results that lived there."""
        if self.workdir.exists():
            os.utime(self.workdir)
            return
        if any(self.workdir in Path(p).parents for p in self.outputs.values()):
            self.reset_outputs()
        source = self.review.source
        if source is not None and self.workdir in source.parents:
            self.review = ReviewSet()

    def cleanup(self, jobs: ModelJobs | None = None) -> None:
        """Delete this session's files (gr.State ``delete_callback``) and cancel its model
        jobs in ``jobs``."""
        if jobs is not None:
            jobs.drop(self.sid)
        self.tracking = None
        self.conversation = None
        shutil.rmtree(self.workdir, ignore_errors=True)
        for folder in self.handed:
            shutil.rmtree(folder, ignore_errors=True)
        self.handed = []


def delete_session(state: Any, jobs: ModelJobs | None = None) -> None:
    """``gr.State`` delete callback: clean up a SessionState (and cancel its jobs in
    ``jobs``), ignore anything else."""
    if isinstance(state, SessionState):
        log.info("cleaning up session %s", state.sid)
        state.cleanup(jobs)
