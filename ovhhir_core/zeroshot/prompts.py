"""The words a zero-shot model is told: who is marked how, the streams, the facts, the question.

The first user message holds the video(s), then :func:`intro` (the colours of the marks, and what
the extra videos are when the three streams are passed), then the facts block when the answerer
was opened with facts, then the user's question. ``<p1>`` ``<p2>`` ``<bg>`` in a question are
rewritten to the words of the intro (:func:`rewrite`).
"""

from __future__ import annotations

from ovhhir_core.streams import BACKGROUND, PERSONS, STREAM_OF_TOKEN

from .marks import MARK_COLOURS, person_words

#: How the prompt names the background stream.
BACKGROUND_WORDS = "the scene around them"
#: The heading of the facts block (the timeline's measurements).
FACTS_HEADING = "Measurements from the tracked masks:"


def stream_words(stream: str) -> str:
    """How the prompt names a stream: ``Person 1 (red)``, ``Person 2 (blue)``, the scene."""
    return BACKGROUND_WORDS if stream == BACKGROUND else person_words(stream)


def rewrite(question: str) -> str:
    """``<p1>`` ``<p2>`` ``<bg>`` replaced by the words the model was told."""
    for token, stream in STREAM_OF_TOKEN.items():
        question = question.replace(token, stream_words(stream))
    return question


def intro(three_streams: bool = False) -> str:
    """What the video shows and how the two people are marked (colour names included)."""
    p1, p2 = (person_words(p) for p in PERSONS)
    c1, c2 = (MARK_COLOURS[p][0] for p in PERSONS)
    text = (
        f"The video shows two people. {p1} is tinted and outlined in {c1} with the label 1; "
        f"{p2} is tinted and outlined in {c2} with the label 2."
    )
    if three_streams:
        text += (
            f" The next videos show {p1} alone, {p2} alone, and {BACKGROUND_WORDS} without "
            "them (removed pixels are flat colour)."
        )
    return text


def facts_block(facts: str | None) -> str | None:
    """The facts text as the prompt gives it, or None when there is none."""
    if not facts or not facts.strip():
        return None
    return f"{FACTS_HEADING}\n{facts.strip()}"


def first_message_text(question: str, three_streams: bool, facts: str | None) -> str:
    """The text after the video(s) in the first user message."""
    parts = [intro(three_streams)]
    block = facts_block(facts)
    if block:
        parts.append(block)
    parts.append(rewrite(question))
    return "\n".join(parts)
