"""Training-free reading of the synthetic interactions from their timeline events alone.

Each clip's timeline (from its exact label maps) becomes an event profile
(``ovhhir_core.timeline.profile.event_profile``: which events, how long, when, who drives them);
a nearest-class-mean reader is fitted on one set of seeds and read on held-out seeds. Prints
macro-F1 and accuracy against chance (the mean macro-F1 of uniformly random guesses) and the
most frequent confusions.

    python benchmarks/eval_timeline.py [--train 6] [--test 6] [--crowded]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ovhhir_core.data.synthetic import CLASSES, render_clip  # noqa: E402
from ovhhir_core.eval.metrics import accuracy, macro_f1  # noqa: E402
from ovhhir_core.timeline import compute_timeline  # noqa: E402
from ovhhir_core.timeline.profile import NearestClass, event_profile  # noqa: E402


def profiles(seeds: range, crowded: bool) -> tuple[np.ndarray, list[str]]:
    x, y = [], []
    for name in CLASSES:
        for seed in seeds:
            clip = render_clip(name, seed, (160, 120), 32, 8.0, crowded=crowded)
            x.append(event_profile(compute_timeline(enumerate(clip.labels), clip.fps)))
            y.append(name)
    return np.stack(x), y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=6, help="clips per class to fit (seeds 0..)")
    ap.add_argument("--test", type=int, default=6, help="held-out clips per class (seeds 1000..)")
    ap.add_argument("--crowded", action="store_true", help="a second pair acts behind the first")
    args = ap.parse_args()
    t0 = time.perf_counter()
    x_train, y_train = profiles(range(args.train), args.crowded)
    x_test, y_test = profiles(range(1000, 1000 + args.test), args.crowded)
    pred = NearestClass().fit(x_train, y_train).predict(x_test)
    rng = np.random.default_rng(0)
    chance = np.mean(
        [macro_f1(y_test, list(rng.choice(CLASSES, len(y_test))), CLASSES) for _ in range(200)]
    )
    print(f"synthetic clips: {len(CLASSES)} classes, {args.train} train / {args.test} held-out "
          f"per class, 160x120, 32 frames at 8 fps, crowded={args.crowded}")  # fmt: skip
    print(f"macro-F1 {macro_f1(y_test, pred, CLASSES):.3f} · accuracy {accuracy(y_test, pred):.3f}"
          f" · chance macro-F1 {chance:.3f} (uniform guesses; 1/{len(CLASSES)} = "
          f"{1 / len(CLASSES):.3f})")  # fmt: skip
    confused = collections.Counter((t, p) for t, p in zip(y_test, pred, strict=True) if t != p)
    print("most frequent confusions (true → read):")
    for (t, p), n in confused.most_common(8):
        print(f"  {t} → {p}: {n}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
