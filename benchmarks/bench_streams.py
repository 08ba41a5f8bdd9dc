"""Writing the three streams and the overlay: per-frame cost, and where it goes.

(1) Splitting a 480p frame into the three streams and drawing the overlay, as ``masking`` does it
    (OpenCV copy-with-mask, lookup table, weighted add) vs a plain NumPy reference (boolean
    indexing, float blending) on the same frame and masks: the ratio is the figure.
(2) ``write_streams`` on a 480p 30 fps clip: milliseconds per frame (wall) for the four videos.

    python benchmarks/bench_streams.py [--frames 150]
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
sys.path.insert(0, str(ROOT / "tests"))

from tracking_utils import make_clip, true_labels  # noqa: E402

from ovhhir_core.masking import overlay_frame, split_frame, write_streams  # noqa: E402
from ovhhir_core.streams import LABEL_VALUES, STREAMS  # noqa: E402


def _numpy_reference(frame: np.ndarray, label_map: np.ndarray) -> list[np.ndarray]:
    """The same three streams and tint with plain NumPy (no outline or legend)."""
    p1, p2 = (label_map == LABEL_VALUES[p] for p in ("person_1", "person_2"))
    outs = []
    for keep in (p1, p2, ~(p1 | p2)):
        out = frame.copy()
        out[~keep] = 0
        outs.append(out)
    tint = frame.astype(np.float32)
    for value, colour in ((1, (230, 57, 70)), (2, (29, 130, 230))):
        region = label_map == value
        tint[region] = 0.55 * tint[region] + 0.45 * np.asarray(colour, np.float32)
    outs.append(tint.round().clip(0, 255).astype(np.uint8))
    return outs


def _per_frame(fn, frame: np.ndarray, label_map: np.ndarray, reps: int = 30) -> float:
    fn(frame, label_map)
    t = time.process_time()
    for _ in range(reps):
        fn(frame, label_map)
    return (time.process_time() - t) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    args = ap.parse_args()
    w, h = 854, 480
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", args.frames, w, h, fps=30)
        labels = {i: true_labels(i, w, h) for i in range(args.frames)}
        frame = np.asarray(np.random.default_rng(0).integers(0, 255, (h, w, 3)), np.uint8)
        ours = _per_frame(lambda f, m: (split_frame(f, m), overlay_frame(f, m)), frame, labels[0])
        ref = _per_frame(_numpy_reference, frame, labels[0])
        print(f"(1) split into {len(STREAMS)} streams + overlay, one {w}x{h} frame (CPU ms)")
        print(
            f"    masking: {ours * 1e3:.1f} ms   NumPy reference: {ref * 1e3:.1f} ms   "
            f"ratio {ref / ours:.1f}x"
        )
        t = time.perf_counter()
        write_streams(clip, labels, Path(tmp) / "out")
        wall = time.perf_counter() - t
    print(
        f"(2) write_streams, {args.frames} frames {w}x{h}: {wall:.1f} s wall, "
        f"{wall / args.frames * 1e3:.0f} ms per frame for the four videos"
    )


if __name__ == "__main__":
    main()
