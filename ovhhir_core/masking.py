"""From label maps to the paper's three streams, an overlay video, and mask exports.

Label maps follow the DAVIS convention: (H, W) uint8, 0 = background, 1 = person_1, 2 = person_2
(further objects 3, 4, ...). Everything streams frame by frame; outputs are written under
temporary names and renamed only when complete, so a failure leaves nothing that looks finished.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ovhhir_core.errors import UserError
from ovhhir_core.streams import BACKGROUND, FILE_SUFFIXES, LABEL_VALUES, STREAMS, TRACK_FILES
from ovhhir_core.video import VideoWriter, iter_frames, probe

log = logging.getLogger(__name__)

__all__ = [
    "davis_palette",
    "export_masks_npz",
    "export_masks_png_zip",
    "load_masks_npz",
    "load_masks_png_zip",
    "fill_rgb",
    "overlay_frame",
    "split_frame",
    "stream_paths",
    "write_streams",
]

#: Overlay colours (RGB) per label value; other values use the DAVIS palette.
OVERLAY_COLOURS = {
    LABEL_VALUES["person_1"]: (230, 57, 70),
    LABEL_VALUES["person_2"]: (29, 130, 230),
}
#: Short names for the legend.
LEGEND = {LABEL_VALUES["person_1"]: "P1", LABEL_VALUES["person_2"]: "P2"}


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


#: (256, 3) uint8, each label value's overlay colour (people in their own); every frame reads it.
_PALETTE = davis_palette()
_PALETTE[list(OVERLAY_COLOURS)] = list(OVERLAY_COLOURS.values())


def _colour(value: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in _PALETTE[value % 256])


def overlay_frame(frame: np.ndarray, label_map: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 RGB with each object tinted, outlined, and a P1/P2 legend;
    ``label_map``: (H, W) uint8. Returns a new (H, W, 3) uint8 array."""
    if frame.shape[:2] != label_map.shape:
        raise MaskingError(f"frame {frame.shape[:2]} and label map {label_map.shape} differ")
    values = [int(v) for v in np.flatnonzero(np.bincount(label_map.ravel(), minlength=1)[1:]) + 1]
    out = frame.copy()
    if values:
        # tint: blend whole frames in uint8 (OpenCV), keep the blend only on labelled pixels
        colours = cv2.LUT(cv2.merge([label_map] * 3), _PALETTE[:, None, :])  # (H, W, 3)
        tinted = cv2.addWeighted(frame, 1 - alpha, colours, alpha, 0.0)
        cv2.copyTo(tinted, (label_map > 0).view(np.uint8), out)
        # outline: pixels whose neighbourhood holds another label, in the higher label's colour
        side = max(3, round(max(frame.shape[:2]) / 320) | 1)  # odd; 3 px at 854x480
        kernel = np.ones((side, side), np.uint8)
        higher = cv2.dilate(label_map, kernel)
        edge = (higher != cv2.erode(label_map, kernel)).view(np.uint8)
        cv2.copyTo(cv2.LUT(cv2.merge([higher] * 3), _PALETTE[:, None, :]), edge, out)
    _legend(out, sorted(set(LEGEND) | set(values)))
    return out


def _legend(img: np.ndarray, values: list[int]) -> None:
    scale, font, white = max(0.35, img.shape[0] / 720), cv2.FONT_HERSHEY_SIMPLEX, (255, 255, 255)
    pad = max(2, round(6 * scale))
    y = pad
    for value in values:
        text = LEGEND.get(value, f"#{value}")
        (_, th), base = cv2.getTextSize(text, font, scale, 1)
        cv2.rectangle(img, (pad, y), (pad + th, y + th), _colour(value), -1)
        cv2.putText(img, text, (2 * pad + th, y + th), font, scale, white, 1, cv2.LINE_AA)
        y += th + base + pad


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


#: A label-map source: ``frame_idx -> (H, W) uint8`` as a mapping or a function (None: none).
LabelSource = Mapping[int, np.ndarray] | Callable[[int], "np.ndarray | None"]
#: A frame source: a video file, or ``(frame_idx, (H, W, 3) uint8 RGB)`` pairs (then give fps).
FrameSource = str | os.PathLike | Iterable[tuple[int, np.ndarray]]


