"""The OV-HHIR model: frozen encoders → per-stream video Q-Former branches → frozen chat LLM.

Public API::

    model = load_model(preset.model, device, dtype, checkpoint=None)
    clip = load_clip({"person_1": a, "person_2": b, "background": c}, num_frames=16)
    chat = ChatSession(model, clip)
    for text in chat.ask("Describe interaction between <p1> and <p2> in <bg>?", GenerationConfig()):
        ...  # the growing answer

Names are imported lazily: importing ``ovhhir_core.model.config`` (and every CLI ``--help``)
must not pay for torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OVHHIRAnswerer": "answerer",
    "UNTRAINED_WARNING": "answerer",
    "ChatSession": "chat",
    "default_question": "chat",
    "deltas": "chat",
    "CheckpointError": "checkpoint",
    "read_checkpoint": "checkpoint",
    "Clip": "clip",
    "ClipError": "clip",
    "load_clip": "clip",
    "BranchConfig": "config",
    "EncoderConfig": "config",
    "LLMConfig": "config",
    "ModelConfig": "config",
    "GenerationConfig": "generation",
    "OVHHIRModel": "ovhhir",
    "collate_features": "branch",
    "load_model": "ovhhir",
    "PromptError": "prompt",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
