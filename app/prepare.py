"""Answer before the question: the tracked clip is encoded for questions in the background.

As soon as tracking ends, :meth:`Preparer.start` submits one background ``encode`` job for the
session to the model-job queue (:mod:`app.jobs`): it loads the answerer when needed and opens the
conversation (frames sampled, people marked, the video encoded) with the Chat tab's frames and
facts settings, reporting progress after every model layer. The Chat tab shows "Preparing the
video for questions … n%" while it runs. A question asked meanwhile waits for it
(:meth:`Preparer.wait`) instead of encoding the clip a second time. A new video, click or
tracking run drops it (:meth:`Preparer.drop`), and so does the user leaving (the session's jobs
are dropped with it); a job that finishes after its clip changed keeps nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.jobs import Cancelled
from ovhhir_core.errors import UserError
from ovhhir_core.streams import STREAMS

log = logging.getLogger(__name__)

#: The job kind of a clip's encoding for questions.
ENCODE = "encode"


def preparing_line(percent: int) -> str:
    """What the Chat tab shows while the clip is encoded."""
    return f"_Preparing the video for questions … {percent}%_"


def tracked_clip(state: Any) -> Any:
    """The session's tracked clip (an ``ovhhir_core.answering.TrackedClip``): its three
    streams, label maps and, when the timeline has them, the measured facts."""
    from app.timeline import clip_facts
    from ovhhir_core.answering import TrackedClip

    masks = state.outputs.get("masks")
    return TrackedClip(
        streams={k: Path(state.outputs[k]) for k in STREAMS},
        masks=Path(masks) if masks else None,
        facts=clip_facts(state),
    )


def clip_signature(state: Any) -> tuple | None:
    """The tracked streams' paths and modification times (None before tracking): a new
    tracking run changes it even when it writes to the same files."""
    paths = [state.outputs.get(k) for k in STREAMS]
    if not all(paths):
        return None
    try:
        return tuple((str(p), Path(p).stat().st_mtime_ns) for p in paths)
    except OSError:
        return None


class Preparer:
    """Encodes a session's tracked clip for questions before they are asked."""

    def __init__(self, services: Any):
        self.services = services

    def start(self, state: Any, frames: float, use_facts: bool) -> Iterator[str]:
        """Drop an earlier preparation and encode the clip now (in the background); yields the
        Chat tab's status line until it is ready ("" when there is nothing to prepare)."""
        self.drop(state)
        signature = clip_signature(state)
        key = (int(frames), bool(use_facts))
        if signature is None or (state.conversation is not None and state.conversation_key == key):
            yield ""
            return
        job = self.services.jobs.submit(
            state.sid,
            ENCODE,
            lambda job: self._encode(job, state, key, signature),
            frames=key[0],
            background=True,
        )
        started = time.monotonic()
        for _ in job.follow(0.5):
            yield preparing_line(job.percent)
        try:
            job.result()
        except Cancelled:
            yield ""
            return
        except UserError as exc:  # shown when a question is asked, too
            yield f"_The video could not be prepared: {exc}_"
            return
        yield f"_The video is ready for questions (prepared in {time.monotonic() - started:.0f} s)._"

    def _encode(self, job: Any, state: Any, key: tuple[int, bool], signature: tuple) -> Any:
        from ovhhir_core.zeroshot.progress import encoding_progress

        answerer = self.services.answerer()
        with encoding_progress(answerer, job.step):
            conversation = answerer.open(tracked_clip(state), frames=key[0], use_facts=key[1])
        if clip_signature(state) == signature and state.conversation_key != key:
            state.conversation, state.conversation_key = conversation, key
            state.messages = []
        return conversation

    def wait(self, state: Any) -> Iterator[int]:
        """While this session's clip is being encoded, yield its percentage (about twice a
        second); returns once it is done, failed or dropped."""
        job = self.services.jobs.latest(state.sid, ENCODE)
        if job is None:
            return
        for _ in job.follow(0.5):
            yield job.percent
        try:
            job.result()
        except (Cancelled, UserError) as exc:  # the question's own job reopens and reports
            log.info("pre-encoding did not finish (%s); the question encodes the clip", exc)

    def drop(self, state: Any) -> str:
        """Cancel this session's preparation (a new video, click or tracking run)."""
        self.services.jobs.drop(state.sid, {ENCODE})
        return ""
