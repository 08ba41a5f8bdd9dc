"""Random-weight zero-shot models built offline from transformers' config classes.

``build_random(arch)`` builds a model of the family ``arch["family"]`` names, at the sizes of
its :data:`~.families.FAMILY_TABLE` entry (tiny) overridden by ``arch``, with an offline
tokenizer (:func:`word_tokenizer`: a ``tokenizers`` WordLevel model holding the family's special
tokens, whitespace, ASCII characters and a short word list) and the family's own chat template,
so prompts render in the format the published model uses. Everything of the real code path runs
(processor, video placeholders, vision tower, prompt cache, decoding); the answers are noise,
and the answerer's provenance says so. Published architectures: :mod:`.standin`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ovhhir_core.errors import UserError

from .families import FAMILY_TABLE

#: Words that get their own token (the rest of a word falls back to ``<unk>``).
WORDS = (
    "User Assistant user assistant system The the video shows two people Person is tinted and "
    "outlined in with label next alone scene around them removed pixels are flat colour red blue "
    "Describe describe interaction between activity one word What what does do doing Frame at "
    "seconds You a of from sampled fps frames Measurements tracked masks hug hugging handshake "
    "shaking hands punch punching kick kicking push pushing wave waving walk walking talk talking "
    "dance dancing high five pat point pointing Hugging Punching Kicking Pushing Waving Walking "
    "provided following series H MM SS"
).split()


def word_tokenizer(
    special: Sequence[str] | Mapping[str, int],
    eos: str,
    pad: str = "<pad>",
    chat_template: str | None = None,
):
    """An offline fast tokenizer: ``special`` tokens (at the given ids when a mapping, else
    first), ``<pad>`` and ``<unk>``, whitespace, ASCII characters and :data:`WORDS`."""
    import tokenizers
    from tokenizers import decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = dict(special) if isinstance(special, Mapping) else {}
    ordinary = ["<pad>", "<unk>", *([] if vocab else special), " ", "\n"]
    ordinary += [*map(chr, range(33, 127)), *WORDS]
    next_id = 0
    for token in ordinary:
        if token in vocab:
            continue
        while next_id in vocab.values():
            next_id += 1
        vocab[token] = next_id
        next_id += 1
    model = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    split = tokenizers.Regex(r"<\|?[\w-]+\|?>|</?\w+>|\w+|\s|[^\w\s]")
    model.pre_tokenizer = pre_tokenizers.Split(pattern=split, behavior="isolated")
    model.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=model,
        unk_token="<unk>",
        pad_token=pad,
        eos_token=eos,
        extra_special_tokens=list(special),
        chat_template=chat_template,
    )


def tiny_tokenizer(family: str):
    """An offline fast tokenizer holding ``family``'s special tokens and chat template."""
    spec = FAMILY_TABLE[family]
    return word_tokenizer(spec.tiny_special, eos=spec.tiny_special[1], chat_template=None)


def _merged(family: str, arch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(FAMILY_TABLE[family].tiny_arch)
    for key, value in arch.items():
        if key in ("vision", "text"):
            merged.setdefault(key, {}).update(value)
        elif key != "family":
            merged[key] = value
    return merged


def build_random(arch: dict[str, Any], seed: int = 0) -> tuple[Any, Any]:
    """(model, processor) of random weights; ``arch["family"]`` picks the family (default
    ``smolvlm``) and the rest overrides its tiny sizes (``vision`` / ``text`` sub-dicts,
    top-level config keys)."""
    import torch
    from transformers import AutoModelForImageTextToText

    family = arch.get("family", "smolvlm")
    if family not in FAMILY_TABLE:
        known = ", ".join(FAMILY_TABLE)
        raise UserError(f"zeroshot.arch.family {family!r} is unknown; use one of {known}")
    sizes = _merged(family, arch)
    config, processor = FAMILY_TABLE[family].tiny_build(tiny_tokenizer(family), sizes)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    return model.eval(), processor
