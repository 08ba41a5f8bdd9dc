"""The model-job queue: every use of the shared models goes through one :class:`ModelJobs`.

Two lanes, so that a short job never waits behind a long one:

- the **short** lane (:data:`SHORT_KINDS`: a click, a first click that must encode its frame,
  *Find people*) runs one job at a time, in arrival order, except that a click on a frame that is
  already encoded goes before the waiting jobs that encode one (:data:`RANK`);
- the **long** lane (tracking, the timeline, answers, background work) runs ``long_slots`` jobs
  at a time. Long work is cut into chunks: between chunks it calls :meth:`Job.step`, which
  records progress, stops the job when it was cancelled, and once the job has held the model
  for ``slice_s`` seconds while others wait, gives the model to the next job in line and queues
  again behind it. So one session's 30-frame tracking never makes another session's question
  wait for all 30 frames. Background jobs (``background=True``) only run when no foreground job
  of the lane waits.

API (no Gradio, no model code; ``work`` is any callable)::

    jobs = ModelJobs(long_slots=1)
    job = jobs.submit(session, "track", work, frames=30)  # returns at once
    # work(job) runs in the queue's own thread when the lane has room; long work calls
    # job.step(done, total) between chunks (progress, cancellation, fair hand-over)
    for line in job.follow():           # while it waits or runs: "position 2 in line, ~14 s"
        ...
    value = job.result()                # its return value; its exception; Cancelled
    job.cancel()                        # stops it at its next step (or before it starts)
    jobs.drop(session, kinds={"encode"})  # cancel a session's jobs (e.g. the user left)
    jobs.latest(session, "encode")      # the newest job of that kind (e.g. to wait for it)
    jobs.status()                       # queue, running jobs, p50/p95 per kind (JSON-ready)

A background job that prepares something for later (for instance encoding a clip for questions
right after tracking) is ``submit(session, "encode", work, background=True)``; it reports
``job.step(done, total)`` (its percentage is ``job.percent``), a new tracking run or the user
leaving calls ``jobs.drop(session, {"encode"})``, and a question asked meanwhile calls
``jobs.latest(session, "encode").result()`` first.

Every finished job writes one log line: session, kind, lane, queue wait, run time, frames,
outcome.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SHORT, LONG = "short", "long"
#: Kinds that run in the short lane; every other kind runs in the long lane.
SHORT_KINDS = frozenset({"click", "frame", "find"})
#: Order inside a lane: lower first (then arrival). ``frame``: a click that opens the tracking
#: session and encodes its frame (seconds on a CPU), ``click``: one on an encoded frame (ms).
RANK = {"frame": 1, "find": 1}
HISTORY = 200  # finished jobs kept per kind for the percentiles and the estimates


class Cancelled(Exception):  # noqa: N818 - a state, not an error of the user
    """The job was cancelled or dropped before it finished."""


@dataclass(eq=False)
class Job:
    """One model job: its session, kind and lane, its progress and outcome."""

    session: str
    kind: str
    lane: str
    work: Callable[[Job], Any]
    frames: int = 0
    background: bool = False
    queue: ModelJobs | None = None
    seq: int = 0
    submitted: float = field(default_factory=time.monotonic)
    state: str = "queued"  # queued | running | done | failed | cancelled
    done: int = 0
    total: int = 0
    threads: int = 0  # CPU threads it was given (0: not set)
    waited_s: float = 0.0
    ran_s: float = 0.0
    _cancel: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)
    _value: Any = None
    _error: BaseException | None = None
    _held_since: float = 0.0

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def finished(self) -> bool:
        """True once the job ended (done, failed or cancelled)."""
        return self._finished.is_set()

    @property
    def percent(self) -> int:
        """Progress in percent, from the last :meth:`step` (0 before the first)."""
        return int(100 * self.done / self.total) if self.total else 0

    def cancel(self) -> None:
        """Stop the job: before it starts, or at its next :meth:`step`."""
        self._cancel.set()
        if self.queue is not None:
            self.queue._wake()

    def step(self, done: int, total: int) -> None:
        """Called by long work between chunks: record progress, raise :class:`Cancelled` when
        cancelled, and hand the model over when this job used its slice while others wait."""
        self.done, self.total = done, total
        if self.cancelled:
            raise Cancelled
        if self.queue is not None:
            self.queue._maybe_hand_over(self)

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the job; return its value or raise its exception (:class:`Cancelled`)."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"{self.kind} job still {self.state}")
        if self._error is not None:
            raise self._error
        return self._value

    def follow(self, interval_s: float = 1.0) -> Iterator[str]:
        """While the job waits or runs, yield a status line every ``interval_s`` seconds (and
        at once when it starts); returns when it has finished."""
        last = None
        while not self._finished.wait(0 if last is None else interval_s):
            line = self.describe()
            if line != last or self.state == "queued":
                yield line
            last = line

    def describe(self) -> str:
        """Where the job stands, for the person waiting: position in line and an estimate."""
        if self.state == "queued" and self.queue is not None:
            position, ahead_s = self.queue.position(self)
            return f"Waiting for the model: position {position} in line, about {ahead_s:.0f} s."
        if self.total:
            return f"Running: {self.done} of {self.total} ({self.percent}%)."
        return "Running."


@dataclass
class _Lane:
    slots: int
    running: list[Job] = field(default_factory=list)
    waiting: list[Job] = field(default_factory=list)


class ModelJobs:
    """The queue in front of the shared models (see the module docstring)."""

    def __init__(
        self,
        long_slots: int = 1,
        short_slots: int = 1,
        slice_s: float = 1.0,
        on_start: Callable[[Job], None] | None = None,
    ):
        self.slice_s = slice_s
        #: called in the job's thread each time it gets the model, before its work goes on
        #: (the app sets the job's CPU threads there)
        self.on_start = on_start
        self._lanes = {SHORT: _Lane(short_slots), LONG: _Lane(long_slots)}
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._history: dict[str, deque] = {}
        self._jobs: list[Job] = []  # unfinished jobs, for drop() and latest()

    # ---------------------------------------------------------------- submitting
    def submit(
        self,
        session: str,
        kind: str,
        work: Callable[[Job], Any],
        frames: int = 0,
        background: bool = False,
    ) -> Job:
        """Queue ``work(job)`` for ``session``; it runs in its own thread when its lane has
        room. ``frames``: how many frames it processes (for the log and the estimates)."""
        lane = SHORT if kind in SHORT_KINDS else LONG
        job = Job(session, kind, lane, work, frames=frames, background=background, queue=self)
        with self._cond:
            self._jobs.append(job)
        threading.Thread(target=self._run, args=(job,), name=f"job-{kind}", daemon=True).start()
        return job

    def run(self, session: str, kind: str, work: Callable[[Job], Any], frames: int = 0) -> Any:
        """:meth:`submit` and wait for the result."""
        return self.submit(session, kind, work, frames=frames).result()

    def drop(self, session: str, kinds: Iterable[str] | None = None) -> int:
        """Cancel the unfinished jobs of ``session`` (only ``kinds`` when given); how many."""
        kinds = set(kinds) if kinds is not None else None
        with self._cond:
            mine = [j for j in self._jobs if j.session == session]
        mine = [j for j in mine if kinds is None or j.kind in kinds]
        for job in mine:
            job.cancel()
        return len(mine)

    def latest(self, session: str, kind: str) -> Job | None:
        """The newest unfinished job of ``kind`` for ``session`` (None when there is none)."""
        with self._cond:
            found = [j for j in self._jobs if j.session == session and j.kind == kind]
        return found[-1] if found else None

    # ---------------------------------------------------------------- scheduling
    def _order(self, lane: _Lane) -> list[Job]:
        return sorted(lane.waiting, key=lambda j: (j.background, RANK.get(j.kind, 0), j.seq))

    def _acquire(self, job: Job) -> None:
        lane = self._lanes[job.lane]
        t = time.monotonic()
        with self._cond:
            job.seq, job.state = next(self._seq), "queued"
            lane.waiting.append(job)
            while not job.cancelled and not (
                len(lane.running) < lane.slots and self._order(lane)[0] is job
            ):
                self._cond.wait(1.0)
            lane.waiting.remove(job)
            self._cond.notify_all()
            if job.cancelled:
                raise Cancelled
            lane.running.append(job)
            job.state = "running"
        job.waited_s += time.monotonic() - t
        job._held_since = time.monotonic()
        if self.on_start is not None:
            self.on_start(job)

    def _release(self, job: Job) -> None:
        with self._cond:
            lane = self._lanes[job.lane]
            if job in lane.running:
                lane.running.remove(job)
                job.ran_s += time.monotonic() - job._held_since
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _maybe_hand_over(self, job: Job) -> None:
        if time.monotonic() - job._held_since < self.slice_s:
            return
        lane = self._lanes[job.lane]
        with self._cond:
            others = [j for j in lane.waiting if job.background or not j.background]
        if others:
            self._release(job)
            self._acquire(job)

    def _run(self, job: Job) -> None:
        outcome = "done"
        try:
            self._acquire(job)
            job._value = job.work(job)
            job.state = "done"
        except Cancelled as exc:
            job._error, job.state, outcome = exc, "cancelled", "cancelled"
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            job._error, job.state = exc, "failed"
            outcome = f"failed ({type(exc).__name__})"
        finally:
            self._release(job)
            with self._cond:
                if job in self._jobs:
                    self._jobs.remove(job)
                self._history.setdefault(job.kind, deque(maxlen=HISTORY)).append(
                    (job.waited_s, job.ran_s, job.frames)
                )
            log.info(  # before the result is handed out: whoever waited finds its line
                "job session=%s kind=%s lane=%s wait=%.2fs run=%.2fs frames=%d threads=%d %s",
                job.session[:12], job.kind, job.lane, job.waited_s, job.ran_s,
                job.done or job.frames, job.threads, outcome,
            )  # fmt: skip
            job._finished.set()

    # ---------------------------------------------------------------- estimates
    def estimate(self, job: Job) -> float:
        """Seconds of model time ``job`` still needs (from recent jobs of its kind)."""
        history = list(self._history.get(job.kind, ()))
        if not history:
            return 0.0
        runs = np.array([r for _, r, _ in history])
        frames = np.array([f for _, _, f in history])
        if job.frames and frames.sum():
            per_frame = float(np.median(runs[frames > 0] / frames[frames > 0]))
            left = max(job.frames - job.done, 0)
            return per_frame * left
        return float(np.median(runs))

    def position(self, job: Job) -> tuple[int, float]:
        """``(place in line counting from 1, estimated seconds of work ahead of it)``."""
        with self._cond:
            lane = self._lanes[job.lane]
            order = self._order(lane)
            ahead = order[: order.index(job)] if job in order else []
            running = list(lane.running)
        work = sum(self.estimate(j) for j in ahead + running)
        return len(ahead) + 1, work / max(lane.slots, 1)

    def status(self) -> dict[str, Any]:
        """What an operator needs: jobs waiting and running per lane, and for each kind the
        p50/p95 of queue wait and run time over its last finished jobs."""
        with self._cond:
            lanes = {
                name: {
                    "slots": lane.slots,
                    "waiting": len(lane.waiting),
                    "waiting_kinds": sorted(j.kind for j in lane.waiting),
                    "running": [
                        {
                            "session": j.session[:12],
                            "kind": j.kind,
                            "threads": j.threads,
                            "progress": f"{j.done}/{j.total}" if j.total else None,
                            "running_s": round(time.monotonic() - j._held_since, 2),
                        }
                        for j in lane.running
                    ],
                }
                for name, lane in self._lanes.items()
            }
            history = {k: list(v) for k, v in self._history.items()}
        kinds = {}
        for kind, rows in history.items():
            waits = np.array([w for w, _, _ in rows])
            runs = np.array([r for _, r, _ in rows])
            kinds[kind] = {
                "jobs": len(rows),
                "wait_p50_s": round(float(np.percentile(waits, 50)), 3),
                "wait_p95_s": round(float(np.percentile(waits, 95)), 3),
                "run_p50_s": round(float(np.percentile(runs, 50)), 3),
                "run_p95_s": round(float(np.percentile(runs, 95)), 3),
            }
        queued = sum(lane["waiting"] for lane in lanes.values())
        return {"queue_length": queued, "lanes": lanes, "kinds": kinds}
