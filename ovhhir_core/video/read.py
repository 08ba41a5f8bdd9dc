"""Reading video: probe, decode frames by index (streaming, with seeking), uniform sampling.

Frames are RGB ``uint8`` arrays of shape ``(H, W, 3)``, numbered from 0 in presentation order.
Nothing here holds a whole video in memory: decoding seeks to the nearest keyframe before the
frames it needs and streams from there. A frame index is mapped to its presentation timestamp
through a per-file index of packet timestamps (built once by demuxing, without decoding), so
variable-frame-rate files are addressed exactly.
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

#: Beyond these a file is refused outright (the app applies its own, configurable caps).
ABSURD_SIDE = 16384
ABSURD_FRAMES = 10_000_000

_FIX = (
    "re-encode it, e.g. `ffmpeg -i INPUT -c:v libx264 -pix_fmt yuv420p OUTPUT.mp4`, "
    "or choose another file"
)


class VideoError(UserError, ValueError):
    """A video file cannot be used; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` reads from a file. ``fps`` is the average rate (frames / duration)."""

    path: str
    fps: float
    num_frames: int
    width: int
    height: int
    duration: float
    codec: str


@dataclass(frozen=True)
class _Index:
    info: VideoInfo
    pts: tuple[int, ...]  # presentation timestamps, sorted; pts[i] belongs to frame i
    keyframes: tuple[int, ...]  # sorted pts of keyframes (where decoding can start)
    time_base: Fraction


def _open(path: str | os.PathLike) -> av.container.InputContainer:
    p = Path(path)
    if not p.exists():
        raise VideoError(f"video file {p} does not exist")
    if not p.is_file():
        raise VideoError(f"{p} is not a file")
    if p.stat().st_size == 0:
        raise VideoError(f"video file {p} is empty (0 bytes); {_FIX}")
    try:
        return av.open(str(p))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoError(f"{p.name} is not a readable video ({exc}); {_FIX}") from exc


def _video_stream(container: av.container.InputContainer, path: str | os.PathLike):
    if not container.streams.video:
        raise VideoError(f"{Path(path).name} has no video stream; {_FIX}")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def _file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        return (str(p), -1, -1)
    return (str(p), st.st_size, st.st_mtime_ns)


def _build_index(path: str) -> _Index:
    with _open(path) as container:
        stream = _video_stream(container, path)
        pts: list[int] = []
        keyframes: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is not None:
                    pts.append(ts)
                    if packet.is_keyframe:
                        keyframes.append(ts)
        except av.error.FFmpegError as exc:
            if not pts:
                raise VideoError(f"{Path(path).name} is corrupt ({exc}); {_FIX}") from exc
            log.warning("%s: demuxing stopped early (%s); using %d frames", path, exc, len(pts))
        if not pts:
            raise VideoError(f"{Path(path).name} has no video frames; {_FIX}")
        pts = sorted(set(pts))
        time_base = stream.time_base or Fraction(1, 1000)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise VideoError(
                f"{Path(path).name} has an invalid frame size {width}x{height}; {_FIX}"
            )
        if max(width, height) > ABSURD_SIDE or len(pts) > ABSURD_FRAMES:
            raise VideoError(
                f"{Path(path).name} is too large to handle ({width}x{height}, {len(pts)} frames); "
                "cut or downscale it first"
            )
        rate = stream.average_rate or stream.guessed_rate
        step = (pts[-1] - pts[0]) / (len(pts) - 1) if len(pts) > 1 else 0
        if rate:
            frame_dur = float(1 / rate)
        elif step:
            frame_dur = float(step * time_base)
        else:
            frame_dur = 1 / 25
        duration = float((pts[-1] - pts[0]) * time_base) + frame_dur
        fps = len(pts) / duration if duration > 0 else float(rate or 25)
        if rate and abs(float(rate) - fps) / fps < 0.01:
            fps = float(rate)  # constant frame rate: keep the exact nominal rate
        info = VideoInfo(
            path=str(path),
            fps=fps,
            num_frames=len(pts),
            width=width,
            height=height,
            duration=duration,
            codec=stream.codec_context.name,
        )
        return _Index(
            info=info, pts=tuple(pts), keyframes=tuple(sorted(keyframes)), time_base=time_base
        )


@functools.lru_cache(maxsize=32)
def _cached_index(key: tuple[str, int, int]) -> _Index:
    return _build_index(key[0])


def _index(path: str | os.PathLike) -> _Index:
    return _cached_index(_file_key(path))


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read fps, frame count, size, duration and codec. Raises :class:`VideoError` on bad files."""
    info = _index(path).info
    return VideoInfo(**{**info.__dict__, "path": str(path)})


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled down so the longer side is at most ``max_side`` (never up)."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    if (frame.width, frame.height) != size:
        frame = frame.reformat(width=size[0], height=size[1])
    return frame.to_ndarray(format="rgb24")  # (H, W, 3) uint8


def _check_range(n: int, start: int, end: int | None, name: str) -> tuple[int, int]:
    end = n if end is None else end
    if not (0 <= start < n):
        raise VideoError(f"start frame {start} is outside {name} (frames 0..{n - 1})")
    if not (start < end <= n):
        raise VideoError(f"end frame {end} must be in {start + 1}..{n} for {name}")
    return start, end


def _decode_indices(
    path: str | os.PathLike, indices: Sequence[int], max_side: int | None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_idx, frame)`` for sorted, unique ``indices``, seeking where it pays."""
    idx = _index(path)
    info = idx.info
    size = scaled_size(info.width, info.height, max_side)
    wanted = [(idx.pts[i], i) for i in indices]
    with _open(path) as container:
        stream = _video_stream(container, path)
        pos = 0
        last_pts: int | None = None
        frames = None
        sought = -1  # position in `wanted` we last sought for: seek at most once per target
        while pos < len(wanted):
            target_pts, target_i = wanted[pos]
            # Seek only when it skips work: the keyframe before the target lies ahead of us.
            k = bisect.bisect_right(idx.keyframes, target_pts) - 1
            key_pts = idx.keyframes[k] if k >= 0 else None
            ahead = last_pts is None or (key_pts is not None and key_pts > last_pts)
            if frames is None or (ahead and sought != pos):
                container.seek(target_pts, stream=stream, backward=True, any_frame=False)
                frames = container.decode(stream)
                sought = pos
            try:
                frame = next(frames)
            except StopIteration:
                frame = None
            except av.error.FFmpegError as exc:
                raise VideoError(
                    f"{Path(path).name}: frame {target_i} could not be decoded ({exc}); the file "
                    f"is truncated or corrupt; {_FIX}"
                ) from exc
            if frame is None:
                raise VideoError(
                    f"{Path(path).name}: the file ends before frame {target_i} (of "
                    f"{info.num_frames} listed); it is truncated; {_FIX}"
                )
            fpts = frame.pts if frame.pts is not None else frame.dts
            if fpts is None:
                continue
            last_pts = fpts
            while pos < len(wanted) and fpts >= wanted[pos][0]:
                # A frame past a target (rare: missing pts) stands in for the frames it skipped.
                yield wanted[pos][1], _to_rgb(frame, size)
                pos += 1


def read_frame(path: str | os.PathLike, frame_idx: int, max_side: int | None = None) -> np.ndarray:
    """Decode one frame: ``(H, W, 3)`` uint8 RGB, scaled so the longer side ≤ ``max_side``."""
    n = probe(path).num_frames
    if not (0 <= frame_idx < n):
        raise VideoError(f"frame {frame_idx} is outside {Path(path).name} (frames 0..{n - 1})")
    for _, frame in _decode_indices(path, [frame_idx], max_side):
        return frame
    raise VideoError(f"{Path(path).name}: frame {frame_idx} could not be decoded; {_FIX}")


def iter_frames(
    path: str | os.PathLike,
    start: int = 0,
    end: int | None = None,
    stride: int = 1,
    max_side: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_idx, frame)`` for frames ``start, start+stride, ...`` below ``end``."""
    if stride < 1:
        raise VideoError(f"stride must be ≥ 1, got {stride}")
    info = probe(path)
    start, end = _check_range(info.num_frames, start, end, Path(path).name)
    yield from _decode_indices(path, range(start, end, stride), max_side)


def sample_indices(n: int, start: int, end: int) -> list[int]:
    """``n`` frame indices spread uniformly over ``[start, end)`` (segment centres).

    Shorter ranges repeat frames, so the result always has ``n`` entries.
    """
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    if end <= start:
        raise ValueError(f"empty range [{start}, {end})")
    span = end - start
    return [start + min(span - 1, int((i + 0.5) * span / n)) for i in range(n)]


def sample_frames(
    path: str | os.PathLike,
    n: int = 16,
    start: int = 0,
    end: int | None = None,
    max_side: int | None = None,
) -> tuple[list[int], np.ndarray]:
    """Decode ``n`` frames sampled uniformly over ``[start, end)``: (indices, ``(n, H, W, 3)`` uint8)."""
    info = probe(path)
    start, end = _check_range(info.num_frames, start, end, Path(path).name)
    indices = sample_indices(n, start, end)
    decoded = dict(_decode_indices(path, sorted(set(indices)), max_side))
    return indices, np.stack([decoded[i] for i in indices])
