"""Small video files for tests, written with PyAV in several codecs and containers.

Each frame carries its own index: the top-left 8×8 block's grey level is ``8 * (i % 32)`` and a
white square moves one step per frame, so a test can tell which frame it decoded.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frame_value(i: int) -> int:
    return 8 * (i % 32)


def make_frame(i: int, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB frame number ``i``."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = np.linspace(0, 200, width, dtype=np.uint8)[None, :]
    frame[..., 2] = np.linspace(0, 200, height, dtype=np.uint8)[:, None]
    frame[:8, :8] = frame_value(i)
    x = (4 * i) % max(1, width - 12)
    frame[height // 2 : height // 2 + 10, x : x + 10] = 255
    return frame


def make_video(
    path: str | Path,
    num_frames: int = 20,
    width: int = 64,
    height: int = 48,
    fps: float = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    vfr_gaps: bool = False,
    gop: int | None = None,
) -> Path:
    """Write a test video. ``vfr_gaps`` makes every 3rd frame last 3× longer (variable rate)."""
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        stream.bit_rate = 8_000_000  # near-lossless, so the marker block survives every codec
        if codec == "libx264":
            stream.options = {"crf": "8", **({"g": str(gop)} if gop else {})}
        time_base = Fraction(1, 1000) if vfr_gaps else 1 / rate
        stream.time_base = time_base
        pts = 0
        for i in range(num_frames):
            vf = av.VideoFrame.from_ndarray(make_frame(i, width, height), format="rgb24")
            vf.pts = pts
            vf.time_base = time_base
            for packet in stream.encode(vf):
                container.mux(packet)
            pts += (120 if i % 3 == 2 else 40) if vfr_gaps else 1
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def decoded_index(frame: np.ndarray) -> int:
    """Recover ``i % 32`` from a decoded frame's marker block (tolerant of lossy codecs)."""
    value = float(frame[2:6, 2:6].mean())
    return int(round(value / 8)) % 32
