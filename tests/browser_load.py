"""Many real browser sessions at once against a demo server, with CPU contention beside it.

Used by tests/test_app_browser_load.py (small, in the default run where Chromium exists) and
benchmarks/bench_browser_load.py (8 sessions, 3 runs, by hand). Each session opens the page,
uploads its clip, clicks person 1 then person 2, presses Track and waits for the four videos; the
time of every step is recorded. The server runs in its own process (``python app.py``) so that
busy processes compete with it for the cores as they would on a shared machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(os.environ.get("OVHHIR_APP_DIR") or Path(__file__).resolve().parent.parent)
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEPS = ("page", "upload", "click 1", "click 2", "track", "videos")
#: A real street scene shipped with Gradio (its own media assets), cut to short clips.
REAL_VIDEO = Path(__import__("gradio").__file__).parent / "media_assets" / "videos" / "b.mp4"


@dataclass
class BrowserSession:
    name: str
    clip: Path
    steps: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    error: str | None = None


def real_clips(out: Path, n: int, frames: int = 30) -> list[Path]:
    """``n`` clips of ``frames`` frames each, cut at different offsets from a real video."""
    from ovhhir_core.video import iter_frames, probe, write_video

    out.mkdir(parents=True, exist_ok=True)
    info = probe(REAL_VIDEO)
    clips = []
    for i in range(n):
        start = (i * 13) % max(1, info.num_frames - frames)
        frames_ = (f for _, f in iter_frames(REAL_VIDEO, start, start + frames))
        clips.append(Path(write_video(out / f"street{i:02d}.mp4", frames_, info.fps)))
    return clips


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(root: Path, extra: list[str] | None = None, log: Path | None = None):
    """``python app.py`` (tiny preset, CPU) on a free port; yields its URL once it answers."""
    port = free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(root / "gradio-tmp")}
    cmd = [sys.executable, str(ROOT / "app.py"), "--preset", "tiny", "--device", "cpu"]
    cmd += ["--port", str(port), "--root", str(root / "app"), *(extra or [])]
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start (log: {log})") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


@contextmanager
def busy_processes(n: int = 2, limit_s: float = 1800):
    """``n`` processes spinning on a core each (bounded by ``limit_s``), stopped at the end."""
    code = f"import time\nend = time.time() + {limit_s}\nwhile time.time() < end: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


async def _click(page, x: float, y: float) -> None:
    img = page.locator("#frame img")
    await page.wait_for_function(
        "() => { const i = document.querySelector('#frame img'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    box = await img.bounding_box()
    nw, nh = await img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    await page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    assert nw and nh


async def one_session(browser, url: str, s: BrowserSession, timeout_s: float) -> None:
    """Run one user's steps, recording the seconds each took (errors are recorded)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    t0 = last = time.perf_counter()

    def step(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        s.steps[name] = now - last
        last = now

    try:
        await page.goto(url, wait_until="domcontentloaded")
        await page.locator("#video-in input[type=file]").wait_for(state="attached")
        step("page")
        await page.locator("#video-in input[type=file]").set_input_files(str(s.clip))
        await page.locator("#video-info", has_text=s.clip.name).wait_for()
        await page.locator("#frame img").wait_for()
        step("upload")
        for i, (person, x) in enumerate((("Person 1", 0.35), ("Person 2", 0.65)), 1):
            await page.locator("#person label", has_text=person).click()
            await _click(page, x, 0.6)
            await page.locator("#clicks", has_text=f"{person}: 1 click(s)").wait_for()
            step(f"click {i}")
        await page.locator("#track-btn").click()
        await page.locator("#track-status", has_text="Tracked").wait_for()
        step("track")
        for name in ("overlay", "person_1", "person_2", "background"):
            video = page.locator(f"#out-{name} video")
            await video.wait_for()
            await page.wait_for_function(
                "el => el.readyState >= 1 && el.duration > 0", arg=await video.element_handle()
            )
        step("videos")
    except Exception as exc:  # noqa: BLE001 - every failure is reported with its step
        clicks = await page.locator("#clicks").inner_text(timeout=5000)
        s.error = f"{type(exc).__name__} after {list(s.steps)} (clicks: {clicks!r}): {exc}"[:600]
    s.total = time.perf_counter() - t0
    await context.close()


async def _run(url: str, sessions: list[BrowserSession], timeout_s: float) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        t = time.perf_counter()
        await asyncio.gather(*(one_session(browser, url, s, timeout_s) for s in sessions))
        wall = time.perf_counter() - t
        await browser.close()
    return wall


def run_browsers(url: str, clips: list[Path], timeout_s: float = 400) -> tuple[list, float]:
    """One browser session per clip, all at once; returns the sessions and the wall time."""
    sessions = [BrowserSession(f"s{i}", c) for i, c in enumerate(clips)]
    return sessions, asyncio.run(_run(url, sessions, timeout_s))


def report(sessions: list[BrowserSession], wall: float) -> str:
    """One line per session with the seconds of each step, then the slowest and the wall."""
    lines = []
    for s in sessions:
        steps = "  ".join(f"{k} {s.steps[k]:6.1f}" for k in STEPS if k in s.steps)
        lines.append(
            f"{s.name}: total {s.total:6.1f} s | {steps}"
            + (f"  ERROR {s.error}" if s.error else "")
        )
    ok = sum(s.error is None for s in sessions)
    slowest = max(s.total for s in sessions)
    lines.append(f"sessions ok {ok} of {len(sessions)}, slowest {slowest:.1f} s, wall {wall:.1f} s")
    return "\n".join(lines)
