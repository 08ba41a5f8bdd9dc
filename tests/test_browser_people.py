"""Picking people in a real headless Chromium: *Find people*, one click on a numbered proposal for
Person 1, a box (two corner clicks, undo, again) for Person 2, then Track.

The tiny preset's detector has random weights: its proposals are noise, but the same noise in
this process (its random build is seeded), so the test knows where a proposal is and clicks in it.
"""

from __future__ import annotations

from test_browser import browser, click_frame, clips, open_page, pytestmark, server, upload

__all__ = ["browser", "clips", "pytestmark", "server"]  # fixtures and marks used from there


def _a_proposal(path: str) -> tuple[int, int]:
    """A pixel inside a tiny-detector proposal on frame 0 of ``path``."""
    import torch

    from ovhhir_core.config import load_preset
    from ovhhir_core.tracking.detector import load_detector
    from ovhhir_core.video import read_frame

    found = load_detector(load_preset("tiny").detector, torch.device("cpu")).detect(
        read_frame(path, 0)
    )
    assert found, "the tiny detector found nothing at threshold 0"
    x0, y0, x1, y1 = found[0].box
    return int((x0 + x1) / 2), int((y0 + y1) / 2)


def test_pick_a_proposal_and_draw_a_box_in_a_browser(server, browser, clips, tmp_path):
    path, labels = clips["Pushing"]
    page = open_page(browser, server)
    upload(page, path, 4)
    page.locator("#find-people").click()
    info = page.locator("#people-info", has_text="People on frame 0")
    info.wait_for()
    assert "random weights" in info.inner_text()  # what produced the proposals is said
    click_frame(page, *_a_proposal(path), "Person 1", "Person 1: 1 click(s)")
    assert "proposal" in page.locator("#clicks").inner_text()

    page.locator("#polarity label", has_text="Box").click()
    ys, xs = (labels == 2).nonzero()
    first, second = (int(xs.min()), int(ys.min())), (int(xs.max()), int(ys.max()))
    click_frame(page, *first, "Person 2", "first corner")
    page.get_by_role("button", name="Undo last click").click()
    page.locator("#clicks", has_text="corner removed").wait_for()
    click_frame(page, *first, "Person 2", "first corner")
    click_frame(page, *second, "Person 2", "Person 2: 1 click(s)")
    page.get_by_role("button", name="Undo last click").click()
    page.locator("#clicks", has_text="Person 2: 0 click(s)").wait_for()
    click_frame(page, *second, "Person 2", "first corner")  # corners in either order
    click_frame(page, *first, "Person 2", "Person 2: 1 click(s)")
    page.screenshot(path=str(tmp_path / "people.png"), full_page=True)

    page.locator("#track-btn").click()
    page.locator("#track-status", has_text="Tracked 4 frames").wait_for()
