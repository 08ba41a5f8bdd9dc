"""``python -m ovhhir_core evaluate``: load a preset, an answerer (``--backend``) and an HHIRChat
file, run :func:`ovhhir_core.eval.evaluate.evaluate`, write the report (JSON, Markdown, figures;
``--compare`` puts another run beside it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ovhhir_core.answering.backends import BACKENDS
from ovhhir_core.errors import UserError
from ovhhir_core.eval.candidates import ClassSpace
from ovhhir_core.eval.evaluate import EvalOptions, evaluate

DESCRIPTION = "The paper's evaluation: cosine similarity, prompt-classifier macro-F1, open set."
BACKEND_HELP = (
    "the answerer evaluated: ovhhir (the branches), zeroshot (the pretrained video-LLM "
    "baseline) or auto (ovhhir with --checkpoint, else zeroshot)"
)
COMPARE_HELP = "another run's results.json: also write comparison.md with both runs side by side"


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from ovhhir_core.cli import command_parser, count

    p = command_parser(parser, "evaluate", DESCRIPTION)
    p.add_argument("--data", required=True, help="HHIRChat .json/.jsonl file to evaluate on")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="trained checkpoint folder (e.g. OUT/final) or Hub repo id; without it "
        "the branches are untrained (a baseline, with --backend ovhhir)",
    )
    p.add_argument("--backend", choices=BACKENDS, default="auto", help=BACKEND_HELP)
    p.add_argument("--compare", metavar="RESULTS_JSON", help=COMPARE_HELP)
    p.add_argument("--out", required=True, help="folder for results.json/.md and figures")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="prompt-classifier seeds (candidate order shuffled per seed)",
    )
    p.add_argument(
        "--candidates",
        choices=["dataset", "all"],
        default="dataset",
        help="prompt-classifier class list: the sample's dataset's classes, or all seen classes",
    )
    p.add_argument(
        "--open-set",
        choices=["auto", "on", "off"],
        default="auto",
        help="open-set evaluation (auto: when some sample has an unseen class)",
    )
    p.add_argument(
        "--unseen",
        nargs="*",
        default=[],
        help="extra class names to treat as unseen (besides the taxonomy's)",
    )
    p.add_argument("--max-samples", type=count(1), default=None)
    p.add_argument("--max-new-tokens", type=count(1), default=96)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument(
        "--cache-dir",
        default=None,
        help="reuse/fill a frozen-feature cache (e.g. the training run's)",
    )
    return p


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand to the CLI."""
    parser = subparsers.add_parser(
        "evaluate",
        help="cosine similarity, macro-F1, open set",
        description=DESCRIPTION,
    )
    build_parser(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """CLI entry: load preset, model, data and embedder; evaluate; write the report."""
    from tqdm.auto import tqdm

    from ovhhir_core import cli
    from ovhhir_core.answering.backends import default_frames, load_answerer
    from ovhhir_core.data.hhirchat import load_dataset
    from ovhhir_core.eval.embedder import load_embedder
    from ovhhir_core.eval.report import write_comparison, write_report
    from ovhhir_core.model.answerer import OVHHIRAnswerer

    preset, device, dtype = cli.setup(args)
    samples = load_dataset(args.data, check_files=True)
    if not samples:
        raise UserError(f"{args.data} holds no samples; nothing to evaluate")
    answerer = load_answerer(preset, args.backend, device, dtype, args.checkpoint)
    embedder = load_embedder(preset.embedder, device)
    space = ClassSpace.build(samples, args.candidates, args.open_set, args.unseen)
    opts = EvalOptions(
        seeds=args.seeds,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        open_set=args.open_set,
        candidates=args.candidates,
        unseen=args.unseen,
        max_samples=args.max_samples,
        frames=default_frames(preset, answerer),
        meta={
            "backend": args.backend,
            "preset": preset.name,
            "checkpoint": args.checkpoint,
            "data": str(args.data),
            "embedder": preset.embedder.local_path or preset.embedder.weights,
        },
    )
    cache, open_sample = None, None
    if args.cache_dir and isinstance(answerer, OVHHIRAnswerer):
        cache, visual_of = cached_visual(answerer.model, preset.model, args.cache_dir)

        def open_sample(sample: Any) -> Any:
            return answerer.open_visual(visual_of(sample), opts.frames)

    results = None
    with tqdm(
        total=min(len(samples), args.max_samples or len(samples)), desc="evaluating", unit="clip"
    ) as bar:
        for done, _total, out in evaluate(answerer, samples, embedder, space, opts, open_sample):
            results = out or results
            bar.n = done
            bar.refresh()
    if cache is not None:
        cache.flush()
    paths = write_report(results, args.out)
    if args.compare:
        paths["comparison"] = write_comparison(paths["json"], args.compare, out_dir=args.out)
    print(paths["markdown"].read_text())
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def cached_visual(model: Any, model_cfg: Any, cache_dir: str):
    """(cache, ``visual_of``) reading frozen features from (and adding them to) a feature cache;
    flush the cache when done."""
    import torch

    from ovhhir_core.training.features import FeatureCache, SampleFeatures

    cache = FeatureCache(Path(cache_dir), tag="eval")
    features = SampleFeatures(model, model_cfg, cache)

    def visual_of(sample: Any) -> dict:
        feats = {k: v.to(model.device) for k, v in features(sample).items()}
        with torch.no_grad():
            return {k: v[0] for k, v in model.embed(feats).items()}

    return cache, visual_of


def main(argv: list[str] | None = None) -> int:
    """In-process entry: ``main(["--data", f, "--checkpoint", d, "--out", o])``."""
    import sys

    from ovhhir_core import cli

    return cli.main(["evaluate", *(sys.argv[1:] if argv is None else argv)])
