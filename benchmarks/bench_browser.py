"""Click-to-mask latency through a real browser (headless Chromium + Playwright).

    python benchmarks/bench_browser.py [--preset tiny] [--clicks 8] [--video assets/examples/X.mp4]

Serves the demo locally, then for a cold server (models not loaded) and a warm one (models loaded
at start-up, as app.py does in the background) measures

* page load → first mask: from navigation start, through the upload and the first click, until
  the frame with the mask is shown (includes the frame's SAM embedding);
* click → mask for later clicks on the same frame (the embedding is cached), median and range.

Prints the figures; the ratio first/later shows what the embedding cache and warm-up save.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app_utils import CHROMIUM, LAUNCH_ARGS  # noqa: E402


def person_points(video: Path) -> list[tuple[int, int]]:
    """Click targets: pixels spread over the middle of the frame (where the examples' people are)."""
    from ovhhir_core.video import probe

    info = probe(video)
    w, h = info.width, info.height
    return [(int(w * fx), int(h * fy)) for fx in (0.35, 0.45, 0.55, 0.65) for fy in (0.5, 0.6)]


def click(page, x: int, y: int) -> None:
    img = page.locator("#frame img")
    box = img.bounding_box()
    nw, nh = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    page.mouse.click(
        box["x"] + (x + 0.5) * box["width"] / nw, box["y"] + (y + 0.5) * box["height"] / nh
    )


def run_session(browser, url: str, video: Path, clicks: int) -> tuple[float, list[float]]:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(300_000)
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#video-in input[type=file]").set_input_files(str(video))
    page.locator("#video-info", has_text=video.name).wait_for()
    page.locator("#frame img").wait_for()
    shown = time.perf_counter() - t0
    points = person_points(video)
    click(page, *points[0])
    page.locator("#clicks", has_text="Person 1: 1 click(s)").wait_for()
    first = time.perf_counter() - t0
    print(f"    page load -> frame shown {shown:.2f} s; first click -> mask {first - shown:.2f} s")
    later = []
    for i in range(1, clicks + 1):
        x, y = points[i % len(points)]
        t = time.perf_counter()
        click(page, x, y)
        page.locator("#clicks", has_text=f"Person 1: {i + 1} click(s)").wait_for()
        later.append(time.perf_counter() - t)
    page.context.close()
    return first, later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clicks", type=int, default=8)
    parser.add_argument("--video", type=Path, default=ROOT / "assets/examples/Pushing.mp4")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from app.settings import Settings
    from app.state import Services
    from app.ui import build_demo, launch_kwargs

    print(
        f"preset {args.preset}, device {args.device}, video {args.video.name}, "
        f"{args.clicks} later clicks"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        for mode in ("cold", "warm"):
            services = Services(
                Settings(preset=args.preset, device=args.device),
                root=tempfile.mkdtemp(prefix="bench-browser-"),
            )
            if mode == "warm":
                t = time.perf_counter()
                services.segmenters()
                print(f"[warm] segmenters loaded at start-up in {time.perf_counter() - t:.2f} s")
            demo = build_demo(services)
            demo.queue(default_concurrency_limit=None).launch(
                server_name="127.0.0.1",
                prevent_thread_lock=True,
                quiet=True,
                **launch_kwargs(services),
            )
            try:
                first, later = run_session(browser, demo.local_url, args.video, args.clicks)
            finally:
                demo.close()
                services.close()
            med = statistics.median(later)
            print(f"[{mode}] page load -> first mask: {first:.2f} s")
            print(
                f"[{mode}] later click -> mask: median {med * 1000:.0f} ms "
                f"(min {min(later) * 1000:.0f}, max {max(later) * 1000:.0f}); "
                f"first/later ratio {first / med:.1f}x"
            )
        browser.close()


if __name__ == "__main__":
    main()
