"""A small tracked clip for the zero-shot tests: two coloured people on grey, exact masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ovhhir_core.masking import export_masks_npz, write_streams
from ovhhir_core.video import write_video

#: The people's own colours in the source video (not the mark colours).
P1_RGB, P2_RGB, GREY = (40, 160, 40), (220, 220, 60), 128


def person_labels(i: int, height: int = 96, width: int = 128) -> np.ndarray:
    """Label map of frame ``i``: person 1 on the left moving right, person 2 the other way."""
    label = np.zeros((height, width), np.uint8)
    label[20:80, 10 + i : 40 + i] = 1
    label[25:85, 80 - i : 110 - i] = 2
    return label


def make_track_dir(out: Path, num_frames: int = 12, fps: float = 10.0) -> Path:
    """A folder as ``track`` writes it: the three streams, the overlay and ``masks.npz``."""
    out.mkdir(parents=True, exist_ok=True)
    frames, labels = [], {}
    for i in range(num_frames):
        label = person_labels(i)
        frame = np.full((*label.shape, 3), GREY, np.uint8)
        frame[label == 1] = P1_RGB
        frame[label == 2] = P2_RGB
        frames.append(frame)
        labels[i] = label
    write_video(out / "source.mp4", frames, fps)
    write_streams(out / "source.mp4", labels, out)
    export_masks_npz(labels, out / "masks.npz")
    (out / "source.mp4").unlink()
    return out
