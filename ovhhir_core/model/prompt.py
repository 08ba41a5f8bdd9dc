"""Chat prompts: template rendering, answer labels, and splicing visual embeddings at placeholders.

A placeholder token (``<p1>`` ``<p2>`` ``<bg>``, one id each) is replaced by its stream's Q query
embeddings wherever it appears; the sequence grows by Q - 1 per placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ovhhir_core.errors import UserError
from ovhhir_core.streams import TOKENS

IGNORE_INDEX = -100
_ROLES = {
    "human": "user",
    "gpt": "assistant",
    "user": "user",
    "assistant": "assistant",
    "system": "system",
}


class PromptError(UserError, ValueError):
    """A conversation or question cannot be turned into a prompt (e.g. a missing stream)."""


def to_messages(conversation: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """HHIRChat turns ``{"from": "human"|"gpt", "value"}`` (or ``{"role", "content"}``) → messages."""
    out = []
    for i, turn in enumerate(conversation):
        role = turn.get("from", turn.get("role"))
        text = turn.get("value", turn.get("content"))
        if role not in _ROLES or not isinstance(text, str):
            raise PromptError(
                f"turn {i}: expected from human/gpt and a text value, got {dict(turn)}"
            )
        out.append({"role": _ROLES[role], "content": text})
    return out


def with_system(messages: list[dict[str, str]], system_prompt: str | None) -> list[dict[str, str]]:
    if system_prompt and (not messages or messages[0]["role"] != "system"):
        return [{"role": "system", "content": system_prompt}, *messages]
    return messages


def render(tokenizer, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )


def encode(tokenizer, text: str) -> list[int]:
    """Token ids of rendered chat text (the template already holds any bos token)."""
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def training_ids(tokenizer, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Ids of a whole conversation and labels: the ids on assistant turns, -100 elsewhere.

    Each assistant span runs from the end of the generation prompt before it to the end of the
    rendered turn (so it includes the template's end-of-turn token: the model learns to stop).
    """
    full = render(tokenizer, messages, add_generation_prompt=False)
    spans = []
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        prefix = render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1], add_generation_prompt=False)
        if not (full.startswith(upto) and upto.startswith(prefix)):
            raise PromptError("the chat template does not render conversations incrementally")
        spans.append((len(prefix), len(upto)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    labels = [
        tok if any(a <= start < b for a, b in spans) else IGNORE_INDEX
        for tok, (start, _end) in zip(ids, enc["offset_mapping"], strict=True)
    ]
    return ids, labels


def splice(
    embedding: nn.Embedding,
    ids: Sequence[int],
    visual: Mapping[str, torch.Tensor],
    placeholders: Mapping[int, str],
    disabled: Sequence[str] = (),
    labels: Sequence[int] | None = None,
) -> tuple[torch.Tensor, list[int] | None, list[tuple[int, str]]]:
    """Embed ``ids`` and replace each placeholder id by its stream's (Q, D) visual embeddings.

    Returns ``(embeds (L', D), labels (L') or None, [(start position, stream), ...])``.
    Streams in ``disabled`` (e.g. the background when the model has no background branch) splice
    as nothing; any other placeholder without visual embeddings raises :class:`PromptError`.
    """
    device = embedding.weight.device
    pieces: list[torch.Tensor] = []
    new_labels: list[int] = []
    where: list[tuple[int, str]] = []
    length = 0
    run: list[int] = []

    def flush() -> None:
        nonlocal length, run
        if run:
            pieces.append(embedding(torch.tensor(run, dtype=torch.long, device=device)))  # (r, D)
            length += len(run)
            run = []

    for pos, tok in enumerate(ids):
        stream = placeholders.get(int(tok))
        if stream is None:
            run.append(int(tok))
            if labels is not None:
                new_labels.append(int(labels[pos]))
            continue
        flush()
        if stream in disabled:
            continue
        if stream not in visual:
            raise PromptError(
                f"the text mentions {TOKENS[stream]} but there is no {stream} stream for "
                "this clip; remove it from the question or provide that stream"
            )
        vis = visual[stream].to(device, embedding.weight.dtype)  # (Q, D)
        where.append((length, stream))
        pieces.append(vis)
        length += vis.shape[0]
        if labels is not None:
            new_labels.extend([IGNORE_INDEX] * vis.shape[0])
    flush()
    if not pieces:
        raise PromptError("empty prompt")
    return torch.cat(pieces, dim=0), (new_labels if labels is not None else None), where
