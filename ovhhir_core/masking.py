"""From label maps to the paper's three streams, an overlay video, mask exports and an HHIRChat sample.

Label maps follow the DAVIS convention: (H, W) uint8, 0 = background, 1 = person_1, 2 = person_2
(further objects 3, 4, ...). Everything streams frame by frame; outputs are written under
temporary names and renamed only when complete, so a failure leaves nothing that looks finished.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ovhhir_core.data.hhirchat import DEFAULT_QUESTION, Sample, Turn, save_dataset
from ovhhir_core.errors import UserError
from ovhhir_core.video import VideoWriter, iter_frames, probe

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_QUESTION",
    "STREAMS",
    "davis_palette",
    "export_hhirchat_sample",
    "export_masks_npz",
    "export_masks_png_zip",
    "load_masks_npz",
    "load_masks_png_zip",
    "overlay_frame",
    "write_streams",
]

#: Stream name -> label value kept in it (None: the background, every object removed).
STREAMS: dict[str, int | None] = {"person_1": 1, "person_2": 2, "background": None}
#: Overlay colours (RGB) per label value; other values use the DAVIS palette.
OVERLAY_COLOURS = {1: (230, 57, 70), 2: (29, 130, 230)}
#: Short names for the legend.
LEGEND = {1: "P1", 2: "P2"}


class MaskingError(UserError, ValueError):
    """Masks or streams cannot be written or read; the message says why."""


def davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL VOC palette: (256, 3) uint8, index 0 black, 1 (128, 0, 0), 2 (0, 128, 0)."""
    palette = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        palette[i] = (r, g, b)
    return palette


def _colour(value: int) -> tuple[int, int, int]:
    return OVERLAY_COLOURS.get(value, tuple(int(v) for v in davis_palette()[value % 256]))


