"""EdgeTAM (the ``cpu`` preset) vs SAM 2.1 / SAM v1; prints measured figures.

Random weights of the published architectures (speed is set by the architecture, not the values).
Times are CPU seconds of this process (all threads) unless marked wall: on a shared machine wall
time mostly measures the neighbours.

(a) ``tracking``: per tracked frame, EdgeTAM vs SAM 2.1 hiera-tiny at the same input size on the
    same clip (two objects), and EdgeTAM at 512 px; with the image encoder's share (where time goes).
(b) ``clicks``: first click (image encode + decode) and later clicks (decode only), EdgeTAM's
    image model vs SAM ViT-B.
(c) ``e2e``: the ``cpu`` preset's defaults end to end on a 10-second 480p 30 fps clip with two
    people: probe, two clicks, tracking, the four videos written.

    python benchmarks/bench_edgetam.py all          # or: tracking | clicks | e2e
"""

from __future__ import annotations

import argparse
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

from ovhhir_core.config import load_preset  # noqa: E402
from ovhhir_core.masking import write_streams  # noqa: E402
from ovhhir_core.tracking import TrackingSession, load_segmenters  # noqa: E402


def _preset(name: str, input_size: int | None = None, track_fps: float | None = None):
    """``name``'s segmenters with random weights of the published architectures."""
    p = load_preset(name, use_env=False)
    for section in (p.sam, p.tracker):
        section.weights, section.local_path, section.arch = None, None, {}
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


def _track(preset, clip: Path, w: int, h: int, frames: int) -> tuple[float, float]:
    """(CPU s per tracked frame, image encoder's share) over ``frames`` frames after the first."""
    segs = load_segmenters(preset, "cpu")
    enc = _Timer(segs.tracker.vision_encoder)
    s = TrackingSession(segs, clip, end=frames + 1)
    s.add_points(0, "person_1", [centre(0, 1, w, h)], [1])
    s.add_points(0, "person_2", [centre(0, 2, w, h)], [1])
    stamps = []
    for _ in s.propagate():
        stamps.append((time.process_time(), enc.total))
    (t0, e0), (t1, e1) = stamps[0], stamps[-1]
    per = (t1 - t0) / (len(stamps) - 1)
    return per, (e1 - e0) / (t1 - t0)


def bench_tracking(frames: int = 4) -> None:
    w, h = 768, 576
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", frames + 1, w, h, fps=30)
        rows = {
            "SAM 2.1 hiera-tiny, 1024 px": _track(_preset("small"), clip, w, h, frames),
            "EdgeTAM, 1024 px": _track(_preset("cpu", 1024), clip, w, h, frames),
            "EdgeTAM, 512 px": _track(_preset("cpu", 512), clip, w, h, frames),
        }
    base = rows["SAM 2.1 hiera-tiny, 1024 px"][0]
    print(f"(a) tracking, {w}x{h} clip, two objects, {frames} frames (CPU s per frame)")
    for name, (per, share) in rows.items():
        print(
            f"    {name:30s} {per:6.2f} s  image encoder {share:4.0%}  speed-up {base / per:4.1f}x"
        )


def _click_times(preset, frame_path: Path, w: int, h: int, n: int = 6) -> tuple[float, float]:
    segs = load_segmenters(preset, "cpu")
    s = TrackingSession(segs, frame_path)
    rng = np.random.default_rng(0)
    times = []
    for k in range(n):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        t = time.process_time()
        s.add_points(0, "person_1" if k % 2 == 0 else "person_2", [(x, y)], [1])
        times.append(time.process_time() - t)
    return times[0], statistics.median(times[1:])


def bench_clicks() -> None:
    w, h = 854, 480
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "frame.mp4", 1, w, h)
        sam = _click_times(_preset("small"), clip, w, h)
        edge = _click_times(_preset("cpu"), clip, w, h)
    print(f"(b) clicks on a {w}x{h} frame (CPU s; first = encode + decode, later = decode only)")
    print(f"    SAM ViT-B       first {sam[0]:6.2f}  later {sam[1]:.3f}")
    print(f"    EdgeTAM image   first {edge[0]:6.2f}  later {edge[1]:.3f}")
    print(f"    first click {sam[0] / edge[0]:.1f}x faster, later clicks {sam[1] / edge[1]:.1f}x")


def bench_e2e(seconds: float = 10, fps: float = 30) -> None:
    w, h = 854, 480
    n = int(seconds * fps)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", n, w, h, fps=fps)
        p = load_preset("cpu", use_env=False)
        preset = _preset("cpu", p.tracker.input_size, p.tracker.track_fps)
        wall, cpu = time.perf_counter(), time.process_time()
        marks = {}
        segs = load_segmenters(preset, "cpu")
        marks["load models"] = time.perf_counter()
        s = TrackingSession(segs, clip)
        s.add_points(0, "person_1", [centre(0, 1, w, h)], [1])
        s.add_points(0, "person_2", [centre(0, 2, w, h)], [1])
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["all", "tracking", "clicks", "e2e"])
    ap.add_argument("--frames", type=int, default=4, help="tracked frames in (a)")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.what in ("all", "tracking"):
        bench_tracking(args.frames)
    if args.what in ("all", "clicks"):
        bench_clicks()
    if args.what in ("all", "e2e"):
        bench_e2e()


if __name__ == "__main__":
    main()
