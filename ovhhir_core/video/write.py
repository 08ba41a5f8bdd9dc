"""Writing video: browser-playable H.264 MP4, written under a temporary name and renamed when
complete, so a failure never leaves a file that looks finished."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ovhhir_core.video.read import VideoError


class VideoWriter:
    """Write RGB frames as browser-playable H.264 MP4 (yuv420p, faststart).

    Odd widths/heights are padded by one black pixel to even. The file appears under its final
    name only when the writer closes without error; a failure leaves nothing behind.

    >>> with VideoWriter("out.mp4", fps=25) as w:
    ...     w.write(frame)  # (H, W, 3) uint8 RGB
    """

    def __init__(
        self, path: str | os.PathLike, fps: float, crf: int = 23, preset: str = "veryfast"
    ):
        if fps <= 0:
            raise VideoError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".part-", suffix=".mp4")
        os.close(fd)
        self._tmp = Path(tmp)
        self._rate = Fraction(fps).limit_denominator(1001)
        self._options = {"crf": str(crf), "preset": preset}
        self._container = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        self._stream = None
        self._size: tuple[int, int] | None = None
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` uint8 RGB frame; all frames must share one size."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise VideoError(f"frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if self._stream is None:
            self._size = (w, h)
            self._stream = self._container.add_stream("libx264", rate=self._rate)
            self._stream.width, self._stream.height = w + w % 2, h + h % 2
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = self._options
            # x264 frame threads: less wall time than the default slice threading
            self._stream.codec_context.thread_type = "AUTO"
        elif (w, h) != self._size:
            raise VideoError(f"frame size changed from {self._size} to {(w, h)}")
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)))
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = self.frames_written
        vf.time_base = 1 / self._rate
        for packet in self._stream.encode(vf):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> Path:
        """Flush, close and move the file to its final name."""
        if self._stream is None:
            self.abort()
            raise VideoError(f"no frames were written to {self.path.name}")
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the partial file."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - the file is discarded anyway
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float) -> Path:
    """Write an iterable of ``(H, W, 3)`` uint8 RGB frames as H.264 MP4; returns the path."""
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
