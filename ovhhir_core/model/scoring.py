"""Batches of spliced sequences for the LLM: right padding, and answer log-probabilities.

``training_loss`` and ``score_answers`` (:mod:`.ovhhir`) both pad with :func:`pad_batch`.
:func:`answer_log_probs` scores N answers to one prompt; when the answers share a long unlabelled
prefix (the prompt: with a list of 109 class names it is most of the sequence), the prefix goes
through the LLM once and only each answer's own tokens are run on its cached keys and values.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ovhhir_core.model.prompt import IGNORE_INDEX

#: A shared prefix shorter than this is not worth a cache: score the whole sequences in batches.
MIN_SHARED_PREFIX = 32


def pad_batch(
    seqs: Sequence[torch.Tensor], labels: Sequence[Sequence[int]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad (L_i, D) sequences into ``(embeds (B, L, D), mask (B, L), target (B, L))``;
    ``target`` holds the labels, -100 on padding."""
    batch, length = len(seqs), max(s.shape[0] for s in seqs)
    embeds = seqs[0].new_zeros(batch, length, seqs[0].shape[1])
    mask = torch.zeros(batch, length, dtype=torch.long, device=embeds.device)
    target = torch.full((batch, length), IGNORE_INDEX, dtype=torch.long, device=embeds.device)
    for b, (s, lab) in enumerate(zip(seqs, labels, strict=True)):
        embeds[b, : s.shape[0]] = s
        mask[b, : s.shape[0]] = 1
        target[b, : s.shape[0]] = torch.as_tensor(list(lab), dtype=torch.long)
    return embeds, mask, target


def _mean_log_prob(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) mean log-probability of the labelled tokens; ``logits[:, t]`` predicts ``target[:, t]``."""
    logp = torch.log_softmax(logits.float(), dim=-1)  # (B, L, V)
    valid = target != IGNORE_INDEX
    picked = logp.gather(-1, target.clamp(min=0)[..., None])[..., 0]  # (B, L)
    return (picked * valid).sum(dim=1) / valid.sum(dim=1).clamp(min=1)


def shared_prefix(seqs: Sequence[torch.Tensor], labels: Sequence[Sequence[int]]) -> int:
    """Length of the longest prefix that every sequence shares and where nothing is labelled."""
    first = seqs[0]
    length = min(s.shape[0] for s in seqs) - 1  # every answer keeps at least one own position
    for lab in labels:
        length = min(length, next((i for i, x in enumerate(lab) if x != IGNORE_INDEX), length))
    for s in seqs[1:]:
        same = (s[:length] == first[:length]).all(dim=1)
        if not bool(same.all()):
            length = int((~same).nonzero()[0])
    return max(length, 0)


def _batched(llm: nn.Module, seqs, labels, batch_size: int) -> list[float]:
    scores: list[float] = []
    for start in range(0, len(seqs), batch_size):
        embeds, mask, target = pad_batch(
            seqs[start : start + batch_size], labels[start : start + batch_size]
        )
        logits = llm(inputs_embeds=embeds, attention_mask=mask).logits  # (B, L, V)
        scores.extend(float(x) for x in _mean_log_prob(logits[:, :-1], target[:, 1:]).cpu())
    return scores


def _with_prefix_cache(llm: nn.Module, seqs, labels, prefix: int) -> list[float] | None:
    """Scores with the shared prefix run once; None when the LLM's cache cannot be cut back."""
    out = llm(inputs_embeds=seqs[0][None, :prefix], use_cache=True)
    cache = out.cache
    if cache is None or not getattr(cache, "is_croppable", True):
        return None
    last = out.logits[:, -1:]  # (1, 1, V): predicts the first own token of every answer
    scores = []
    for s, lab in zip(seqs, labels, strict=True):
        own = llm(inputs_embeds=s[None, prefix:], cache=cache, use_cache=True).logits
        logits = torch.cat([last, own[:, :-1]], dim=1)  # (1, L - prefix, V)
        target = torch.as_tensor(list(lab[prefix:]), dtype=torch.long, device=logits.device)
        scores.append(float(_mean_log_prob(logits, target[None])[0]))
        cache.crop(-(s.shape[0] - prefix))  # back to the shared prefix
    return scores


@torch.no_grad()
def answer_log_probs(
    llm: nn.Module,
    seqs: Sequence[torch.Tensor],
    labels: Sequence[Sequence[int]],
    batch_size: int = 16,
) -> list[float]:
    """Mean log-probability of the labelled tokens of each (L_i, D) sequence (labels: token id
    or -100). A shared unlabelled prefix of at least :data:`MIN_SHARED_PREFIX` positions is run
    once and cached; otherwise whole sequences go through the LLM ``batch_size`` at a time."""
    if not seqs:
        return []
    prefix = shared_prefix(seqs, labels) if len(seqs) > 1 else 0
    if prefix >= MIN_SHARED_PREFIX:
        scores = _with_prefix_cache(llm, seqs, labels, prefix)
        if scores is not None:
            return scores
    return _batched(llm, seqs, labels, max(1, batch_size))
