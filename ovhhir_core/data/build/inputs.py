"""Inputs of ``build-dataset``: rows from a folder or a CSV, person prompts, and mask files.

Folder: ``<root>/<label>/<video>``; a mask file beside a video (``<stem>_masks.npz``,
``<stem>.npz``, ``<stem>_masks.zip``) is used as its prompt.

CSV columns: ``video`` and ``label`` (required); optional ``id``, ``dataset``, ``frame`` (the frame
the prompts are on, default 0), ``p1`` and ``p2`` (prompts), ``mask`` (a mask file). Paths are
relative to the CSV's folder. A prompt is points ``"x,y;x,y"`` (a third number per point, 1 or 0,
marks it positive or negative; default positive) or a box ``"x0,y0,x1,y1"`` (or ``"box:..."``),
in the video's pixels.

Mask files: ``.npz`` with ``labels`` (T, H, W) uint8 (0 background, 1 person_1, 2 person_2) and
optionally ``frame_idx`` (T,) — as written by :func:`ovhhir_core.data.synthetic.write_clip` — or
one ``frame_<idx>`` array per frame (:func:`ovhhir_core.masking.export_masks_npz`, the app's mask
download), or a ``.zip`` of indexed PNGs named by frame index (``00012.png``). Label maps of
another size than the video are resized (nearest neighbour).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ovhhir_core.errors import UserError
from ovhhir_core.streams import HHIRCHAT_KEYS, PERSONS

VIDEO_EXTS = {".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v", ".mpg", ".mpeg"}
MASK_SUFFIXES = ("_masks.npz", ".npz", "_masks.zip")


class InputError(UserError, ValueError):
    """The input folder/CSV (or one row of it) cannot be used."""


@dataclass(frozen=True)
class Prompt:
    """Prompts for one person on one frame: points (x, y) with labels 1/0, and/or a box."""

    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None


@dataclass
class Row:
    """One labelled video to turn into a sample. ``where`` locates it for error messages."""

    id: str
    video: Path
    label: str
    where: str
    dataset: str | None = None
    frame: int = 0
    prompts: dict[str, Prompt] = field(default_factory=dict)  # "person_1"/"person_2" → prompt
    mask: Path | None = None
    problem: str | None = None  # a parse problem: the row is reported, not built


def parse_prompt(text: str) -> Prompt:
    """``"x,y;x,y"`` (points, optional third value 1/0) or ``"x0,y0,x1,y1"`` / ``"box:..."``."""
    s = text.strip()
    is_box = s.lower().startswith("box:")
    if is_box:
        s = s[4:]
    parts = [p.strip() for p in s.split(";") if p.strip()]
    try:
        nums = [[float(v) for v in p.replace(" ", ",").split(",") if v] for p in parts]
    except ValueError:
        raise InputError(f"prompt {text!r}: use points 'x,y;x,y' or a box 'x0,y0,x1,y1'") from None
    if not nums:
        raise InputError(f"prompt {text!r} is empty")
    if is_box or (len(nums) == 1 and len(nums[0]) == 4):
        if len(nums) != 1 or len(nums[0]) != 4:
            raise InputError(f"box {text!r} must be 'x0,y0,x1,y1'")
        x0, y0, x1, y1 = nums[0]
        return Prompt(box=(x0, y0, x1, y1))
    points, labels = [], []
    for p in nums:
        if len(p) not in (2, 3) or (len(p) == 3 and p[2] not in (0, 1)):
            raise InputError(f"prompt {text!r}: each point is 'x,y' or 'x,y,1|0'")
        points.append((p[0], p[1]))
        labels.append(int(p[2]) if len(p) == 3 else 1)
    return Prompt(tuple(points), tuple(labels))


def make_id(text: str) -> str:
    """A file-name-safe sample id from a relative path ("Punch/clip 1.mp4" → "Punch__clip_1")."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", text.replace("\\", "/"))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem.replace("/", "__")).strip("_.") or "sample"


def _sidecar_mask(video: Path) -> Path | None:
    stem = video.with_suffix("")
    for suffix in MASK_SUFFIXES:
        p = Path(str(stem) + suffix)
        if p.is_file():
            return p
    return None


def rows_from_folder(root: Path, dataset: str | None = None) -> list[Row]:
    """One row per video in ``root/<label>/`` (sorted), label = the sub-folder's name."""
    rows = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for v in sorted(label_dir.rglob("*")):
            if v.suffix.lower() in VIDEO_EXTS and v.is_file():
                rel = v.relative_to(root).as_posix()
                rows.append(
                    Row(make_id(rel), v, label_dir.name, rel, dataset, mask=_sidecar_mask(v))
                )
    if not rows:
        raise InputError(
            f"{root}: no videos found in its sub-folders; expected <folder>/<label>/<video>.mp4"
        )
    return rows


