"""Configs of the OV-HHIR model: encoders, branches, LLM.

Defined in :mod:`ovhhir_core.config.model` (every preset section lives under ``ovhhir_core.config``,
which imports no other package); re-exported here for the model's modules.
"""

from ovhhir_core.config.model import BranchConfig, EncoderConfig, LLMConfig, ModelConfig

__all__ = ["BranchConfig", "EncoderConfig", "LLMConfig", "ModelConfig"]
