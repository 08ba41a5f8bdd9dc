"""The ``zeroshot`` preset section and its limits.

Defined in :mod:`ovhhir_core.config.zeroshot` (every preset section lives under
``ovhhir_core.config``, which imports no other package); re-exported here for this package.
"""

from ovhhir_core.config.zeroshot import (
    FAMILIES,
    MAX_FRAMES,
    MIN_FRAMES,
    ZeroShotConfig,
    check_frames,
)

__all__ = [
    "FAMILIES",
    "MAX_FRAMES",
    "MIN_FRAMES",
    "ZeroShotConfig",
    "check_frames",
]
