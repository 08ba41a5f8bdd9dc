"""Real browsers under load: no click is lost while another session tracks, and a small
contention run (browsers + a busy process beside ``python app.py``) that reports every step.

The full measurement (8 sessions, two busy processes, three runs) is
``python benchmarks/bench_browser_load.py``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request

import numpy as np
import pytest

from tests.browser_load import (
    CHROMIUM,
    LAUNCH_ARGS,
    app_server,
    busy_processes,
    real_clips,
    report,
    run_browsers,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}"),
]


def _inside(label_map: np.ndarray, value: int) -> tuple[int, int]:
    ys, xs = np.nonzero(label_map == value)
    y = int(np.median(ys))
    row = xs[ys == y]
    return int(row[len(row) // 2]), y


def _clip(tmp_path, name: str, seed: int, frames: int):
    from ovhhir_core.data.synthetic import render_clip
    from ovhhir_core.video import write_video

    clip = render_clip(name, seed=seed, size=(160, 120), num_frames=frames, fps=8.0)
    path = write_video(tmp_path / f"{name}{seed}.mp4", iter(clip.frames), clip.fps)
    return str(path), clip.labels[0]


def _page(browser, url: str, clip: str, frames: int):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(240_000)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#video-in input[type=file]").set_input_files(clip)
    page.locator("#video-info", has_text=f"{frames} frames").wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#frame img'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    return page


def _click(page, person: str, xy: tuple[int, int]) -> None:
    """Choose ``person`` and click image pixel ``xy``; does not wait for the answer."""
    page.locator("#person label", has_text=person).click()
    img = page.locator("#frame img")
    box = img.bounding_box()
    nw, nh = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    x, y = xy
    page.mouse.click(
        box["x"] + (x + 0.5) * box["width"] / nw, box["y"] + (y + 0.5) * box["height"] / nh
    )


def test_clicks_during_another_sessions_tracking_are_neither_lost_nor_kept_waiting(tmp_path):
    """Session A tracks 40 frames; meanwhile session B clicks person 1 and at once person 2.
    Both of B's clicks must register, and before A's tracking has finished."""
    from playwright.sync_api import sync_playwright

    from app.settings import Settings
    from app.state import Services
    from app.ui import build_demo, launch_kwargs

    services = Services(Settings(preset="tiny", device="cpu", backend="ovhhir"), root=tmp_path)
    services.segmenters()
    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_kwargs(services)
    )
    clip_a, labels_a = _clip(tmp_path, "Pushing", 2, 40)
    clip_b, labels_b = _clip(tmp_path, "Waving", 5, 4)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            a = _page(browser, demo.local_url, clip_a, 40)
            for i, person in enumerate(("Person 1", "Person 2"), 1):
                _click(a, person, _inside(labels_a, i))
                a.locator("#clicks", has_text=f"{person}: 1 click(s)").wait_for()
            b = _page(browser, demo.local_url, clip_b, 4)
            a.locator("#track-btn").click()
            a.locator("#track-status", has_text="Tracking").wait_for()
            _click(b, "Person 1", _inside(labels_b, 1))
            _click(b, "Person 2", _inside(labels_b, 2))  # while the first is being answered
            b.locator("#clicks", has_text="Person 1: 1 click(s)").wait_for()
            a_status = a.locator("#track-status").inner_text()
            a.locator("#track-status", has_text="Tracked").wait_for()
            b.wait_for_timeout(3000)  # any click still on its way has arrived by now
            clicks_b = b.locator("#clicks").inner_text().strip()
            browser.close()
    finally:
        demo.close()
        services.close()
    assert clicks_b == "Person 1: 1 click(s), Person 2: 1 click(s)", clicks_b  # none lost
    assert "Tracked" not in a_status, a_status  # B did not wait for A's whole tracking job


def test_small_contention_run_logs_every_job_and_reports_status(tmp_path):
    """Two browser sessions on 10-frame real clips with a busy process beside the server: both
    finish, each model job has its log line, and /status.json says what ran."""
    clips = real_clips(tmp_path / "clips", 2, frames=10)
    log = tmp_path / "server.log"
    with app_server(tmp_path, log=log) as url:
        with busy_processes(1, limit_s=600):
            sessions, wall = run_browsers(url, clips, timeout_s=300)
        status = json.load(urllib.request.urlopen(url + "status.json", timeout=30))
    print("\n" + report(sessions, wall))
    assert [s.error for s in sessions] == [None, None]
    lines = [line for line in log.read_text().splitlines() if " job session=" in line]
    tracks = [line for line in lines if "kind=track" in line]
    assert len(tracks) == 2 and all(re.search(r"frames=10 threads=\d+ done$", t) for t in tracks)
    # the busy process keeps a core: tracking ran on the one left, not on two fighting for it
    assert any("threads=1 " in t for t in tracks), tracks
    assert status["cpu"]["budget"] >= 1 and status["cpu"]["others"] > 0
    assert len({re.search(r"session=(\w+)", t).group(1) for t in tracks}) == 2
    clicks = [line for line in lines if re.search(r"kind=(frame|click) ", line)]
    assert len(clicks) == 4 and all("lane=short" in c for c in clicks), lines
    assert sum("kind=frame" in c for c in clicks) == 2  # each session's first click encodes
    assert all(re.search(r"wait=\d+\.\d\ds run=\d+\.\d\ds", line) for line in lines)
    # nothing a user asked for is left; only the clips' background encoding for questions may be
    assert status["kinds"]["track"]["jobs"] == 2
    left = [k for lane in status["lanes"].values() for k in lane["waiting_kinds"]]
    left += [j["kind"] for lane in status["lanes"].values() for j in lane["running"]]
    assert set(left) <= {"encode"}, status
    assert status["kinds"]["frame"]["run_p95_s"] >= status["kinds"]["frame"]["run_p50_s"] > 0
    assert status["process"]["rss_mb"] > 50 and status["process"]["threads"] > 1
    # the uploads stay in Gradio's cache; the sessions' folders go once their pages closed
    assert status["disk"]["used_bytes"] > 0 and status["disk"]["session_folders"] <= 2
