"""Per-session files and their clean-up, shared services, and app.py's launch wiring."""

from __future__ import annotations

import os
import time

import gradio as gr
import pytest

from app.jobs import Cancelled
from app.settings import Settings
from app.state import Services, SessionState, delete_session
from app.storage import tree_size


def test_session_files_are_deleted_with_the_session(tmp_path):
    services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path / "root")
    a, b = services.new_session(), services.new_session()
    assert a.workdir != b.workdir and not a.workdir.exists()  # made on first write
    out = a.out_dir("tracked")
    (out / "x.mp4").write_bytes(b"x")
    b.out_dir("tracked")
    delete_session(a)
    assert not a.workdir.exists() and b.workdir.exists()
    delete_session("not a session")  # other state values are ignored
    services.close()
    assert not services.root.exists() and tree_size(tmp_path / "root") == 0


def test_reset_video_forgets_outputs_but_keeps_review(tmp_path):
    state = SessionState(workdir=tmp_path / "s")
    state.outputs = {"person_1": tmp_path / "p1.mp4"}
    state.messages = [{"role": "user", "content": "hi"}]
    state.review.index = 2
    version = state.version
    state.reset_video()
    assert state.outputs == {} and state.messages == [] and state.tracking is None
    assert state.review.index == 2 and state.version == version + 1


def test_missing_weights_are_remembered_and_reported(tmp_path):
    from ovhhir_core.hub import MissingWeightsError

    services = Services(
        Settings(preset="tiny", device="cpu", weights={"sam": str(tmp_path / "missing.pth")}),
        root=tmp_path / "root",
    )
    for _ in range(2):  # the second call re-raises the kept error without retrying
        with pytest.raises(MissingWeightsError, match="component 'sam'"):
            services.segmenters()
    status = services.status()
    assert "missing.pth" in status["segmenters"] and status["answerer"] == "not loaded yet"


def test_state_component_cleans_up(tmp_path):
    from app.ui import build_demo

    services = Services(
        Settings(preset="tiny", device="cpu", session_ttl_s=123), root=tmp_path / "root"
    )
    demo = build_demo(services)
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert len(states) == 1
    assert states[0].time_to_live == 123
    state = states[0].value()
    assert isinstance(state, SessionState)  # a fresh state per browser session
    # the delete callback removes the session's folder and cancels its model jobs
    state.workdir.mkdir(parents=True)

    def encode(job):
        for i in range(600):  # 30 s unless cancelled
            job.step(i, 600)
            time.sleep(0.05)

    job = services.jobs.submit(state.sid, "encode", encode, background=True)
    states[0].delete_callback(state)
    assert not state.workdir.exists()
    with pytest.raises(Cancelled):
        job.result(timeout=30)
    services.close()


def test_app_main_launches_with_settings(monkeypatch, tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "app_main", Path(__file__).resolve().parent.parent / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: seen.update(kw))
    handlers = {}
    monkeypatch.setattr(module.signal, "signal", lambda sig, fn: handlers.update({sig: fn}))
    monkeypatch.setenv("GRADIO_TEMP_DIR", "x")
    monkeypatch.delenv("GRADIO_TEMP_DIR")  # restored to unset after the test
    root = tmp_path / "root"
    module.main(
        [
            "--root",
            str(root),
            "--preset",
            "tiny",
            "--device",
            "cpu",
            "--port",
            "0",
            "--no-preload",
            "--max-upload-mb",
            "5",
        ]
    )
    assert seen["server_port"] is None and seen["server_name"] == "127.0.0.1"
    assert seen["max_file_size"] == "5000000b" and seen["share"] is False
    assert set(handlers) == {module.signal.SIGTERM, module.signal.SIGINT}
    assert os.environ["GRADIO_TEMP_DIR"].startswith(str(root))  # Gradio's cache is under the root
    assert list(root.iterdir()) == []  # main() removed its process folder on the way out
    with pytest.raises(SystemExit, match="unknown preset 'nope'"):
        module.main(["--preset", "nope"])


def test_dead_process_folders_are_swept_at_start(tmp_path):
    root = tmp_path / "root"
    dead, live, other = root / "99999999-0badf00d", root / f"{os.getpid()}-0000beef", root / "x"
    for d in (dead, live, other):
        (d / "sessions" / "s").mkdir(parents=True)
        (d / "sessions" / "s" / "f.mp4").write_bytes(b"half")
    services = Services(Settings(preset="tiny", device="cpu"), root=root)
    assert services.store.swept == [dead] and not dead.exists()
    assert live.exists() and other.exists()  # a running process and foreign folders are kept
    services.close()


def test_idle_sessions_expire_without_their_browser(tmp_path):
    services = Services(
        Settings(preset="tiny", device="cpu", session_ttl_s=60), root=tmp_path / "root"
    )
    idle, busy = services.new_session(), services.new_session()
    for state in (idle, busy):
        state.outputs = {"person_1": state.out_dir("tracked") / "person_1.mp4"}
        state.outputs["person_1"].write_bytes(b"x" * 100)
    past = time.time() - 120
    os.utime(idle.workdir, (past, past))
    busy.touch()
    services.new_session()  # a new session sweeps expired ones
    assert not idle.workdir.exists() and busy.workdir.exists()
    idle.touch()  # the user comes back: the swept results are forgotten
    assert idle.outputs == {} and busy.outputs
    # the background sweeper does the same when no new session arrives
    os.utime(busy.workdir, (past, past))
    services.store.start_sweeper(interval_s=0.05)
    deadline = time.time() + 10
    while busy.workdir.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not busy.workdir.exists()
    services.close()


def test_a_loaded_model_is_not_kept_waiting_by_another_loading(tmp_path):
    """A click needs the loaded segmenters; it must not wait while the answerer loads."""
    import threading

    services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path / "root")
    services._get("segmenters", lambda: "segmenters")
    release = threading.Event()
    loading = threading.Thread(
        target=services._get, args=("answerer", lambda: release.wait(60) and "answerer")
    )
    loading.start()
    while services._loading != "answerer":
        time.sleep(0.01)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(services._get("segmenters", str)))
    reader.start()
    reader.join(10)
    release.set()
    loading.join(60)
    services.close()
    assert got == ["segmenters"]  # answered while the answerer was still loading
