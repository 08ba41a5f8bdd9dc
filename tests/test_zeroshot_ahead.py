"""The clip sampled ahead, while the model loads: the same frames as sampling on open, errors
reach whoever asks, and ``describe`` uses it (tiny SmolVLM build)."""

from __future__ import annotations

import numpy as np
import pytest

from ovhhir_core.answering import GenerationConfig, TrackedClip
from ovhhir_core.commands import chat, cli
from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.masking import load_masks_npz
from ovhhir_core.zeroshot import frames as frames_module
from ovhhir_core.zeroshot import load_zeroshot_answerer
from ovhhir_core.zeroshot.frames import sample_ahead, sample_clip
from tests.zeroshot_utils import make_track_dir

GREEDY = GenerationConfig(temperature=0, max_new_tokens=4, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def track_dir(tmp_path_factory):
    return make_track_dir(tmp_path_factory.mktemp("ahead") / "clip")


@pytest.fixture(scope="module")
def smol():
    preset = load_preset("tiny")
    preset.zeroshot.arch = {"family": "smolvlm"}
    return load_zeroshot_answerer(preset)


def test_sampled_ahead_equals_sampled_on_open(track_dir):
    clip = TrackedClip.from_track_dir(track_dir)
    ahead = sample_ahead(clip, 6, max_side=64).result(timeout=60)
    here = sample_clip(clip, 6, max_side=64)
    assert ahead.indices == here.indices
    assert np.array_equal(ahead.frames, here.frames)
    assert np.array_equal(ahead.labels, here.labels)


def test_an_error_while_sampling_ahead_reaches_the_caller(tmp_path):
    for name in ("p1.mp4", "p2.mp4"):
        (tmp_path / name).write_bytes(b"not a video at all")
    clip = TrackedClip.from_paths(str(tmp_path / "p1.mp4"), str(tmp_path / "p2.mp4"))
    future = sample_ahead(clip, 4)
    with pytest.raises(UserError, match="not a readable video"):
        future.result(timeout=60)


def test_open_takes_the_clip_sampled_ahead_and_answers_the_same(smol, track_dir):
    clip = TrackedClip.from_track_dir(track_dir)
    sampled = sample_ahead(clip, 5, smol.cfg.max_side).result(timeout=60)
    given = smol.open(clip, frames=5, sampled=sampled)
    assert given.sampled is sampled
    plain = smol.open(clip, frames=5)
    answers = [list(c.ask("What happens?", GREEDY))[-1] for c in (given, plain)]
    assert answers[0] == answers[1]
    other = smol.open(clip, frames=4, sampled=sampled)  # another frame count: sampled again
    assert other.sampled is not sampled and len(other.sampled.indices) == 4


def test_describe_samples_the_clip_while_the_model_loads(track_dir, capsys, monkeypatch):
    started = []
    real = frames_module.sample_ahead

    def spy(clip, frames, max_side=512):
        started.append(frames)
        return real(clip, frames, max_side)

    monkeypatch.setattr(frames_module, "sample_ahead", spy)
    args = ["describe", "--track-dir", str(track_dir), "--preset", "tiny", "--device", "cpu"]
    args += ["--num-frames", "4", "--max-new-tokens", "3", "--backend", "zeroshot"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert started == [4] and "answerer: " in err and "4 frames" in err
    # another answerer: nothing is sampled ahead
    parsed = cli.build_parser().parse_args([*args[:-2], "--backend", "ovhhir"])
    assert chat._sample_ahead(parsed, load_preset("tiny"), None) is None


def test_sampling_reads_only_the_sampled_frames_masks(track_dir, mask_reads):
    clip = TrackedClip.from_track_dir(track_dir)
    everything = load_masks_npz(clip.masks)
    sampled = sample_clip(clip, 3, max_side=128)  # the clip's own size: maps compare exactly
    first = min(everything)
    assert mask_reads == [[first + idx for idx in sampled.indices]] and len(everything) > 3
    for i, idx in enumerate(sampled.indices):  # the same maps as from the whole file
        np.testing.assert_array_equal(sampled.labels[i], everything[first + idx])
