"""Stream videos → ``load_clip``, and the ``describe`` / ``chat`` subcommands (tiny preset):
``--backend``, ``--track-dir``, facts in the prompt, the provenance line and the warning once."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

from ovhhir_core import cli, video
from ovhhir_core.answering import backends
from ovhhir_core.chat_cli import run_chat
from ovhhir_core.config import load_preset
from ovhhir_core.model import ChatSession, GenerationConfig, load_clip, load_model
from ovhhir_core.model.answerer import UNTRAINED_WARNING
from ovhhir_core.streams import TRACK_FILES

TINY = ["--preset", "tiny", "--device", "cpu", "--num-frames", "4"]


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


@pytest.fixture(scope="module")
def track_dir(streams, tmp_path_factory):
    d = tmp_path_factory.mktemp("track")
    for stream, path in streams.items():
        shutil.copy(path, d / TRACK_FILES[stream])
    return d


def test_describe_streams_an_answer_and_says_once_what_wrote_it(streams, capsys):
    args = ["--p1", streams["person_1"], "--p2", streams["person_2"], "--bg"]
    rc = cli.main(
        ["describe", *args, streams["background"], *TINY, "--backend", "ovhhir"]
        + ["--temperature", "0", "--max-new-tokens", "6"]
    )
    out, err = capsys.readouterr()
    assert rc == 0
    assert out.strip()
    assert err.count(UNTRAINED_WARNING) == 1 and err.count("warning") == 1
    assert "answerer: OV-HHIR · random tiny LLM + untrained branches · 4 frames" in err
    assert "NOT GROUNDED" in err


def test_describe_a_track_dir_with_facts_in_the_prompt(track_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(backends, "track_dir_facts", lambda d: "Person 1 approaches Person 2.")
    ckpt = load_model(load_preset("tiny"), "cpu").save_checkpoint(tmp_path / "c")
    base = ["describe", "--track-dir", str(track_dir), *TINY, "--checkpoint", str(ckpt)]
    base += ["--temperature", "0", "--max-new-tokens", "4"]
    assert cli.main(base) == 0  # auto + a checkpoint: OV-HHIR, grounded
    out, err = capsys.readouterr()
    assert out.strip() and "warning" not in err and "NOT GROUNDED" not in err
    assert f"checkpoint {ckpt}" in err and "timeline facts in prompt" in err
    assert cli.main([*base, "--no-facts"]) == 0
    assert "timeline facts in prompt" not in capsys.readouterr().err


def test_describe_auto_without_checkpoint_never_gives_untrained_text(track_dir, capsys):
    rc = cli.main(["describe", "--track-dir", str(track_dir), *TINY, "--max-new-tokens", "4"])
    out, err = capsys.readouterr()
    assert "answerer: OV-HHIR" not in err and "untrained branches" not in err
    if rc == 0:  # a zero-shot or measured-facts answerer was available
        assert "answerer: " in err
    else:
        assert rc == 1 and "error: no answerer could be loaded" in err and not out


def test_a_clip_is_required_and_one_kind_only(streams, track_dir, capsys):
    assert cli.main(["describe", *TINY]) == 1
    assert "--track-dir" in capsys.readouterr().err
    both = ["describe", "--track-dir", str(track_dir), "--p1", streams["person_1"], *TINY]
    assert cli.main(both) == 1
    assert "not both" in capsys.readouterr().err


def test_describe_without_background_on_a_background_model_fails_clearly(streams, capsys):
    rc = cli.main(
        [
            "describe",
            "--p1",
            streams["person_1"],
            "--p2",
            streams["person_2"],
            *TINY,
            "--backend",
            "ovhhir",
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
            *TINY,
            "--backend",
            "ovhhir",
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
    model = load_model(load_preset("tiny"), "cpu")
    chat = ChatSession(model, load_clip(streams, num_frames=4))
    gen = GenerationConfig(temperature=0, max_new_tokens=4)
    first = list(chat.ask("Describe <p1> and <p2> in <bg>?", gen))[-1]
    chat.clear()
    second = list(chat.ask("And now?", gen))[-1]
    assert out == f"{first}\n{second}\n"  # /reset forgot the first turn; /quit stopped reading
