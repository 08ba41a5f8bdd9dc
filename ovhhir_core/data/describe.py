"""Soft labels for built samples: the taxonomy's templates, or a chat LLM rewriting them."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from ovhhir_core.data.taxonomy import Category, Taxonomy

#: A describer turns a category and a reference soft label (one of the taxonomy's) into a soft
#: label of its own (None: fall back to the reference).
Describer = Callable[[Category, str], "str | None"]


def template_describer(tax: Taxonomy, seed: int = 0) -> Callable[[Category, str], str]:
    """Soft labels from the taxonomy, drawn deterministically per sample id."""

    def describe(cat: Category, sample_id: str) -> str:
        return tax.soft_label(cat.class_name, random.Random(f"{seed}:{sample_id}"))

    return describe


DESCRIBER_PROMPT = (
    "You write the ground-truth descriptions of a video dataset of two-person interactions. "
    'A clip shows the interaction "{name}" ({class_name}). One description of such a clip '
    'is: "{reference}"\n'
    "Write a different description of a clip of the same interaction, in one or two sentences, "
    'in the present tense: who moves, how, and towards whom. Start with "A person" or '
    '"Two people". Write only the description.'
)


class LLMDescriber:
    """Soft labels written by a chat LLM (text only) through :class:`ovhhir_core.model.ChatSession`.

    The LLM rewrites one of the taxonomy's soft labels (the *reference*) in its own words, so a
    small LLM stays on topic and a large one adds variety. ``model`` is an
    :class:`ovhhir_core.model.OVHHIRModel` (any preset's LLM); ``gen`` a
    :class:`ovhhir_core.model.GenerationConfig`.
    """

    def __init__(self, model: Any, gen: Any = None, max_chars: int = 400) -> None:
        from ovhhir_core.model import GenerationConfig

        self.model = model
        self.gen = gen or GenerationConfig(temperature=0.7, max_new_tokens=80, seed=0)
        self.max_chars = max_chars

    def __call__(self, cat: Category, reference: str) -> str | None:
        from ovhhir_core.model import ChatSession

        prompt = DESCRIBER_PROMPT.format(
            name=cat.name, class_name=cat.class_name, reference=reference
        )
        answer = ""
        for answer in ChatSession(self.model).ask(prompt, self.gen):  # noqa: B007
            pass
        return clean_description(answer, self.max_chars)


def clean_description(text: str, max_chars: int = 400) -> str | None:
    """One paragraph, quotes stripped, cut at the last sentence end within ``max_chars`` (so a
    reply cut off by the token limit loses its unfinished sentence); None if nothing is left."""
    text = " ".join((text or "").split()).strip().strip("\"'“”")
    cut = text[:max_chars]
    if len(text) > max_chars or not cut.endswith((".", "!", "?")):
        end = max(
            cut.rfind(". "),
            cut.rfind("! "),
            cut.rfind("? "),
            cut.rfind(".") if cut.endswith(".") else -1,
        )
        if end > 0:
            cut = cut[: end + 1]
    return cut if re.search(r"[A-Za-z]{2,}", cut) else None
