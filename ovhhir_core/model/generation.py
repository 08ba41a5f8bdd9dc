"""Token generation from spliced input embeddings, streamed token by token.

Single-beam decoding is our own loop over the LLM with a KV cache (greedy when temperature is 0,
else temperature / top-p sampling from a private ``torch.Generator``, so concurrent users never
share random state). ``num_beams > 1`` uses ``transformers``' ``generate`` (beam search cannot
stream: the whole answer arrives at once).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ovhhir_core.answerer import GenerationConfig

__all__ = ["GenerationConfig", "generate_tokens", "stream_text"]


def _processors(gen: GenerationConfig):
    from transformers.generation.logits_process import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )

    procs = LogitsProcessorList()
    if gen.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(gen.repetition_penalty))
    if gen.temperature > 0:
        procs.append(TemperatureLogitsWarper(gen.temperature))
        if gen.top_p < 1.0:
            procs.append(TopPLogitsWarper(gen.top_p))
    return procs


@torch.no_grad()
def generate_tokens(
    llm: nn.Module,
    inputs_embeds: torch.Tensor,
    gen: GenerationConfig,
    stop_ids: Sequence[int],
    pad_id: int,
    context_ids: Sequence[int] = (),
) -> Iterator[int]:
    """Yield new token ids one by one for a (1, L, D) prompt embedding; stop ids are not yielded.

    ``context_ids`` (the prompt's text ids) count for the repetition penalty.
    """
    gen.validate()
    if gen.num_beams > 1:
        yield from _beam_tokens(llm, inputs_embeds, gen, stop_ids, pad_id)
        return
    device = inputs_embeds.device
    rng = torch.Generator(device=device)
    if gen.seed is None:
        rng.seed()
    else:
        rng.manual_seed(int(gen.seed))
    procs = _processors(gen)
    stops = set(int(i) for i in stop_ids)
    seen = torch.tensor([list(context_ids)], dtype=torch.long, device=device)  # (1, S)
    mask = torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=device)  # (1, L)
    out = llm(inputs_embeds=inputs_embeds, attention_mask=mask, use_cache=True)
    for _ in range(gen.max_new_tokens):
        logits = out.logits[:, -1, :].float()  # (1, V)
        scores = procs(seen, logits)
        if gen.temperature > 0:
            probs = torch.softmax(scores, dim=-1)
            token = torch.multinomial(probs, 1, generator=rng)  # (1, 1)
        else:
            token = scores.argmax(dim=-1, keepdim=True)  # (1, 1)
        tok = int(token)
        if tok in stops:
            return
        yield tok
        seen = torch.cat([seen, token], dim=1)
        mask = torch.cat([mask, mask.new_ones(1, 1)], dim=1)
        out = llm(input_ids=token, attention_mask=mask, cache=out.cache, use_cache=True)


def _beam_tokens(llm, inputs_embeds, gen: GenerationConfig, stop_ids, pad_id) -> Iterator[int]:
    mask = torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
    kwargs = dict(
        num_beams=gen.num_beams,
        max_new_tokens=gen.max_new_tokens,
        repetition_penalty=gen.repetition_penalty,
        eos_token_id=list(stop_ids),
        pad_token_id=pad_id,
        do_sample=gen.temperature > 0,
    )
    if gen.temperature > 0:
        kwargs.update(temperature=gen.temperature, top_p=gen.top_p)
    devices = [inputs_embeds.device] if inputs_embeds.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), warnings.catch_warnings():
        # with inputs_embeds only, the penalty covers the new tokens; transformers warns each call
        warnings.filterwarnings("ignore", message=".*repetition_penalty.*")
        if gen.seed is not None:
            torch.manual_seed(int(gen.seed))
        out = llm.generate(inputs_embeds=inputs_embeds, attention_mask=mask, **kwargs)
    stops = set(int(i) for i in stop_ids)
    for tok in out[0].tolist():  # only new tokens: no input_ids were given
        if tok in stops or tok == pad_id:
            return
        yield tok


def stream_text(tokens: Iterator[int], tokenizer) -> Iterator[str]:
    """Turn a token stream into the growing decoded text; yields only when the text changed.

    Text ending in an incomplete multi-byte character (U+FFFD) is held back until it completes.
    """
    ids: list[int] = []
    last = ""
    for tok in tokens:
        ids.append(tok)
        text = tokenizer.decode(ids, skip_special_tokens=True)
        if text != last and not text.endswith("\ufffd"):
            last = text
            yield text
    final = tokenizer.decode(ids, skip_special_tokens=True)
    if final != last:
        yield final
