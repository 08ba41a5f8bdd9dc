"""EdgeTAM (the ``cpu`` preset) vs SAM 2.1 / SAM v1; prints measured figures.

Random weights of the published architectures (speed is set by the architecture, not the values;
EdgeTAM's is ``ovhhir_core.tracking.edgetam.published_config``, the config of
``yonigozlan/EdgeTAM-hf``, tensor for tensor).
Times are CPU seconds of this process (all threads) unless marked wall: on a shared machine wall
time mostly measures the neighbours.

(a) ``tracking``: per tracked frame, EdgeTAM vs SAM 2.1 hiera-tiny on the same clip (two
    objects), both at 1024 px and at 512 px; with each part's share of the time (where it goes).
(b) ``clicks``: the session's very first click, a first click on another frame (image encode +
    decode) and later clicks (decode only), EdgeTAM's image model vs SAM ViT-B.
(c) ``e2e``: the ``cpu`` preset's defaults end to end on a 10-second 480p 30 fps clip with two
    people: probe, two clicks, tracking, the four videos written.
(d) ``gpu`` (not part of ``all``): tracking frames per second (wall) at 480p with the ``small``,
    ``paper`` and ``cpu`` segmenters on a GPU (``--device cuda``; ``--frames 60`` for a steady
    figure).
(e) ``agreement`` (not part of ``all``): on your clip with the ``cpu`` preset's real weights, mask IoU
    per person between tracker input sizes (default 1024 px as the reference vs 512 px): whether
    the smaller, faster input keeps the masks.

    python benchmarks/bench_edgetam.py all          # or: tracking | clicks | e2e
    python benchmarks/bench_edgetam.py gpu --frames 60
    python benchmarks/bench_edgetam.py agreement --video clip.mp4 --p1 120,200 --p2 400,210
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tracking_utils import centre, make_clip  # noqa: E402

from ovhhir_core.config import env_local_paths, load_preset  # noqa: E402
from ovhhir_core.errors import UserError  # noqa: E402
from ovhhir_core.masking import write_streams  # noqa: E402
from ovhhir_core.tracking import TrackingSession, load_segmenters  # noqa: E402
from ovhhir_core.tracking.sam2 import HIERA_LARGE_ARCH  # noqa: E402


def _preset(name: str, input_size: int | None = None, track_fps: float | None = None):
    """``name``'s segmenters with random weights of the published architectures."""
    p = load_preset(name)
    for section in (p.sam, p.tracker):
        section.weights, section.local_path, section.arch = None, None, {}
    if name == "paper":
        p.tracker.arch = HIERA_LARGE_ARCH
    p.tracker.input_size, p.tracker.track_fps = input_size, track_fps
    return p


class _Timer:
    """CPU seconds spent inside a module's forward passes (forward hooks)."""

    def __init__(self, module: torch.nn.Module):
        self.total, self._t = 0.0, 0.0
        module.register_forward_pre_hook(lambda *a: setattr(self, "_t", time.process_time()))
        module.register_forward_hook(lambda *a: setattr(self, "total", self.total + self._cpu()))

    def _cpu(self) -> float:
        return time.process_time() - self._t


def _two_people(segs, clip: Path, points: dict, end: int | None = None) -> TrackingSession:
    """A session on ``clip`` (frames [0, ``end``)) with one click per person on frame 0;
    ``points``: ``{"person_1": (x, y), "person_2": (x, y)}``."""
    s = TrackingSession(segs, clip, end=end)
    for person, point in points.items():
        s.add_points(0, person, [point], [1])
    return s


def _centres(w: int, h: int) -> dict[str, tuple[float, float]]:
    """Where the two figures of a :func:`make_clip` clip stand on frame 0."""
    return {"person_1": centre(0, 1, w, h), "person_2": centre(0, 2, w, h)}


#: The tracker's parts timed separately (attributes of Sam2VideoModel and EdgeTamVideoModel),
#: with their short names in the printout.
PARTS = {
    "vision_encoder": "image-enc",
    "memory_attention": "mem-attn",
    "memory_encoder": "mem-enc",
    "mask_decoder": "decoder",
}


