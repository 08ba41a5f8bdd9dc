"""Classifiers over generated text: the paper's prompt classifier and an embedding nearest class.

* :func:`class_prompt` asks the LLM for one class among N candidate names;
  :func:`map_answer_to_class` maps its free-text answer to a candidate (exact, then whole-word
  containment, then fuzzy via :mod:`difflib`, then sentence-embedding similarity).
* :func:`nearest_class` is the LLM-free reading: a generated description goes to the class whose
  soft labels it is closest to in sentence-embedding space.
* :func:`rank_classes` is the open-vocabulary classify box of the app: the user types candidate
  classes and gets them ranked for one clip, through any answerer's conversation.
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovhhir_core.eval.metrics import cosine_matrix

#: The label a sample gets when the answer maps to no candidate (it counts as wrong).
NO_CLASS = "<none>"

_ARTICLES = {"a", "an", "the"}
_SUFFIXES = ("ings", "ing", "ies", "es", "ed", "s")


@dataclass(frozen=True)
class ClassMatch:
    """The class an answer was mapped to: ``label`` (a candidate or :data:`NO_CLASS`), the
    ``method`` that found it (exact, contains, fuzzy, embedding, none) and its ``score`` in [0, 1]
    (1 for exact and contains; the difflib ratio or the cosine similarity otherwise)."""

    label: str
    method: str
    score: float


def display_name(name: str) -> str:
    """A class name as words: ``ForeheadKissing`` → ``forehead kissing``, ``hand_shake`` →
    ``hand shake``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.strip())
    return " ".join(spaced.replace("_", " ").split()).lower()


def normalize(text: str) -> str:
    """Class-name words (see :func:`display_name`), punctuation to spaces, leading articles
    dropped, whitespace collapsed."""
    words = re.sub(r"[^\w\s]", " ", display_name(text)).split()
    while words and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _stem(word: str) -> str:
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def _stemmed(text: str) -> str:
    return " ".join(_stem(w) for w in text.split())


def _contains(answer: str, candidate: str) -> int:
    """Position of ``candidate`` as whole words inside ``answer``, or -1."""
    m = re.search(r"(?<!\w)" + re.escape(candidate) + r"(?!\w)", answer)
    return m.start() if m else -1


def _fuzzy_ratio(answer: str, candidate: str) -> float:
    """Best difflib ratio of the stemmed candidate against the answer and its word windows."""
    cand = _stemmed(candidate)
    words = _stemmed(answer).split()
    best = difflib.SequenceMatcher(None, " ".join(words), cand).ratio()
    n = len(cand.split())
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(0, max(0, len(words) - size) + 1):
            window = " ".join(words[i : i + size])
            best = max(best, difflib.SequenceMatcher(None, window, cand).ratio())
    return best


def map_answer_to_class(
    answer: str,
    candidates: Sequence[str],
    embedder: Any = None,
    fuzzy_cutoff: float = 0.8,
    embedding_cutoff: float = 0.0,
) -> ClassMatch:
    """Map a free-text LLM answer to one of ``candidates``.

    Order: exact match of the normalised text; the longest candidate found as whole words in the
    answer (earliest on ties); the best difflib ratio of stemmed words if ≥ ``fuzzy_cutoff``; the
    candidate with the highest sentence-embedding cosine if ``embedder`` (an
    :class:`~ovhhir_core.eval.embedder.Embedder`) is given and the cosine ≥ ``embedding_cutoff``.
    Otherwise ``ClassMatch(NO_CLASS, "none", 0.0)``.
    """
    if not candidates:
        raise ValueError("map_answer_to_class needs at least one candidate class")
    norm_answer = normalize(answer)
    norm_cands = [normalize(c) for c in candidates]
    if not norm_answer:
        return ClassMatch(NO_CLASS, "none", 0.0)
    for cand, norm in zip(candidates, norm_cands, strict=True):
        if norm == norm_answer:
            return ClassMatch(cand, "exact", 1.0)
    hits = [
        (len(norm), -pos, cand)
        for cand, norm in zip(candidates, norm_cands, strict=True)
        if norm and (pos := _contains(norm_answer, norm)) >= 0
    ]
    if hits:
        return ClassMatch(max(hits)[2], "contains", 1.0)
    ratios = [_fuzzy_ratio(norm_answer, norm) for norm in norm_cands]
    best = int(np.argmax(ratios))
    if ratios[best] >= fuzzy_cutoff:
        return ClassMatch(candidates[best], "fuzzy", float(ratios[best]))
    if embedder is not None:
        sims = cosine_matrix(embedder.encode([answer]), embedder.encode(list(candidates)))[0]
        best = int(np.argmax(sims))
        if sims[best] >= embedding_cutoff:
            return ClassMatch(candidates[best], "embedding", float(sims[best]))
    return ClassMatch(NO_CLASS, "none", 0.0)


