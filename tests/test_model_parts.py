"""The OV-HHIR model's parts without the shared tiny model: clip boxes from fill and masks, the
image Q-Former branch, a model without a background branch, quantization settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_utils import CaptureEmbeds, make_clip

from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.model import (
    Clip,
    GenerationConfig,
    default_question,
    load_model,
)
from ovhhir_core.model import prompt as P


@pytest.fixture(scope="module")
def preset():
    return load_preset("tiny")


def test_clip_boxes_from_fill_and_masks():
    frames = np.zeros((2, 40, 50, 3), np.uint8)
    frames[0, 5:20, 10:30] = 120
    frames[1, 0:3, 0:2] = 200  # 6 pixels: noise, not a person
    frames[:, 30:35, 40:45] += 10  # within the fill tolerance
    c = Clip.from_arrays({"person_1": frames, "person_2": frames})
    assert c.boxes["person_1"] == [(10, 5, 30, 20), None]
    assert not c.has_background
    masks = np.zeros((2, 40, 50), bool)
    masks[1, 1:4, 2:6] = True
    masks[1, 10:20, 20:30] = True
    c = Clip.from_arrays({"person_1": frames, "person_2": frames}, masks={"person_1": masks})
    assert c.boxes["person_1"] == [None, (2, 1, 30, 20)]
    with pytest.raises(UserError, match="person_2"):
        Clip.from_arrays({"person_1": frames})


def test_image_qformer_branch_compresses_each_frame_first():
    from ovhhir_core.model import BranchConfig
    from ovhhir_core.model.branch import Branch

    cfg = BranchConfig(
        num_query_tokens=3,
        qformer_hidden_size=16,
        qformer_layers=1,
        qformer_heads=2,
        qformer_intermediate_size=32,
        image_qformer_layers=1,
        max_frames=4,
    )
    branch = Branch(cfg, encoder_width=24, llm_hidden_size=40).eval()
    tokens = torch.randn(2, 6, 10, 24)  # (B, T, N, C), more frames than max_frames
    present = torch.ones(2, 6, dtype=torch.bool)
    present[1, 2:] = False
    assert branch._per_frame(tokens).shape == (2, 6, 3, 16)  # N=10 tokens → 3 queries per frame
    out = branch(tokens, present)
    assert out.shape == (2, 3, 40)
    out.sum().backward()
    assert branch.image_queries.grad is not None and branch.video_queries.grad is not None


def test_nobody_visible_and_no_background_branch(preset):
    from ovhhir_core.config import from_dict, to_dict
    from ovhhir_core.model import ModelConfig

    cfg = from_dict(ModelConfig, {**to_dict(preset.model), "use_background": False})
    model = load_model(cfg, "cpu")
    assert model.streams == ["person_1", "person_2"] and model.background_encoder is None
    clip = make_clip(num_frames=5, p2_absent_from=0)
    clip.frames["person_1"][:] = 0  # nobody anywhere
    clip = Clip.from_arrays({k: v for k, v in clip.frames.items() if k != "background"})
    feats = model.extract_features(clip)
    assert "background" not in feats and not feats["person_1.present"].any()
    assert feats["person_1"].shape == (5, 12, 32)
    with CaptureEmbeds(model.llm) as cap:
        model.generate_text(
            clip, default_question(), GenerationConfig(temperature=0, max_new_tokens=1)
        )
    ids = P.encode(
        model.tokenizer,
        P.render(model.tokenizer, [{"role": "user", "content": default_question()}], True),
    )
    assert cap.calls[0].shape[1] == len(ids) + 2 * (4 - 1) - 1  # <bg> splices as nothing


def test_quantization_needs_bitsandbytes_and_cuda():
    from ovhhir_core.model import LLMConfig
    from ovhhir_core.model.llm import LLMLoadError, _quantization_config

    with pytest.raises(LLMLoadError, match="8bit|4bit|bitsandbytes|CUDA"):
        _quantization_config(LLMConfig(quantization="4bit"), torch.device("cpu"))
    with pytest.raises(LLMLoadError, match="null"):
        _quantization_config(LLMConfig(quantization="3bit"), torch.device("cpu"))
    assert _quantization_config(LLMConfig(), torch.device("cpu")) is None
