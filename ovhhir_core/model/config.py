"""Configs of the OV-HHIR model: encoders, branches, LLM, generation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EncoderConfig:
    """A frozen vision encoder. ``kind`` is ``vitpose`` (person branches) or ``vit`` (background)."""

    kind: str = "vitpose"
    weights: str | None = "vitpose-base-simple"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)


@dataclass
class BranchConfig:
    """Frame position embedding → video Q-Former → linear to the LLM's hidden size."""

    num_query_tokens: int = 32
    qformer_hidden_size: int = 768
    qformer_layers: int = 2
    qformer_heads: int = 12
    qformer_intermediate_size: int = 3072
    max_frames: int = 32


@dataclass
class LLMConfig:
    """A frozen causal chat LLM."""

    weights: str | None = "llama-2-13b-chat"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)


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
