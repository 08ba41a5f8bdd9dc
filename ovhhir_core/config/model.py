"""Configs of the OV-HHIR model: encoders, branches, LLM (the preset's ``model`` section).

They live under ``ovhhir_core.config`` so that presets can be read without importing the model
package; ``ovhhir_core.model.config`` re-exports them.

``weights``, ``local_path`` and ``arch`` mean what :class:`WeightsConfig` says; ``arch`` holds
overrides for the transformers config class (``VitPoseBackboneConfig``, ``ViTConfig``,
``LlamaConfig``) used by random builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ovhhir_core.config.weights import WeightsConfig


@dataclass
class EncoderConfig(WeightsConfig):
    """A frozen vision encoder. ``kind`` is ``vitpose`` (person branches) or ``vit`` (background).

    ``batch_size`` caps how many frames go through the encoder in one pass (all 3×16 frames of a
    clip fit in one pass at the default).
    """

    weights: str | None = "vitpose-base-simple"
    kind: str = "vitpose"
    batch_size: int = 64


@dataclass
class BranchConfig:
    """Frame position embedding → video Q-Former → linear to the LLM's hidden size.

    ``image_qformer_layers`` > 0 adds a per-frame image Q-Former (Video-LLaMA style) that first
    compresses each frame's encoder tokens to ``num_query_tokens`` tokens.
    """

    num_query_tokens: int = 32
    qformer_hidden_size: int = 768
    qformer_layers: int = 2
    qformer_heads: int = 12
    qformer_intermediate_size: int = 3072
    cross_attention_frequency: int = 1
    max_frames: int = 32
    image_qformer_layers: int = 0
    dropout: float = 0.1


@dataclass
class LLMConfig(WeightsConfig):
    """A frozen causal chat LLM.

    ``quantization`` is ``None``, ``"8bit"`` or ``"4bit"`` (needs bitsandbytes and a CUDA GPU).
    ``max_context_tokens`` = 0 uses the LLM's ``max_position_embeddings``.
    ``system_prompt`` = None keeps the chat template's own default system message.
    """

    weights: str | None = "llama-2-13b-chat"
    quantization: str | None = None
    max_context_tokens: int = 0
    system_prompt: str | None = None


@dataclass
class ModelConfig:
    num_frames: int = 16
    use_background: bool = True
    person_encoder: EncoderConfig = field(default_factory=EncoderConfig)
    background_encoder: EncoderConfig = field(
        default_factory=lambda: EncoderConfig(kind="vit", weights="vit-base-patch16-224-in21k")
    )
    branch: BranchConfig = field(default_factory=BranchConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