def rows_from_csv(path: Path, dataset: str | None = None) -> list[Row]:
    """One row per CSV line; a line that cannot be parsed becomes a row with a ``problem``."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    cols = {c.strip().lower() for c in reader.fieldnames or []}
    missing = {"video", "label"} - cols
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(sorted(missing))}; need at least "
            "'video' and 'label' (optional: id, dataset, frame, p1, p2, mask)"
        )
    base = path.resolve().parent
    rows = []
    for line_no, raw in enumerate(reader, start=2):
        extra_cells = raw.pop(None, None)  # more cells than columns
        rec = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"{path.name} line {line_no}"
        video = rec.get("video", "")
        row = Row(
            rec.get("id") or make_id(video or f"line{line_no}"),
            base / video,
            rec.get("label", ""),
            where,
            rec.get("dataset") or dataset,
        )
        try:
            if extra_cells:
                raise InputError(
                    "more cells than columns; put prompts that contain commas in "
                    'double quotes, e.g. "10,20;30,40"'
                )
            if not video:
                raise InputError("the 'video' cell is empty")
            if not row.label:
                raise InputError("the 'label' cell is empty")
            if rec.get("frame"):
                row.frame = int(rec["frame"])
            for obj, col in ((p, HHIRCHAT_KEYS[p]) for p in PERSONS):
                if rec.get(col):
                    row.prompts[obj] = parse_prompt(rec[col])
            if rec.get("mask"):
                row.mask = base / rec["mask"]
            elif not row.prompts:
                row.mask = _sidecar_mask(row.video)
        except (InputError, ValueError) as exc:
            row.problem = str(exc)
        rows.append(row)
    return rows


def read_rows(source: str | Path, dataset: str | None = None) -> list[Row]:
    """Rows of a folder of labelled videos or of a CSV file."""
    source = Path(source)
    if source.is_dir():
        return rows_from_folder(source, dataset)
    if source.is_file() and source.suffix.lower() == ".csv":
        return rows_from_csv(source, dataset)
    raise InputError(f"{source}: give a folder of <label>/<video> files or a .csv file")


def shard(rows: list[Row], index: int, count: int) -> list[Row]:
    """Every ``count``-th row starting at ``index`` (0-based): shards partition the rows."""
    if count < 1 or not 0 <= index < count:
        raise InputError(f"--shard {index}/{count}: need 0 <= i < n (e.g. 0/4 ... 3/4)")
    return rows[index::count]


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` → (i, n)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m:
        raise InputError(f"--shard {text!r}: use i/n with 0 <= i < n, e.g. 0/4")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or i >= n:
        raise InputError(f"--shard {text!r}: need 0 <= i < n, e.g. 0/4 ... 3/4")
    return i, n


def load_masks(path: Path) -> Mapping[int, np.ndarray]:
    """``frame_idx → (H, W) uint8`` label maps from an ``.npz`` or a zip of indexed PNGs."""
    if not path.is_file():
        raise InputError(f"mask file {path} does not exist")
    name = path.name.lower()
    try:
        if name.endswith(".npz"):
            with np.load(path) as data:
                if (
                    "labels" not in data
                    and data.files
                    and all(re.fullmatch(r"frame_\d+", k) for k in data.files)
                ):
                    from ovhhir_core.masking import load_masks_npz  # the tracker's export

                    return load_masks_npz(path)
                if "labels" not in data:
                    raise InputError(
                        f"{path}: an .npz mask file needs a 'labels' (T, H, W) "
                        f"array; found {', '.join(data.files) or 'nothing'}"
                    )
                labels = data["labels"]
                idx = data["frame_idx"] if "frame_idx" in data else np.arange(len(labels))
            if labels.ndim != 3 or len(idx) != len(labels):
                raise InputError(f"{path}: 'labels' must be (T, H, W) with one frame_idx per map")
            return {int(i): labels[k].astype(np.uint8) for k, i in enumerate(idx)}
        if name.endswith(".zip"):
            return _masks_from_zip(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: cannot read the mask file ({exc})") from None
    raise InputError(f"{path}: mask files are .npz or a .zip of PNGs")


def _masks_from_zip(path: Path) -> dict[int, np.ndarray]:
    from PIL import Image

    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            m = re.search(r"(\d+)\.png$", info.filename, re.IGNORECASE)
            if not m:
                continue
            with zf.open(info) as f:
                img = Image.open(io.BytesIO(f.read()))
                if img.mode not in ("P", "L"):
                    raise InputError(
                        f"{path}: {info.filename} must be an indexed (P) or "
                        f"grey (L) PNG holding label values, got mode {img.mode}"
                    )
                out[int(m.group(1))] = np.array(img, dtype=np.uint8)
    if not out:
        raise InputError(f"{path}: no <frame_idx>.png files in the zip")
    return out
