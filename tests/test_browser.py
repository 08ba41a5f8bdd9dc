"""The demo in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Upload, clicks on the frame, tracking, the four output videos, a streamed chat answer, and two
browser sessions at once that must not see each other's masks. Screenshots go to pytest's tmp dir.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

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
TIMEOUT_MS = 120_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


def centre(label_map: np.ndarray, value: int) -> tuple[int, int]:
    """(x, y) of a pixel well inside the region labelled ``value``."""
    ys, xs = np.nonzero(label_map == value)
    order = np.argsort(ys)
    y = int(ys[order[len(ys) // 2]])
    row = xs[ys == y]
    return int(row[len(row) // 2]), y


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Short synthetic clips (so tiny-model tracking is quick) and their first-frame labels.

    The clips are grey, so the overlay's tints tell the two people apart: red for person 1,
    blue for person 2, even after the lossy image encoding of the browser's frame.
    """
    from ovhhir_core.data.synthetic import render_clip
    from ovhhir_core.video import write_video

    out = tmp_path_factory.mktemp("browser-clips")
    result = {}
    for name, seed in (("Pushing", 2), ("Waving", 5)):
        clip = render_clip(name, seed=seed, size=(160, 120), num_frames=4, fps=4.0)
        grey = clip.frames.mean(axis=3, keepdims=True).astype(np.uint8).repeat(3, axis=3)
        path = write_video(out / f"{name}.mp4", iter(grey), clip.fps)
        result[name] = (str(path), clip.labels[0])
    return result


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from app.settings import Settings
    from app.state import Services
    from app.ui import build_demo, launch_kwargs

    root = tmp_path_factory.mktemp("browser-app")
    settings = Settings(preset="tiny", device="cpu", backend="ovhhir")
    services = Services(settings, root=root / "sessions")
    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1",
        server_port=None,
        prevent_thread_lock=True,
        quiet=True,
        **launch_kwargs(services),
    )
    yield demo.local_url
    demo.close()
    services.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#video-in").wait_for()
    return page


def upload(page, path: str, frames: int) -> None:
    page.locator("#video-in input[type=file]").set_input_files(path)
    page.locator("#video-info", has_text=f"{frames} frames").wait_for()
    page.locator("#frame img").wait_for()


def click_frame(page, x: int, y: int, person: str, expect: str) -> None:
    """Choose ``person`` and click image pixel (x, y); wait for the clicks line ``expect``."""
    page.locator("#person label", has_text=person).click()
    img = page.locator("#frame img")
    box = img.bounding_box()
    natural = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    page.mouse.click(
        box["x"] + (x + 0.5) * box["width"] / natural[0],
        box["y"] + (y + 0.5) * box["height"] / natural[1],
    )
    page.locator("#clicks", has_text=expect).wait_for()


def frame_pixels(page) -> np.ndarray:
    """The annotation frame currently shown, as an (H, W, 3) uint8 array."""
    from PIL import Image

    page.wait_for_function(
        "() => { const i = document.querySelector('#frame img'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    src = page.locator("#frame img").get_attribute("src")
    body = page.request.get(src).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))


def mask_owners(shown: np.ndarray) -> dict[int, int]:
    """How many pixels of a grey frame the overlay tinted for person 1 (red: R well above B)
    and for person 2 (blue: B well above R), outside the legend in the top-left corner."""
    r, b = shown[..., 0].astype(int), shown[..., 2].astype(int)
    outside_legend = np.ones(shown.shape[:2], bool)
    outside_legend[:40, :70] = False  # the P1/P2 legend is always drawn there
    return {
        1: int(((r - b > 40) & outside_legend).sum()),
        2: int(((b - r > 40) & outside_legend).sum()),
    }


