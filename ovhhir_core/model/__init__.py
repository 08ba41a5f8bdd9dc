"""The OV-HHIR model: frozen encoders → per-stream video Q-Former branches → frozen chat LLM.

Public API::

    model = load_model(preset.model, device, dtype, checkpoint=None)
    clip = load_clip({"person_1": a, "person_2": b, "background": c}, num_frames=16)
    chat = ChatSession(model, clip)
    for text in chat.ask("Describe interaction between <p1> and <p2> in <bg>?", GenerationConfig()):
        ...  # the growing answer
"""

from ovhhir_core.model.chat import ChatSession, default_question, deltas
from ovhhir_core.model.checkpoint import CheckpointError, read_checkpoint
from ovhhir_core.model.clip import STREAMS, Clip, ClipError, load_clip
from ovhhir_core.model.config import BranchConfig, EncoderConfig, LLMConfig, ModelConfig
from ovhhir_core.model.generation import GenerationConfig
from ovhhir_core.model.llm import STREAM_TOKENS
from ovhhir_core.model.ovhhir import OVHHIRModel, collate_features, load_model
from ovhhir_core.model.prompt import PromptError

__all__ = [
    "STREAMS",
    "STREAM_TOKENS",
    "BranchConfig",
    "ChatSession",
    "CheckpointError",
    "Clip",
    "ClipError",
    "EncoderConfig",
    "GenerationConfig",
    "LLMConfig",
    "ModelConfig",
    "OVHHIRModel",
    "PromptError",
    "collate_features",
    "default_question",
    "deltas",
    "load_clip",
    "load_model",
    "read_checkpoint",
]
