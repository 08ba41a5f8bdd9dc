"""Synthetic interactions: drawn figures acting out interactions, with exact per-frame label maps.

For tests (tracking, training, the builder), a learning check, and the app's example clips::

    clip = render_clip("Handshaking", seed=0)          # 64 frames, 320x240
    clip.frames   # (T, H, W, 3) uint8 RGB
    clip.labels   # (T, H, W) uint8: 0 background, 1 person_1, 2 person_2, 3/4 the other pair
    video_path, masks_path = write_clip(clip, "out/")
    dataset = make_dataset("synth/", n_per_class=4)    # an HHIRChat JSON with three streams each

Everything is deterministic given the seed. In a crowded clip a second pair (labels 3 and 4)
acts out a different interaction behind the first; the sample's label is the first pair's.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ovhhir_core import video
from ovhhir_core.data.hhirchat import Sample, make_conversations, save_dataset
from ovhhir_core.data.synthetic.choreography import SCRIPTS, PairLayout, poses_at
from ovhhir_core.data.synthetic.figures import Figure, draw_figure, make_background, make_palette
from ovhhir_core.errors import UserError
from ovhhir_core.masking import write_streams

log = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = tuple(SCRIPTS)
SOURCE = "synthetic"


class SyntheticError(UserError, ValueError):
    """Bad arguments to the synthetic generator."""


@dataclass(frozen=True)
class Pair:
    """One acting pair: its interaction and the label values (obj_ids) of its two people."""

    class_name: str
    obj_ids: tuple[int, int]


@dataclass
class SyntheticClip:
    """A rendered clip. ``frames`` (T, H, W, 3) uint8 RGB; ``labels`` (T, H, W) uint8 label maps
    (0 background, 1 and 2 the first pair, 3 and 4 the second pair of a crowded clip);
    ``background`` (H, W, 3) uint8, the static backdrop the figures are drawn on.
    """

    frames: np.ndarray
    labels: np.ndarray
    class_name: str
    pairs: list[Pair]
    fps: float
    seed: int
    background: np.ndarray

    @property
    def num_people(self) -> int:
        return 2 * len(self.pairs)


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(words)


def _check_class(name: str) -> str:
    if name not in SCRIPTS:
        raise SyntheticError(
            f"no synthetic script for {name!r}; choose one of {', '.join(CLASSES)}"
        )
    return name


def render_clip(
    interaction: str,
    seed: int = 0,
    size: tuple[int, int] = (320, 240),
    num_frames: int = 64,
    fps: float = 16.0,
    crowded: bool = False,
    other: str | None = None,
) -> SyntheticClip:
    """Render ``interaction`` (a class name in :data:`CLASSES`) as a clip of ``size = (W, H)``.

    ``crowded`` adds a second, smaller pair behind the first doing ``other`` (default: a different
    interaction drawn from the seed).
    """
    _check_class(interaction)
    width, height = int(size[0]), int(size[1])
    if width < 32 or height < 32 or num_frames < 1 or fps <= 0:
        raise SyntheticError(
            f"need size >= 32x32, num_frames >= 1 and fps > 0; got {size}, {num_frames}, {fps}"
        )
    rng = _rng(seed, interaction, int(crowded), other or "")
    background = make_background(rng, width, height)
    actors = _cast(rng, interaction, other if crowded else None, crowded, width, height)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    labels = np.zeros((num_frames, height, width), np.uint8)
    for i in range(num_frames):
        t = i / max(1, num_frames - 1)
        frames[i] = background
        for layout, name, fig_a, fig_b, a_front in actors:
            pose_a, pose_b = poses_at(name, t, layout)
            order = (
                [(pose_b, fig_b), (pose_a, fig_a)]
                if a_front
                else [(pose_a, fig_a), (pose_b, fig_b)]
            )
            for pose, fig in order:
                draw_figure(frames[i], labels[i], pose, fig)
    pairs = [Pair(name, (fa.label, fb.label)) for _, name, fa, fb, _ in reversed(actors)]
    return SyntheticClip(frames, labels, interaction, pairs, float(fps), int(seed), background)


def _cast(
    rng: np.random.Generator,
    interaction: str,
    other: str | None,
    crowded: bool,
    width: int,
    height: int,
) -> list[tuple[PairLayout, str, Figure, Figure, bool]]:
    """The acting pairs, back to front: (layout, class name, figure a, figure b, a in front)."""
    if not crowded:
        cx, h = width * rng.uniform(0.42, 0.58), 0.62 * height * rng.uniform(0.88, 1.05)
        return [_actor(rng, interaction, (1, 2), cx, h, 0.95 * height, width)]
    if other is None:
        other = str(rng.choice([c for c in CLASSES if c != interaction]))
    _check_class(other)
    front_left = bool(rng.integers(2))
    h_back = 0.42 * height * rng.uniform(0.9, 1.05)
    back_x = (0.72 if front_left else 0.28) * width
    back = _actor(rng, other, (3, 4), back_x, h_back, 0.78 * height, width)
    h_front = 0.56 * height * rng.uniform(0.9, 1.05)
    front_x = (0.3 if front_left else 0.7) * width
    return [back, _actor(rng, interaction, (1, 2), front_x, h_front, 0.97 * height, width)]


def _actor(
    rng: np.random.Generator,
    name: str,
    ids: tuple[int, int],
    cx: float,
    h: float,
    ground: float,
    width: int,
) -> tuple[PairLayout, str, Figure, Figure, bool]:
    far = min(1.6, max(0.9, (width * 0.9) / h - 0.4))
    layout = PairLayout(
        cx=cx,
        h=h,
        far_gap=float(rng.uniform(0.85, 1.0)) * far,
        shift=float(rng.uniform(-0.04, 0.06)),
        variant=int(rng.integers(4)),
        mirror=bool(rng.integers(2)),
    )
    fig_a = Figure(h, ground, ids[0], make_palette(ids[0] - 1, rng))
    fig_b = Figure(h * rng.uniform(0.92, 1.08), ground, ids[1], make_palette(ids[1] - 1, rng))
    return layout, name, fig_a, fig_b, bool(rng.integers(2))


def write_clip(
    clip: SyntheticClip, out_dir: str | os.PathLike, name: str | None = None
) -> tuple[Path, Path]:
    """Write ``<name>.mp4`` (H.264) and ``<name>_masks.npz`` into ``out_dir``.

    The npz holds ``labels`` (T, H, W) uint8, ``frame_idx`` (T,) int64 and ``obj_ids`` (N,) uint8;
    the builder and the tracking tests read it. Returns (video path, masks path).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"{clip.class_name}_{clip.seed}"
    video_path = video.write_video(out_dir / f"{name}.mp4", iter(clip.frames), clip.fps)
    masks_path = out_dir / f"{name}_masks.npz"
    tmp = out_dir / f".{name}_masks.{os.getpid()}.part"
    obj_ids = np.array([i for p in clip.pairs for i in p.obj_ids], np.uint8)
    try:  # both files or neither: a full disk leaves no video without its masks
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                labels=clip.labels,
                frame_idx=np.arange(len(clip.labels), dtype=np.int64),
                obj_ids=obj_ids,
            )
        os.replace(tmp, masks_path)
    except BaseException:
        video_path.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return video_path, masks_path


