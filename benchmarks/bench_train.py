"""Training benchmarks on synthetic interaction clips (CPU by default). Prints measured figures.

1. Feature cache: optimizer steps per second with the cache vs encoding on line (ratio).
2. Learning check: the preset (tiny by default) trained on synthetic clips for a fixed time
   budget; held-out answer loss, likelihood top-1 class accuracy, cosine similarity and macro-F1
   (prompt classifier, nearest class), before vs after.
3. Crowded scenes (two pairs): the three-branch model (person_1, person_2, background streams)
   vs a whole-frame model (every stream replaced by the full frame), trained the same way.

    python benchmarks/bench_train.py                  # all three, ~15 min on 2 busy cores
    python benchmarks/bench_train.py --only cache --steps 5
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from train_utils import train_argv  # noqa: E402

from ovhhir_core.commands import train as T  # noqa: E402
from ovhhir_core.commands.evaluate import cached_visual  # noqa: E402
from ovhhir_core.config import load_preset, to_dict  # noqa: E402
from ovhhir_core.data.hhirchat import Sample, load_dataset, save_dataset  # noqa: E402
from ovhhir_core.data.synthetic import CLASSES, make_dataset  # noqa: E402
from ovhhir_core.eval.candidates import ClassSpace  # noqa: E402
from ovhhir_core.eval.classify import rank_classes  # noqa: E402
from ovhhir_core.eval.evaluate import EvalOptions, evaluate  # noqa: E402
from ovhhir_core.model import OVHHIRAnswerer, collate_features, load_model  # noqa: E402
from ovhhir_core.training import train  # noqa: E402
from ovhhir_core.training.features import FeatureCache, feature_key  # noqa: E402

SIZE = (160, 120)
FRAMES = 32


def _train_args(data, out, preset, cache, *extra):
    flags = dict(preset=preset, device="cpu", batch_size=4, lr="3e-3", log_every=50)
    return train_argv(data, out, cache, *extra, **flags)


def _timed_steps(argv) -> tuple[float, int]:
    """Run training; return (steps/s over steps 2..N, steps)."""
    args = T.build_parser().parse_args(argv)
    times = []
    for ev in train(T.config_from_args(args)):
        if ev.kind == "step":
            times.append(time.perf_counter())
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return rate, len(times)


def bench_cache(work: Path, preset: str, steps: int) -> None:
    data = make_dataset(
        work / "cache_data", n_per_class=2, classes=CLASSES[:4], size=SIZE, num_frames=FRAMES
    )
    cache = work / "cache_features"
    t0 = time.perf_counter()
    _timed_steps(_train_args(data, work / "c0", preset, cache, "--max-steps", "1"))
    fill = time.perf_counter() - t0
    with_cache, n = _timed_steps(
        _train_args(data, work / "c1", preset, cache, "--max-steps", str(steps))
    )
    online, _ = _timed_steps(
        _train_args(data, work / "c2", preset, cache, "--max-steps", str(steps), "--no-cache")
    )
    print(f"\n== feature cache ({Path(preset).stem}, 8 clips, batch 4, {n} steps) ==")
    print(f"first run incl. encoding 8 clips into the cache: {fill:.1f} s")
    print(f"steps/s with cache   : {with_cache:.3f}")
    print(f"steps/s on-line      : {online:.3f}")
    print(f"speed-up (ratio)     : {with_cache / online:.2f}x")


def _heldout_loss(model, samples, cache) -> float:
    losses = []
    with torch.no_grad():
        for s in samples:
            feats = collate_features([cache.get(feature_key(s, model.cfg))])
            conv = [[t.to_json() for t in s.conversations]]
            losses.append(float(model.training_loss(feats, conv)))
    return float(np.mean(losses))


def _measure(preset_path, checkpoint, heldout, embedder, work: Path) -> dict:
    preset = load_preset(preset_path)
    model = load_model(preset.model, "cpu", torch.float32, checkpoint=checkpoint).eval()
    samples = load_dataset(heldout)
    cache, visual_of = cached_visual(model, preset.model, str(work / "heldout_cache"))
    for s in samples:
        visual_of(s)
    cache.flush()
    answerer = OVHHIRAnswerer(model)
    classes = sorted({s.label for s in samples})
    top1 = [
        rank_classes(answerer.open_visual(visual_of(s)), classes)[0][0] == s.label for s in samples
    ]
    space = ClassSpace.build(samples, open_set="off")
    opts = EvalOptions(seeds=(0, 1, 2), max_new_tokens=48, class_max_new_tokens=8)
    res = None
    for _, _, out in evaluate(
        answerer, samples, embedder, space, opts, lambda s: answerer.open_visual(visual_of(s))
    ):
        res = out or res
    return {
        "loss": _heldout_loss(model, samples, FeatureCache(work / "heldout_cache")),
        "top1": float(np.mean(top1)),
        "cosine": res["cosine"]["all"],
        "prompt_f1": res["prompt_classifier"]["macro_f1"]["all"],
        "nearest_f1": res["nearest_class"]["macro_f1"]["all"],
        "chance": 1 / len(classes),
        "example": res["samples"][0]["generated"][:80],
    }


def _fmt(stat) -> str:
    if isinstance(stat, dict):
        return f"{stat['mean']:.3f} ± {stat['std']:.3f}"
    return f"{stat:.3f}"


def _print_rows(title: str, rows: dict[str, dict]) -> None:
    print(f"\n== {title} ==")
    print(
        f"{'':28s} {'loss':>7s} {'top-1':>6s} {'cosine':>15s} {'prompt F1':>15s} "
        f"{'nearest F1':>10s}"
    )
    for name, m in rows.items():
        print(
            f"{name:28s} {m['loss']:7.3f} {m['top1']:6.3f} {_fmt(m['cosine']):>15s} "
            f"{_fmt(m['prompt_f1']):>15s} {_fmt(m['nearest_f1']):>10s}"
        )
    first = next(iter(rows.values()))
    print(
        f"(chance top-1 / F1 ≈ {first['chance']:.3f}; loss = held-out answer cross-entropy; "
        "top-1 = true class ranked first by answer likelihood)"
    )


def _train_budget(train_json, out, preset, budget, steps) -> int:
    args = T.build_parser().parse_args(
        _train_args(
            train_json,
            out,
            preset,
            out / "cache",
            "--max-steps",
            str(steps),
            "--max-time",
            str(budget),
            "--save-every",
            "0",
            "--warmup-steps",
            "10",
        )
    )
    done = 0
    for ev in train(T.config_from_args(args)):
        if ev.kind == "step":
            done = ev.step
    return done


def bench_learning(work: Path, preset: str, budget: float, steps: int, embedder) -> None:
    train_json = make_dataset(work / "learn_train", n_per_class=3, size=SIZE, num_frames=FRAMES)
    heldout = make_dataset(
        work / "learn_heldout", n_per_class=1, seed=1, size=SIZE, num_frames=FRAMES
    )
    before = _measure(preset, None, heldout, embedder, work / "learn_eval")
    done = _train_budget(train_json, work / "learn_run", preset, budget, steps)
    after = _measure(preset, work / "learn_run" / "final", heldout, embedder, work / "learn_eval")
    _print_rows(
        f"learning check ({Path(preset).stem}, {len(CLASSES)} classes, 36 train / 12 held-out "
        f"clips, {budget:.0f} s budget = {done} steps)",
        {"before training": before, "after training": after},
    )
    print(f"example answer after: {after['example']!r}")


def _whole_frame(dataset: Path, out: Path) -> Path:
    """The same samples with every stream replaced by the full source frame."""
    samples = load_dataset(dataset)
    new = []
    for s in samples:
        full = s.p1.parent / f"{s.id}.mp4"
        new.append(Sample(s.id, full, full, full, s.conversations, s.label, s.source, s.extra))
    return save_dataset(new, out)


def bench_crowded(work: Path, preset: str, budget: float, steps: int, embedder) -> None:
    tr = make_dataset(
        work / "crowd_train",
        n_per_class=3,
        crowded=True,
        write_source=True,
        size=SIZE,
        num_frames=FRAMES,
    )
    ho = make_dataset(
        work / "crowd_heldout",
        n_per_class=1,
        seed=1,
        crowded=True,
        write_source=True,
        size=SIZE,
        num_frames=FRAMES,
    )
    tr_full = _whole_frame(tr, tr.parent / "whole_frame.json")
    ho_full = _whole_frame(ho, ho.parent / "whole_frame.json")
    rows = {}
    for name, train_json, held in (("three branches", tr, ho), ("whole frame", tr_full, ho_full)):
        out = work / f"crowd_run_{name.replace(' ', '_')}"
        done = _train_budget(train_json, out, preset, budget, steps)
        rows[f"{name} ({done} steps)"] = _measure(
            preset, out / "final", held, embedder, work / f"crowd_eval_{name.replace(' ', '_')}"
        )
    _print_rows(
        f"crowded scenes, two pairs ({Path(preset).stem}, {budget:.0f} s budget each)", rows
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="tiny")
    p.add_argument("--work", default="/tmp/ovhhir_bench_train")
    p.add_argument("--only", choices=["cache", "learning", "crowded"], default=None)
    p.add_argument("--steps", type=int, default=6, help="steps per cache-speed run")
    p.add_argument("--budget", type=float, default=120.0, help="training seconds per model")
    p.add_argument("--max-steps", type=int, default=300, help="LR schedule length")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.manual_seed(0)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    preset = load_preset(args.preset)
    preset_path = work / f"{preset.name}.json"
    preset_path.write_text(json.dumps(to_dict(preset)))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, preset {preset.name}, "
        f"{preset.model.num_frames} frames per stream"
    )
    if args.only in (None, "cache"):
        bench_cache(work, str(preset_path), args.steps)
    if args.only in (None, "learning", "crowded"):
        from ovhhir_core.eval.embedder import load_embedder

        embedder = load_embedder(preset.embedder)
        if args.only in (None, "learning"):
            bench_learning(work, str(preset_path), args.budget, args.max_steps, embedder)
        if args.only in (None, "crowded"):
            bench_crowded(work, str(preset_path), args.budget, args.max_steps, embedder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
