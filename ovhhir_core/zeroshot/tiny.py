"""Random-weight zero-shot models built offline from transformers' config classes.

``build_random(arch)`` builds a SmolVLM or Qwen3-VL of the sizes in ``arch`` (tiny by default)
with an offline tokenizer: a ``tokenizers`` WordLevel model holding the family's special tokens,
whitespace, ASCII characters and a short word list, wrapped in ``PreTrainedTokenizerFast``, plus a
short Jinja chat template of the family's shape. Everything of the real code path runs (processor,
video placeholders, vision tower, prompt cache, decoding); the answers are noise, and the
answerer's provenance says so. The benchmark builds the published sizes the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from ovhhir_core.errors import UserError

_SMOL_SPECIAL = ["<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>"]
_SMOL_SPECIAL += ["<global-img>"] + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
_QWEN_SPECIAL = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
_QWEN_SPECIAL += ["<|image_pad|>", "<|video_pad|>"]
#: Words that get their own token (the rest of a word falls back to ``<unk>``).
WORDS = (
    "User Assistant user assistant system The the video shows two people Person is tinted and "
    "outlined in with label next alone scene around them removed pixels are flat colour red blue "
    "Describe describe interaction between activity one word What what does do doing Frame at "
    "seconds You a of from sampled fps frames Measurements tracked masks hug hugging handshake "
    "shaking hands punch punching kick kicking push pushing wave waving walk walking talk talking "
    "dance dancing high five pat point pointing Hugging Punching Kicking Pushing Waving Walking"
).split()

SMOL_TEMPLATE = (
    "<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}:"
    "{% for c in m['content'] %}{% if c['type'] == 'text' %} {{ c['text'] }}"
    "{% elif c['type'] == 'video' %}<video>{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% elif c['type'] == 'video' %}"
    "<|vision_start|><|video_pad|><|vision_end|>{% endif %}{% endfor %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

#: Tiny sizes per family: top-level config keys, ``vision`` and ``text`` sub-configs.
TINY_ARCH: dict[str, dict[str, Any]] = {
    "smolvlm": {
        "scale_factor": 2,
        "vision": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                   "intermediate_size": 64, "image_size": 64, "patch_size": 16},
        "text": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 2, "num_key_value_heads": 2},
    },
    "qwen3_vl": {
        "vision": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                   "out_hidden_size": 64, "deepstack_visual_indexes": [1]},
        "text": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 32,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                     "mrope_section": [4, 6, 6], "mrope_interleaved": True}},
    },
}  # fmt: skip


def tiny_tokenizer(family: str):
    """An offline fast tokenizer holding ``family``'s special tokens and chat template."""
    import tokenizers
    from tokenizers import decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    special = _SMOL_SPECIAL if family == "smolvlm" else _QWEN_SPECIAL
    vocab: dict[str, int] = {}
    for token in ["<pad>", "<unk>", *special, " ", "\n", *map(chr, range(33, 127)), *WORDS]:
        vocab.setdefault(token, len(vocab))
    model = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    split = tokenizers.Regex(r"<\|?[\w-]+\|?>|\w+|\s|[^\w\s]")
    model.pre_tokenizer = pre_tokenizers.Split(pattern=split, behavior="isolated")
    model.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=model,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token=special[1],
        extra_special_tokens=special,
        chat_template=SMOL_TEMPLATE if family == "smolvlm" else QWEN_TEMPLATE,
    )


def _merged(family: str, arch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(TINY_ARCH[family])
    for key, value in arch.items():
        if key in ("vision", "text"):
            merged[key].update(value)
        elif key != "family":
            merged[key] = value
    return merged


def _processor(family: str, tokenizer, sizes: dict[str, Any]):
    if family == "smolvlm":
        from transformers import SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor

        side = sizes["vision"]["image_size"]
        per_frame = (side // sizes["vision"]["patch_size"]) ** 2 // sizes["scale_factor"] ** 2
        edge = {"longest_edge": side}
        return SmolVLMProcessor(
            image_processor=SmolVLMImageProcessor(
                size=edge, max_image_size=edge, do_image_splitting=False
            ),
            video_processor=SmolVLMVideoProcessor(size=edge, max_image_size=edge),
            tokenizer=tokenizer,
            image_seq_len=per_frame,
            chat_template=tokenizer.chat_template,
        )
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    side = sizes.get("image_size", 64)
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen3VLVideoProcessor(
            size={"shortest_edge": 32 * 32, "longest_edge": side * side * 64}
        ),
        tokenizer=tokenizer,
        chat_template=tokenizer.chat_template,
    )


def _config(family: str, sizes: dict[str, Any], tokenizer):
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tokenizer.get_vocab()}
    top = {k: v for k, v in sizes.items() if k not in ("vision", "text", "image_size")}
    text = {"vocab_size": len(ids), **sizes["text"]}
    if family == "smolvlm":
        from transformers import LlamaConfig, SmolVLMConfig
        from transformers.models.smolvlm.configuration_smolvlm import SmolVLMVisionConfig

        return SmolVLMConfig(
            vision_config=SmolVLMVisionConfig(**sizes["vision"]).to_dict(),
            text_config=LlamaConfig(**text).to_dict(),
            image_token_id=ids["<image>"],
            pad_token_id=ids["<pad>"],
            **top,
        )
    from transformers import Qwen3VLConfig

    return Qwen3VLConfig(
        vision_config=sizes["vision"],
        text_config=text,
        video_token_id=ids["<|video_pad|>"],
        image_token_id=ids["<|image_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        **top,
    )


def build_random(arch: dict[str, Any], seed: int = 0) -> tuple[Any, Any]:
    """(model, processor) of random weights; ``arch["family"]`` picks SmolVLM or Qwen3-VL and the
    rest overrides :data:`TINY_ARCH` (``vision`` / ``text`` sub-dicts, top-level config keys)."""
    import torch
    from transformers import AutoModelForImageTextToText

    family = arch.get("family", "smolvlm")
    if family not in TINY_ARCH:
        raise UserError(f"zeroshot.arch.family {family!r} is unknown; use smolvlm or qwen3_vl")
    sizes = _merged(family, arch)
    tokenizer = tiny_tokenizer(family)
    config = _config(family, sizes, tokenizer)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    return model.eval(), _processor(family, tokenizer, sizes)
