"""Nothing left on disk: ended sessions, SIGTERM, and a process killed mid-run then restarted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from gradio_client import Client, handle_file

from app.settings import Settings
from app.state import Services
from app.storage import tree_size
from app.ui import build_demo, launch_kwargs

REPO = Path(__file__).resolve().parent.parent


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_root_holds_no_session_bytes_after_20_sessions_end(tmp_path, monkeypatch):
    import numpy as np

    from ovhhir_core.video import write_video

    root = tmp_path / "root"
    # a short time-to-live, yet long enough that an upload outlives the request that reads it
    services = Services(Settings(preset="tiny", device="cpu", session_ttl_s=30), root=root)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(services.store.gradio_cache))
    services.store.start_sweeper(interval_s=0.5)
    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_kwargs(services)
    )
    # Gradio keeps one copy of the example clips for the gallery (app assets, not session data).
    static = peak = tree_size(root)
    try:
        for i in range(20):  # each session uploads its own video, writes an export, then leaves
            clip = write_video(
                tmp_path / f"clip{i}.mp4", [np.full((32, 32, 3), 10 * i, np.uint8)] * 4, fps=4
            )
            client = Client(demo.local_url, verbose=False)
            client.predict(handle_file(str(clip)), api_name="/load_video")
            client.predict(api_name="/review_example")
            client.predict("correct", "", "", api_name="/review_export")
            client.close()
            peak = max(peak, tree_size(root))
        assert peak > static + 1000  # uploads, served copies and exports were written
        wait_until(lambda: tree_size(root) == static, 300, "the ended sessions' files to go")
        assert list(services.store.sessions.iterdir()) == []
    finally:
        demo.close()
        services.close()
    assert tree_size(root) == 0 and list(root.iterdir()) == []


def start_app(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``python app.py`` with the tiny preset on a free port; returns it and its URL."""
    cmd = [sys.executable, "app.py", "--preset", "tiny", "--device", "cpu", "--port", "0"]
    cmd += ["--no-preload", "--root", str(root)]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_TEMP_DIR", None)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    url = []

    def started() -> bool:
        assert proc.poll() is None, log.read_text()
        url[:] = re.findall(r"Running on local URL:\s+(\S+)", log.read_text())
        return bool(url)

    wait_until(started, 120, "app.py to start")
    return proc, url[0]


def process_dir(root: Path, proc: subprocess.Popen) -> Path:
    (found,) = [d for d in root.iterdir() if d.name.startswith(f"{proc.pid}-")]
    return found


def test_sigterm_and_kill_then_restart_leave_nothing(tmp_path):
    from tests.load_utils import POSITIVE, make_clips

    (clip,) = make_clips(tmp_path / "clips", 1, frames=12, size=(128, 96))
    root = tmp_path / "root"
    a, url = start_app(root, tmp_path / "a.log")
    try:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 600})
        client.predict(handle_file(str(clip.path)), api_name="/load_video")
        for person, (x, y) in clip.points.items():
            client.predict(person, POSITIVE, x, y, api_name="/click_at")
        job = client.submit(api_name="/track")
        folder_a = process_dir(root, a)

        def writing() -> bool:
            if any(folder_a.rglob("tracked*")):
                return True
            if job.done():
                job.result()  # raises the tracking error, if any
            return False

        wait_until(writing, 600, "tracking to write")
    finally:
        a.kill()  # SIGKILL: no clean-up can run
        a.wait(30)
    assert tree_size(folder_a) > 0  # the killed process left its upload and partial results
    b, url = start_app(root, tmp_path / "b.log")
    try:
        assert not folder_a.exists()  # swept at start: its process is gone
        folder_b = process_dir(root, b)
        client = Client(url, verbose=False)
        client.predict(api_name="/review_example")
        client.predict("correct", "", "", api_name="/review_export")
        assert tree_size(folder_b / "sessions") > 0
        b.send_signal(signal.SIGTERM)
        assert b.wait(60) == 0
    finally:
        if b.poll() is None:
            b.kill()
    assert not folder_b.exists() and list(root.iterdir()) == []
