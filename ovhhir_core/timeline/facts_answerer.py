"""The measured-facts answerer: what a user gets when no grounded model can be had.

"Describe" returns a description built only from the clip's timeline (a template over the
measurements, see :func:`~ovhhir_core.timeline.facts.describe`); any other question gets a plain
statement that only measurements can be reported, followed by them. Provenance: answerer
``"facts"``, model ``"timeline measurements"``, grounded (every sentence is a measurement) unless
the masks came from random segmenter weights: then not grounded, and the answers say so first.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from ovhhir_core.answering.base import (
    Conversation,
    GenerationConfig,
    Provenance,
    TrackedClip,
)
from ovhhir_core.errors import UserError
from ovhhir_core.streams import ONE_WORD_QUESTION
from ovhhir_core.timeline.core import Timeline
from ovhhir_core.timeline.facts import describe, facts_text, random_masks_note

log = logging.getLogger(__name__)

MODEL_ID = "timeline measurements"
NO_MODEL = (
    "No model that can look at the video is loaded, so I can only report what was measured "
    "from the tracked masks."
)


def clip_timeline(clip: TrackedClip) -> Timeline | None:
    """The clip's timeline: the ``timeline.json`` beside its files when there is one, else
    computed from its masks (fps from the person-1 stream), else None."""
    from ovhhir_core.timeline.io import TIMELINE_JSON, MaskFile, load_timeline, segmenter_beside

    beside = [*clip.extra.values(), *([clip.masks] if clip.masks else [])]
    for path in (Path(p).with_name(TIMELINE_JSON) for p in beside):
        if path.is_file():
            return load_timeline(path)
    if clip.masks is None:
        return None
    from ovhhir_core.timeline.core import compute_timeline
    from ovhhir_core.video import probe

    info = probe(clip.streams["person_1"])
    timeline = compute_timeline(
        MaskFile(clip.masks), info.fps, video_size=(info.width, info.height)
    )
    timeline.metadata["segmenter"] = segmenter_beside(clip.masks)  # what made the masks
    return timeline


def track_dir_facts(directory: str | os.PathLike) -> str | None:
    """The facts text of ``DIR/timeline.json``, or None when there is no timeline there."""
    from ovhhir_core.timeline.io import TIMELINE_JSON, load_timeline

    path = Path(directory) / TIMELINE_JSON
    return facts_text(load_timeline(path)) if path.is_file() else None


def is_describe(question: str) -> bool:
    """True for a request to describe the interaction (not the one-word question)."""
    q = question.strip().lower()
    return "describe" in q and q != ONE_WORD_QUESTION.lower() and "one word" not in q


class FactsConversation(Conversation):
    """A conversation answered from measurements only (see the module docstring); history,
    ``ask``, ``regenerate``, ``clear`` and the input checks come from :class:`Conversation`."""

    def __init__(self, provenance: Provenance, timeline: Timeline | None, facts: str | None):
        super().__init__(provenance, facts)
        self._timeline = timeline

    def _stream(self, history: list[dict[str, str]], gen: GenerationConfig) -> Iterator[str]:
        question = history[-1]["content"]
        if self._facts is None:
            yield (
                NO_MODEL + " This clip has no measurements (no masks or timeline.json): track "
                "the two people first."
            )
        elif not is_describe(question):
            yield f"{NO_MODEL} The measurements:\n{self._facts}"
        elif self._timeline is not None:
            yield describe(self._timeline)
        else:
            yield "Measured from the tracked masks only (no model looked at the video):\n" + (
                self._facts
            )

    def _score(self, question: str, answers: list[str]) -> list[float]:
        raise UserError(
            "the measured-facts answerer has no language model, so it cannot score answers; "
            "load a model (a trained OV-HHIR checkpoint or the zero-shot backend) to classify"
        )


class FactsAnswerer:
    """Answerer ``"facts"``: descriptions built only from the measured timeline."""

    name = "facts"

    def __init__(self, preset_name: str, warning: str | None = None):
        self.preset_name = preset_name
        self.warning = warning

    def provenance(self, frames: int | None = None, facts: bool = False) -> Provenance:
        return Provenance(
            answerer=self.name,
            model_id=MODEL_ID,
            preset=self.preset_name,
            grounded=True,
            warning=self.warning,
            facts_in_prompt=False,
        )

    def open(
        self, clip: TrackedClip, frames: int = 16, use_facts: bool = True
    ) -> FactsConversation:
        """``use_facts`` is ignored: measurements are all this answerer has."""
        timeline = clip_timeline(clip)
        facts = clip.facts or (facts_text(timeline) if timeline is not None else None)
        provenance = self.provenance()
        note = random_masks_note(timeline) if timeline is not None else None
        if note:  # measurements of random masks say nothing about the video
            warning = " ".join(w for w in (note, provenance.warning) if w)
            provenance = dataclasses.replace(provenance, grounded=False, warning=warning)
        return FactsConversation(provenance, timeline, facts)