def iter_specs(
    classes: Sequence[str], n_per_class: int, seed: int
) -> Iterator[tuple[str, int, int]]:
    """(class_name, index within the class, clip seed) for every sample of a synthetic set."""
    for name in classes:
        for k in range(n_per_class):
            yield name, k, int(_rng(seed, name, k).integers(2**31))


def make_dataset(
    out_dir: str | os.PathLike,
    n_per_class: int = 4,
    classes: Sequence[str] | None = None,
    seed: int = 0,
    crowded: bool = False,
    size: tuple[int, int] = (160, 120),
    num_frames: int = 32,
    fps: float = 8.0,
    write_source: bool = False,
    filename: str = "hhirchat.json",
    fill: int | tuple[int, int, int] = 0,
) -> Path:
    """Render a labelled set and write it as HHIRChat: three streams per sample + conversations.

        Each sample ``<Class>_<k>`` gets ``videos/<id>_p1.mp4``, ``_p2.mp4``, ``_bg.mp4``, a soft label
        drawn from the taxonomy, and the one-word turn; ``write_source`` also writes the whole clip and
        its ``_masks.npz`` (input for ``build-dataset``). Removed pixels are ``fill`` (recorded in each
    sample). Returns the path of the JSON file.
    """
    from ovhhir_core.data.taxonomy import load_taxonomy

    classes = list(classes) if classes is not None else list(CLASSES)
    for c in classes:
        _check_class(c)
    if n_per_class < 1:
        raise SyntheticError(f"n_per_class must be >= 1, got {n_per_class}")
    tax = load_taxonomy()
    out_dir = Path(out_dir)
    vids = out_dir / "videos"
    samples = []
    for name, k, clip_seed in iter_specs(classes, n_per_class, seed):
        sample_id = f"{name}_{k:03d}"
        clip = render_clip(name, clip_seed, size, num_frames, fps, crowded=crowded)
        text = tax.soft_label(name, _rng(seed, "soft", sample_id))
        samples.append(_write_sample(clip, sample_id, vids, text, fill, write_source))
        log.debug("synthetic sample %s written", sample_id)
    return save_dataset(samples, out_dir / filename)


def _write_sample(
    clip: SyntheticClip,
    sample_id: str,
    vids: Path,
    text: str,
    fill: int | tuple[int, int, int],
    write_source: bool,
) -> Sample:
    """Write one clip's three streams (and, with ``write_source``, the clip and its masks)."""
    paths = write_streams(
        enumerate(clip.frames),
        dict(enumerate(clip.labels)),
        vids,
        fps=clip.fps,
        prefix=sample_id,
        overlay=False,
        fill=fill,
    )
    if write_source:
        write_clip(clip, vids, sample_id)
    extra: dict = {"seed": clip.seed}
    if len(clip.pairs) > 1:
        extra["other_pair"] = clip.pairs[1].class_name
    return Sample.from_streams(
        sample_id,
        paths,
        make_conversations(text, clip.class_name),
        label=clip.class_name,
        source=SOURCE,
        extra=extra,
        fill=fill,
    )
