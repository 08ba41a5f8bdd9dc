"""Configs of the click segmenter (SAM), the video tracker (SAM 2.1) and the person detector.

Defined in :mod:`ovhhir_core.config.tracking` (every preset section lives under
``ovhhir_core.config``, which imports no other package); re-exported here for tracking's modules.
"""

from ovhhir_core.config.tracking import DetectorConfig, SamConfig, TrackerConfig

__all__ = ["DetectorConfig", "SamConfig", "TrackerConfig"]
