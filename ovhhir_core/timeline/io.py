"""Timeline files: read masks files one frame at a time, write and read ``timeline.json`` and
``timeline.png``.

Masks files the project writes, all read lazily (one label map in memory at a time):
``masks.npz`` from ``track`` / the app (one ``frame_NNNNN`` array per frame), the indexed-PNG
``masks.zip`` (``NNNNN.png``), and the synthetic generator's ``*_masks.npz`` (one ``labels``
(T, H, W) array with ``frame_idx``; small clips, read whole).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from ovhhir_core.streams import TRACK_INFO_FILE
from ovhhir_core.timeline.core import SCHEMA, Timeline
from ovhhir_core.timeline.measure import TimelineError

TIMELINE_JSON = "timeline.json"
TIMELINE_PNG = "timeline.png"


def _index_of(name: str) -> int:
    digits = Path(name).stem.rsplit("_", 1)[-1]
    if not digits.isdigit():
        raise TimelineError(
            f"unexpected entry {name!r} in a masks file: names end in a frame index"
        )
    return int(digits)


class MaskFile:
    """A masks file (``.npz`` or PNG ``.zip``) as a re-iterable of ``(frame_idx, label_map)``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise TimelineError(f"masks file {self.path} does not exist")
        if self.path.suffix.lower() not in (".npz", ".zip"):
            raise TimelineError(
                f"{self.path}: masks must be a .npz or a .zip of indexed PNGs (as `track` writes)"
            )

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        try:
            if self.path.suffix.lower() == ".zip":
                yield from self._iter_zip()
            else:
                yield from self._iter_npz()
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            if isinstance(exc, TimelineError):
                raise
            raise TimelineError(f"{self.path} is not a readable masks file ({exc})") from exc

    def _iter_npz(self) -> Iterator[tuple[int, np.ndarray]]:
        with np.load(self.path, allow_pickle=False) as data:
            if "labels" in data.files:  # the synthetic generator's layout: (T, H, W)
                labels = data["labels"]
                idx = data["frame_idx"] if "frame_idx" in data.files else range(len(labels))
                yield from ((int(i), m) for i, m in zip(idx, labels, strict=True))
                return
            for key in sorted(data.files, key=_index_of):
                yield _index_of(key), np.asarray(data[key], np.uint8)

    def _iter_zip(self) -> Iterator[tuple[int, np.ndarray]]:
        with zipfile.ZipFile(self.path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".png")]
            for name in sorted(names, key=_index_of):
                with Image.open(io.BytesIO(zf.read(name))) as img:
                    if img.mode not in ("P", "L"):
                        raise TimelineError(f"{name} in {self.path} is not an indexed PNG")
                    yield _index_of(name), np.array(img, dtype=np.uint8)


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_json(timeline: Timeline, path: str | os.PathLike) -> Path:
    """Write ``timeline`` as JSON (events first, one compact line per frame row)."""
    data = timeline.as_dict()
    head = json.dumps({k: v for k, v in data.items() if k != "frames"}, indent=1)[:-2]
    rows = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in data["frames"])
    text = f'{head},\n "frames": [\n  {rows}\n ]\n}}\n'
    path = Path(path)
    _atomic_write(path, lambda p: p.write_text(text))
    return path


def write_timeline(out_dir: str | os.PathLike, timeline: Timeline, plot: bool = True) -> dict:
    """Write ``timeline.json`` (and ``timeline.png`` when ``plot``) into ``out_dir``; returns
    ``{"timeline_json": path, "timeline_png": path}``."""
    out_dir = Path(out_dir)
    paths = {"timeline_json": save_json(timeline, out_dir / TIMELINE_JSON)}
    if plot:
        from ovhhir_core.timeline.plot import save_plot

        png = out_dir / TIMELINE_PNG
        _atomic_write(png, lambda p: save_plot(timeline, p))
        paths["timeline_png"] = png
    return paths


def load_timeline(path: str | os.PathLike) -> Timeline:
    """Read a ``timeline.json`` (a file, or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / TIMELINE_JSON
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TimelineError(f"{path} is not a readable timeline ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise TimelineError(f"{path} is not a timeline file (schema {SCHEMA} expected)")
    return Timeline(data["metadata"], data["frames"], data.get("events", []))


def segmenter_beside(masks: str | os.PathLike) -> dict | None:
    """What made the masks in ``masks`` (a file of a track folder): the ``segmenter`` entry of the
    ``track.json`` beside it, or None when there is none (then nothing is known)."""
    info = Path(masks).with_name(TRACK_INFO_FILE)
    if not info.is_file():
        return None
    try:
        return json.loads(info.read_text()).get("segmenter")
    except (OSError, ValueError, AttributeError):
        return None