def _track(preset, clip: Path, w: int, h: int, frames: int) -> tuple[float, dict[str, float]]:
    """(CPU s per tracked frame, share of each part) over ``frames`` frames after the first;
    the parts are :data:`PARTS` and ``rest`` (prompt encoding, pre- and post-processing)."""
    segs = load_segmenters(preset, "cpu")
    timers = {part: _Timer(getattr(segs.tracker, part)) for part in PARTS}
    s = _two_people(segs, clip, _centres(w, h), end=frames + 1)
    stamps = []
    for _ in s.propagate():
        stamps.append((time.process_time(), {p: t.total for p, t in timers.items()}))
    (t0, p0), (t1, p1) = stamps[0], stamps[-1]
    spent = t1 - t0
    shares = {p: (p1[p] - p0[p]) / spent for p in PARTS}
    shares["rest"] = 1 - sum(shares.values())
    return spent / (len(stamps) - 1), shares


def bench_tracking(frames: int = 4) -> None:
    w, h = 768, 576
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", frames + 1, w, h, fps=30)
        rows = {
            "SAM 2.1 hiera-tiny, 1024 px": _track(_preset("small"), clip, w, h, frames),
            "EdgeTAM, 1024 px": _track(_preset("cpu", 1024), clip, w, h, frames),
            "SAM 2.1 hiera-tiny, 512 px": _track(_preset("small", 512), clip, w, h, frames),
            "EdgeTAM, 512 px (cpu default)": _track(_preset("cpu", 512), clip, w, h, frames),
        }
    base = rows["SAM 2.1 hiera-tiny, 1024 px"][0]
    same = {"1024": base, "512": rows["SAM 2.1 hiera-tiny, 512 px"][0]}
    print(f"(a) tracking, {w}x{h} clip, two objects, {frames} frames (CPU s per tracked frame)")
    print(
        "    shares of the time: image encoder, memory attention, memory encoder, mask decoder, "
        "rest (prompts, pre- and post-processing)"
    )
    for name, (per, shares) in rows.items():
        size = name.split(", ")[1].split(" ")[0]
        parts = "  ".join(f"{PARTS.get(k, k)} {v:3.0%}" for k, v in shares.items())
        print(
            f"    {name:31s} {per:6.2f} s  {parts}  vs tiny@1024 {base / per:4.1f}x"
            f"  vs tiny@{size} {same[size] / per:4.1f}x"
        )
    print(
        "    (a bigger input size costs the memory attention most: its self-attention is "
        "quadratic in the (side/16)^2 feature tokens, per object)"
    )


def _click_times(preset, clip: Path, w: int, h: int, n: int = 4) -> tuple[float, float, float]:
    """CPU s of (the session's very first click, a first click on each later frame (median),
    a later click on an encoded frame (median)); ``clip`` needs ``n`` frames."""
    segs = load_segmenters(preset, "cpu")
    s = TrackingSession(segs, clip)
    rng = np.random.default_rng(0)

    def click(frame: int, person: str) -> float:
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        t = time.process_time()
        s.add_points(frame, person, [(x, y)], [1])
        return time.process_time() - t

    firsts, laters = [], []
    for frame in range(n):
        firsts.append(click(frame, "person_1"))
        laters += [click(frame, "person_2"), click(frame, "person_1")]
    return firsts[0], statistics.median(firsts[1:]), statistics.median(laters)


def bench_clicks() -> None:
    w, h = 854, 480
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "frames.mp4", 4, w, h)
        sam = _click_times(_preset("small"), clip, w, h)
        edge = _click_times(_preset("cpu"), clip, w, h)
    print(f"(b) clicks on {w}x{h} frames (CPU s; first = image encode + decode, later = decode)")
    print("    columns: very first click, first click on another frame, later click")
    print(f"    SAM ViT-B       {sam[0]:6.2f}  {sam[1]:6.2f}  {sam[2]:.3f}")
    print(f"    EdgeTAM image   {edge[0]:6.2f}  {edge[1]:6.2f}  {edge[2]:.3f}")
    print(
        f"    EdgeTAM faster: very first {sam[0] / edge[0]:.1f}x, first on a frame "
        f"{sam[1] / edge[1]:.1f}x, later clicks {sam[2] / edge[2]:.1f}x"
    )


def bench_e2e(seconds: float = 10, fps: float = 30) -> None:
    w, h = 854, 480
    n = int(seconds * fps)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", n, w, h, fps=fps)
        p = load_preset("cpu")
        preset = _preset("cpu", p.tracker.input_size, p.tracker.track_fps)
        wall, cpu = time.perf_counter(), time.process_time()
        marks = {}
        segs = load_segmenters(preset, "cpu")
        marks["load models"] = time.perf_counter()
        s = _two_people(segs, clip, _centres(w, h))
        marks["probe + two clicks"] = time.perf_counter()
        done = sum(1 for _ in s.propagate())
        marks["tracking"] = time.perf_counter()
        write_streams(clip, s.labels, Path(tmp) / "out")
        marks["four videos written"] = time.perf_counter()
    total = time.perf_counter() - wall
    print(
        f"(c) cpu preset end to end: {seconds:g} s {w}x{h} {fps:g} fps clip ({n} frames), "
        f"tracker at {p.tracker.track_fps} fps, {p.tracker.input_size} px"
    )
    last = wall
    for name, t in marks.items():
        print(f"    {name:22s} {t - last:6.1f} s wall")
        last = t
    print(f"    total {total:.1f} s wall ({time.process_time() - cpu:.1f} s CPU), {done} frames")


