"""The OV-HHIR model with the ``tiny`` preset: random weights of the real architectures, on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_utils import CONV, CaptureEmbeds, make_clip
from safetensors.torch import save_file

from ovhhir_core.config import load_preset
from ovhhir_core.errors import UserError
from ovhhir_core.model import (
    ChatSession,
    CheckpointError,
    Clip,
    GenerationConfig,
    collate_features,
    default_question,
    deltas,
    load_model,
    read_checkpoint,
)
from ovhhir_core.model import prompt as P
from ovhhir_core.model.branch import frame_positions
from ovhhir_core.model.llm import LLAMA2_CHAT_TEMPLATE
from ovhhir_core.streams import TOKENS

GREEDY = GenerationConfig(temperature=0, max_new_tokens=12, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def preset():
    return load_preset("tiny")


@pytest.fixture(scope="module")
def model(preset):
    return load_model(preset, "cpu")


@pytest.fixture(scope="module")
def clip():
    return make_clip(p2_absent_from=10)


def test_features_shapes_presence_and_absent_frames(model, clip):
    feats = model.extract_features(clip)
    t = clip.num_frames
    assert set(feats) == {
        "person_1",
        "person_1.present",
        "person_2",
        "person_2.present",
        "background",
    }
    assert feats["person_1"].shape == (t, 12, 32)  # 64×48 input, patch 16 (pad 2) → 4×3 tokens
    assert feats["background"].shape == (t, 17, 32)  # 32×32, patch 8 → 16 patches + CLS
    assert feats["person_1.present"].all()
    present = feats["person_2.present"]
    assert present[:10].all() and not present[10:].any()
    assert torch.count_nonzero(feats["person_2"][10:]) == 0
    assert torch.count_nonzero(feats["person_2"][:10]) > 0


def test_batched_encoding_matches_frame_by_frame(model, clip):
    enc = model.person_encoder
    images, _ = enc.prepare_person(clip.frames["person_1"], clip.boxes["person_1"])
    batched = enc(images)
    single = torch.cat([enc(images[i : i + 1]) for i in range(images.shape[0])])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)


def test_only_branches_are_trainable(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    branches = sum(p.numel() for p in model.branches.parameters())
    assert trainable == branches > 0
    for part in (model.person_encoder, model.background_encoder, model.llm):
        assert not any(p.requires_grad for p in part.parameters())
    keys = model.trainable_state_dict()
    assert sum(v.numel() for v in keys.values()) == branches
    assert {k.split(".")[0] for k in keys} == {"person_1", "person_2", "background"}
    model.train()
    try:
        assert model.branches.training
        assert not model.llm.training and not model.person_encoder.training
    finally:
        model.train(False)


def test_forward_backward_reaches_only_branches(model, clip):
    feats = model.extract_features(clip)
    batch = collate_features([feats, feats])
    assert batch["person_1"].shape == (2, 16, 12, 32)
    vis = model.embed(batch)
    assert {k: tuple(v.shape) for k, v in vis.items()} == {
        s: (2, 4, 32) for s in ("person_1", "person_2", "background")
    }
    loss = model.training_loss(batch, [CONV, CONV[:2]])
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for stream, branch in model.branches.items():
        assert branch.video_queries.grad is not None, stream
        assert branch.proj.weight.grad.abs().sum() > 0, stream
    assert all(p.grad is None for p in model.llm.parameters())
    model.branches.zero_grad(set_to_none=True)


def test_labels_cover_exactly_the_answers(model):
    messages = P.to_messages(CONV)
    ids, labels = P.training_ids(model.tokenizer, messages)
    assert len(ids) == len(labels)
    kept = [tok for tok in labels if tok != P.IGNORE_INDEX]
    text = model.tokenizer.decode(kept)
    assert "A person swings a punch." in text and "Punching." in text
    assert "Describe" not in text and "[INST]" not in text
    assert model.tokenizer.eos_token_id in kept  # learns to stop


def test_llama2_fallback_template(model):
    assert model.tokenizer.chat_template == LLAMA2_CHAT_TEMPLATE
    text = P.render(
        model.tokenizer,
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <p1>"}],
        True,
    )
    assert text == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi <p1> [/INST]"


def test_visual_embeddings_land_where_the_placeholders_were(model, clip):
    vis = model.embed_clip(clip)
    question = "First <bg>, then <p1> and <p2>, and <p1> again."
    emb_table = model.llm.get_input_embeddings().weight
    with CaptureEmbeds(model.llm) as cap:
        model.generate_text(vis, question, GenerationConfig(temperature=0, max_new_tokens=1))
    got = cap.calls[0][0]  # (L', D)
    ids = P.encode(
        model.tokenizer, P.render(model.tokenizer, [{"role": "user", "content": question}], True)
    )
    names = {model.tokenizer.convert_tokens_to_ids(t): s for s, t in TOKENS.items()}
    q = 4
    assert got.shape[0] == len(ids) + 4 * (q - 1)
    pos, order = 0, []
    for tok in ids:
        if tok in names:
            torch.testing.assert_close(got[pos : pos + q], vis[names[tok]])
            order.append(names[tok])
            pos += q
        else:
            torch.testing.assert_close(got[pos], emb_table[tok])
            pos += 1
    assert order == ["background", "person_1", "person_2", "person_1"]


def test_text_without_placeholders_is_plain_chat(model):
    emb, ids, where = model.prompt_embeds([{"role": "user", "content": "Hello there"}], {})
    assert where == []
    torch.testing.assert_close(emb[0], model.llm.get_input_embeddings().weight[ids])


def test_generation_streams_growing_text(model, clip):
    chat = ChatSession(model, clip)
    gen = GenerationConfig(temperature=0.9, top_p=0.95, max_new_tokens=16, seed=3)
    items = list(chat.ask(default_question(), gen))
    assert len(items) > 1
    for a, b in zip(items, items[1:], strict=False):
        assert b.startswith(a) and len(b) > len(a)
    assert chat.history == [
        {"role": "user", "content": default_question()},
        {"role": "assistant", "content": items[-1]},
    ]
    assert "".join(deltas(iter(items))) == items[-1]
    again = ChatSession(model, clip)
    assert list(again.ask(default_question(), gen))[-1] == items[-1]  # same seed, same answer


def test_multi_turn_regenerate_and_clear(model, clip):
    chat = ChatSession(model, clip)
    first = list(chat.ask(default_question(), GREEDY))[-1]
    list(chat.ask("Describe the activity in one word.", GREEDY))
    assert [m["role"] for m in chat.history] == ["user", "assistant", "user", "assistant"]
    redo = list(chat.regenerate(GREEDY))[-1]
    assert len(chat.history) == 4 and chat.history[-1]["content"] == redo
    chat.clear()
    assert chat.history == []
    assert list(chat.ask(default_question(), GREEDY))[-1] == first


def test_beam_search_generates(model, clip):
    out = model.generate_text(
        clip, default_question(), GenerationConfig(num_beams=2, temperature=0, max_new_tokens=6)
    )
    assert isinstance(out, str) and out


def test_invalid_generation_settings_are_user_errors(model):
    with pytest.raises(UserError, match="top_p"):
        model.generate_text(None, "hi", GenerationConfig(top_p=0))


def test_context_is_trimmed_but_keeps_the_visual_turn(model, clip):
    chat = ChatSession(model, clip)
    chat.history = [
        {"role": "user", "content": default_question()},
        {"role": "assistant", "content": "They fight."},
    ]
    for i in range(6):
        chat.history += [
            {"role": "user", "content": f"Question number {i} about the people?"},
            {"role": "assistant", "content": f"Answer number {i}."},
        ]
    full, _, _ = model.prompt_embeds(
        chat.history + [{"role": "user", "content": "And now?"}], chat.visual
    )
    gen = GenerationConfig(temperature=0, max_new_tokens=4)
    budget = full.shape[1] - 20
    model.cfg.llm.max_context_tokens = budget + gen.max_new_tokens
    try:
        with CaptureEmbeds(model.llm) as cap:
            list(chat.ask("And now?", gen))
        sent = cap.calls[0][0]
        assert sent.shape[0] <= budget
        vis = chat.visual["person_1"]
        assert any(torch.equal(sent[i : i + 4], vis) for i in range(sent.shape[0] - 3))
        assert len(chat.history) == 16  # the history itself is kept whole
        model.cfg.llm.max_context_tokens = 60
        with pytest.raises(UserError, match="tokens"):
            list(chat.ask("x " * 80, gen))
        assert chat.history[-1]["content"] != "x " * 80  # the failed question is not kept
    finally:
        model.cfg.llm.max_context_tokens = 0


def test_more_frames_than_max_frames(model):
    long_clip = make_clip(num_frames=40)
    vis = model.embed_clip(long_clip)
    assert vis["person_1"].shape == (4, 32)
    table = model.branches["person_1"].frame_position.detach()
    stretched = frame_positions(table, 40)
    assert stretched.shape == (40, table.shape[1])
    torch.testing.assert_close(stretched[0], table[0])
    torch.testing.assert_close(stretched[-1], table[-1])
    torch.testing.assert_close(frame_positions(table, 16), table[:16])


def test_absent_frames_are_explicit(model, clip):
    branch = model.branches["person_2"]
    feats = model.extract_features(clip)
    tokens = feats["person_2"][None]  # (1, T, N, C)
    present = feats["person_2.present"][None]  # (1, T)
    with torch.no_grad():
        base = branch(tokens, present)
        noisy = tokens.clone()
        noisy[:, 10:] = torch.randn_like(noisy[:, 10:])
        torch.testing.assert_close(branch(noisy, present), base)  # absent frames are not read
        assert not torch.allclose(branch(noisy, None), base)  # ...unless marked present
    nobody = make_clip(p2_absent_from=0)
    assert not nobody.presence("person_2").any()
    assert torch.isfinite(model.embed_clip(nobody)["person_2"]).all()


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


def test_missing_background_is_a_clear_error(model):
    clip = make_clip()
    del clip.frames["background"]
    with pytest.raises(UserError, match="background"):
        ChatSession(model, clip)
    vis = model.embed_clip(make_clip())
    del vis["background"]
    with pytest.raises(UserError, match="<bg>"):
        model.generate_text(vis, default_question(), GREEDY)


def test_checkpoint_round_trip_gives_identical_greedy_output(model, preset, clip, tmp_path):
    assert not model.is_trained
    with torch.no_grad():
        for p in model.branches.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    before = model.generate_text(clip, default_question(), GREEDY)
    model.save_checkpoint(tmp_path / "ckpt")
    fresh = load_model(preset, "cpu", checkpoint=tmp_path / "ckpt")
    assert fresh.is_trained
    assert fresh.generate_text(clip, default_question(), GREEDY) == before
    for k, v in model.trainable_state_dict().items():
        torch.testing.assert_close(fresh.trainable_state_dict()[k], v, rtol=0, atol=0)


def test_checkpoint_for_another_llm_size_is_refused(model, preset, tmp_path):
    model.save_checkpoint(tmp_path / "ckpt", preset_name="tiny")
    other = load_preset("tiny")
    other.name = "tiny-wide"
    other.model.llm.arch = {**other.model.llm.arch, "hidden_size": 48}
    with pytest.raises(CheckpointError) as err:
        load_model(other, "cpu", checkpoint=tmp_path / "ckpt")
    msg = str(err.value)
    assert "preset 'tiny'" in msg and "hidden size 32" in msg and "hidden size 48" in msg
    assert "shape mismatch" in msg and "--preset tiny" in msg
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(preset, "cpu", checkpoint=tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="Hub"):  # tests run with HF_HUB_OFFLINE=1
        read_checkpoint("someone/not-a-checkpoint")
    (tmp_path / "foreign").mkdir()
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign" / "model.safetensors"))
    with pytest.raises(CheckpointError, match="not written by save_checkpoint"):
        read_checkpoint(tmp_path / "foreign")


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


def test_scores_with_the_shared_prompt_cached_equal_whole_sequence_scores(model, clip, monkeypatch):
    from ovhhir_core.model import scoring

    visual = model.embed_clip(clip)
    minimum = scoring.MIN_SHARED_PREFIX
    names = ["Hugging", "Punching", "Hand shaking", "Hand waving", "Kicking", "Pushing"] * 4
    prompt = "Which one of these is it: " + "; ".join(names) + "? <p1> <p2> <bg>"
    answers = [f"{n}." for n in names[:6]]
    lengths = []
    hook = model.llm.register_forward_pre_hook(
        lambda m, a, kw: lengths.append(kw["inputs_embeds"].shape[:2]), with_kwargs=True
    )
    try:
        cached = model.score_answers(visual, prompt, answers)
        calls_cached = list(lengths)
        monkeypatch.setattr(scoring, "MIN_SHARED_PREFIX", 10**9)
        lengths.clear()
        whole = model.score_answers(visual, prompt, answers, batch_size=4)
    finally:
        hook.remove()
    assert cached == pytest.approx(whole, abs=1e-4)
    assert len(set(cached)) > 1 and all(s < 0 for s in cached)
    prefix = calls_cached[0][1]
    assert len(calls_cached) == 1 + len(answers) and prefix >= minimum
    assert all(b == 1 and n < prefix / 8 for b, n in calls_cached[1:])  # only the answers' tokens
    assert [b for b, _ in lengths] == [4, 2] and all(n > prefix for _, n in lengths)
