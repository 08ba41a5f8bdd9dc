"""The zero-shot answerer on tiny random SmolVLM and Qwen3-VL builds (offline, no weights)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from ovhhir_core.answering import Answerer, Conversation, GenerationConfig, TrackedClip
from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION
from ovhhir_core.weights.hub import MissingWeightsError
from ovhhir_core.zeroshot import load_zeroshot_answerer
from ovhhir_core.zeroshot.frames import sample_clip
from tests.zeroshot_utils import GREY, P1_RGB, P2_RGB, make_track_dir, person_labels

GREEDY = GenerationConfig(temperature=0, max_new_tokens=6, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def track_dir(tmp_path_factory):
    return make_track_dir(tmp_path_factory.mktemp("zeroshot") / "clip")


def _answerer(family: str, three_streams: bool = False):
    preset = load_preset("tiny")
    preset.zeroshot.arch = {"family": family}
    preset.zeroshot.three_streams = three_streams
    preset.zeroshot.max_side = 128  # the clip's own size, so label maps compare pixel for pixel
    return load_zeroshot_answerer(preset)


@pytest.fixture(scope="module")
def smol():
    return _answerer("smolvlm")


@pytest.fixture(scope="module")
def qwen():
    return _answerer("qwen3_vl", three_streams=True)


@contextlib.contextmanager
def capture_processor(answerer):
    """Record the keyword arguments of every processor call (what reaches the model)."""
    processor = answerer.loaded.processor
    calls = []
    original = type(processor).__call__

    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    type(processor).__call__ = spy
    try:
        yield calls
    finally:
        type(processor).__call__ = original


@contextlib.contextmanager
def count_calls(module):
    calls = []
    handle = module.register_forward_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def test_is_an_answerer_and_says_it_is_not_grounded(smol, track_dir):
    assert isinstance(smol, Answerer) and smol.name == "zeroshot"
    conv = smol.open(TrackedClip.from_track_dir(track_dir), frames=8)
    assert isinstance(conv, Conversation)
    prov = conv.provenance
    assert prov.answerer == "zeroshot" and not prov.grounded and prov.frames == 8
    assert "random" in prov.model_id and "noise" in prov.warning
    assert "NOT GROUNDED" in prov.caption() and "8 frames" in prov.caption()


@pytest.mark.parametrize("frames", [8, 5])
def test_sampled_frames_reach_the_model(smol, track_dir, frames):
    conv = smol.open(TrackedClip.from_track_dir(track_dir), frames=frames)
    pixels = conv.prefix.inputs["pixel_values"]
    assert tuple(pixels.shape) == (1, frames, 3, 64, 64)
    assert (
        conv.sampled.indices == sorted(conv.sampled.indices) and len(conv.sampled.indices) == frames
    )
    # the timestamps come from the streams' frame rate (10 fps, 12 frames)
    assert conv.sampled.metadata()["fps"] == pytest.approx(10.0, rel=0.01)


def test_qwen_gets_the_marked_clip_and_the_three_streams(qwen, track_dir):
    with capture_processor(qwen) as calls:
        conv = qwen.open(TrackedClip.from_track_dir(track_dir), frames=8)
    grid = conv.prefix.inputs["video_grid_thw"]
    assert grid.shape[0] == 4  # marked clip + person 1 + person 2 + background
    temporal = qwen.loaded.processor.video_processor.temporal_patch_size
    assert all(int(t) * temporal == 8 for t in grid[:, 0])
    videos = calls[0]["videos"]
    assert [v.shape[0] for v in videos] == [8] * 4
    assert len(calls[0]["video_metadata"]) == 4
    text = qwen.loaded.processor.tokenizer.decode(
        conv._text_ids([{"role": "user", "content": "?"}])
    )
    assert "alone" in text


def test_prompt_names_the_colours_and_rewrites_tokens(smol, track_dir):
    conv = smol.open(TrackedClip.from_track_dir(track_dir), frames=8)
    conv.history = [{"role": "user", "content": DESCRIBE_QUESTION}]
    rendered = conv._render(conv.history)
    assert "Person 1 (red)" in rendered and "Person 2 (blue)" in rendered
    assert "outlined in red" in rendered and "outlined in blue" in rendered
    assert "<p1>" not in rendered and "<p2>" not in rendered and "<bg>" not in rendered
    tokens = smol.loaded.processor.tokenizer.decode(conv._text_ids(conv.history))
    assert "Describe interaction between Person 1 (red) and Person 2 (blue)" in tokens


def test_marks_land_on_the_right_person(smol, track_dir):
    with capture_processor(smol) as calls:
        conv = smol.open(TrackedClip.from_track_dir(track_dir), frames=6)
    given = conv.frames.astype(int)  # the marked frames, before they are fitted to the model
    source = conv.sampled.frames.astype(int)
    geometry = conv.prefix.geometry  # the processor got them letterboxed to the model's input
    assert calls[0]["videos"][0].shape[1:3] == (geometry.height, geometry.width)
    for t, index in enumerate(conv.sampled.indices):
        truth = person_labels(index)
        assert np.array_equal(conv.sampled.labels[t], truth)
        # the rebuilt source frame has each person's own colour where the masks say
        assert np.abs(source[t][truth == 1] - P1_RGB).mean() < 12
        assert np.abs(source[t][truth == 2] - P2_RGB).mean() < 12
        shift = given[t] - source[t]
        red, blue = shift[..., 0], shift[..., 2]
        p1, p2 = truth == 1, truth == 2
        assert (red[p1] > blue[p1]).mean() > 0.95  # person 1 is tinted red
        assert (blue[p2] > red[p2]).mean() > 0.95  # person 2 is tinted blue
        far = np.ones_like(p1)
        far[5:95, 0:128] = False  # the labels sit above the people; rows far below stay clean
        assert np.abs(shift[far]).max() == 0


def test_labels_from_fill_without_masks(track_dir):
    clip = TrackedClip.from_track_dir(track_dir)
    clip.masks = None
    sampled = sample_clip(clip, 4)
    for t, index in enumerate(sampled.indices):
        truth = person_labels(index)
        for value in (1, 2):
            inter = ((sampled.labels[t] == value) & (truth == value)).sum()
            union = ((sampled.labels[t] == value) | (truth == value)).sum()
            assert inter / union > 0.9
        assert np.abs(sampled.frames[t][truth == 0].astype(int) - GREY).mean() < 6


def test_labels_from_either_mask_file_and_a_clear_error_otherwise(track_dir, tmp_path):
    """A track folder's ``masks.zip`` (indexed PNGs) gives the same labels as its
    ``masks.npz``; a zip of PNGs named ``.npz`` is refused in words, not with a traceback."""
    from ovhhir_core.masking import export_masks_png_zip, load_masks_npz

    clip = TrackedClip.from_track_dir(track_dir)
    from_npz = sample_clip(clip, 4).labels
    zipped = export_masks_png_zip(load_masks_npz(clip.masks), tmp_path / "masks.zip")
    clip.masks = zipped
    assert np.array_equal(sample_clip(clip, 4).labels, from_npz)
    clip.masks = zipped.rename(tmp_path / "masks.npz")
    with pytest.raises(UserError, match="not a readable masks.npz.*track the clip again"):
        sample_clip(clip, 4)


def _full_prompt_logits(answerer, conv, videos, metadata):
    """Next-token logits of the whole prompt encoded in one go (no reused prefix)."""
    text = conv._render(conv.history).replace("\x00", "")
    inputs = answerer.loaded.processor(
        text=[text], videos=videos, video_metadata=metadata, do_sample_frames=False,
        return_tensors="pt",
    )  # fmt: skip
    with torch.no_grad():
        return answerer.loaded.model(**inputs).logits[0, -1]


@pytest.mark.parametrize("name", ["smol", "qwen"])
def test_turns_reuse_the_encoded_video(name, request, track_dir):
    answerer = request.getfixturevalue(name)
    clip = TrackedClip.from_track_dir(track_dir)
    with capture_processor(answerer) as calls, count_calls(answerer.loaded.vision_tower()) as seen:
        conv = answerer.open(clip, frames=8)
        assert len(seen) == 1
        first = list(conv.ask(DESCRIBE_QUESTION, GREEDY))
        second = list(conv.ask("What does <p1> do?", GREEDY))
        again = list(conv.regenerate(GREEDY))
        conv.score(ONE_WORD_QUESTION, ["Hugging.", "Waving."])
        assert len(seen) == 1  # the video was encoded once, at open
    assert first and second and again == second  # greedy: regenerate repeats the answer
    assert [m["role"] for m in conv.history] == ["user", "assistant"] * 2
    # continuing the cached prefix gives what encoding the whole prompt at once gives
    conv.history.append({"role": "user", "content": "And <p2>?"})
    ids = torch.tensor([conv._text_ids(conv.history)])
    with torch.no_grad():
        cached = conv.prefix.forward(ids, conv.prefix.fresh_cache())[0, -1]
    full = _full_prompt_logits(answerer, conv, calls[0]["videos"], calls[0]["video_metadata"])
    assert torch.allclose(cached, full, atol=1e-4)


def test_streaming_yields_growing_pieces(smol, track_dir):
    conv = smol.open(TrackedClip.from_track_dir(track_dir), frames=8)
    pieces = list(conv.ask("What does <p1> do?", GenerationConfig(max_new_tokens=8, seed=3)))
    assert len(pieces) >= 2
    assert all(
        b.startswith(a) and len(b) > len(a) for a, b in zip(pieces, pieces[1:], strict=False)
    )
    assert conv.history[-1] == {"role": "assistant", "content": pieces[-1]}
    conv.clear()
    assert conv.history == []
    list(conv.ask("Hi", GenerationConfig(max_new_tokens=2, seed=3)))
    assert [m["role"] for m in conv.history] == ["user", "assistant"]
    beams = list(conv.ask("Hi", GenerationConfig(max_new_tokens=4, num_beams=2, temperature=0)))
    assert len(beams) <= 1 + 4


@contextlib.contextmanager
def favour(answerer, word: str, amount: float = 30.0):
    """Make ``word``'s token far more likely everywhere (a hook on the LM head)."""
    token = answerer.loaded.processor.tokenizer.convert_tokens_to_ids(word)
    head = answerer.loaded.model.lm_head

    def bias(_module, _inputs, output):
        output = output.clone()
        output[..., token] += amount
        return output

    handle = head.register_forward_hook(bias)
    try:
        yield
    finally:
        handle.remove()


