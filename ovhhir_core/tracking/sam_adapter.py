"""Everything we do inside segment-anything's ``SamPredictor`` beyond its public methods.

The per-session embedding cache saves a predictor's image embedding after ``set_image`` and puts it
back later without re-encoding. segment-anything has no public API for that, so this module reads
and writes the predictor's ``features``, ``original_size``, ``input_size`` and ``is_image_set``
attributes (segment-anything 1.0, ``segment_anything/predictor.py``). :func:`check_version` refuses
untested releases.
"""

from __future__ import annotations

from typing import Any

from ovhhir_core.tracking.compat import require_tested

DISTRIBUTION = "segment-anything"
TESTED_VERSIONS = ("1.0",)


def check_version(version: str | None = None) -> str:
    """Raise ``UntestedVersionError`` unless segment-anything is a tested release."""
    return require_tested(
        DISTRIBUTION, TESTED_VERSIONS, "the SAM click-embedding cache", version=version
    )


def save_embedding(predictor: Any) -> tuple[Any, tuple[int, int], tuple[int, int]]:
    """The image embedding ``set_image`` left in ``predictor``: (features, original, input size)."""
    return predictor.features, predictor.original_size, predictor.input_size


def restore_embedding(predictor: Any, saved: tuple[Any, tuple[int, int], tuple[int, int]]) -> None:
    """Make ``predictor`` answer prompts on the image whose embedding was saved."""
    predictor.reset_image()
    predictor.features, predictor.original_size, predictor.input_size = saved
    predictor.is_image_set = True
