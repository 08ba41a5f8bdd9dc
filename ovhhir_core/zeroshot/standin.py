"""Random-weight stand-ins of published video-LLMs, built from their published small files.

A published folder holds what a user downloads besides the weights: ``config.json``, the
processor, tokenizer and chat-template files. :func:`build_standin` builds the model of that
config with random weights (optionally fewer layers, see ``reduce``), saves it with
``save_pretrained`` and copies the published small files beside it: the folder a user's download
gives, except the weight values. Tests and benchmarks use these (tests also file them into a
Hugging Face cache layout and load them by Hub id with ``HF_HUB_OFFLINE=1``); answers from them
are noise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Qwen2/Qwen3 special tokens at their published ids (Qwen3-VL's ``config.json`` names 151643,
#: 151645, 151652, 151653, 151655 and 151656 of them).
QWEN_SPECIAL_IDS = {
    "<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645,
    "<|object_ref_start|>": 151646, "<|object_ref_end|>": 151647, "<|box_start|>": 151648,
    "<|box_end|>": 151649, "<|quad_start|>": 151650, "<|quad_end|>": 151651,
    "<|vision_start|>": 151652, "<|vision_end|>": 151653, "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655, "<|video_pad|>": 151656, "<tool_call>": 151657,
    "</tool_call>": 151658, "<|fim_prefix|>": 151659, "<|fim_middle|>": 151660,
    "<|fim_suffix|>": 151661, "<|fim_pad|>": 151662, "<|repo_name|>": 151663,
    "<|file_sep|>": 151664, "<tool_response>": 151665, "</tool_response>": 151666,
    "<think>": 151667, "</think>": 151668,
}  # fmt: skip
#: Files ``save_pretrained`` writes for the model itself (never copied from the published folder).
MODEL_FILES = ("config.json", "generation_config.json")


def qwen_tokenizer():
    """A fast tokenizer with Qwen's special tokens at their published ids.

    Qwen3-VL's ``tokenizer.json`` (a 151k-token byte-level BPE) is not among the published files
    here, so this one keeps what the model and the project depend on: every special token at its
    published id, ``<|im_end|>`` as the end of turn and ``<|endoftext|>`` as padding; ordinary
    text falls back to the offline word list of :mod:`.tiny` at low ids.
    """
    from .tiny import word_tokenizer

    return word_tokenizer(
        QWEN_SPECIAL_IDS, eos="<|im_end|>", pad="<|endoftext|>", chat_template=None
    )


def _apply_reduce(config: Any, reduce: dict[str, Any]) -> None:
    """Set ``reduce``'s dotted keys (``text_config.num_hidden_layers``) on ``config``."""
    for dotted, value in reduce.items():
        target = config
        *parents, name = dotted.split(".")
        for parent in parents:
            target = getattr(target, parent)
        if not hasattr(target, name):
            raise KeyError(f"{dotted}: the published config has no such setting")
        setattr(target, name, value)


def build_standin(
    published: str | os.PathLike,
    out: str | os.PathLike,
    reduce: dict[str, Any] | None = None,
    seed: int = 0,
    tokenizer: Any = None,
) -> Path:
    """Save a random-weight model of ``published``'s ``config.json`` in the published layout.

    ``out`` receives the model's ``save_pretrained`` files (``config.json`` with any ``reduce``
    applied, ``model.safetensors``) and every other file of ``published`` as published; a
    ``generation_config.json`` exists only if ``published`` has one. ``tokenizer`` (a tokenizer
    object) is saved too when ``published`` has no tokenizer files of its own. Returns ``out``.
    """
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    published, out = Path(published), Path(out)
    config = AutoConfig.from_pretrained(published)
    _apply_reduce(config, reduce or {})
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    del model
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    for path in published.iterdir():
        if path.is_file() and path.name not in MODEL_FILES:
            shutil.copyfile(path, out / path.name)
    if (published / "generation_config.json").exists():
        shutil.copyfile(published / "generation_config.json", out / "generation_config.json")
    else:
        (out / "generation_config.json").unlink(missing_ok=True)
    (out / "standin.json").write_text(
        json.dumps({"published": published.name, "reduce": reduce or {}, "seed": seed}) + "\n"
    )
    log.info("random-weight stand-in of %s saved to %s", published.name, out)
    return out
