"""Person proposals benchmarks; prints measured figures (CPU unless --device).

(a) ``speed``: proposals on one 1280×720 frame with random weights of the published architectures
    (speed depends on the architecture, not the values): RT-DETR r50vd (``RTDetrConfig`` defaults,
    80 COCO labels, 640 px) and SAM vit_b for box → mask (one image encode, then one decode per
    person box). CPU time of this process and wall time.
(b) ``clicks``: clicks per person on the synthetic set (``ovhhir_core.data.synthetic``, frame 0,
    exact label maps): a proposal pick is one click (the true person box as the box prompt); the
    click flow is simulated — a positive click at the person's mask centroid, then a corrective
    click at the centre of the largest error region (positive where the person is missed,
    negative where the mask spills), until the IoU reaches the proposal's IoU (at most
    ``--max-clicks``). The figures depend on the click segmenter's weights: with the default
    ``tiny`` preset (random SAM) they exercise the simulation only and are NOT a measure of SAM;
    pass ``--preset small`` (or ``--weights sam=PATH``) where SAM vit_b weights are available.

    flock /tmp/bench.lock python3 benchmarks/bench_proposals.py all     # or: speed | clicks
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ovhhir_core.config import load_preset, parse_local_paths  # noqa: E402
from ovhhir_core.data.synthetic import CLASSES, render_clip  # noqa: E402
from ovhhir_core.tracking.config import DetectorConfig, SamConfig  # noqa: E402
from ovhhir_core.tracking.detector import load_detector  # noqa: E402
from ovhhir_core.tracking.sam import ClickSegmenter, build_sam  # noqa: E402


def _timed(fn, repeats: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``repeats`` calls after one warm-up call."""
    fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def speed(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    frame = render_clip("Hugging", seed=0, size=(1280, 720), num_frames=1).frames[0]
    det_cfg = DetectorConfig(weights=None, arch={"num_labels": 80}, min_score=0.0)
    detector = load_detector(det_cfg, device)
    n_params = sum(p.numel() for p in detector.model.parameters())
    d_cpu, d_wall = _timed(lambda: detector.detect(frame), args.repeats)
    boxes = [d.box for d in detector.detect(frame)][: args.people]
    sam = build_sam(SamConfig(weights=None, model_type="vit_b"), device)
    encodes = iter(range(10_000))

    def encode() -> None:  # a new frame index each time: a real encode, never the cache
        ClickSegmenter(sam, 1).predict(next(encodes), lambda: frame, None, None, np.array(boxes[0]))

    e_cpu, e_wall = _timed(encode, max(1, args.repeats // 2))
    clicker = ClickSegmenter(sam, 1)
    clicker.predict(0, lambda: frame, None, None, np.array(boxes[0]))

    def masks() -> None:
        for box in boxes:
            clicker.predict(0, lambda: frame, None, None, np.array(box))

    m_cpu, m_wall = _timed(masks, args.repeats)
    k = len(boxes)
    print(
        f"speed: one 1280x720 frame, {args.device}, {torch.get_num_threads()} threads, random "
        f"weights of the published architectures (not trained: speed only)"
    )
    print(
        f"  RT-DETR r50vd ({n_params / 1e6:.1f} M params, 640 px): {d_cpu:.2f} s CPU, "
        f"{d_wall:.2f} s wall"
    )
    print(f"  SAM vit_b image encode (once per frame): {e_cpu:.2f} s CPU, {e_wall:.2f} s wall")
    print(
        f"  SAM vit_b box -> mask: {1000 * m_cpu / k:.0f} ms CPU per person "
        f"({1000 * m_wall / k:.0f} ms wall), {k} people"
    )
    total = d_cpu + e_cpu + m_cpu
    print(
        f"  proposals for {k} people: {total:.2f} s CPU; detector {d_cpu / total:.0%}, encode "
        f"{e_cpu / total:.0%}, masks {m_cpu / total:.0%}; a later click on the frame costs "
        f"{m_cpu / k / total:.1%} of that (cached embedding)"
    )


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def _interior(region: np.ndarray) -> tuple[float, float]:
    """(x, y) of the pixel of ``region`` farthest from its border."""
    dist = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(np.argmax(dist), dist.shape)
    return float(x), float(y)


def _largest(region: np.ndarray) -> np.ndarray:
    comps, n = ndimage.label(region)
    if n == 0:
        return region
    sizes = ndimage.sum(region, comps, range(1, n + 1))
    return comps == 1 + int(np.argmax(sizes))


def _click_flow(clicker, idx, frame, truth, target: float, max_clicks: int) -> tuple[int, float]:
    """Clicks the point flow needs to reach IoU ``target`` (max_clicks + 1 if it never does)."""
    ys, xs = np.nonzero(truth)
    cx, cy = xs.mean(), ys.mean()
    if not truth[int(cy), int(cx)]:  # centroid outside the person: nearest pixel of the person
        k = int(np.argmin((xs - cx) ** 2 + (ys - cy) ** 2))
        cx, cy = xs[k], ys[k]
    points, labels, previous, best = [(float(cx), float(cy))], [1], None, 0.0
    for n in range(1, max_clicks + 1):
        result = clicker.predict(
            idx, lambda: frame, np.array(points), np.array(labels), None, previous
        )
        previous, mask = result.low_res, result.mask
        best = max(best, _iou(mask, truth))
        if _iou(mask, truth) >= target:
            return n, best
        missed, spilled = _largest(truth & ~mask), _largest(mask & ~truth)
        region, label = (missed, 1) if missed.sum() >= spilled.sum() else (spilled, 0)
        points.append(_interior(region))
        labels.append(label)
    return max_clicks + 1, best


def clicks(args: argparse.Namespace) -> None:
    preset = load_preset(args.preset, parse_local_paths(args.weights))
    torch.manual_seed(0)
    sam = build_sam(preset.sam, torch.device(args.device))
    trained = preset.sam.weights is not None or preset.sam.local_path is not None
    clicker = ClickSegmenter(sam, 2)
    needed, prop_ious, flow_ious = [], [], []
    for i, name in enumerate(CLASSES[: args.clips]):
        clip = render_clip(name, seed=i, size=(320, 240), num_frames=1)
        frame, label_map = clip.frames[0], clip.labels[0]
        for value in (1, 2):
            truth = label_map == value
            ys, xs = np.nonzero(truth)
            box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
            target = _iou(clicker.predict(i, lambda f=frame: f, None, None, box).mask, truth)
            n, best = _click_flow(clicker, i, frame, truth, target, args.max_clicks)
            needed.append(n)
            prop_ious.append(target)
            flow_ious.append(best)
    what = (
        f"SAM {preset.sam.weights or preset.sam.local_path}"
        if trained
        else ("RANDOM SAM weights (simulation check only, not a measure of SAM)")
    )
    print(
        f"clicks: {len(needed)} people on {args.clips} synthetic clips (320x240, frame 0), "
        f"preset {preset.name}, {what}"
    )
    reached = [n for n in needed if n <= args.max_clicks]
    print(f"  proposal pick: 1 click per person, mean IoU {np.mean(prop_ious):.3f}")
    print(
        f"  click flow to the same IoU: mean {np.mean(needed):.2f} clicks (misses counted as "
        f"{args.max_clicks + 1}), median {np.median(needed):.0f}; reached by "
        f"{len(reached)}/{len(needed)} people within {args.max_clicks}; best flow IoU mean "
        f"{np.mean(flow_ious):.3f}"
    )
    print(f"  clicks saved per person: {np.mean(needed) - 1:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("all", "speed", "clicks"), nargs="?", default="all")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--people", type=int, default=5, help="person boxes to mask (speed)")
    parser.add_argument("--preset", default="tiny", help="click segmenter for the clicks part")
    parser.add_argument("--weights", action="append", default=[], metavar="COMPONENT=PATH")
    parser.add_argument("--clips", type=int, default=12, help="synthetic clips (clicks)")
    parser.add_argument("--max-clicks", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.part in ("all", "speed"):
        speed(args)
    if args.part in ("all", "clicks"):
        clicks(args)


if __name__ == "__main__":
    main()
