"""The OV-HHIR language model seen by the shared decoding loop (:mod:`ovhhir_core.answering.decoding`).

The prompt's spliced embeddings run once (the prefill); every new token then goes through
:func:`llm_step` on the language model's key/value cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from ovhhir_core.answering.base import GenerationConfig
from ovhhir_core.answering.decoding import generate_tokens

__all__ = ["GenerationConfig", "llm_step", "llm_tokens"]


def llm_step(llm: nn.Module) -> Any:
    """``step(ids (B, n), cache) -> logits (B, V)`` over ``llm`` (the cache grows in place)."""

    def step(ids: torch.Tensor, cache: Any) -> torch.Tensor:
        b, n = ids.shape
        mask = torch.ones(b, cache.get_seq_length() + n, dtype=torch.long, device=ids.device)
        return llm(input_ids=ids, attention_mask=mask, cache=cache, use_cache=True).logits[:, -1]

    return step


@torch.no_grad()  # on a generator: off while it runs, not between yields
def llm_tokens(
    llm: nn.Module,
    inputs_embeds: torch.Tensor,
    gen: GenerationConfig,
    stop_ids: Sequence[int],
    context_ids: Sequence[int] = (),
) -> Iterator[int]:
    """New token ids for a (1, L, D) prompt embedding (stop ids are not yielded); ``context_ids``
    (the prompt's text ids) count for the repetition penalty."""
    gen.validate()
    mask = torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
    out = llm(inputs_embeds=inputs_embeds, attention_mask=mask, use_cache=True)
    logits = out.logits[:, -1]  # (1, V)
    yield from generate_tokens(llm_step(llm), out.cache, logits, gen, stop_ids, context_ids)
