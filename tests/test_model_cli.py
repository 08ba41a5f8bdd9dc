"""Stream videos → ``load_clip``, and the ``describe`` / ``chat`` subcommands (tiny preset)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ovhhir_core import cli, video
from ovhhir_core.config import load_preset
from ovhhir_core.model import ChatSession, GenerationConfig, load_clip, load_model
from ovhhir_core.model.cli import run_chat


def _person_video(path, present_until: int, n: int = 24, x: int = 20):
    frames = []
    for t in range(n):
        f = np.zeros((64, 80, 3), np.uint8)
        if t < present_until:
            f[10:50, x + t % 4 : x + 20 + t % 4] = (200, 150, 100)
        frames.append(f)
    return video.write_video(path, frames, fps=12)


@pytest.fixture(scope="module")
def streams(tmp_path_factory):
    d = tmp_path_factory.mktemp("streams")
    rng = np.random.default_rng(0)
    bg = [rng.integers(0, 255, (64, 80, 3), dtype=np.uint8) for _ in range(24)]
    return {
        "person_1": str(_person_video(d / "p1.mp4", present_until=24)),
        "person_2": str(_person_video(d / "p2.mp4", present_until=12, x=45)),
        "background": str(video.write_video(d / "bg.mp4", bg, fps=12)),
    }


def test_load_clip_samples_frames_and_finds_people(streams):
    clip = load_clip(streams, num_frames=8)
    assert clip.frames["person_1"].shape == (8, 64, 80, 3)
    assert clip.frames["background"].shape[0] == 8
    assert clip.presence("person_1").all()
    p2 = clip.presence("person_2")
    assert p2[:4].all() and not p2[-3:].any()  # visible in the first half of the video only
    x0, y0, x1, y1 = clip.boxes["person_1"][0]
    assert abs(y0 - 10) <= 2 and abs(y1 - 50) <= 2 and abs(x0 - 20) <= 2 and abs(x1 - 40) <= 2
    no_bg = load_clip({**streams, "background": None}, num_frames=4)
    assert not no_bg.has_background


def test_describe_streams_an_answer(streams, capsys):
    rc = cli.main(
        [
            "describe",
            "--p1",
            streams["person_1"],
            "--p2",
            streams["person_2"],
            "--bg",
            streams["background"],
            "--preset",
            "tiny",
            "--device",
            "cpu",
            "--num-frames",
            "4",
            "--temperature",
            "0",
            "--max-new-tokens",
            "6",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0
    assert out.strip()
    assert "untrained" in err


def test_describe_without_background_on_a_background_model_fails_clearly(streams, capsys):
    rc = cli.main(
        [
            "describe",
            "--p1",
            streams["person_1"],
            "--p2",
            streams["person_2"],
            "--preset",
            "tiny",
            "--device",
            "cpu",
            "--num-frames",
            "4",
            "--max-new-tokens",
            "2",
        ]
    )
    assert rc == 1
    assert "background" in capsys.readouterr().err


def test_chat_reads_lines_resets_and_quits(streams, capsys):
    args = cli.build_parser().parse_args(
        [
            "chat",
            "--p1",
            streams["person_1"],
            "--p2",
            streams["person_2"],
            "--bg",
            streams["background"],
            "--preset",
            "tiny",
            "--device",
            "cpu",
            "--num-frames",
            "4",
            "--temperature",
            "0",
            "--max-new-tokens",
            "4",
        ]
    )
    stdin = io.StringIO("Describe <p1> and <p2> in <bg>?\n\n/reset\nAnd now?\n/quit\nnever read\n")
    assert run_chat(args, stdin=stdin) == 0
    out, err = capsys.readouterr()
    assert "cleared" in err and "error" not in err
    model = load_model(load_preset("tiny", use_env=False), "cpu")
    chat = ChatSession(model, load_clip(streams, num_frames=4))
    gen = GenerationConfig(temperature=0, max_new_tokens=4)
    first = list(chat.ask("Describe <p1> and <p2> in <bg>?", gen))[-1]
    chat.clear()
    second = list(chat.ask("And now?", gen))[-1]
    assert out == f"{first}\n{second}\n"  # /reset forgot the first turn; /quit stopped reading
