"""The demo's options (flags and OVHHIR_* environment variables) and its upload caps."""

from __future__ import annotations

import os

import pytest

from app.settings import CapError, Caps, default_preset, parse_settings
from ovhhir_core.config import load_preset


def test_flags_override_environment():
    env = {
        "OVHHIR_PRESET": "tiny",
        "OVHHIR_PORT": "9001",
        "OVHHIR_DEVICE": "cpu",
        "OVHHIR_SHARE": "1",
        "OVHHIR_MAX_FRAMES": "50",
        "OVHHIR_LLM_PATH": "/models/llm",
    }
    s = parse_settings([], env)
    assert (s.preset, s.port, s.device, s.share) == ("tiny", 9001, "cpu", True)
    assert s.caps.max_frames == 50
    assert s.weights == {"llm": "/models/llm"}
    s = parse_settings(
        [
            "--preset",
            "offline",
            "--port",
            "0",
            "--max-frames",
            "10",
            "--weights",
            "llm=/elsewhere",
            "--checkpoint",
            "ck.safetensors",
        ],
        env,
    )
    assert (s.preset, s.port, s.caps.max_frames) == ("offline", 0, 10)
    assert s.weights == {"llm": "/elsewhere"}
    assert s.checkpoint == "ck.safetensors"


def test_the_environment_given_is_the_only_one_read(monkeypatch):
    monkeypatch.setenv("OVHHIR_LLM_PATH", "/process/llm")
    monkeypatch.setenv("OVHHIR_PRESET", "paper")
    assert parse_settings([], {"OVHHIR_SAM_PATH": "/given/sam"}).weights == {"sam": "/given/sam"}
    assert parse_settings([], {}).preset == default_preset()
    assert parse_settings([]).weights == {"llm": "/process/llm"}  # none given: os.environ
    isolated = parse_settings(["--preset", "tiny"], {})
    assert load_preset(isolated.preset, isolated.weights).model.llm.local_path is None


def test_defaults_without_flags_or_environment():
    s = parse_settings([], {})
    assert s.preset == default_preset()
    assert (s.device, s.share, s.port, s.checkpoint) == ("auto", False, 7860, None)
    assert s.review_roots == []
    assert s.max_file_size == f"{int(Caps().max_upload_mb * 1_000_000)}b"


def test_default_preset_is_auto():
    assert default_preset() == "auto"


def test_review_roots_from_environment(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    s = parse_settings([], {"OVHHIR_REVIEW_ROOTS": f"{a}{os.pathsep}{b}"})
    assert s.review_roots == [str(a.resolve()), str(b.resolve())]


def test_bad_weights_flag_is_a_user_error():
    from ovhhir_core.errors import UserError

    with pytest.raises(UserError, match="COMPONENT=PATH"):
        parse_settings(["--weights", "llm"], {})


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"duration": 500.0}, r"lasts 500\.0 s.*at most 120 s \(OVHHIR_MAX_DURATION_S\)"),
        ({"num_frames": 99999}, r"99999 frames.*at most 3600 \(OVHHIR_MAX_FRAMES\)"),
        ({"width": 4000}, r"4000×480 pixels.*1920 pixels.*OVHHIR_MAX_SIDE"),
    ],
)
def test_video_caps_name_the_limit(kwargs, pattern):
    video = {"fps": 25.0, "num_frames": 100, "width": 640, "height": 480, "duration": 4.0}
    Caps().check_video(**video)  # within every cap
    with pytest.raises(CapError, match=pattern):
        Caps().check_video(**{**video, **kwargs})


def test_upload_size_cap(tmp_path):
    f = tmp_path / "big.mp4"
    f.write_bytes(b"\0" * 3_000_000)
    Caps(max_upload_mb=3.5).check_file_size(f)
    with pytest.raises(CapError, match=r"3\.0 MB.*up to 2 MB \(OVHHIR_MAX_UPLOAD_MB\)"):
        Caps(max_upload_mb=2).check_file_size(f)


def test_backend_and_root_from_flag_or_environment(tmp_path):
    env = {"OVHHIR_PRESET": "tiny", "OVHHIR_BACKEND": "zeroshot", "OVHHIR_ROOT": str(tmp_path)}
    s = parse_settings([], env)
    assert (s.backend, s.root) == ("zeroshot", str(tmp_path))
    assert parse_settings(["--backend", "ovhhir"], env).backend == "ovhhir"
    assert parse_settings([], {"OVHHIR_PRESET": "tiny"}).backend == "auto"
    with pytest.raises(SystemExit):  # argparse names the choices
        parse_settings(["--backend", "gpt"], env)
