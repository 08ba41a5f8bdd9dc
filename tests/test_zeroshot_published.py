"""The zero-shot video-LLMs built from their PUBLISHED files (``tests/published/``), random weights.

Each stand-in is the published ``config.json`` built with random weights, saved with
``save_pretrained`` beside the published processor, tokenizer and chat-template files, then
loaded through the project's real path: ``--weights zeroshot=DIR`` and the Hugging Face cache
layout with ``HF_HUB_OFFLINE=1`` (the Hub id resolved from the cache). Built once per session.

- SmolVLM2-500M-Video-Instruct: exactly the published architecture (~2 GB in float32).
- Qwen3-VL-4B-Instruct: the published widths (text 2560, vision 1024), vocabulary, token ids and
  chat template, at REDUCED DEPTH: 1 text layer of 36, 3 vision blocks of 24 (their outputs are
  the 3 deepstack features, as blocks 5, 11, 17 are in the published model). Its tokenizer is
  built here (the published ``tokenizer.json`` is not among the files): the special tokens at
  their published ids. No ``generation_config.json`` is published with it here.

The answers are noise (random weights); the tests check what reaches the model and how turns,
stopping and scoring behave.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hub_utils import lay_out_hf_cache, use_hub_cache

from ovhhir_core.answering import GenerationConfig, TrackedClip
from ovhhir_core.config import load_preset
from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION
from ovhhir_core.zeroshot import load_zeroshot_answerer
from ovhhir_core.zeroshot.engine import VideoPrefix
from ovhhir_core.zeroshot.standin import build_standin, qwen_tokenizer
from ovhhir_core.zeroshot.templates import SMOLVLM_VIDEO_TEMPLATE
from ovhhir_core.zeroshot.tiny import build_random
from tests.zeroshot_utils import make_track_dir

PUBLISHED = Path(__file__).parent / "published"
SMOL_ID = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
QWEN_ID = "Qwen/Qwen3-VL-4B-Instruct"
QWEN_REDUCE = {
    "text_config.num_hidden_layers": 1,
    "vision_config.depth": 3,
    "vision_config.deepstack_visual_indexes": [0, 1, 2],
}
GREEDY = GenerationConfig(temperature=0, max_new_tokens=3, repetition_penalty=1.0)


@pytest.fixture(scope="session")
def smol_folder(tmp_path_factory) -> Path:
    folder = PUBLISHED / SMOL_ID.replace("/", "__")
    return build_standin(folder, tmp_path_factory.mktemp("published") / "smolvlm2-500m")


@pytest.fixture(scope="session")
def smol(smol_folder):
    preset = load_preset("small", local_paths={"zeroshot": str(smol_folder)})
    return load_zeroshot_answerer(preset)


@pytest.fixture(scope="session")
def qwen_folder(tmp_path_factory) -> Path:
    folder = PUBLISHED / QWEN_ID.replace("/", "__")
    out = tmp_path_factory.mktemp("published") / "qwen3-vl-4b"
    return build_standin(folder, out, reduce=QWEN_REDUCE, tokenizer=qwen_tokenizer())


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> TrackedClip:
    return TrackedClip.from_track_dir(make_track_dir(tmp_path_factory.mktemp("pub") / "clip"))


def _offline_hub(monkeypatch, tmp_path, repo_id, folder):
    lay_out_hf_cache(tmp_path / "hub", repo_id, folder)
    use_hub_cache(monkeypatch, tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@contextlib.contextmanager
def lm_head_calls(answerer, favour: str | None = None):
    """Count LM-head calls (one per decoding step); ``favour`` makes that token win."""
    calls = []
    token = answerer.loaded.processor.tokenizer.convert_tokens_to_ids(favour) if favour else None

    def hook(_module, _inputs, output):
        calls.append(1)
        if token is not None:
            output = output.clone()
            output[..., token] += 1e4
            return output
        return None

    handle = answerer.loaded.model.lm_head.register_forward_hook(hook)
    try:
        yield calls
    finally:
        handle.remove()


def test_smolvlm2_published_folder_describe_turns_regenerate_score(smol, clip):
    loaded = smol.loaded
    assert loaded.model_id.endswith("smolvlm2-500m") and loaded.family == "smolvlm"
    assert 49279 in smol.stop_ids  # <end_of_utterance>, the published eos
    conv = smol.open(clip, frames=4)
    ids = conv.prefix.ids[0].tolist()
    assert ids.count(49190) == 4 * 64  # <image>: 64 per frame, from processor_config.json
    assert tuple(conv.prefix.inputs["pixel_values"].shape) == (1, 4, 3, 512, 512)
    # the prompt as the published processor writes a video: intro, timestamps, then the text
    text = loaded.processor.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>User: You are provided the following series of four")
    assert text.count("Frame from 00:0") == 4
    first = list(conv.ask(DESCRIBE_QUESTION, GREEDY))
    second = list(conv.ask("What does <p1> do?", GREEDY))
    again = list(conv.regenerate(GREEDY))
    assert again == second  # greedy: the same answer again
    assert [m["role"] for m in conv.history] == ["user", "assistant"] * 2
    assert conv.history[1]["content"] == (first[-1] if first else "")
    rendered = conv._render(conv.history).replace("\x00", "")
    assert rendered.count("<end_of_utterance>\n") == 4 and rendered.endswith("Assistant:")
    scores = conv.score(ONE_WORD_QUESTION, ["Hugging.", "Waving.", "Punching."])
    assert len(scores) == 3 and all(np.isfinite(scores)) and all(s < 0 for s in scores)


def test_smolvlm2_from_the_hf_cache_offline(smol, smol_folder, clip, monkeypatch, tmp_path):
    _offline_hub(monkeypatch, tmp_path, SMOL_ID, smol_folder)
    answerer = load_zeroshot_answerer(load_preset("small"))
    assert answerer.loaded.model_id == SMOL_ID
    a = answerer.open(clip, frames=1).score(ONE_WORD_QUESTION, ["Hugging."])
    b = smol.open(clip, frames=1).score(ONE_WORD_QUESTION, ["Hugging."])
    assert a == pytest.approx(b, abs=1e-4)


def _video_messages():
    return [
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Hi?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Yes."}]},
        {"role": "user", "content": [{"type": "text", "text": "Why?"}]},
    ]


def test_smolvlm2_template_is_passed_and_tiny_renders_the_same(smol):
    processor = smol.loaded.processor
    messages = _video_messages()
    # the published chat_template.json drops a video item: the project passes its own template
    published = processor.apply_chat_template(
        messages, chat_template=processor.chat_template, add_generation_prompt=True
    )
    assert "<video>" not in published
    ours = processor.apply_chat_template(
        messages, chat_template=SMOLVLM_VIDEO_TEMPLATE, add_generation_prompt=True
    )
    assert ours.startswith("<|im_start|>User: <video>Hi?<end_of_utterance>\n")
    assert ours.endswith(
        "Assistant: Yes.<end_of_utterance>\nUser: Why?<end_of_utterance>\nAssistant:"
    )
    _, tiny = build_random({"family": "smolvlm"})
    assert tiny.apply_chat_template(messages, add_generation_prompt=True) == ours


def test_smolvlm2_frames_are_letterboxed_not_stretched(smol):
    video = np.full((1, 180, 320, 3), 40, np.uint8)  # 16:9
    for frame in video:
        cv2.circle(frame, (160, 90), 60, (255, 255, 255), -1)
    meta = {"fps": 2.0, "total_num_frames": 1, "duration": 0.5, "frames_indices": [0]}
    prefix = VideoPrefix(smol.loaded, "<|im_start|>User: <video>", [video], [meta])
    pixels = prefix.inputs["pixel_values"][0, 0, 0].numpy()  # (512, 512), red channel
    ys, xs = np.nonzero(pixels > 0.5)  # the circle (white maps to 1, the grey to about -0.7)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert abs(width / height - 1) < 0.03  # still a circle (stretched: width/height = 16/9)
    assert height == pytest.approx(120 * 512 / 320, abs=3)  # scaled by one factor


def test_qwen3_vl_template_tiny_renders_as_published(qwen_folder):
    from transformers import AutoProcessor

    published = AutoProcessor.from_pretrained(qwen_folder)
    _, tiny = build_random({"family": "qwen3_vl"})
    for gen in (True, False):
        want = published.apply_chat_template(_video_messages(), add_generation_prompt=gen)
        assert tiny.apply_chat_template(_video_messages(), add_generation_prompt=gen) == want


@pytest.mark.parametrize("streams", [False, True])
def test_qwen3_vl_reduced_depth_from_the_hf_cache(
    qwen_folder, clip, monkeypatch, tmp_path, streams
):
    assert not (qwen_folder / "generation_config.json").exists()
    _offline_hub(monkeypatch, tmp_path, QWEN_ID, qwen_folder)
    preset = load_preset("paper")
    preset.zeroshot.weights = "qwen3-vl-4b-instruct"
    answerer = load_zeroshot_answerer(preset)
    config = answerer.loaded.model.config
    assert answerer.loaded.model_id == QWEN_ID and answerer.loaded.family == "qwen3_vl"
    assert (config.text_config.hidden_size, config.vision_config.hidden_size) == (2560, 1024)
    # stops on both published end tokens, though no generation_config.json says so
    assert {151643, 151645} <= set(answerer.stop_ids)
    conv = answerer.open(clip, frames=8, three_streams=streams)
    grid = conv.prefix.inputs["video_grid_thw"]
    assert grid.tolist() == [[4, 6, 8]] * (4 if streams else 1)  # 96x128 px kept: 6x8 patches
    ids = conv.prefix.ids[0].tolist()
    assert ids.count(151656) == (4 if streams else 1) * 4 * 6 * 8 // 4  # <|video_pad|>
    # <|vision_start|>: the template's, then one per 2-frame group (each with its timestamp)
    assert ids.count(151652) == (4 if streams else 1) * (1 + 4)
    answer = list(conv.ask(DESCRIBE_QUESTION, GREEDY))
    second = list(conv.ask("And <p2>?", GREEDY))
    assert list(conv.regenerate(GREEDY)) == second and len(conv.history) == 4
    for end in ("<|im_end|>", "<|endoftext|>"):
        with lm_head_calls(answerer, favour=end) as steps:
            assert list(conv.ask("Done?", GREEDY)) == []
        assert len(steps) == 1  # stopped at the first token
    del answer
    scores = conv.score(ONE_WORD_QUESTION, ["Hugging.", "Waving."])
    assert all(np.isfinite(scores))
