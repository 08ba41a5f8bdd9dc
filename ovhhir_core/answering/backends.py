"""Which answerer answers: ``--backend auto|ovhhir|zeroshot`` (CLI, app, evaluation).

- ``ovhhir``: the OV-HHIR branches; without a checkpoint they are untrained, which is allowed only
  when chosen explicitly (the provenance then carries the warning);
- ``zeroshot``: a pretrained video-LLM that sees the clip (``ovhhir_core.zeroshot``);
- ``auto``: OV-HHIR when a checkpoint is given, else zero-shot, else (its weights cannot be had)
  the measured facts (``ovhhir_core.timeline.FactsAnswerer``) with a warning that says why and how
  to get a grounded model. Never untrained OV-HHIR.

The answerer packages depend on this package (for the boundary's types and the decoding loop),
never the reverse: this module finds them through :data:`BUILDERS`, a table of import paths that
is read only when an answerer is asked for (as the CLI's command table is).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from typing import Any

from ovhhir_core.answering.base import Answerer, Provenance, TrackedClip
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "ovhhir", "zeroshot")

#: What builds each answerer (and reads a track folder's facts): ``module:name``, imported on use.
BUILDERS = {
    "ovhhir": "ovhhir_core.model.answerer:load_ovhhir_answerer",
    "zeroshot": "ovhhir_core.zeroshot.answerer:load_zeroshot_answerer",
    "facts": "ovhhir_core.timeline.facts_answerer:FactsAnswerer",
    "track_dir_facts": "ovhhir_core.timeline.facts_answerer:track_dir_facts",
}


def builder(name: str) -> Any:
    """The object :data:`BUILDERS` names for ``name`` (its module imported now)."""
    module, _, attr = BUILDERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def load_ovhhir(preset: Any, device: Any = "cpu", dtype: Any = None, checkpoint=None) -> Answerer:
    """The OV-HHIR answerer (untrained without ``checkpoint``: its provenance warns)."""
    return builder("ovhhir")(preset, device, dtype, checkpoint)


def load_zeroshot(preset: Any, device: Any = "cpu", dtype: Any = None) -> Answerer:
    """The zero-shot video-LLM answerer (``MissingWeightsError`` when it cannot be had)."""
    return builder("zeroshot")(preset, device, dtype)


def picks_ovhhir(backend: str, checkpoint: Any = None) -> bool:
    """Whether :func:`load_answerer` answers with OV-HHIR (else the zero-shot answerer, or its
    fallback)."""
    return backend == "ovhhir" or (backend == "auto" and checkpoint is not None)


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
    if picks_ovhhir(backend, checkpoint):
        return load_ovhhir(preset, device, dtype, checkpoint)
    if backend == "zeroshot":
        return load_zeroshot(preset, device, dtype)
    try:
        return load_zeroshot(preset, device, dtype)
    except UserError as exc:  # MissingWeightsError, a preset without a zero-shot model
        warning = fallback_warning(exc)
    log.debug("backend auto: %s", warning)  # shown beside every answer
    return WithWarning(builder("facts")(preset.name), warning)


def fallback_warning(exc: Exception) -> str:
    """One sentence, shown beside every answer of the measured-facts fallback: why no model that
    looks at the video was loaded (``exc``, from loading the zero-shot model) and how to get one."""
    from ovhhir_core.weights.hub import MissingWeightsError

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
    return builder("track_dir_facts")(directory)


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