def fill_rgb(fill: int | Sequence[int]) -> tuple[int, int, int]:
    """``fill`` as an (R, G, B) tuple: one value 0..255 (grey) or three. Raises MaskingError."""
    values = [fill] * 3 if isinstance(fill, (int, np.integer)) else list(fill)
    ok = len(values) == 3 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255
        for v in values
    )
    if not ok:
        raise MaskingError(f"fill must be one or three integers in 0..255 (R, G, B), got {fill!r}")
    return int(values[0]), int(values[1]), int(values[2])


def stream_paths(
    out_dir: str | os.PathLike, prefix: str | None = None, overlay: bool = True
) -> dict[str, Path]:
    """Output path of each stream (and of the overlay when ``overlay``) under ``out_dir``.

    Without ``prefix`` the ``track`` names (``person_1.mp4`` ...); with one, the dataset names
    (``<prefix>_p1.mp4`` ..., the overlay ``<prefix>_overlay.mp4``).
    """
    out_dir = Path(out_dir)
    if prefix is None:
        names = {s: TRACK_FILES[s] for s in STREAMS}
        overlay_name = TRACK_FILES["overlay"]
    else:
        names = {s: prefix + FILE_SUFFIXES[s] for s in STREAMS}
        overlay_name = f"{prefix}_overlay.mp4"
    if overlay:
        names["overlay"] = overlay_name
    return {name: out_dir / file for name, file in names.items()}


def _frames(
    source: FrameSource, start: int, end: int | None, fps: float | None
) -> tuple[Iterable[tuple[int, np.ndarray]], float, int | None]:
    """(frame pairs, fps, number of frames or None) of a video file or of given frames."""
    if isinstance(source, (str, os.PathLike)):
        info = probe(source)
        end = info.num_frames if end is None else min(end, info.num_frames)
        return iter_frames(source, start, end), info.fps, end - start
    if fps is None or fps <= 0:
        raise MaskingError("give fps > 0 when writing streams from frames rather than a video")
    pairs = ((i, f) for i, f in source if i >= start and (end is None or i < end))
    return pairs, float(fps), None if end is None else end - start


def _label_getter(labels: LabelSource) -> Callable[[int], np.ndarray | None]:
    if isinstance(labels, Mapping):
        return lambda i: labels[i] if i in labels else None
    return labels


def _fit(label_map: np.ndarray | None, shape: tuple[int, int], frame_idx: int, resize: bool):
    if label_map is None:
        return np.zeros(shape, np.uint8)
    if label_map.shape == shape:
        return label_map
    if resize:
        return cv2.resize(label_map, shape[::-1], interpolation=cv2.INTER_NEAREST)
    raise MaskingError(f"label map of frame {frame_idx} is {label_map.shape}, the video is {shape}")


def split_frame(
    frame: np.ndarray, label_map: np.ndarray, fill: tuple[int, int, int] = (0, 0, 0)
) -> dict[str, np.ndarray]:
    """The three streams of one (H, W, 3) uint8 frame and its (H, W) uint8 label map.

    Person streams keep only that person's pixels; the background stream is the frame without
    person_1 and person_2 (other labelled people, values 3+, stay in it, as in the paper).
    Removed pixels are ``fill``.
    """
    persons = {s: cv2.compare(label_map, v, cv2.CMP_EQ) for s, v in LABEL_VALUES.items()}
    keep = {**persons, BACKGROUND: cv2.bitwise_not(persons["person_1"] | persons["person_2"])}
    if not any(fill):  # black: one masked AND per stream
        return {s: cv2.bitwise_and(frame, frame, mask=keep[s]) for s in STREAMS}
    blank = cv2.merge([np.full(label_map.shape, c, np.uint8) for c in fill])
    # OpenCV's copy-with-mask: ~5x faster than boolean indexing
    return {s: cv2.copyTo(frame, keep[s], blank.copy()) for s in STREAMS}


