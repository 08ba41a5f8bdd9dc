"""Open-vocabulary classify through the answerer boundary: ``rank_classes`` over the taxonomy's
classes with an OV-HHIR conversation (``conversation.score``: the prompt the answers share runs
once, cached), vs whole sequences in batches of 16 (how scoring worked before).

    python benchmarks/bench_classify.py [--preset tiny] [--classes 109] [--repeats 3]

Prints seconds per ranking both ways, their ratio and the largest score difference (random
branch weights; the speed depends on the architecture only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ovhhir_core.config import load_preset  # noqa: E402
from ovhhir_core.data.taxonomy import load_taxonomy  # noqa: E402
from ovhhir_core.eval.classify import class_prompt, rank_classes  # noqa: E402
from ovhhir_core.model import Clip, OVHHIRAnswerer, load_model, scoring  # noqa: E402
from ovhhir_core.streams import STREAMS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--classes", type=int, default=109)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    preset = load_preset(args.preset)
    model = load_model(preset, "cpu", torch.float32)
    rng = np.random.default_rng(0)
    frames = {s: rng.integers(0, 255, (8, 96, 64, 3), dtype=np.uint8) for s in STREAMS}
    visual = model.embed_clip(Clip.from_arrays(frames))
    conversation = OVHHIRAnswerer(model).open_visual(visual, preset.model.num_frames)
    names = load_taxonomy().class_names(seen=True, unseen=True)[: args.classes]
    prompt = class_prompt(names)
    answers = [f"{n}." for n in names]

    def best(fn) -> float:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    cached = best(lambda: rank_classes(conversation, names))
    again = conversation.score(prompt, answers)
    scoring.MIN_SHARED_PREFIX = 10**9  # no cache: whole sequences, 16 at a time
    whole = best(lambda: rank_classes(conversation, names))
    same = conversation.score(prompt, answers)
    print(f"preset {args.preset}, {len(names)} classes, {torch.get_num_threads()} threads")
    print(f"whole sequences, batches of 16 : {whole:.2f} s")
    print(f"shared prompt cached           : {cached:.2f} s")
    print(f"speed-up (ratio)               : {whole / cached:.2f}x")
    diff = max(abs(a - b) for a, b in zip(same, again, strict=True))
    print(f"max |score difference|         : {diff:.2e}")


if __name__ == "__main__":
    main()
