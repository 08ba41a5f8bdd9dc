"""The app built without launching, then served and driven through gradio_client."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from app_utils import served
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from app.settings import Settings
from app.state import Services
from app.ui import GPU, build_demo, example_videos


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """The demo on a free local port, with the chat LLM's weights pointed at a missing path."""
    root = tmp_path_factory.mktemp("ui")
    settings = Settings(
        preset="tiny", device="cpu", backend="ovhhir", weights={"llm": str(root / "no-such-llm")}
    )
    services = Services(settings, root=root / "sessions")
    with served(services) as demo:
        yield demo, services


def test_build_without_launch_wires_the_gpu_group():
    services = Services(Settings(preset="tiny", device="cpu"))
    try:
        demo = build_demo(services)
    finally:
        services.close()
    fns = {f.api_name: f for f in demo.fns.values() if f.api_visibility == "public"}
    gpu_events = {
        "click",
        "click_at",
        "find_people",
        "track",
        "ask",
        "describe",
        "one_word",
        "regenerate",
        "classify",
        "review_run",
    }
    assert gpu_events <= set(fns)
    assert {n for n, f in fns.items() if f.concurrency_id == GPU} == gpu_events
    assert fns["cancel"].queue is False  # Cancel must not wait behind the job it cancels
    assert len(example_videos()) >= 3 and all(
        Path(p).stat().st_size < 1_000_000 for p in example_videos()
    )


def test_client_end_to_end_with_missing_llm(served_demo):
    demo, services = served_demo
    client = Client(demo.local_url, verbose=False)
    example = example_videos()[0]
    info, *_ = client.predict(handle_file(example), api_name="/load_video")
    assert "320×240 px" in info and "40 frames" in info
    with pytest.raises(AppError, match="Click on Person 1 and Person 2 first"):
        client.predict(api_name="/track")

    position, p1, p2, bg, truth, *_ = client.predict(api_name="/review_example")
    assert "Sample 1 of 3" in position
    assert [Path(p).suffix for p in (p1, p2, bg)] == [".mp4"] * 3
    assert truth[0]["role"] == "user"
    shown = client.predict("wrong", "A corrected answer.", "a note", api_name="/review_next")
    assert "Sample 2 of 3" in shown[0]
    # The LLM's weights are missing: the app says which and how to fix, and keeps working.
    with pytest.raises(AppError, match=r"(?s)component 'llm'.*does not exist.*--weights"):
        client.predict("ovhhir", 0.0, 0.9, 1, 8, 4, api_name="/review_run")
    status = client.predict(api_name="/models_status")
    assert "answerer" in status and "unavailable" in status
    jsonl, table = client.predict("correct", "", "", api_name="/review_export")
    text = Path(jsonl).read_text()
    assert '"verdict": "wrong"' in text and "A corrected answer." in text
    assert Path(table).read_text().splitlines()[0].startswith("id,label,question")


def test_upload_caps_apply_through_the_server(served_demo, tmp_path):
    demo, _ = served_demo
    client = Client(demo.local_url, verbose=False)
    big = tmp_path / "big.mp4"
    shutil.copy(example_videos()[0], big)
    with open(big, "ab") as f:
        f.truncate(int(Settings().caps.max_upload_mb * 1_000_000) + 1)
    with pytest.raises(ValueError, match="exceeds the maximum file size of 200000000 bytes"):
        client.predict(handle_file(str(big)), api_name="/load_video")


def test_select_handler_receives_select_data():
    from gradio.utils import get_type_hints

    from app.track_handlers import TrackHandlers

    services = Services(Settings(preset="tiny", device="cpu"))
    try:
        hints = get_type_hints(TrackHandlers(services).click)
    finally:
        services.close()
    assert hints["evt"] is gr.SelectData