@pytest.mark.parametrize("name", ["smol", "qwen"])
def test_classify_ranks_the_favoured_candidate_first(name, request, track_dir):
    answerer = request.getfixturevalue(name)
    conv = answerer.open(TrackedClip.from_track_dir(track_dir), frames=8)
    candidates = ["Punching.", "Hugging.", "Waving.", "high five"]
    for word in ("Hugging", "Waving"):
        with favour(answerer, word):
            scores = conv.score(ONE_WORD_QUESTION, candidates)
        assert all(s <= 0 for s in scores)
        assert candidates[int(np.argmax(scores))].startswith(word)
    # batched scores equal one-at-a-time scores (padding does not leak)
    batched = conv.score(ONE_WORD_QUESTION, candidates)
    alone = [conv.score(ONE_WORD_QUESTION, [c])[0] for c in candidates]
    assert np.allclose(batched, alone, atol=1e-4)


def test_facts_go_into_the_prompt_when_asked(smol, track_dir):
    clip = TrackedClip.from_track_dir(track_dir)
    clip.facts = "Person 1 walks toward Person 2 from 0.0 s to 1.1 s."
    conv = smol.open(clip, frames=8, use_facts=True)
    assert "walks toward" in conv.prompt_facts and conv.provenance.facts_in_prompt
    assert "Measurements from the tracked masks:" in conv._render(
        [{"role": "user", "content": "?"}]
    )
    plain = smol.open(clip, frames=8, use_facts=False)
    assert plain.prompt_facts is None and not plain.provenance.facts_in_prompt
    assert "walks toward" not in plain._render([{"role": "user", "content": "?"}])


