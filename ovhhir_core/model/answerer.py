"""The OV-HHIR model behind the answerer boundary (:mod:`ovhhir_core.answering`).

    answerer = OVHHIRAnswerer(load_model(preset, device, dtype, checkpoint))
    conversation = answerer.open(TrackedClip.from_track_dir("out/"), frames=16)
    for text in conversation.ask(describe_question(), GenerationConfig()):
        ...                                   # the growing answer
    conversation.provenance.caption()         # shown beside every answer

Answers are grounded only when the model's branches come from a trained checkpoint; without one
the provenance says so and carries :data:`UNTRAINED_WARNING`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ovhhir_core.answering.base import Provenance, TrackedClip
from ovhhir_core.model.chat import ChatSession
from ovhhir_core.model.clip import Clip, load_clip
from ovhhir_core.model.llm import describe_llm
from ovhhir_core.model.ovhhir import OVHHIRModel, load_model

#: Shown beside answers of untrained branches.
UNTRAINED_WARNING = (
    "the OV-HHIR branches are untrained (no --checkpoint): these answers are not grounded in "
    "the video; load a trained checkpoint or use --backend zeroshot"
)


class OVHHIRConversation(ChatSession):
    """A :class:`ChatSession` with the provenance of its answers (a ``Conversation``)."""

    def __init__(
        self,
        model: OVHHIRModel,
        clip: Clip | None,
        provenance: Provenance,
        facts: str | None = None,
        visual: Mapping[str, torch.Tensor] | None = None,
    ):
        super().__init__(model, clip, visual=visual, facts=facts, provenance=provenance)


def load_ovhhir_answerer(
    preset: Any, device: Any = "cpu", dtype: Any = None, checkpoint: Any = None
) -> OVHHIRAnswerer:
    """The OV-HHIR answerer of ``preset`` (untrained without ``checkpoint``: its provenance
    warns)."""
    return OVHHIRAnswerer(load_model(preset, device, dtype, checkpoint))


class OVHHIRAnswerer:
    """``Answerer`` over one shared, read-only :class:`OVHHIRModel` (name ``"ovhhir"``)."""

    name = "ovhhir"

    def __init__(self, model: OVHHIRModel):
        self.model = model

    @property
    def grounded(self) -> bool:
        """True when the branches come from a trained checkpoint."""
        return bool(self.model.is_trained)

    def provenance(self, frames: int | None = None, facts: bool = False) -> Provenance:
        """Model id: the preset's LLM weights + ``checkpoint <path>`` or ``untrained branches``."""
        llm = describe_llm(self.model.cfg.llm)
        if self.grounded:
            model_id = f"{llm} + checkpoint {self.model.checkpoint_path}"
        else:
            model_id = f"{llm} + untrained branches"
        return Provenance(
            answerer=self.name,
            model_id=model_id,
            preset=self.model.preset_name,
            grounded=self.grounded,
            frames=frames,
            warning=None if self.grounded else UNTRAINED_WARNING,
            facts_in_prompt=facts,
        )

    def open(
        self, clip: TrackedClip, frames: int = 16, use_facts: bool = True
    ) -> OVHHIRConversation:
        """Load ``clip`` (``frames`` frames per stream; person boxes from its masks when given,
        else from the pixels that are not its fill colour), encode it once, start a
        conversation. ``clip.facts`` goes into the prompt when ``use_facts``."""
        loaded = load_clip(
            {s: str(p) for s, p in clip.streams.items()},
            num_frames=frames,
            fill=clip.fill,
            masks=clip.masks,
        )
        facts = clip.facts if use_facts and clip.facts and clip.facts.strip() else None
        provenance = self.provenance(frames, facts=facts is not None)
        return OVHHIRConversation(self.model, loaded, provenance, facts)

    def open_visual(
        self, visual: Mapping[str, torch.Tensor], frames: int | None = None
    ) -> OVHHIRConversation:
        """A conversation on a clip already embedded by the branches (``{stream: (Q, D)}``, e.g.
        from a frozen-feature cache through ``model.embed``)."""
        return OVHHIRConversation(self.model, None, self.provenance(frames), visual=visual)
