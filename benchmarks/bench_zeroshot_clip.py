"""A synthetic 640x360 tracked clip (two moving coloured people, exact masks) for benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ovhhir_core.masking import export_masks_npz, write_streams
from ovhhir_core.video import write_video


def make_clip(out: Path, num_frames: int = 48, fps: float = 24.0) -> Path:
    """Write ``person_1.mp4`` ``person_2.mp4`` ``background.mp4`` and ``masks.npz`` to ``out``."""
    rng = np.random.default_rng(0)
    base = rng.integers(60, 200, (360, 640, 3), dtype=np.uint8)
    frames, labels = [], {}
    for i in range(num_frames):
        label = np.zeros((360, 640), np.uint8)
        label[80:330, 100 + 3 * i : 190 + 3 * i] = 1
        label[70:320, 450 - 3 * i : 540 - 3 * i] = 2
        frame = base.copy()
        frame[label == 1] = (40, 160, 40)
        frame[label == 2] = (220, 200, 60)
        frames.append(frame)
        labels[i] = label
    write_video(out / "source.mp4", frames, fps)
    write_streams(out / "source.mp4", labels, out)
    export_masks_npz(labels, out / "masks.npz")
    return out
