"""The model-job queue (app/jobs.py): lanes, fair hand-over, cancel and drop, estimates, logs."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from app.jobs import Cancelled, ModelJobs


def chunks(n: int, order: list, name: str, gate: threading.Event | None = None):
    """Long work: ``n`` chunks, each recorded in ``order``; waits for ``gate`` first."""

    def work(job):
        if gate is not None:
            gate.wait(10)
        for i in range(n):
            order.append(name)
            time.sleep(0.01)
            job.step(i + 1, n)
        return name

    return work


def test_a_click_does_not_wait_for_another_sessions_long_job():
    jobs = ModelJobs(long_slots=1)
    release = threading.Event()
    started = threading.Event()

    def long_work(job):
        started.set()
        release.wait(10)  # holds the long lane until released
        return "tracked"

    track = jobs.submit("a", "track", long_work, frames=30)
    started.wait(5)
    assert jobs.run("b", "click", lambda job: "mask") == "mask"  # while "a" still tracks
    assert not track.finished
    release.set()
    assert track.result(10) == "tracked"


def test_long_jobs_of_two_sessions_take_turns_between_chunks():
    jobs = ModelJobs(long_slots=1, slice_s=0.0)  # hand over after every chunk
    order: list[str] = []
    gate = threading.Event()
    a = jobs.submit("a", "track", chunks(5, order, "a", gate), frames=5)
    while not a.state == "running":
        time.sleep(0.01)
    b = jobs.submit("b", "track", chunks(5, order, "b"), frames=5)
    while not jobs.position(b)[0] == 1 or b.state != "queued":
        time.sleep(0.01)
    gate.set()
    assert (a.result(10), b.result(10)) == ("a", "b")
    # "a" did not run all its chunks before "b" started: they alternated
    assert order.index("b") < len(order) - order[::-1].index("a") - 1, order
    assert order.count("a") == order.count("b") == 5


def test_without_others_waiting_a_long_job_keeps_the_model():
    jobs = ModelJobs(long_slots=1, slice_s=0.0)
    order: list[str] = []
    job = jobs.submit("a", "track", chunks(4, order, "a"), frames=4)
    assert job.result(10) == "a" and job.percent == 100 and job.waited_s < 1


def test_cancel_drop_and_latest():
    jobs = ModelJobs(long_slots=1)
    gate = threading.Event()
    first = jobs.submit("a", "encode", chunks(50, [], "x", gate), background=True)
    queued = jobs.submit("a", "track", chunks(3, [], "y"), frames=3)
    assert jobs.latest("a", "encode") is first and jobs.latest("b", "encode") is None
    assert jobs.drop("a", {"encode"}) == 1
    gate.set()
    with pytest.raises(Cancelled):
        first.result(10)
    assert first.state == "cancelled" and queued.result(10) == "y"
    assert jobs.latest("a", "encode") is None  # finished jobs are forgotten


def test_a_background_job_waits_while_foreground_jobs_do():
    jobs = ModelJobs(long_slots=1, slice_s=0.0)
    order: list[str] = []
    gate = threading.Event()
    blocker = jobs.submit("a", "track", chunks(1, order, "t", gate), frames=1)
    while blocker.state != "running":
        time.sleep(0.01)
    bg = jobs.submit("a", "encode", chunks(2, order, "bg"), background=True)
    fg = jobs.submit("b", "answer", chunks(2, order, "fg"))
    while fg.state != "queued" or bg.state != "queued" or jobs.status()["queue_length"] < 2:
        time.sleep(0.01)
    assert jobs.position(fg)[0] == 1 and jobs.position(bg)[0] == 2  # queued later, served first
    gate.set()
    bg.result(10), fg.result(10)
    assert order == ["t", "fg", "fg", "bg", "bg"]


def test_position_estimate_status_and_one_log_line_per_job(caplog):
    jobs = ModelJobs(long_slots=1)
    with caplog.at_level(logging.INFO, logger="app.jobs"):
        for _ in range(3):
            jobs.run("s1", "track", chunks(2, [], "t"), frames=2)
        jobs.run("s1", "click", lambda job: None, frames=1)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("job ")]
    assert len(lines) == 4
    assert lines[0].startswith("job session=s1 kind=track lane=long wait=")
    assert lines[0].endswith("frames=2 threads=0 done") and "lane=short" in lines[-1]
    gate = threading.Event()
    running = jobs.submit("s2", "track", chunks(2, [], "t", gate), frames=10)
    waiting = jobs.submit("s3", "track", chunks(2, [], "t"), frames=10)
    while waiting.state != "queued" or running.state != "running":
        time.sleep(0.01)
    place, ahead_s = jobs.position(waiting)
    assert place == 1 and ahead_s > 0  # the running job's remaining frames, at the recent rate
    assert "position 1 in line" in waiting.describe()
    status = jobs.status()
    assert status["queue_length"] == 1 and status["lanes"]["long"]["running"][0]["kind"] == "track"
    assert status["kinds"]["track"]["jobs"] == 3
    assert status["kinds"]["track"]["run_p95_s"] >= status["kinds"]["track"]["run_p50_s"] > 0
    gate.set()
    waiting.result(10)


def test_a_failing_job_hands_its_error_to_the_waiter():
    jobs = ModelJobs()

    def boom(job):
        raise ValueError("bad clip")

    with pytest.raises(ValueError, match="bad clip"):
        jobs.run("s", "track", boom)
    assert jobs.run("s", "track", lambda job: 1) == 1  # the lane was released


def test_a_click_on_an_encoded_frame_goes_before_waiting_frame_encodings():
    jobs = ModelJobs()
    order: list[str] = []
    gate = threading.Event()
    first = jobs.submit("a", "frame", chunks(1, order, "a-frame", gate))
    while first.state != "running":
        time.sleep(0.01)
    others = [jobs.submit(s, "frame", chunks(1, order, f"{s}-frame")) for s in ("b", "c")]
    while any(j.state != "queued" for j in others):
        time.sleep(0.01)
    click = jobs.submit("d", "click", chunks(1, order, "d-click"))
    while click.state != "queued":
        time.sleep(0.01)
    assert jobs.position(click)[0] == 1  # ahead of the two encodings that came first
    gate.set()
    for job in (first, *others, click):
        job.result(10)
    assert order == ["a-frame", "d-click", "b-frame", "c-frame"]