def test_user_errors(smol, track_dir):
    clip = TrackedClip.from_track_dir(track_dir)
    with pytest.raises(UserError, match="Qwen3-VL"):
        smol.open(clip, frames=8, three_streams=True)
    with pytest.raises(UserError, match="frames"):
        smol.open(clip, frames=0 or 100)
    conv = smol.open(clip, frames=8)
    with pytest.raises(UserError, match="empty"):
        conv.ask("  ")
    with pytest.raises(UserError, match="regenerate"):
        conv.regenerate()


def test_missing_weights_give_the_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(MissingWeightsError) as err:
        load_zeroshot_answerer(load_preset("small"))
    text = str(err.value)
    assert "'zeroshot'" in text and "HuggingFaceTB/SmolVLM2-500M-Video-Instruct" in text
    assert "--weights zeroshot=PATH" in text and "OVHHIR_ZEROSHOT_PATH" in text
    with pytest.raises(MissingWeightsError, match="names no zero-shot"):
        load_zeroshot_answerer(load_preset("offline"))
    gone = load_preset("small", local_paths={"zeroshot": str(tmp_path / "nope")})
    with pytest.raises(MissingWeightsError, match="does not exist"):
        load_zeroshot_answerer(gone)


def test_a_saved_model_folder_loads_through_the_real_path(smol, track_dir, tmp_path):
    """``--weights zeroshot=PATH``: AutoProcessor + AutoModelForImageTextToText, offline."""
    folder = tmp_path / "smolvlm"
    smol.loaded.model.save_pretrained(folder)
    smol.loaded.processor.save_pretrained(folder)
    preset = load_preset("small", local_paths={"zeroshot": str(folder)})
    answerer = load_zeroshot_answerer(preset)
    assert answerer.loaded.grounded and answerer.loaded.model_id == str(folder)
    conv = answerer.open(TrackedClip.from_track_dir(track_dir), frames=8)
    assert conv.provenance.grounded and conv.provenance.warning is None
    ours = conv.score(ONE_WORD_QUESTION, ["Hugging."])
    theirs = smol.open(TrackedClip.from_track_dir(track_dir), frames=8).score(
        ONE_WORD_QUESTION, ["Hugging."]
    )
    assert ours == pytest.approx(theirs, abs=1e-4)