def bench_gpu(device: str, frames: int) -> None:
    """Tracking frames per second (wall) at 480p, two people, with the ``small``, ``paper`` and
    ``cpu`` segmenters."""
    w, h = 854, 480
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    print(f"(d) tracking fps on {device}, {w}x{h}, two people, {frames} frames after the first")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", frames + 1, w, h, fps=30)
        for name in ("small", "paper", "cpu"):
            segs = load_segmenters(_preset(name), device)
            s = _two_people(segs, clip, _centres(w, h), end=frames + 1)
            stamps = []
            for _ in s.propagate():
                sync()
                stamps.append(time.perf_counter())
            fps = (len(stamps) - 1) / (stamps[-1] - stamps[0])
            tracker = type(segs.tracker).__name__
            print(f"    {name:6s} ({tracker}, {segs.tracker.config.image_size} px) {fps:6.1f} fps")
            del segs, s
            if device.startswith("cuda"):
                torch.cuda.empty_cache()


def _labels_at(preset, video: Path, points, size: int, frames: int | None) -> dict[int, np.ndarray]:
    preset.tracker.input_size = size
    s = _two_people(load_segmenters(preset, "cpu"), video, points, end=frames)
    return {f: label_map for f, label_map in s.propagate()}


def bench_agreement(video: Path, points, sizes: list[int], frames: int | None, random: bool):
    """Mask IoU per person between tracker input sizes (the first size is the reference)."""
    preset = _preset("cpu") if random else load_preset("cpu", env_local_paths(os.environ))
    preset.tracker.track_fps = None
    runs = {size: _labels_at(preset, video, points, size, frames) for size in sizes}
    ref = runs[sizes[0]]
    weights = "random weights (plumbing only)" if random else "the cpu preset's weights"
    print(f"(e) mask agreement on {video.name} with {weights}, reference {sizes[0]} px")
    for size in sizes[1:]:
        for value, person in enumerate(points, 1):
            ious = []
            for f, label_map in runs[size].items():
                a, b = ref[f] == value, label_map == value
                union = np.logical_or(a, b).sum()
                if union:
                    ious.append(np.logical_and(a, b).sum() / union)
            if ious:
                print(
                    f"    {size} px, {person}: mean IoU {np.mean(ious):.3f}, lowest "
                    f"{np.min(ious):.3f} over {len(ious)} frames"
                )


def _point(text: str) -> tuple[float, float]:
    x, y = (float(v) for v in text.split(","))
    return x, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["all", "tracking", "clicks", "e2e", "gpu", "agreement"])
    ap.add_argument(
        "--frames", type=int, default=4, help="tracked frames in (a) and (d); frames of (e)"
    )
    ap.add_argument("--device", default="cuda", help="device of (d) (gpu)")
    ap.add_argument("--video", type=Path, help="(e) agreement: the clip")
    ap.add_argument("--p1", type=_point, help="(e): X,Y of person 1 on frame 0")
    ap.add_argument("--p2", type=_point, help="(e): X,Y of person 2 on frame 0")
    ap.add_argument("--sizes", default="1024,512", help="(e): input sizes, reference first")
    ap.add_argument("--random", action="store_true", help="(e): random weights (plumbing)")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.what in ("all", "tracking"):
        bench_tracking(args.frames)
    if args.what in ("all", "clicks"):
        bench_clicks()
    if args.what in ("all", "e2e"):
        bench_e2e()
    if args.what == "gpu":
        bench_gpu(args.device, args.frames)
    if args.what == "agreement":
        if not (args.video and args.p1 and args.p2):
            ap.error("agreement needs --video, --p1 and --p2")
        sizes = [int(v) for v in args.sizes.split(",")]
        points = {"person_1": args.p1, "person_2": args.p2}
        try:
            bench_agreement(args.video, points, sizes, args.frames, args.random)
        except UserError as exc:  # e.g. the real weights are missing: say so, no traceback
            sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
