"""Masks between tracked frames: carried by optical flow vs held still, against exact truth.

Clips come from the synthetic generator (``ovhhir_core.data.synthetic``), whose label maps are
exact. The tracked frames take the *true* label map (an ideal tracker), so the table isolates what
the in-between step loses: tracking every frame scores 1.000 by construction, and each other row
is what a tracker that is right on its own frames would keep between them. Mean IoU per person
(1 and 2) over the skipped frames, and over every frame, at each tracking rate.

With ``--weights DIR`` (a real EdgeTAM folder) it also tracks the clips with the ``cpu`` preset's
tracker, every frame vs the lower rates, and scores those masks against the truth. Random weights
are not used for that part: their masks are noise.

    python benchmarks/bench_flow_between.py                     # 854x480, 30 fps, 6 classes
    python benchmarks/bench_flow_between.py --frames 60 --classes Chasing,Kicking
    python benchmarks/bench_flow_between.py --weights path/to/EdgeTAM-hf
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ovhhir_core.data.synthetic import render_clip  # noqa: E402
from ovhhir_core.tracking.flow import BetweenFrames  # noqa: E402
from ovhhir_core.tracking.rate import processed_frames  # noqa: E402

CLASSES = "Chasing,Approaching,Punching,Kicking,Hugging,Waving"
RATES = (2.0, 3.0, 4.0, 5.0, 6.0, 10.0)


def iou(a: np.ndarray, b: np.ndarray) -> float | None:
    """IoU of two bool masks; None when both are empty."""
    union = np.logical_or(a, b).sum()
    return None if union == 0 else float(np.logical_and(a, b).sum() / union)


def mean_iou(pred: dict[int, np.ndarray], truth: np.ndarray, frames) -> float:
    """Mean IoU of persons 1 and 2 over ``frames`` (pairs where both masks are empty skipped)."""
    scores = [
        s for f in frames for v in (1, 2) if (s := iou(pred[f] == v, truth[f] == v)) is not None
    ]
    return float(np.mean(scores)) if scores else float("nan")


def fill(frames_rgb: np.ndarray, keyed: dict[int, np.ndarray], kept: list[int], mode: str):
    """Every frame's label map: ``keyed`` on the kept frames, the rest filled by ``mode``,
    streamed in frame order as tracking would see them."""
    n = len(frames_rgb)
    between = BetweenFrames(kept, 0, n, mode)
    out = {}
    for f in range(n):
        between.see(f, frames_rgb[f])
        if f in keyed:
            out[f] = keyed[f]
            out.update(dict(between.tracked(f, keyed[f])))
    out.update(dict(between.ready()))
    return out


def ideal_table(clips, rates) -> list[tuple[str, str, float, float, float]]:
    """Rows (rate, method, IoU on skipped frames, IoU on all frames, ms per skipped frame)."""
    rows = []
    for fps in rates:
        for mode in ("hold", "flow"):
            skipped, every, cost = [], [], []
            for clip in clips:
                n = len(clip.labels)
                kept = processed_frames(0, n, [0], clip.fps, fps) or list(range(n))
                keyed = {f: clip.labels[f] for f in kept}
                t = time.perf_counter()
                pred = fill(clip.frames, keyed, kept, mode)
                cost.append((time.perf_counter() - t) / max(1, n - len(kept)))
                others = [f for f in range(n) if f not in keyed]
                skipped.append(mean_iou(pred, clip.labels, others))
                every.append(mean_iou(pred, clip.labels, range(n)))
            rows.append(
                (f"{fps:g} fps", mode, np.mean(skipped), np.mean(every), 1000 * np.mean(cost))
            )
    return rows


def run_tracker(clip, weights: Path, fps: float | None, mode: str) -> dict[int, np.ndarray]:
    """Track persons 1 and 2 of ``clip`` from their true masks on frame 0 with the ``cpu``
    preset's tracker (weights from ``weights``) at ``fps`` (None: every frame)."""
    import torch

    from ovhhir_core import config
    from ovhhir_core.data.synthetic import write_clip
    from ovhhir_core.tracking import TrackingSession, load_segmenters

    preset = config.load_preset(
        "cpu", config.parse_local_paths([f"tracker={weights}", f"sam={weights}"])
    )
    preset.tracker.track_fps, preset.tracker.between = fps, mode
    segs = load_segmenters(preset, torch.device("cpu"))
    with tempfile.TemporaryDirectory() as tmp:
        video, _ = write_clip(clip, tmp, "clip")
        session = TrackingSession(segs, video)
        for v in (1, 2):
            ys, xs = np.nonzero(clip.labels[0] == v)
            session.add_box(0, f"person_{v}", (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        for _ in session.propagate():
            pass
        return {f: session.labels[f] for f in range(len(clip.labels))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--classes", default=CLASSES, help="synthetic classes (comma-separated)")
    ap.add_argument("--frames", type=int, default=90, help="frames per clip (default 90 = 3 s)")
    ap.add_argument("--size", default="854x480", help="clip size WxH (default 854x480)")
    ap.add_argument("--fps", type=float, default=30.0, help="clip frame rate (default 30)")
    ap.add_argument("--weights", type=Path, default=None, help="a real EdgeTAM folder (optional)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    names = args.classes.split(",")
    clips = [
        render_clip(c, seed=i, size=(w, h), num_frames=args.frames, fps=args.fps)
        for i, c in enumerate(names)
    ]
    print(
        f"{len(clips)} synthetic clips ({', '.join(names)}), {w}x{h}, {args.frames} frames at "
        f"{args.fps:g} fps; tracked frames take the true masks (an ideal tracker)"
    )
    print(
        f"\n{'tracking rate':14s} {'between':8s} {'IoU skipped':>12s} {'IoU all':>9s} "
        f"{'ms/frame':>9s}"
    )
    print(f"{'every frame':14s} {'-':8s} {'-':>12s} {1.0:9.3f} {0.0:9.1f}")
    for rate_, mode, skipped, every, ms in ideal_table(clips, RATES):
        print(f"{rate_:14s} {mode:8s} {skipped:12.3f} {every:9.3f} {ms:9.1f}")
    if args.weights is None:
        print("\n(real tracker rows: pass --weights with a real EdgeTAM folder)")
        return
    print(f"\nEdgeTAM from {args.weights} (cpu preset), tracked from the true masks on frame 0")
    print(f"{'tracking rate':14s} {'between':8s} {'IoU all':>9s}")
    for fps, mode in ((None, "hold"), (5.0, "hold"), (5.0, "flow"), (10.0, "flow")):
        scores = [
            mean_iou(run_tracker(c, args.weights, fps, mode), c.labels, range(len(c.labels)))
            for c in clips
        ]
        label = "every frame" if fps is None else f"{fps:g} fps"
        print(f"{label:14s} {mode if fps else '-':8s} {np.mean(scores):9.3f}")


if __name__ == "__main__":
    main()
