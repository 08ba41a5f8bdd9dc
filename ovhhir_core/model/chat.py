"""Multi-turn chat about one clip: visual embeddings computed once, answers streamed.

The history is a list of ``{"role": "user"|"assistant", "content": str}`` messages. Before each
answer the oldest turns are dropped until prompt + ``max_new_tokens`` fit the LLM's context; the
visual turn (the first user message that mentions ``<p1>`` ``<p2>`` or ``<bg>``, and its answer)
is always kept. A facts text (the timeline's measurements) given at the start goes into the
prompt as a short block before the first user question; the history keeps the user's own words.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

import torch

from ovhhir_core.answering.base import Conversation, GenerationConfig, Provenance
from ovhhir_core.errors import UserError
from ovhhir_core.model.clip import Clip
from ovhhir_core.model.ovhhir import OVHHIRModel
from ovhhir_core.streams import TOKENS, describe_question

log = logging.getLogger(__name__)

#: The paper's question (``ovhhir_core.streams.describe_question``), under its older name.
default_question = describe_question
#: First line of the facts block put before the first user question.
FACTS_HEADER = "Measurements from the tracked masks:"


def _is_visual(message: Mapping[str, str]) -> bool:
    return message["role"] == "user" and any(t in message["content"] for t in TOKENS.values())


def with_facts(question: str, facts: str | None) -> str:
    """``question`` preceded by the facts block (unchanged when there are no facts)."""
    if not facts:
        return question
    return f"{FACTS_HEADER}\n{facts.strip()}\n\n{question}"


class ChatSession(Conversation):
    """A conversation about one clip (or none: plain text chat); history, ``ask``,
    ``regenerate`` and ``clear`` come from :class:`~ovhhir_core.answering.Conversation`.

    ``visual`` may be given instead of a clip: ``{stream: (Q, D)}`` from ``model.embed_clip``.
    ``facts``: a text put into the prompt before the first user question (see :func:`with_facts`).
    Sessions are per user; the model is shared and read-only.
    """

    def __init__(
        self,
        model: OVHHIRModel,
        clip: Clip | None = None,
        visual: Mapping[str, torch.Tensor] | None = None,
        facts: str | None = None,
        provenance: Provenance | None = None,
        batch_size: int = 16,
    ):
        super().__init__(provenance, facts)
        self.model = model
        if visual is None:
            visual = model.embed_clip(clip) if clip is not None else {}
        self.visual = dict(visual)
        self.batch_size = batch_size

    @property
    def facts(self) -> str | None:
        """The facts text given in the prompt, or None."""
        return self._facts

    def _prompt_messages(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """``messages`` with the facts block before the first user message."""
        out = [dict(m) for m in messages]
        first = next((m for m in out if m["role"] == "user"), None)
        if first is not None:
            first["content"] = with_facts(first["content"], self.facts)
        return out

    def _fit(self, messages: list[dict[str, str]], max_new_tokens: int) -> list[dict[str, str]]:
        """Drop the oldest (user, assistant) pairs, never the visual turn, until the prompt fits."""
        budget = self.model.max_context - max_new_tokens
        messages = list(messages)
        while True:
            emb, _, _ = self.model.prompt_embeds(self._prompt_messages(messages), self.visual)
            if emb.shape[1] <= budget:
                return messages
            drop = next(
                (
                    i
                    for i in range(len(messages) - 1)
                    if messages[i]["role"] == "user" and not _is_visual(messages[i])
                ),
                None,
            )
            if drop is None:
                raise UserError(
                    f"the question and the visual turn need {emb.shape[1]} tokens, more than the "
                    f"{budget} left for the prompt; ask a shorter question or lower max_new_tokens"
                )
            end = drop + 2 if drop + 1 < len(messages) - 1 else drop + 1
            log.info("context full: dropping %d oldest message(s)", end - drop)
            del messages[drop:end]

    def _stream(self, history: list[dict[str, str]], gen: GenerationConfig) -> Iterator[str]:
        prompt = self._prompt_messages(self._fit(history, gen.max_new_tokens))
        yield from self.model.stream_answer(prompt, self.visual, gen)

    def _score(self, question: str, answers: list[str]) -> list[float]:
        """Facts block included, history not; ``batch_size`` answers at once."""
        prompt = with_facts(question, self.facts)
        return self.model.score_answers(self.visual, prompt, answers, self.batch_size)


def deltas(growing: Iterator[str]) -> Iterator[str]:
    """Turn a growing-text stream (``ChatSession.ask``) into the newly added pieces."""
    last = ""
    for text in growing:
        yield text[len(last) :] if text.startswith(last) else text
        last = text
