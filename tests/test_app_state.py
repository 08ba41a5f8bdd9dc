"""Per-session files and their clean-up, shared services, and app.py's launch wiring."""

from __future__ import annotations

import gradio as gr
import pytest

from app.settings import Settings
from app.state import Services, SessionState, delete_session


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
    assert not (tmp_path / "root").exists()


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
    assert "missing.pth" in status["segmenters"] and status["model"] == "not loaded yet"


def test_state_component_cleans_up(tmp_path):
    from app.ui import build_demo

    services = Services(
        Settings(preset="tiny", device="cpu", session_ttl_s=123), root=tmp_path / "root"
    )
    demo = build_demo(services)
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert len(states) == 1
    assert states[0].time_to_live == 123 and states[0].delete_callback is delete_session
    assert isinstance(states[0].value(), SessionState)  # a fresh state per browser session


def test_app_main_launches_with_settings(monkeypatch):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "app_main", Path(__file__).resolve().parent.parent / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: seen.update(kw))
    module.main(
        [
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
    with pytest.raises(SystemExit, match="unknown preset 'nope'"):
        module.main(["--preset", "nope"])
