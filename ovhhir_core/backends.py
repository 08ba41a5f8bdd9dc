"""Which answerer answers: ``--backend auto|ovhhir|zeroshot`` (CLI, app, evaluation).

- ``ovhhir``: the OV-HHIR branches; without a checkpoint they are untrained, which is allowed only
  when chosen explicitly (the provenance then carries the warning);
- ``zeroshot``: a pretrained video-LLM that sees the clip (``ovhhir_core.zeroshot``);
- ``auto``: OV-HHIR when a checkpoint is given, else zero-shot, else (its weights cannot be had)
  the measured facts (``ovhhir_core.timeline.FactsAnswerer``) with a warning that says why and how
  to get a grounded model. Never untrained OV-HHIR.

The zero-shot and timeline packages are imported lazily, only when asked for.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ovhhir_core.answerer import Answerer, Provenance, TrackedClip
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "ovhhir", "zeroshot")


def load_ovhhir(preset: Any, device: Any = "cpu", dtype: Any = None, checkpoint=None) -> Answerer:
    """The OV-HHIR answerer (untrained without ``checkpoint``: its provenance warns)."""
    from ovhhir_core.model import load_model
    from ovhhir_core.model.answerer import OVHHIRAnswerer

    return OVHHIRAnswerer(load_model(preset, device, dtype, checkpoint))


def load_zeroshot(preset: Any, device: Any = "cpu", dtype: Any = None) -> Answerer:
    """The zero-shot video-LLM answerer (``MissingWeightsError`` when it cannot be had)."""
    from ovhhir_core.zeroshot import load_zeroshot_answerer

    return load_zeroshot_answerer(preset, device, dtype)


def load_answerer(
    preset: Any,
    backend: str = "auto",
    device: Any = "cpu",
    dtype: Any = None,
    checkpoint: Any = None,
) -> Answerer:
    """The answerer ``backend`` names for ``preset`` (see the module docstring for the rules).

    Raises :class:`UserError` for an unknown backend, a checkpoint that does not load, or (only
    for an explicit choice) a backend that cannot be had.
    """
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "ovhhir" or (backend == "auto" and checkpoint is not None):
        return load_ovhhir(preset, device, dtype, checkpoint)
    if backend == "zeroshot":
        return load_zeroshot(preset, device, dtype)
    try:
        return load_zeroshot(preset, device, dtype)
    except UserError as exc:  # MissingWeightsError, a preset without a zero-shot model
        warning = fallback_warning(exc)
    from ovhhir_core.timeline import FactsAnswerer

    log.debug("backend auto: %s", warning)  # shown beside every answer
    return WithWarning(FactsAnswerer(preset.name), warning)


def fallback_warning(exc: Exception) -> str:
    """One sentence, shown beside every answer of the measured-facts fallback: why no model that
    looks at the video was loaded (``exc``, from loading the zero-shot model) and how to get one."""
    from ovhhir_core.hub import MissingWeightsError

    if isinstance(exc, MissingWeightsError) and exc.weights is None:
        why = "; ".join(exc.tried)  # the preset names no zero-shot model
    elif isinstance(exc, MissingWeightsError):
        why = f"the zero-shot weights {exc.weights} are not here ({'; '.join(exc.tried)})"
    else:
        why = str(exc)
    why = " ".join(why.split()).rstrip(".")
    return (
        f"No model that looks at the video could be loaded ({why}), so these answers are only "
        "the measurements of the tracked masks; to get answers that see the video, supply the "
        "zero-shot weights (--weights zeroshot=PATH or OVHHIR_ZEROSHOT_PATH) or a trained "
        "OV-HHIR checkpoint (--checkpoint DIR)."
    )


def default_frames(preset: Any, answerer: Answerer) -> int:
    """Frames per clip: the preset's zero-shot section's for the zero-shot answerer, else the
    model's."""
    zeroshot = getattr(preset, "zeroshot", None)
    if answerer.name == "zeroshot" and getattr(zeroshot, "frames", None):
        return int(zeroshot.frames)
    return int(preset.model.num_frames)


def track_dir_facts(directory: Any) -> str | None:
    """The facts text of ``DIR/timeline.json`` (``ovhhir_core.timeline``), or None when there is
    no timeline there."""
    from pathlib import Path

    from ovhhir_core.timeline import TIMELINE_JSON, facts_text, load_timeline

    path = Path(directory) / TIMELINE_JSON
    if not path.is_file():
        return None
    return facts_text(load_timeline(path))


class WithWarning:
    """An answerer whose provenance (and its conversations') carries ``warning``."""

    def __init__(self, inner: Answerer, warning: str):
        self.inner = inner
        self.name = inner.name
        self.warning = warning

    def _warn(self, provenance: Provenance) -> Provenance:
        own = provenance.warning if provenance.warning != self.warning else None
        return dataclasses.replace(provenance, warning=" ".join(filter(None, (self.warning, own))))

    def provenance(self, frames: int | None = None, facts: bool = False) -> Provenance:
        return self._warn(self.inner.provenance(frames, facts))

    def open(self, clip: TrackedClip, frames: int = 16, use_facts: bool = True):
        conversation = self.inner.open(clip, frames, use_facts)
        conversation.provenance = self._warn(conversation.provenance)
        return conversation