def test_track_and_chat_in_a_browser(server, browser, clips, tmp_path):
    path, labels = clips["Pushing"]
    page = open_page(browser, server)
    upload(page, path, 4)
    click_frame(page, *centre(labels, 1), "Person 1", "Person 1: 1 click(s)")
    click_frame(page, *centre(labels, 2), "Person 2", "Person 2: 1 click(s)")
    page.locator("#track-btn").click()
    page.locator("#track-status", has_text="Tracked 4 frames").wait_for()
    for name in ("overlay", "person_1", "person_2", "background"):
        video = page.locator(f"#out-{name} video")
        video.wait_for()
        page.wait_for_function(
            "el => el.readyState >= 2 && el.duration > 0", arg=video.element_handle()
        )
        assert video.evaluate("v => v.duration") == pytest.approx(1.0, abs=0.3)
    overlay = page.locator("#out-overlay video")
    overlay.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("el => el.currentTime > 0", arg=overlay.element_handle())
    downloads = page.locator("#downloads").inner_text().replace("\n", "")
    assert all(
        f in downloads
        for f in (
            "Pushing_track.zip",
            "masks.npz",
            "masks.zip",
            "person_1.mp4",
        )
    ), downloads
    page.screenshot(path=str(tmp_path / "track.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    page.evaluate("""() => {
        window.__lengths = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll('#chatbot .message.bot, #chatbot [data-testid="bot"]');
            if (bots.length) window.__lengths.push(bots[bots.length - 1].innerText.length);
        }).observe(document.querySelector('#chatbot'), {subtree: true, childList: true, characterData: true});
    }""")
    page.locator("#question textarea").fill("What do <p1> and <p2> do?")
    page.locator("#send-btn").click()
    page.locator("#provenance", has_text="Answered by").wait_for()  # shown beside the answer
    page.wait_for_function("() => window.__lengths.some(n => n > 0)")
    page.wait_for_timeout(500)
    lengths = page.evaluate("window.__lengths")
    assert len({n for n in lengths if n > 0}) >= 2, lengths  # the answer arrived in pieces
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert (tmp_path / "chat.png").stat().st_size > 10_000


def test_two_sessions_do_not_see_each_others_masks(server, browser, clips):
    (path_a, labels_a), (path_b, labels_b) = clips["Pushing"], clips["Waving"]
    a, b = open_page(browser, server), open_page(browser, server)
    upload(a, path_a, 4)
    upload(b, path_b, 4)
    click_frame(a, *centre(labels_a, 1), "Person 1", "Person 1: 1 click(s)")
    click_frame(b, *centre(labels_b, 2), "Person 2", "Person 2: 1 click(s)")
    x, y = centre(labels_a, 1)
    click_frame(a, x, y + 3, "Person 1", "Person 1: 2 click(s)")  # a redraws after b's click
    assert a.locator("#clicks").inner_text().strip() == "Person 1: 2 click(s), Person 2: 0 click(s)"
    assert b.locator("#clicks").inner_text().strip() == "Person 1: 0 click(s), Person 2: 1 click(s)"
    shown_a, shown_b = frame_pixels(a), frame_pixels(b)
    assert shown_a.shape == shown_b.shape == (120, 160, 3)
    owners_a, owners_b = mask_owners(shown_a), mask_owners(shown_b)
    # each page shows its own clip with only its own person's mask
    assert owners_a[1] > 50 and owners_a[2] < 0.05 * owners_a[1], owners_a
    assert owners_b[2] > 50 and owners_b[1] < 0.05 * owners_b[2], owners_b


def test_examples_gallery_and_review_keys(server, browser):
    from app.ui import example_videos
    from ovhhir_core.video import read_frame

    page = open_page(browser, server)
    first, second = example_videos()[:2]
    page.get_by_text("Examples").first.wait_for()
    page.locator(
        ".gallery-item, button.gallery-item, [data-testid='examples'] button"
    ).first.click()
    info = page.locator("#video-info", has_text=Path(first).name)
    info.wait_for()
    assert "320×240 px" in info.inner_text() and "40 frames" in info.inner_text()
    # the example's first frame is on screen: it matches that clip, not another example
    page.wait_for_function(
        "() => { const i = document.querySelector('#frame img'); "
        "return i && i.complete && i.naturalWidth === 320; }"
    )
    shown = frame_pixels(page).astype(int)
    own = np.abs(shown - read_frame(first, 0)).mean()
    other = np.abs(shown - read_frame(second, 0)).mean()
    assert own < 8 and own < other / 2, (own, other)

    page.get_by_role("tab", name="Review").click()
    page.locator("#review-example").click()
    position = page.locator("#review-position")
    position.filter(has_text="Sample 1 of 3").wait_for()

    def sample_on_screen() -> tuple[str, str]:
        page.locator("#review-p1 video").wait_for()
        src = page.locator("#review-p1 video").get_attribute("src") or ""
        return src.rsplit("/", 1)[-1], page.locator("#review-truth").inner_text()

    one = sample_on_screen()
    page.locator("body").press("j")
    position.filter(has_text="Sample 2 of 3").wait_for()
    page.wait_for_function(
        "old => !(document.querySelector('#review-p1 video')?.src || '').endsWith(old)",
        arg=one[0],
    )
    two = sample_on_screen()
    assert two[0] != one[0] and two[1] != one[1]  # another sample's video and conversation
    page.locator("body").press("Alt+ArrowLeft")
    position.filter(has_text="Sample 1 of 3").wait_for()
    page.wait_for_function(
        "old => (document.querySelector('#review-p1 video')?.src || '').endsWith(old)",
        arg=one[0],
    )
    assert sample_on_screen() == one
    assert position.inner_text().startswith("Sample 1 of 3")
