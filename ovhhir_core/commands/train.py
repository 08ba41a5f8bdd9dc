"""``python -m ovhhir_core train``: flags → :class:`TrainConfig` → :func:`train`, with a progress
bar and ``OUT/train.log``. Works the same under ``accelerate launch -m ovhhir_core train``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ovhhir_core.training.config import MIXED_PRECISION, TrainConfig

DESCRIPTION = "Train the branches (Q-Formers, queries, positions, projections) on HHIRChat data."


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from ovhhir_core.commands.cli import command_parser

    p = command_parser(parser, "train", DESCRIPTION)
    p.add_argument("--data", required=True, help="HHIRChat .json/.jsonl file to train on")
    p.add_argument("--out", required=True, help="output folder (checkpoints, log, loss curve)")
    p.add_argument(
        "--num-frames", type=int, default=None, help="frames per stream (default: the preset's)"
    )
    p.add_argument("--epochs", type=float, default=3.0, help="passes over the data (default 3)")
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many optimizer steps (overrides --epochs)",
    )
    p.add_argument(
        "--max-time",
        type=float,
        default=None,
        help="stop (and save) after this many seconds of training steps; the learning-rate "
        "schedule still follows --max-steps/--epochs",
    )
    p.add_argument("--batch-size", type=int, default=4, help="samples per batch per process")
    p.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (AdamW)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument(
        "--warmup-steps",
        type=int,
        default=None,
        help="linear warm-up steps (default: 5%% of the steps, at most 200)",
    )
    p.add_argument("--grad-accum", type=int, default=1, help="batches per optimizer step")
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument(
        "--cache-dir", default=None, help="feature cache folder (default OUT/feature_cache)"
    )
    p.add_argument("--no-cache", action="store_true", help="run the frozen encoders every step")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--save-every", type=int, default=500, help="checkpoint every N steps (0: end only)"
    )
    p.add_argument("--keep", type=int, default=3, help="step checkpoints to keep (0: all)")
    p.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        metavar="CHECKPOINT",
        help="continue from the newest checkpoint in --out, or from CHECKPOINT",
    )
    p.add_argument("--mixed-precision", choices=MIXED_PRECISION, default="no")
    p.add_argument("--log-every", type=int, default=10, help="log the loss every N steps")
    return p


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand to the CLI."""
    parser = subparsers.add_parser(
        "train", help="train the branches on an HHIRChat file", description=DESCRIPTION
    )
    build_parser(parser)
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the parsed flags ask for (preset loaded, overrides applied)."""
    from ovhhir_core.commands.cli import load_preset_arg

    return TrainConfig(
        data=args.data,
        out=args.out,
        preset=load_preset_arg(args),
        num_frames=args.num_frames,
        device=args.device,
        dtype=args.dtype,
        mixed_precision=args.mixed_precision,
        epochs=args.epochs,
        max_steps=args.max_steps,
        max_time=args.max_time,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        max_grad_norm=args.max_grad_norm,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        seed=args.seed,
        save_every=args.save_every,
        keep=args.keep,
        resume=args.resume,
        log_every=args.log_every,
    )


def run(args: argparse.Namespace) -> int:
    """CLI entry: train with a progress bar and a log file in ``--out``."""
    from ovhhir_core.training.loop import train

    cfg = config_from_args(args)
    cfg.validate()  # before --out is created
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ovhhir_core")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        _show_progress(train(cfg))
    finally:
        root.removeHandler(handler)
        handler.close()
    return 0


def _show_progress(events: Any) -> None:
    """One progress bar for feature caching, then one for training steps; a closing line."""
    from tqdm.auto import tqdm

    bar = None
    for ev in events:
        if ev.kind == "cache":
            if bar is None:
                bar = tqdm(total=ev.total, desc="encoding features", unit="clip")
            bar.n = ev.step
            bar.refresh()
        elif ev.kind == "step":
            if bar is None or bar.desc != "training":
                if bar is not None:
                    bar.close()
                bar = tqdm(total=ev.total, initial=ev.step - 1, desc="training", unit="step")
            bar.update(1)
            bar.set_postfix(loss=f"{ev.loss:.4f}", lr=f"{ev.lr:.1e}")
        elif ev.kind == "done":
            if bar is not None:
                bar.close()
            print(f"trained {ev.step} steps; final loss {ev.loss:.4f}; checkpoint {ev.path}")


def main(argv: list[str] | None = None) -> int:
    """In-process entry (tests, scripts): ``main(["--data", f, "--out", d, ...])``."""
    import sys

    from ovhhir_core.commands import cli

    return cli.main(["train", *(sys.argv[1:] if argv is None else argv)])
