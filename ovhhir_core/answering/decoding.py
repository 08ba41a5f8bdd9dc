"""Decoding shared by the OV-HHIR and the zero-shot answerers: filters, token loop, beam search,
text streaming.

A language model is seen through one function, ``step(ids, cache) -> logits``: the (B, V)
next-token logits after feeding ``ids`` (B, n) on top of ``cache`` (which the call extends in
place, as transformers' caches are). The caller runs the prompt once (its own prefill: spliced
embeddings, or a video prefix) and hands over the cache and the prompt's last logits.

The sampling rule, in this order (the order of transformers' ``generate``):

1. repetition penalty, in every mode (greedy too): the logit of a token already seen (the
   prompt's text ids and the answer so far) is divided by the penalty when positive and
   multiplied by it when negative; penalty 1 changes nothing;
2. temperature 0 is greedy: the most likely token after the penalty, no other filter;
3. otherwise the logits are divided by the temperature, then top-p is applied to that tempered
   distribution: the smallest set of most likely tokens whose probabilities add up to at least
   ``top_p`` is kept (never fewer than one token); ``top_p`` 1 keeps every token;
4. the token is drawn from a private ``torch.Generator`` seeded with ``gen.seed`` (a fresh seed
   when None), so concurrent users never share random state and a seed repeats an answer.

``num_beams > 1`` is beam search (deterministic: temperature and top-p are not used; the penalty
is): see :func:`beam_search`. It cannot stream, the answer arrives when the search ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from ovhhir_core.answering.base import GenerationConfig

#: ``step(ids (B, n), cache) -> logits (B, V)`` of the position after ``ids``.
Step = Callable[[torch.Tensor, Any], torch.Tensor]


def penalize_repetition(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """(B, V) logits with the tokens of ``seen`` (B, S) made less likely (rule 1); ids the
    logits do not cover (placeholder tokens beyond the output vocabulary) are ignored."""
    if penalty == 1.0 or seen.shape[1] == 0:
        return logits
    vocab = logits.shape[1]
    seen = seen.clamp(max=vocab)  # ids >= V land in one extra column, dropped below
    padded = torch.nn.functional.pad(logits, (0, 1))  # (B, V + 1)
    picked = padded.gather(1, seen)  # (B, S)
    picked = torch.where(picked < 0, picked * penalty, picked / penalty)
    return padded.scatter(1, seen, picked)[:, :vocab]


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """(B, V) logits with every token outside the top-p set at -inf (rule 3)."""
    if top_p >= 1.0:
        return logits
    probs, order = logits.softmax(-1).sort(dim=-1, descending=True)  # (B, V)
    before = probs.cumsum(-1) - probs  # probability of the more likely tokens
    drop_sorted = before >= top_p
    drop_sorted[:, 0] = False  # the most likely token always stays
    drop = drop_sorted.scatter(1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def filter_logits(logits: torch.Tensor, seen: torch.Tensor, gen: GenerationConfig) -> torch.Tensor:
    """The scores the next token is chosen from: rules 1-3 over (B, V) ``logits``."""
    scores = penalize_repetition(logits.float(), seen, gen.repetition_penalty)
    if gen.temperature > 0:
        scores = top_p_filter(scores / gen.temperature, gen.top_p)
    return scores


def make_generator(gen: GenerationConfig, device: torch.device | str) -> torch.Generator:
    """A private random generator seeded with ``gen.seed`` (a fresh seed when None)."""
    rng = torch.Generator(device=device)
    if gen.seed is None:
        rng.seed()
    else:
        rng.manual_seed(int(gen.seed))
    return rng


def choose(scores: torch.Tensor, gen: GenerationConfig, rng: torch.Generator) -> torch.Tensor:
    """(B, 1) next tokens: argmax at temperature 0, else drawn from softmax(scores)."""
    if gen.temperature > 0:
        return torch.multinomial(scores.softmax(-1), 1, generator=rng)
    return scores.argmax(-1, keepdim=True)


def _seen(context_ids: Sequence[int], device: torch.device) -> torch.Tensor:
    return torch.tensor([list(context_ids)], dtype=torch.long, device=device).view(1, -1)


@torch.no_grad()  # on a generator: off while it runs, not between yields
def sample_tokens(
    step: Step,
    cache: Any,
    logits: torch.Tensor,
    gen: GenerationConfig,
    stop_ids: Sequence[int],
    context_ids: Sequence[int] = (),
) -> Iterator[int]:
    """New token ids one by one (greedy or sampled); a stop id ends the answer unyielded.

    ``logits`` (1, V): the prompt's next-token logits; ``context_ids``: the prompt's text ids
    (they count for the repetition penalty).
    """
    stops = {int(i) for i in stop_ids}
    rng = make_generator(gen, logits.device)
    seen = _seen(context_ids, logits.device)  # (1, S)
    for i in range(gen.max_new_tokens):
        token = choose(filter_logits(logits, seen, gen), gen, rng)  # (1, 1)
        if int(token) in stops:
            return
        yield int(token)
        seen = torch.cat([seen, token], dim=1)
        if i + 1 < gen.max_new_tokens:
            logits = step(token, cache)


def hypothesis_score(logprob_sum: float, length: int) -> float:
    """A finished beam's rank: its mean log-probability per scored token (the stop token
    counts when the answer ended on one)."""
    return logprob_sum / max(length, 1)


@torch.no_grad()
def beam_search(
    step: Step,
    cache: Any,
    logits: torch.Tensor,
    gen: GenerationConfig,
    stop_ids: Sequence[int],
    context_ids: Sequence[int] = (),
) -> list[int]:
    """The best answer's token ids (stop token excluded) by beam search with ``gen.num_beams``.

    At every step each kept beam is extended by every token; an extension by a stop token is a
    finished answer, the ``num_beams`` best other extensions (by summed log-probability) are
    kept. After ``max_new_tokens`` steps the beams still open finish too. The answer is the
    finished one with the best :func:`hypothesis_score`. ``cache`` must offer
    ``batch_repeat_interleave(n)`` and ``reorder_cache(beam_idx)`` (transformers' caches do).
    """
    beams, device = gen.num_beams, logits.device
    stops = {int(i) for i in stop_ids}
    cache.batch_repeat_interleave(beams)
    logits = logits.expand(beams, -1)  # (K, V)
    seen = _seen(context_ids, device).expand(beams, -1)  # (K, S)
    sums = torch.full((beams,), float("-inf"), device=device)
    sums[0] = 0.0  # one real beam at the start; the others are empty slots
    tokens: list[list[int]] = [[] for _ in range(beams)]
    finished: list[tuple[float, list[int]]] = []
    for depth in range(gen.max_new_tokens):
        logp = penalize_repetition(logits.float(), seen, gen.repetition_penalty).log_softmax(-1)
        total = (sums[:, None] + logp).view(-1)  # (K * V)
        vocab = logp.shape[1]
        # enough candidates for `beams` open ones even if every beam's stop tokens rank first
        values, order = total.topk(min(total.numel(), beams * (1 + len(stops))))
        keep: list[tuple[int, int, float]] = []  # (beam, token, summed log-probability)
        for value, flat in zip(values.tolist(), order.tolist(), strict=True):
            if value == float("-inf") or len(keep) == beams:
                break
            beam, token = divmod(flat, vocab)
            if token in stops:
                finished.append((hypothesis_score(value, depth + 1), tokens[beam]))
            else:
                keep.append((beam, token, value))
        if not keep:
            break
        keep += [(keep[0][0], keep[0][1], float("-inf"))] * (beams - len(keep))  # empty slots
        index = torch.tensor([b for b, _, _ in keep], device=device)
        chosen = torch.tensor([[t] for _, t, _ in keep], device=device)  # (K, 1)
        sums = torch.tensor([s for _, _, s in keep], device=device)
        tokens = [tokens[b] + [t] for b, t, _ in keep]
        seen = torch.cat([seen[index], chosen], dim=1)
        if depth + 1 == gen.max_new_tokens:
            break
        cache.reorder_cache(index)
        logits = step(chosen, cache)
    for (_, _, value), answer in zip(keep, tokens, strict=False):
        if value != float("-inf"):
            finished.append((hypothesis_score(value, len(answer)), answer))
    if not finished:
        return []
    return max(finished, key=lambda f: f[0])[1]


def generate_tokens(
    step: Step,
    cache: Any,
    logits: torch.Tensor,
    gen: GenerationConfig,
    stop_ids: Sequence[int],
    context_ids: Sequence[int] = (),
) -> Iterator[int]:
    """New token ids after a prompt: :func:`sample_tokens`, or :func:`beam_search` when
    ``gen.num_beams > 1`` (then all at once, at the end). Bad settings raise ``UserError``."""
    gen.validate()
    if gen.num_beams > 1:
        yield from beam_search(step, cache, logits, gen, stop_ids, context_ids)
    else:
        yield from sample_tokens(step, cache, logits, gen, stop_ids, context_ids)


def stream_text(
    tokens: Iterator[int], decode: Callable[[list[int]], str], strip: bool = False
) -> Iterator[str]:
    """The GROWING text of a token stream; yields only when the text changed.

    Incremental: each token decodes only a short window (the tokens since the last emitted text
    and the ones before them), so a long answer costs linear time. Text ending in an incomplete
    multi-byte character (U+FFFD) waits for the rest of the character. The last item equals
    ``decode(all tokens)`` (``strip``: without surrounding whitespace).
    """
    ids: list[int] = []
    text, shown = "", ""
    prefix_offset = read_offset = 0
    for token in tokens:
        ids.append(int(token))
        before = decode(ids[prefix_offset:read_offset])
        now = decode(ids[prefix_offset:])
        if len(now) <= len(before) or now.endswith("\ufffd"):
            continue
        text += now[len(before) :]
        prefix_offset, read_offset = read_offset, len(ids)
        out = text.strip() if strip else text
        if out != shown:
            shown = out
            yield out
    final = decode(ids)
    final = final.strip() if strip else final
    if final != shown:
        yield final
