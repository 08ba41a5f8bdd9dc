"""The zero-shot model families: one table entry says everything family-specific.

Each :class:`Family` says how a prompt is written (the chat template, how a video appears in a
message), where decoding stops, how frames are fitted to the model's input and what they cost in
tokens, whether several videos fit in one prompt, where the vision tower is, and how a tiny
random build of the family is made. Adding a family is one entry in :data:`FAMILY_TABLE` (its
``model_type`` added to :data:`ovhhir_core.config.zeroshot.FAMILIES`) plus its tiny test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovhhir_core.errors import UserError

from .templates import QWEN3_VL_TINY_TEMPLATE, SMOLVLM_VIDEO_TEMPLATE


@dataclass(frozen=True)
class FrameGeometry:
    """What each frame becomes before the processor: ``height`` x ``width`` pixels, letterboxed
    (scaled to fit, padded, never stretched), costing ``tokens_per_frame`` prompt tokens."""

    height: int
    width: int
    tokens_per_frame: float
    processor_kwargs: dict = field(default_factory=dict)


def _smolvlm_side(processor: Any, frame_size: int | None) -> tuple[int, int]:
    """(square side, image tokens per frame): the processor's square input unless set."""
    native = processor.video_processor.max_image_size["longest_edge"]
    per_token = native // math.isqrt(processor.image_seq_len)  # pixels per token side (64)
    side = frame_size or native
    if side % per_token:
        raise UserError(
            f"zeroshot.frame_size {side} does not suit SmolVLM: use a multiple of {per_token} "
            f"(its input is {native} px, {processor.image_seq_len} tokens per frame)"
        )
    return side, (side // per_token) ** 2


def smolvlm_geometry(processor: Any, frame_size: int | None, frames: int, shape) -> FrameGeometry:
    """SmolVLM encodes each frame as one square: letterbox to the processor's square side
    (``max_image_size``; ``frame_size`` when set); image tokens plus 3 wrapper tokens."""
    side, tokens = _smolvlm_side(processor, frame_size)
    return FrameGeometry(side, side, tokens + 3, {"size": {"longest_edge": side}})


def smolvlm_configure(processor: Any, frame_size: int | None) -> None:
    """Make the processor's square input ``frame_size`` px (tokens per frame follow)."""
    side, tokens = _smolvlm_side(processor, frame_size)
    processor.video_processor.max_image_size = {"longest_edge": side}
    processor.image_seq_len = tokens


def qwen3_vl_geometry(processor: Any, frame_size: int | None, frames: int, shape) -> FrameGeometry:
    """Qwen3-VL keeps the frame's shape on a grid of ``patch_size * merge_size`` pixels: scale
    the frame under the processor's per-frame pixel cap (the reference cap:
    ``min(max_video_tokens * factor², longest_edge / frames)``) and ``frame_size`` when set,
    then pad to whole grid cells so the processor resizes nothing."""
    vp = processor.video_processor
    factor = vp.patch_size * vp.merge_size
    low, high = vp.size["shortest_edge"], vp.size["longest_edge"]
    cap = max(min(vp.max_video_tokens * factor**2, high // max(frames, 1)), int(low * 1.05))
    h, w = shape[:2]
    scale = min(1.0, math.sqrt(cap / (h * w)))
    if frame_size:
        scale = min(scale, frame_size / max(h, w))
    height = max(factor, math.floor(h * scale / factor) * factor)
    width = max(factor, math.floor(w * scale / factor) * factor)
    tokens = height * width / factor**2 / vp.temporal_patch_size
    return FrameGeometry(height, width, tokens, {"cap_pixels_per_frame": True})


def _no_configure(processor: Any, frame_size: int | None) -> None:
    """Nothing to set: the geometry alone decides the frame size."""


def _smolvlm_tiny(tokenizer: Any, sizes: dict[str, Any]) -> tuple[Any, Any]:
    from transformers import LlamaConfig, SmolVLMConfig, SmolVLMProcessor, SmolVLMVideoProcessor
    from transformers.models.smolvlm.configuration_smolvlm import SmolVLMVisionConfig
    from transformers.models.smolvlm.image_processing_smolvlm import SmolVLMImageProcessor

    vision = sizes["vision"]
    side = vision["image_size"]
    per_frame = (side // vision["patch_size"]) ** 2 // sizes["scale_factor"] ** 2
    edge = {"longest_edge": side}
    processor = SmolVLMProcessor(
        image_processor=SmolVLMImageProcessor(
            size=edge, max_image_size=edge, do_image_splitting=False
        ),
        video_processor=SmolVLMVideoProcessor(size=edge, max_image_size=edge),
        tokenizer=tokenizer,
        image_seq_len=per_frame,
        chat_template=SMOLVLM_VIDEO_TEMPLATE,
    )
    top = {k: v for k, v in sizes.items() if k not in ("vision", "text", "image_size")}
    config = SmolVLMConfig(
        vision_config=SmolVLMVisionConfig(**vision).to_dict(),
        text_config=LlamaConfig(**{"vocab_size": len(tokenizer), **sizes["text"]}).to_dict(),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        pad_token_id=tokenizer.pad_token_id,
        **top,
    )
    return config, processor


def _qwen3_vl_tiny(tokenizer: Any, sizes: dict[str, Any]) -> tuple[Any, Any]:
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    side = sizes.get("image_size", 64)
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen3VLVideoProcessor(
            size={"shortest_edge": 32 * 32, "longest_edge": side * side * 64}
        ),
        tokenizer=tokenizer,
        chat_template=QWEN3_VL_TINY_TEMPLATE,
    )
    ids = tokenizer.convert_tokens_to_ids
    top = {k: v for k, v in sizes.items() if k not in ("vision", "text", "image_size")}
    config = Qwen3VLConfig(
        vision_config=sizes["vision"],
        text_config={"vocab_size": len(tokenizer), **sizes["text"]},
        video_token_id=ids("<|video_pad|>"),
        image_token_id=ids("<|image_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
        **top,
    )
    return config, processor


@dataclass(frozen=True)
class Family:
    """Everything the zero-shot answerer does differently for one ``model_type``."""

    name: str
    label: str
    #: The template prompts are rendered with; None: the processor's own (published with a
    #: video branch).
    chat_template: str | None
    #: How one video appears in a message's content.
    video_item: dict
    #: Tokens that end an answer, by text (looked up in the model's tokenizer; missing ones are
    #: skipped); the model's ``generation_config`` eos ids are added when present.
    end_tokens: tuple[str, ...]
    multi_video: bool
    #: The module that encodes frames.
    vision_tower: Callable[[Any], Any]
    #: (processor, frame_size, frames, (H, W)) -> :class:`FrameGeometry`.
    geometry: Callable[..., FrameGeometry]
    #: (processor, frame_size) -> None: set the processor up for ``frame_size`` once, at load.
    configure: Callable[[Any, int | None], None]
    #: The text model places text after a video at positions it computes itself (M-RoPE):
    #: the encoded prefix keeps its own offset.
    rope_index: bool
    #: Tiny random builds: sizes, the special tokens of the tokenizer (end of turn second), and
    #: (tokenizer, sizes) -> (config, processor).
    tiny_arch: dict
    tiny_special: tuple[str, ...]
    tiny_build: Callable[[Any, dict], tuple[Any, Any]]

    def template(self, processor: Any) -> str:
        """The chat template to render with (passed explicitly, never the processor's guess)."""
        return self.chat_template or processor.chat_template


_SMOL_SPECIAL = ("<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>")
_SMOL_SPECIAL += ("<global-img>",) + tuple(
    f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)
)

FAMILY_TABLE: dict[str, Family] = {
    "smolvlm": Family(
        name="smolvlm",
        label="SmolVLM2",
        chat_template=SMOLVLM_VIDEO_TEMPLATE,
        video_item={"type": "video"},
        end_tokens=("<end_of_utterance>",),
        multi_video=False,
        vision_tower=lambda model: model.model.vision_model,
        geometry=smolvlm_geometry,
        configure=smolvlm_configure,
        rope_index=False,
        tiny_arch={
            "scale_factor": 2,
            "vision": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "intermediate_size": 64, "image_size": 64, "patch_size": 16},
            "text": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "num_key_value_heads": 2},
        },
        tiny_special=_SMOL_SPECIAL,
        tiny_build=_smolvlm_tiny,
    ),
    "qwen3_vl": Family(
        name="qwen3_vl",
        label="Qwen3-VL",
        chat_template=None,
        video_item={"type": "video"},
        end_tokens=("<|im_end|>", "<|endoftext|>"),
        multi_video=True,
        vision_tower=lambda model: model.model.visual,
        geometry=qwen3_vl_geometry,
        configure=_no_configure,
        rope_index=True,
        tiny_arch={
            "vision": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "out_hidden_size": 64, "deepstack_visual_indexes": [1]},
            "text": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 32,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [4, 6, 6], "mrope_interleaved": True}},
        },
        tiny_special=("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_start|>",
                      "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"),
        tiny_build=_qwen3_vl_tiny,
    ),
}  # fmt: skip


def family_of(name: str | None, where: str = "the model") -> Family:
    """The table entry of ``model_type`` ``name``, or a :class:`UserError` naming the known ones."""
    if name not in FAMILY_TABLE:
        known = ", ".join(f"{f.name} ({f.label})" for f in FAMILY_TABLE.values())
        raise UserError(f"{where} holds a {name!r} model; the zero-shot answerer knows {known}")
    return FAMILY_TABLE[name]
