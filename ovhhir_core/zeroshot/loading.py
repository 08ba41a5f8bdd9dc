"""Loading a zero-shot video-LLM: Hub weights (lazily), a local copy, or a random tiny build.

``load_model(cfg, device, dtype)`` resolves ``cfg.weights`` through :mod:`ovhhir_core.weights.hub`
(component ``zeroshot``: ``--weights zeroshot=PATH`` / ``OVHHIR_ZEROSHOT_PATH`` win), loads it with
``AutoModelForImageTextToText`` and ``AutoProcessor``, and raises
:class:`~ovhhir_core.weights.hub.MissingWeightsError` when the weights cannot be had. Nothing is imported
or loaded before it is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ovhhir_core.errors import UserError
from ovhhir_core.weights.hub import PRETRAINED, MissingWeightsError, resolve_weights

from .config import ZeroShotConfig
from .families import Family, family_of
from .precision import apply_precision

log = logging.getLogger(__name__)

COMPONENT = "zeroshot"
#: What to do when a preset names no zero-shot model.
NO_MODEL_HOW = (
    "use a preset that names one (small: SmolVLM2-500M-Video-Instruct, downloaded on first use), "
    f"or pass --weights {COMPONENT}=PATH / set OVHHIR_{COMPONENT.upper()}_PATH to a local "
    "SmolVLM2 or Qwen3-VL folder"
)


@dataclass
class LoadedModel:
    """A video-LLM ready to answer: ``grounded`` is True only for real pretrained weights."""

    model: Any
    processor: Any
    family: str
    model_id: str
    grounded: bool
    #: The number formats in use (:mod:`.precision`), e.g. ``vision float32, text int8``.
    precision: str = ""

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def spec(self) -> Family:
        """The family's table entry (:mod:`.families`)."""
        return family_of(self.family)

    def stop_ids(self) -> list[int]:
        """The token ids that end an answer: the family's end tokens (those in the tokenizer),
        the tokenizer's eos and the model's ``generation_config`` eos ids when it has any."""
        tokenizer = self.processor.tokenizer
        vocab = tokenizer.get_vocab()
        stops = {tokenizer.eos_token_id, *(vocab.get(t) for t in self.spec.end_tokens)}
        eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        stops.update(eos if isinstance(eos, list) else [eos])
        return sorted(s for s in stops if s is not None and s != tokenizer.unk_token_id)

    def vision_tower(self):
        """The module that encodes frames (what a reused prompt cache saves)."""
        return self.spec.vision_tower(self.model)


def _load_pretrained(path, dtype) -> tuple[Any, Any]:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(path)
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"{path} could not be loaded as a video-LLM ({first}); point --weights "
            f"{COMPONENT}=PATH at a folder with config.json, weights and processor files"
        ) from exc
    return model, processor


def load_model(cfg: ZeroShotConfig, device: Any = "cpu", dtype: Any = None) -> LoadedModel:
    """Load the model ``cfg`` names onto ``device`` (``dtype`` None: float32)."""
    import torch

    cfg.validate()
    dtype = dtype or torch.float32
    if cfg.local_path or cfg.weights:
        path = resolve_weights(COMPONENT, cfg.weights, cfg.local_path)
        model, processor = _load_pretrained(path, dtype)
        spec = PRETRAINED.get(cfg.weights) if cfg.weights and not cfg.local_path else None
        model_id = spec.repo_id if spec and spec.repo_id else str(path)
        grounded = True
    elif cfg.arch:
        model, processor = build_tiny(cfg.arch)
        model = model.to(dtype)
        model_id = f"random {cfg.arch.get('family', 'smolvlm')} build (untrained)"
        grounded = False
        log.warning("zero-shot answerer: %s; its answers are noise", model_id)
    else:
        raise MissingWeightsError(
            COMPONENT, None, ["this preset names no zero-shot video-LLM"], NO_MODEL_HOW
        )
    model = model.to(device).eval()
    family = family_of(getattr(model.config, "model_type", None), model_id)
    family.configure(processor, cfg.frame_size)
    precision = apply_precision(model, torch.device(device), cfg.dtype, cfg.quantize)
    return LoadedModel(model, processor, family.name, model_id, grounded, precision.describe())


def build_tiny(arch: dict[str, Any]) -> tuple[Any, Any]:
    """A random-weight model and its offline processor (:func:`.tiny.build_random`)."""
    from .tiny import build_random

    return build_random(arch)