def write_streams(
    source: FrameSource,
    labels: LabelSource,
    out_dir: str | os.PathLike,
    *,
    start: int = 0,
    end: int | None = None,
    fill: int | Sequence[int] = (0, 0, 0),
    fps: float | None = None,
    prefix: str | None = None,
    overlay: bool = True,
    resize_labels: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write the three stream videos (H.264) of frames [start, end), and an overlay video.

    ``source``: a video file (its fps and size) or ``(frame_idx, (H, W, 3) uint8 RGB)`` pairs
    with ``fps``. ``labels``: ``frame_idx -> (H, W) uint8`` label map, a mapping or a function
    (a frame without one counts as all background); a map of another size is an error, or is
    resized (nearest) with ``resize_labels``. Streams are split by :func:`split_frame`; removed
    pixels are ``fill`` (one value or R, G, B in 0..255). File names come from
    :func:`stream_paths` (``prefix``, ``overlay``). ``progress(done, total)`` is called after
    each frame (total 0 when unknown). Returns the paths keyed by stream name (and
    ``"overlay"``); on failure no output file is left behind.
    """
    fill = fill_rgb(fill)
    pairs, rate, total = _frames(source, start, end, fps)
    get = _label_getter(labels)
    paths = stream_paths(out_dir, prefix, overlay)
    with _all_or_nothing(paths, rate) as writers:
        done = 0
        for done, (frame_idx, frame) in enumerate(pairs, 1):
            label_map = _fit(get(frame_idx), frame.shape[:2], frame_idx, resize_labels)
            for name, img in split_frame(frame, label_map, fill).items():
                writers[name].write(img)
            if overlay:
                writers["overlay"].write(overlay_frame(frame, label_map))
            if progress is not None:
                progress(done, total or 0)
        if done == 0:
            raise MaskingError(f"no frames to write into {out_dir} (frames {start}..{end})")
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
                buf = io.BytesIO()  # level 1: fast, and masks compress well
                img.save(buf, format="PNG", optimize=False, compress_level=1)
                zf.writestr(f"{frame_idx:05d}.png", buf.getvalue())
        commit()
    finally:
        tmp.unlink(missing_ok=True)
    return path


#: Which frames a mask loader reads: given the file's sorted frame indices, the ones wanted.
Pick = Callable[[list[int]], Iterable[int]]


def _picked(names: dict[int, str], pick: Pick | None) -> list[int]:
    keys = sorted(names)
    return keys if pick is None else sorted(set(pick(keys)) & names.keys())


def load_masks_png_zip(path: str | os.PathLike, pick: Pick | None = None) -> dict[int, np.ndarray]:
    """Read a zip of indexed PNGs back: ``{frame_idx: (H, W) uint8 label map}``, only the
    frames ``pick`` names (default: all; a long clip's maps need not all fit in memory)."""
    out: dict[int, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = {_frame_key(n): n for n in zf.namelist() if n.lower().endswith(".png")}
            for key in _picked(names, pick):
                with Image.open(io.BytesIO(zf.read(names[key]))) as img:
                    if img.mode != "P":
                        raise MaskingError(f"{names[key]} in {path} is not an indexed PNG")
                    out[key] = np.array(img, dtype=np.uint8)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MaskingError(f"{path} is not a readable mask zip ({exc})") from exc
    return out


def export_masks_npz(labels: Mapping[int, np.ndarray], path: str | os.PathLike) -> Path:
    """Write label maps as a compressed ``.npz`` with one array per frame, ``frame_{idx:05d}``
    ((H, W) uint8), streamed one frame at a time; returns ``path``."""
    path = Path(path)
    tmp, commit = _atomic_path(path)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for frame_idx in sorted(labels):
                with zf.open(f"frame_{frame_idx:05d}.npy", "w") as f:
                    np.lib.format.write_array(f, np.asarray(labels[frame_idx], np.uint8))
        commit()
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_masks_npz(path: str | os.PathLike, pick: Pick | None = None) -> dict[int, np.ndarray]:
    """Read an npz written by :func:`export_masks_npz`: ``{frame_idx: (H, W) uint8}``, only
    the frames ``pick`` names (default: all)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            names = {_frame_key(k): k for k in data.files}
            maps = {k: data[names[k]] for k in _picked(names, pick)}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise MaskingError(f"{path} is not a readable mask npz ({exc})") from exc
    if not all(isinstance(m, np.ndarray) and m.ndim == 2 for m in maps.values()):
        raise MaskingError(f"{path} is not a mask npz: its entries are not (H, W) label maps")
    return {k: m.astype(np.uint8) for k, m in maps.items()}