def overlay_frame(frame: np.ndarray, label_map: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 RGB with each object tinted, outlined, and a P1/P2 legend.

    ``label_map``: (H, W) uint8. Returns a new (H, W, 3) uint8 array.
    """
    if frame.shape[:2] != label_map.shape:
        raise MaskingError(
            f"frame {frame.shape[:2]} and label map {label_map.shape} differ in size"
        )
    out = frame.astype(np.float32)
    values = [int(v) for v in np.unique(label_map) if v != 0]
    for value in values:
        region = label_map == value
        out[region] = (1 - alpha) * out[region] + alpha * np.asarray(_colour(value), np.float32)
    out = out.round().clip(0, 255).astype(np.uint8)
    thickness = max(1, round(max(frame.shape[:2]) / 320))
    for value in values:
        contours, _ = cv2.findContours(
            (label_map == value).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        cv2.drawContours(out, contours, -1, _colour(value), thickness)
    _legend(out, sorted(set(LEGEND) | set(values)))
    return out


def _legend(img: np.ndarray, values: list[int]) -> None:
    scale = max(0.35, img.shape[0] / 720)
    pad = max(2, round(6 * scale))
    y = pad
    for value in values:
        text = LEGEND.get(value, f"#{value}")
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(img, (pad, y), (pad + th, y + th), _colour(value), -1)
        cv2.putText(
            img,
            text,
            (2 * pad + th, y + th),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        y += th + base + pad


def _masked(frame: np.ndarray, keep: np.ndarray, fill: np.ndarray) -> np.ndarray:
    out = frame.copy()
    out[~keep] = fill
    return out


@contextmanager
def _all_or_nothing(paths: Mapping[str, Path], fps: float) -> Iterator[dict[str, VideoWriter]]:
    writers = {name: VideoWriter(path, fps) for name, path in paths.items()}
    try:
        yield writers
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    try:
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        for path in paths.values():
            Path(path).unlink(missing_ok=True)
        raise


def write_streams(
    video_path: str | os.PathLike,
    labels: Mapping[int, np.ndarray],
    out_dir: str | os.PathLike,
    *,
    start: int = 0,
    end: int | None = None,
    fill: tuple[int, int, int] = (0, 0, 0),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write ``person_1.mp4``, ``person_2.mp4``, ``background.mp4`` and ``overlay.mp4`` (H.264,
    source fps and size) for frames [start, end) of ``video_path``.

    ``labels``: ``frame_idx -> (H, W) uint8`` label map (a frame without one counts as all
    background). Person streams keep only that person's pixels; the background stream has every
    object removed; removed pixels are ``fill`` (RGB 0..255). ``progress(done, total)`` is called
    after each frame. Returns ``{"person_1": path, "person_2": ..., "background": ...,
    "overlay": ...}``; on failure no output file is left behind.
    """
    info = probe(video_path)
    end = info.num_frames if end is None else end
    if len(fill) != 3 or not all(0 <= int(v) <= 255 for v in fill):
        raise MaskingError(f"fill must be three values in 0..255 (R, G, B), got {fill!r}")
    fill_px = np.asarray(fill, np.uint8)
    out_dir = Path(out_dir)
    paths = {name: out_dir / f"{name}.mp4" for name in (*STREAMS, "overlay")}
    total = end - start
    empty = np.zeros((info.height, info.width), np.uint8)
    with _all_or_nothing(paths, info.fps) as writers:
        for done, (frame_idx, frame) in enumerate(iter_frames(video_path, start, end), 1):
            label_map = labels[frame_idx] if frame_idx in labels else empty
            if label_map.shape != frame.shape[:2]:
                raise MaskingError(
                    f"label map of frame {frame_idx} is {label_map.shape}, the "
                    f"video is {frame.shape[:2]}"
                )
            for name, value in STREAMS.items():
                keep = label_map == 0 if value is None else label_map == value
                writers[name].write(_masked(frame, keep, fill_px))
            writers["overlay"].write(overlay_frame(frame, label_map))
            if progress is not None:
                progress(done, total)
    return paths


def _atomic_path(path: Path) -> tuple[Path, Callable[[], None]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    os.close(fd)
    return Path(tmp), lambda: os.replace(tmp, path)


def _frame_key(name: str) -> int:
    stem = Path(name).stem
    digits = stem.rsplit("_", 1)[-1]
    if not digits.isdigit():
        raise MaskingError(f"unexpected entry {name!r}: mask names end in the frame index")
    return int(digits)


def export_masks_png_zip(labels: Mapping[int, np.ndarray], path: str | os.PathLike) -> Path:
    """Write each label map as an indexed PNG (DAVIS palette, 0 = background) named
    ``{frame_idx:05d}.png`` into the zip ``path``; returns ``path``."""
    path = Path(path)
    tmp, commit = _atomic_path(path)
    palette = davis_palette().reshape(-1).tolist()
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for frame_idx in sorted(labels):
                img = Image.fromarray(np.asarray(labels[frame_idx], np.uint8), mode="P")
                img.putpalette(palette)
                buf = io.BytesIO()
                img.save(buf, format="PNG", optimize=False)
                zf.writestr(f"{frame_idx:05d}.png", buf.getvalue())
        commit()
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_masks_png_zip(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """Read a zip of indexed PNGs back: ``{frame_idx: (H, W) uint8 label map}``."""
    out: dict[int, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name in sorted(zf.namelist()):
                if not name.lower().endswith(".png"):
                    continue
                with Image.open(io.BytesIO(zf.read(name))) as img:
                    if img.mode != "P":
                        raise MaskingError(f"{name} in {path} is not an indexed (palette) PNG")
                    out[_frame_key(name)] = np.array(img, dtype=np.uint8)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MaskingError(f"{path} is not a readable mask zip ({exc})") from exc
    return out


def export_masks_npz(labels: Mapping[int, np.ndarray], path: str | os.PathLike) -> Path:
    """Write label maps as a compressed ``.npz`` with one array per frame, ``frame_{idx:05d}``
    ((H, W) uint8), streamed one frame at a time; returns ``path``."""
    path = Path(path)
    tmp, commit = _atomic_path(path)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for frame_idx in sorted(labels):
                with zf.open(f"frame_{frame_idx:05d}.npy", "w") as f:
                    np.lib.format.write_array(f, np.asarray(labels[frame_idx], np.uint8))
        commit()
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_masks_npz(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """Read an npz written by :func:`export_masks_npz`: ``{frame_idx: (H, W) uint8}``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {_frame_key(k): data[k].astype(np.uint8) for k in sorted(data.files)}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise MaskingError(f"{path} is not a readable mask npz ({exc})") from exc


def export_hhirchat_sample(
    streams: Mapping[str, Path],
    out_dir: str | os.PathLike,
    sample_id: str,
    question: str = DEFAULT_QUESTION,
    answer: str | None = None,
) -> Path:
    """Copy the three streams to ``<id>_p1.mp4``, ``<id>_p2.mp4``, ``<id>_bg.mp4`` in ``out_dir``
    and write ``<id>.json``: a list with one HHIRChat entry (``id``, ``p1``, ``p2``, ``bg``, and
    the conversation ``question`` / ``answer``). Without an answer the gpt turn is left empty
    for the annotator to fill in. Returns the JSON path."""
    sample_id = str(sample_id)
    if not sample_id or any(c in sample_id for c in "/\\") or sample_id.startswith("."):
        raise MaskingError(f"sample id {sample_id!r} must be a plain name (no slashes)")
    missing = [k for k in STREAMS if k not in streams or not Path(streams[k]).is_file()]
    if missing:
        raise MaskingError(f"streams missing: {', '.join(missing)}; run write_streams first")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = {}
    for key, short in (("person_1", "p1"), ("person_2", "p2"), ("background", "bg")):
        dest = out_dir / f"{sample_id}_{short}.mp4"
        if Path(streams[key]).resolve() != dest.resolve():
            tmp, commit = _atomic_path(dest)
            shutil.copyfile(streams[key], tmp)
            commit()
        targets[short] = dest
    turns = [Turn("human", question), Turn("gpt", answer or "")]
    sample = Sample(sample_id, targets["p1"], targets["p2"], targets["bg"], turns)
    return save_dataset([sample], out_dir / f"{sample_id}.json")