def class_prompt(candidates: Sequence[str], use_background: bool = True) -> str:
    """The prompt-classifier question: name one class among ``candidates`` (in the given order).

    Holds the ``<p1>``/``<p2>`` (and ``<bg>``) placeholders the model replaces with its branches.
    """
    scene = "<p1> and <p2> in <bg>" if use_background else "<p1> and <p2>"
    names = "; ".join(candidates)
    return (
        f"Watch the interaction between {scene}. Which one of these interactions is it: "
        f"{names}? Answer with exactly one name from the list."
    )


def shuffled(candidates: Sequence[str], seed: int) -> list[str]:
    """A copy of ``candidates`` in a seed-dependent order (the same seed gives the same order)."""
    out = list(candidates)
    random.Random(seed).shuffle(out)
    return out


def class_prototypes(
    class_texts: Mapping[str, Sequence[str]], embedder: Any
) -> tuple[list[str], np.ndarray]:
    """One unit vector per class: the normalised mean embedding of its soft labels.

    Args:
        class_texts: ``{class name: [soft label, ...]}``; an empty list falls back to the name.
    Returns:
        (class names, (K, D) float32 array of unit-length prototypes).
    """
    names = list(class_texts)
    protos = []
    for name in names:
        texts = list(class_texts[name]) or [name]
        mean = embedder.encode(texts).mean(axis=0)  # (D,)
        protos.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return names, np.stack(protos).astype(np.float32)  # (K, D)


def nearest_class(
    descriptions: Sequence[str], class_texts: Mapping[str, Sequence[str]], embedder: Any
) -> list[str]:
    """For each generated description, the class whose prototype is most cosine-similar."""
    if not descriptions:
        return []
    names, protos = class_prototypes(class_texts, embedder)
    sims = cosine_matrix(embedder.encode(list(descriptions)), protos)  # (N, K)
    return [names[i] for i in sims.argmax(axis=1)]


def fresh_answer(conversation: Any, question: str, gen: Any = None) -> str:
    """The whole answer of ``conversation`` (an :class:`~ovhhir_core.answering.Conversation`) to
    ``question`` asked on its own: earlier turns are set aside and given back afterwards."""
    saved = list(conversation.history)
    conversation.clear()
    text = ""
    try:
        for text in conversation.ask(question, gen):  # noqa: B007 - the last item is the answer
            pass
    finally:
        conversation.clear()
        conversation.history.extend(saved)
    return text


def rank_classes(
    conversation: Any,
    candidates: Sequence[str],
    embedder: Any = None,
    method: str = "auto",
    has_background: bool = True,
) -> list[tuple[str, float]]:
    """Rank user-typed candidate classes for the clip of ``conversation``, best first:
    ``[(class, score), ...]``. Works with any answerer's conversation (``ask`` and ``score``).

    Methods: ``likelihood`` (``auto`` when no embedder is given) asks the prompt-classifier
    question and scores every candidate as the answer (``conversation.score``: mean token
    log-probability); the scores are a softmax over the candidates, in [0, 1], summing to 1.
    ``embedding`` (``auto`` with an embedder) asks for a greedy description and scores each
    candidate by the cosine similarity (in [-1, 1]) of its name to that description. The
    conversation's own turns are kept. ``has_background``: the clip has a background stream.
    """
    from ovhhir_core.answering.base import GenerationConfig
    from ovhhir_core.streams import describe_question

    names = [c.strip() for c in candidates if c and c.strip()]
    names = list(dict.fromkeys(names))
    if not names:
        raise ValueError("type at least one candidate class")
    if method == "auto":
        method = "embedding" if embedder is not None else "likelihood"
    if method == "likelihood":
        prompt = class_prompt(names, use_background=has_background)
        ll = np.asarray(conversation.score(prompt, [f"{n}." for n in names]), dtype=np.float64)
        probs = np.exp(ll - ll.max())
        scored = list(zip(names, (probs / probs.sum()).tolist(), strict=True))
    elif method == "embedding":
        if embedder is None:
            raise ValueError("method 'embedding' needs a sentence embedder")
        gen = GenerationConfig(temperature=0.0, max_new_tokens=96)
        text = fresh_answer(conversation, describe_question(has_background), gen)
        sims = cosine_matrix(
            embedder.encode([text]), embedder.encode([display_name(n) for n in names])
        )[0]
        scored = [(n, float(s)) for n, s in zip(names, sims, strict=True)]
    else:
        raise ValueError(f"unknown method {method!r}; use auto, likelihood or embedding")
    return sorted(scored, key=lambda kv: -kv[1])
