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

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "answerer": ("OVHHIRAnswerer", "UNTRAINED_WARNING"),
    "chat": ("ChatSession", "default_question", "deltas"),
    "checkpoint": ("CheckpointError", "read_checkpoint"),
    "clip": ("Clip", "ClipError", "load_clip"),
    "config": ("BranchConfig", "EncoderConfig", "LLMConfig", "ModelConfig"),
    "generation": ("GenerationConfig",),
    "ovhhir": ("OVHHIRModel", "load_model"),
    "branch": ("collate_features",),
    "prompt": ("PromptError",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
