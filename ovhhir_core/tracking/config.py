"""Configs of the click segmenter (SAM) and the video tracker (SAM 2.1).

Defined in :mod:`ovhhir_core.config.tracking` (every preset section lives under
``ovhhir_core.config``, which imports no other package); re-exported here for tracking's modules.
"""

from ovhhir_core.config.tracking import SamConfig, TrackerConfig

__all__ = ["SamConfig", "TrackerConfig"]
