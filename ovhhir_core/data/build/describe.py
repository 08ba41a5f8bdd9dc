"""Soft labels for built samples: the taxonomy's templates; the describer protocol a chat LLM
implements (``ovhhir_core.commands.build.LLMDescriber``) and the clean-up of its text."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from ovhhir_core.data.taxonomy import Category, Taxonomy

#: A describer turns a category and a reference soft label (one of the taxonomy's) into a soft
#: label of its own (None: fall back to the reference).
Describer = Callable[[Category, str], "str | None"]


def template_describer(tax: Taxonomy, seed: int = 0) -> Callable[[Category, str], str]:
    """Soft labels from the taxonomy, drawn deterministically per sample id."""

    def describe(cat: Category, sample_id: str) -> str:
        return tax.soft_label(cat.class_name, random.Random(f"{seed}:{sample_id}"))

    return describe


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
