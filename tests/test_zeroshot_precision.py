"""The zero-shot model's precision settings: int8 text weights and the vision side's dtype.

Agreement with float32 is checked on fixed inputs; the bounds come from the measurement on a
trained model of the same text family (``benchmarks/bench_zeroshot_precision.py agreement``):
there the largest logit difference was under a tenth of a position's logit spread and the first
greedy token never changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from ovhhir_core.answering import GenerationConfig, TrackedClip
from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.streams import ONE_WORD_QUESTION
from ovhhir_core.zeroshot import load_zeroshot_answerer
from ovhhir_core.zeroshot.precision import (
    Int8Linear,
    apply_precision,
    int8_available,
    quantize_int8,
    resolve_quantize,
    resolve_vision_dtype,
)
from tests.zeroshot_utils import make_track_dir

PUBLISHED = Path(__file__).parent / "published" / "HuggingFaceTB__SmolVLM2-500M-Video-Instruct"
GREEDY = GenerationConfig(temperature=0, max_new_tokens=4, repetition_penalty=1.0)
needs_int8 = pytest.mark.skipif(not int8_available(), reason="no fbgemm int8 kernels")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def track_dir(tmp_path_factory):
    return make_track_dir(tmp_path_factory.mktemp("precision") / "clip")


def _answerer(**zeroshot):
    preset = load_preset("tiny")
    for key, value in zeroshot.items():
        setattr(preset.zeroshot, key, value)
    return load_zeroshot_answerer(preset)


def test_settings_resolve_and_bad_values_are_user_errors():
    assert resolve_quantize("none", CPU) == "none" and resolve_quantize(None, CPU) == "none"
    assert load_preset("cpu").zeroshot.quantize == "none"  # off by default: see the docstring
    with pytest.raises(UserError, match="runs on CPUs"):
        resolve_quantize("int8", torch.device("meta"))
    with pytest.raises(UserError, match="unknown quantize"):
        resolve_quantize("auto", CPU)
    assert resolve_vision_dtype("bfloat16", CPU) == torch.bfloat16
    assert resolve_vision_dtype("auto", CPU) in (torch.float32, torch.bfloat16)
    preset = load_preset("tiny")
    preset.zeroshot.quantize = "int4"
    with pytest.raises(UserError, match="zeroshot.quantize must be one of"):
        preset.zeroshot.validate()
    preset.zeroshot.quantize, preset.zeroshot.dtype = "none", "int8"
    with pytest.raises(UserError, match="zeroshot.dtype must be one of"):
        preset.zeroshot.validate()


@needs_int8
def test_int8_linear_agrees_with_float32_on_fixed_inputs():
    torch.manual_seed(0)
    linear = nn.Linear(960, 2560)
    x = torch.randn(2, 7, 960)
    with torch.no_grad():
        ref = linear(x)
        out = Int8Linear(linear)(x)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    # 8-bit weights per row and 7-bit activations: about 2% of the output's spread (measured
    # 1.7% of the largest value, 1.9% of the standard deviation); a wrong scale, a lost bias or
    # a transposed weight is off by the whole spread
    assert float((out - ref).abs().max()) < 0.03 * float(ref.abs().max())
    assert float((out - ref).pow(2).mean().sqrt()) < 0.03 * float(ref.std())


def _published_text_model(layers: int = 2, vocab: int = 8192):
    """SmolVLM2-500M's text model at its published widths (960 wide, 2560 MLP, 15 heads, 5 KV
    heads) with fewer layers and a smaller vocabulary (the test's cost), random weights drawn
    with a fixed seed."""
    from transformers import AutoConfig, AutoModelForCausalLM

    text = json.loads((PUBLISHED / "config.json").read_text())["text_config"]
    text["num_hidden_layers"], text["vocab_size"] = layers, vocab
    text.pop("architectures", None)
    config = AutoConfig.for_model(**text)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    with torch.no_grad():
        for weight in model.parameters():  # trained-like scale: logits spread over several units
            if weight.dim() > 1:
                weight.normal_(0, 0.06)
    return model


@needs_int8
def test_int8_agrees_on_the_published_text_architecture():
    import copy

    ref = _published_text_model()
    q = copy.deepcopy(ref)
    count = quantize_int8(q.model)
    q.lm_head = Int8Linear(q.lm_head)
    assert count == 2 * 7  # q, k, v, o, gate, up, down per layer
    ids = torch.randint(0, 8192, (3, 24), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        a, b = ref(ids).logits, q(ids).logits
    # Random weights give near-tied logits, so their ranking flips under any noise (a trained
    # model's does not: see the module docstring); what must hold is that int8 follows float32
    # closely (measured: RMS 15% of the logits' spread, correlation 0.989, largest difference
    # 23% of max - median) and keeps the order wherever float32 is confident beyond the noise.
    diff = (a - b).abs()
    assert float(diff.pow(2).mean().sqrt() / a.std()) < 0.25
    assert float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]) > 0.97
    spread = a.max(-1).values - a.median(-1).values
    assert float((diff.max(-1).values / spread).max()) < 0.35
    top2 = a.topk(2, dim=-1).values
    confident = (top2[..., 0] - top2[..., 1]) > 2 * diff.max(-1).values
    assert confident.sum() > 0
    assert torch.equal(a.argmax(-1)[confident], b.argmax(-1)[confident])
    assert float((a.argmax(-1) == b.argmax(-1)).float().mean()) > 0.5


@needs_int8
def test_int8_preset_answers_scores_and_says_so(track_dir):
    ref = _answerer(quantize="none")
    q = _answerer(quantize="int8")
    text = q.loaded.model.model.text_model
    assert isinstance(q.loaded.model.lm_head, Int8Linear)
    assert not any(isinstance(m, nn.Linear) for m in text.modules())
    assert "text int8" in q.loaded.precision and "text float32" in ref.loaded.precision
    clip = TrackedClip.from_track_dir(track_dir)
    conv_q, conv_ref = q.open(clip, frames=8), ref.open(clip, frames=8)
    assert "text int8" in conv_q.provenance.caption()
    assert list(conv_q.ask("What does <p1> do?", GREEDY))
    candidates = ["Punching.", "Hugging.", "Waving.", "high five"]
    a = conv_ref.score(ONE_WORD_QUESTION, candidates)
    b = conv_q.score(ONE_WORD_QUESTION, candidates)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 0.05
    assert all(s <= 0 for s in b)


def test_vision_side_in_bfloat16_feeds_a_float32_text_model(track_dir):
    ref = _answerer(quantize="none", dtype="float32")
    half = _answerer(quantize="none", dtype="bfloat16")
    inner = half.loaded.model.model
    assert next(inner.vision_model.parameters()).dtype == torch.bfloat16
    assert next(inner.connector.parameters()).dtype == torch.bfloat16
    assert next(inner.text_model.parameters()).dtype == torch.float32
    assert half.loaded.precision == "vision bfloat16, text float32"
    clip = TrackedClip.from_track_dir(track_dir)
    a = ref.open(clip, frames=8).score(ONE_WORD_QUESTION, ["Hugging.", "Waving."])
    conv = half.open(clip, frames=8)
    b = conv.score(ONE_WORD_QUESTION, ["Hugging.", "Waving."])
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 0.05
    assert list(conv.ask("What does <p1> do?", GREEDY))


def test_apply_precision_is_a_no_op_at_float32_without_quantisation():
    answerer = _answerer(quantize="none", dtype="float32")
    model = answerer.loaded.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = apply_precision(model, CPU, "float32", "none")
    assert result.describe() == "vision float32, text float32"
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_layer_progress_counts_this_threads_layers_and_can_stop_the_encoding(track_dir):
    import threading

    from ovhhir_core.zeroshot.progress import layer_progress

    answerer = _answerer(quantize="none")
    clip = TrackedClip.from_track_dir(track_dir)
    inner = answerer.loaded.model.model
    total = len(inner.vision_model.encoder.layers) + len(inner.text_model.layers)
    seen: list[tuple[int, int]] = []
    with layer_progress(answerer.loaded, lambda d, t: seen.append((d, t))):
        answerer.open(clip, frames=8)
        other = threading.Thread(target=answerer.open, args=(clip, 8))
        other.start()
        other.join()  # another thread's encoding does not count
    assert seen == [(i, total) for i in range(total + 1)]
    answerer.open(clip, frames=8)  # the hooks are gone
    assert len(seen) == total + 1

    class Stop(Exception):
        pass

    def stop_halfway(done, total):
        if done > total // 2:
            raise Stop

    with pytest.raises(Stop), layer_progress(answerer.loaded, stop_halfway):
        answerer.open(clip, frames=8)
