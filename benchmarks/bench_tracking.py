"""Click-to-track benchmarks; prints measured figures (random weights, CPU unless --device).

(a) ``clicks``: latency of the 2nd–10th click on one frame with the per-session embedding cache
    vs re-encoding the frame on every click (Track-Anything's way), as a ratio; tiny SAM, and
    random vit_b with ``--vit-b`` (one vit_b encode takes tens of seconds on a laptop CPU).
(b) ``memory``: peak RSS tracking 150 vs 600 frames, each length in its own subprocess (goal:
    ratio ≤ 1.25).
(c) ``fps``: tracking frames per second on a 480p clip with the tiny preset's SAM 2 and the
    default (hiera-tiny sized, 1024 px) SAM 2 config.

    python benchmarks/bench_tracking.py all            # or: clicks | memory | fps
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tracking_utils import centre, make_clip, micro_preset  # noqa: E402

from ovhhir_core.config import load_preset  # noqa: E402
from ovhhir_core.tracking import TrackingSession, load_segmenters  # noqa: E402
from ovhhir_core.tracking.config import SamConfig  # noqa: E402
from ovhhir_core.tracking.sam import ClickSegmenter, build_sam  # noqa: E402

TINY_SAM_1024 = {
    "encoder_embed_dim": 64,
    "encoder_depth": 2,
    "encoder_num_heads": 2,
    "encoder_global_attn_indexes": [1],
}


def _clicks(sam, frame: np.ndarray, n: int = 10) -> tuple[float, float]:
    """Median CPU time (s) of clicks 2..n: cached embedding vs a fresh encode per click.

    CPU time (all threads of this process), not wall time: on a shared machine wall time mostly
    measures the neighbours.
    """
    h, w = frame.shape[:2]
    rng = np.random.default_rng(0)
    pts = [np.array([[rng.uniform(0, w), rng.uniform(0, h)]]) for _ in range(n)]
    cached = ClickSegmenter(sam, cache_size=8)
    times = []
    for p in pts:
        t = time.process_time()
        cached.predict(0, lambda: frame, p, np.array([1]))
        times.append(time.process_time() - t)
    with_cache = statistics.median(times[1:])
    times = []
    for p in pts[1:3]:  # re-encoding is slow (the encode dominates): two clicks suffice
        fresh = ClickSegmenter(sam, cache_size=1)
        t = time.process_time()
        fresh.predict(0, lambda: frame, p, np.array([1]))
        times.append(time.process_time() - t)
    return with_cache, statistics.median(times)


def bench_clicks(args: argparse.Namespace) -> None:
    frame = np.random.default_rng(0).integers(0, 255, (480, 854, 3), dtype=np.uint8)
    cases = [("tiny SAM (1024 px, 2 layers, dim 64)", SamConfig(weights=None, arch=TINY_SAM_1024))]
    if args.vit_b:
        cases.append(("vit_b (random weights)", SamConfig(model_type="vit_b", weights=None)))
    for name, cfg in cases:
        sam = build_sam(cfg, torch.device(args.device))
        cached, fresh = _clicks(sam, frame)
        print(
            f"(a) clicks 2-10 on one 854x480 frame, {name}: cached {cached * 1000:.1f} ms, "
            f"re-encode {fresh * 1000:.1f} ms CPU time per click, ratio re-encode/cached "
            f"{fresh / cached:.1f}x"
        )


def _track_once(video: Path, preset, device: str) -> tuple[int, float, float, float]:
    """Click both persons on the middle frame, propagate.

    Returns (frames, wall seconds, CPU seconds of this process, peak RSS MB).
    """
    torch.manual_seed(0)
    segs = load_segmenters(preset, torch.device(device))
    s = TrackingSession(segs, video)
    n, w, h = s.info.num_frames, s.info.width, s.info.height
    mid = n // 2
    s.add_points(mid, "person_1", [centre(mid, 1, w, h)], [1])
    s.add_points(mid, "person_2", [centre(mid, 2, w, h)], [1])
    t, c = time.perf_counter(), time.process_time()
    frames = sum(1 for _ in s.propagate())
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return frames, seconds, cpu, peak


def _preset(name: str):
    """A preset by name or file; ``micro`` is the tests' 128 px SAM 2 with the default memory
    bank (7 mask memories, 16 object pointers), cheap enough to track 600 frames on a CPU."""
    if name != "micro":
        return load_preset(name)
    preset = micro_preset()
    preset.tracker.arch.update({"num_maskmem": 7, "max_object_pointers_in_encoder": 16})
    return preset


def _child(args: argparse.Namespace) -> None:
    preset = _preset(args.preset)
    frames, seconds, cpu, peak = _track_once(Path(args.video), preset, args.device)
    print(
        json.dumps({"frames": frames, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak})
    )


def bench_memory(args: argparse.Namespace) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.short, args.long):
            video = make_clip(Path(tmp) / f"clip{n}.mp4", n, 320, 240, fps=25)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "_child",
                    "--video",
                    str(video),
                    "--preset",
                    args.preset,
                    "--device",
                    args.device,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[n] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[n]
            print(
                f"(b) {n} frames (320x240, preset {args.preset}): peak RSS "
                f"{r['peak_rss_mb']:.0f} MB, {r['frames'] / r['seconds']:.2f} frames/s"
            )
    ratio = results[args.long]["peak_rss_mb"] / results[args.short]["peak_rss_mb"]
    print(f"(b) peak RSS ratio {args.long}/{args.short} frames: {ratio:.3f} (goal <= 1.25)")


def bench_fps(args: argparse.Namespace) -> None:
    tiny = load_preset("tiny")
    default = copy.deepcopy(tiny)
    default.tracker.arch = {}  # Sam2VideoConfig defaults: hiera-tiny sized, 1024 px
    default.tracker.max_side = 1024
    with tempfile.TemporaryDirectory() as tmp:
        for name, preset, n in (
            ("tiny preset (256 px)", tiny, args.fps_frames),
            ("default hiera-tiny config (1024 px)", default, 3),
        ):
            video = make_clip(Path(tmp) / f"clip{n}.mp4", n, 854, 480, fps=25)
            frames, seconds, cpu, _ = _track_once(video, preset, args.device)
            print(
                f"(c) tracking 854x480, 2 persons, {name}: {frames / seconds:.2f} frames/s wall, "
                f"{cpu / frames:.2f} CPU-s/frame ({frames} frames in {seconds:.1f} s wall, "
                f"{cpu:.1f} s CPU, {torch.get_num_threads()} threads, {args.device})"
            )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("what", choices=["all", "clicks", "memory", "fps", "_child"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--vit-b", action="store_true", help="also time random vit_b clicks")
    p.add_argument("--short", type=int, default=150)
    p.add_argument("--long", type=int, default=600)
    p.add_argument(
        "--preset", default="micro", help="memory benchmark preset: micro (default), tiny, a file"
    )
    p.add_argument("--fps-frames", type=int, default=20)
    p.add_argument("--video")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    if args.what == "_child":
        _child(args)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    if args.what in ("all", "clicks"):
        bench_clicks(args)
    if args.what in ("all", "fps"):
        bench_fps(args)
    if args.what in ("all", "memory"):
        bench_memory(args)


if __name__ == "__main__":
    main()
