"""The ``zeroshot`` section of a preset: which pretrained video-LLM answers, and how it sees a clip
(re-exported by ``ovhhir_core.zeroshot.config``).

``weights`` names an entry of :data:`ovhhir_core.weights.hub.PRETRAINED` (SmolVLM2 or Qwen3-VL); ``None``
with an ``arch`` builds a random tiny model of the family named there (tests, plumbing); ``None``
without an ``arch`` means the preset has no zero-shot model (a ``--weights zeroshot=PATH`` local
copy can still supply one). ``frames`` is the default number of frames sampled uniformly from the
clip (8-32 in the app), ``three_streams`` also passes the three stream videos (Qwen3-VL only, it
takes several videos in one prompt), ``max_side`` caps the frames' longer side before marking,
``frame_size`` is the side in pixels each frame is letterboxed to for the model (None: the
processor's own input size; SmolVLM2 needs a multiple of 64, e.g. 384 or 512).
``dtype`` is the vision side's number format (``auto``: bfloat16 where the hardware computes it
natively, else float32) and ``quantize`` the text model's (``none``, or ``int8`` weights and
activations on CPUs: faster prefill, visibly different answers), see
:mod:`ovhhir_core.zeroshot.precision`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovhhir_core.config.weights import WeightsConfig
from ovhhir_core.errors import UserError

#: Model families the zero-shot answerer knows how to prompt (transformers ``model_type``); each
#: has an entry in ``ovhhir_core.zeroshot.families.FAMILY_TABLE``.
FAMILIES = ("smolvlm", "qwen3_vl")
#: ``zeroshot.quantize`` values (the text model's weights).
QUANTIZE = ("none", "int8")
#: ``zeroshot.dtype`` values (the vision side).
VISION_DTYPES = ("auto", "float32", "bfloat16", "float16")
#: The frame counts the app offers (the slider's range).
MIN_FRAMES, MAX_FRAMES = 8, 32


@dataclass
class ZeroShotConfig(WeightsConfig):
    """A zero-shot video-LLM answerer (see the module docstring)."""

    weights: str | None = "smolvlm2-500m-video-instruct"
    frames: int = 16
    three_streams: bool = False
    max_side: int = 512
    frame_size: int | None = None
    dtype: str = "auto"
    quantize: str = "none"

    def validate(self) -> None:
        """Raise :class:`UserError` for values no model can use."""
        if not 1 <= self.frames <= 64:
            raise UserError(f"zeroshot.frames must be in 1..64, got {self.frames}")
        if self.max_side < 32:
            raise UserError(f"zeroshot.max_side must be >= 32, got {self.max_side}")
        if self.frame_size is not None and not 32 <= self.frame_size <= 4096:
            raise UserError(
                f"zeroshot.frame_size must be in 32..4096 or null, got {self.frame_size}"
            )
        if self.quantize not in QUANTIZE:
            raise UserError(
                f"zeroshot.quantize must be one of {', '.join(QUANTIZE)}, got {self.quantize!r}"
            )
        if self.dtype not in VISION_DTYPES:
            raise UserError(
                f"zeroshot.dtype must be one of {', '.join(VISION_DTYPES)}, got {self.dtype!r}"
            )
        family = self.arch.get("family")
        if family is not None and family not in FAMILIES:
            raise UserError(
                f"zeroshot.arch.family {family!r} is unknown; expected one of {', '.join(FAMILIES)}"
            )


def check_frames(frames: int) -> int:
    """The frame count asked for, or a :class:`UserError` saying the allowed range."""
    if not isinstance(frames, int) or not 1 <= frames <= 64:
        raise UserError(
            f"frames must be a whole number in 1..64 (the app offers {MIN_FRAMES}-{MAX_FRAMES}), "
            f"got {frames!r}"
        )
    return frames
