"""The fields every component with weights has, defined once: what ``weights`` means."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WeightsConfig:
    """Which weights a component loads.

    ``weights``: the name of pretrained weights, a key of :data:`ovhhir_core.weights.hub.PRETRAINED`;
    ``None`` builds random weights of the same architecture, sized by ``arch`` (overrides of the
    architecture's config). ``local_path``: a local file or folder loaded instead of the named
    weights (the CLI's local weights path override ``--weights COMPONENT=PATH``, or
    ``OVHHIR_<COMPONENT>_PATH``).
    """

    weights: str | None = None
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
