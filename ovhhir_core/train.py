"""``python -m ovhhir_core train``: fit the branches (Q-Formers, queries, positions, projections).

Encoders and the LLM stay frozen; the loss is cross-entropy on the answer (gpt) tokens of each
multi-turn HHIRChat sample, with ``ModelConfig.num_frames`` frames sampled uniformly per stream.
Frozen-encoder features are computed once into a safetensors cache (``--cache-dir``, default
``OUT/feature_cache``) so later epochs and later runs skip the encoders.

Runs on one CPU/GPU as is, and on several GPUs or machines under ``accelerate launch`` (DDP);
``--mixed-precision`` and ``--grad-accum`` go to :class:`accelerate.Accelerator`. Writes into
``--out``: ``checkpoints/step-NNNNNNN/`` (model checkpoint + optimizer/scheduler/step state) every
``--save-every`` steps and at the end, ``final/`` (the last model checkpoint, for ``evaluate`` and
the app), ``train.log``, ``losses.jsonl`` and ``loss_curve.png``. ``--resume`` continues from the
newest checkpoint in ``--out`` (or a given one) at the step it was saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ovhhir_core.errors import UserError
from ovhhir_core.train_state import (
    STATE_FILE,
    broadcast_params,
    latest_checkpoint,
    plot_losses,
    save_training_checkpoint,
    set_rng_state,
    sync_gradients,
)

log = logging.getLogger(__name__)


class TrainError(UserError, RuntimeError):
    """Training cannot start or continue as asked (bad flags, nothing to resume, ...)."""


@dataclass
class TrainEvent:
    """What :func:`train` yields: ``kind`` is cache, step, checkpoint or done."""

    kind: str
    step: int = 0
    total: int = 0
    loss: float | None = None
    lr: float | None = None
    path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from ovhhir_core.cli import add_common_args

    p = parser or argparse.ArgumentParser(
        prog="python -m ovhhir_core train", description=__doc__.splitlines()[0]
    )
    add_common_args(p)
    p.add_argument("--data", required=True, help="HHIRChat .json/.jsonl file to train on")
    p.add_argument("--out", required=True, help="output folder (checkpoints, log, loss curve)")
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
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], default="no")
    p.add_argument("--log-every", type=int, default=10, help="log the loss every N steps")
    return p


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand to the CLI."""
    parser = subparsers.add_parser(
        "train", help="train the branches on an HHIRChat file", description=__doc__.splitlines()[0]
    )
    build_parser(parser)
    parser.set_defaults(func=run)


def _lr_lambda(total: int, warmup: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return f


def _make_accelerator(args: argparse.Namespace):
    from accelerate import Accelerator

    if args.device not in ("auto", "cpu", "cuda", "mps"):
        raise TrainError(
            f"--device {args.device}: training picks devices through accelerate; use "
            "auto, cpu or cuda, and CUDA_VISIBLE_DEVICES to choose GPUs"
        )
    return Accelerator(cpu=args.device == "cpu", mixed_precision=args.mixed_precision)


def train(args: argparse.Namespace) -> Iterator[TrainEvent]:
    """Run training as described by parsed ``args`` (see :func:`build_parser`); a generator.

    Yields cache events while features are computed, one step event per optimizer step, a
    checkpoint event per save and a final ``done`` event (``path`` = the ``final`` folder).
    Stopping the iteration stops training (nothing is saved beyond the last checkpoint).
    """
    from accelerate.utils import set_seed

    from ovhhir_core.config import load_preset, parse_local_paths
    from ovhhir_core.data.hhirchat import load_dataset
    from ovhhir_core.device import resolve_dtype
    from ovhhir_core.model import collate_features, load_clip, load_model
    from ovhhir_core.train_data import (
        CachedFeatures,
        OnlineFeatures,
        batch_stream,
        batches_per_epoch,
        prepare_cache,
        to_device,
    )

    for name in ("batch_size", "grad_accum"):
        if getattr(args, name) < 1:
            raise TrainError(f"--{name.replace('_', '-')} must be at least 1")
    preset = load_preset(args.preset, parse_local_paths(args.weights))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = load_dataset(args.data, check_files=True)
    if not samples:
        raise TrainError(f"{args.data} holds no samples")
    acc = _make_accelerator(args)
    dtype = resolve_dtype(args.dtype, acc.device)
    resume_dir = None
    if args.resume:
        resume_dir = latest_checkpoint(out) if args.resume == "latest" else Path(args.resume)
        if resume_dir is None or not (resume_dir / STATE_FILE).exists():
            raise TrainError(
                f"nothing to resume: no checkpoint with {STATE_FILE} in "
                f"{resume_dir or out / 'checkpoints'}; drop --resume to start afresh"
            )
    set_seed(args.seed)
    model = load_model(preset.model, acc.device, dtype, checkpoint=resume_dir)
    n_frames = preset.model.num_frames

    def load(sample: Any) -> Any:
        return load_clip(sample.streams, num_frames=n_frames, fill=sample.fill)

    rank, world = acc.process_index, acc.num_processes
    if args.no_cache:
        features = OnlineFeatures(model, samples, load)
    else:
        cache_dir = Path(args.cache_dir) if args.cache_dir else out / "feature_cache"
        cache = None
        for done, total, filled in prepare_cache(
            model, preset.model, samples, str(cache_dir), load, rank, world
        ):
            cache = filled or cache
            yield TrainEvent("cache", step=done, total=total)
        acc.wait_for_everyone()
        cache.refresh()
        features = CachedFeatures(cache, _keys(samples, preset.model))

    per_epoch = batches_per_epoch(len(samples), args.batch_size, world)
    steps_per_epoch = max(1, per_epoch // args.grad_accum)
    total = args.max_steps or max(1, math.ceil(args.epochs * steps_per_epoch))
    warmup = args.warmup_steps if args.warmup_steps is not None else min(200, total // 20)
    params = model.trainable_parameters()
    if not params:
        raise TrainError("the model has no trainable parameters")
    broadcast_params(params, acc)
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(total, max(1, warmup)))
    optimizer = acc.prepare(optimizer)
    step, history = 0, []
    if resume_dir is not None:
        state = torch.load(resume_dir / STATE_FILE, map_location="cpu", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history = int(state["step"]), list(state["history"])
        set_rng_state(state["rng"][min(rank, len(state["rng"]) - 1)])
        log.info("resumed from %s at step %d", resume_dir, step)
    elif latest_checkpoint(out) is not None:
        log.warning(
            "%s already holds checkpoints of an earlier run; they will be replaced or "
            "mixed with this run's (use --resume to continue that run)",
            out,
        )
    if acc.is_main_process:  # the log restarts at the resumed step
        with open(out / "losses.jsonl", "w") as f:
            f.writelines(json.dumps(h) + "\n" for h in history)
    model.train()
    stream = batch_stream(
        len(samples),
        args.batch_size,
        args.seed,
        start_batch=step * args.grad_accum,
        rank=rank,
        world_size=world,
    )
    started = time.monotonic()
    stop = False
    while step < total and not stop:
        loss_sum = 0.0
        for _ in range(args.grad_accum):
            epoch, idx = next(stream)
            feats = to_device(collate_features([features(i) for i in idx]), acc.device)
            convs = [[t.to_json() for t in samples[i].conversations] for i in idx]
            with acc.autocast():
                loss = model.training_loss(feats, convs)
            acc.backward(loss / args.grad_accum)
            loss_sum += float(loss.detach())
        sync_gradients(params, acc)
        if args.max_grad_norm > 0:
            acc.clip_grad_norm_(params, args.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        mean_loss = float(
            acc.gather(torch.tensor([loss_sum / args.grad_accum], device=acc.device)).mean()
        )
        lr = scheduler.get_last_lr()[0]
        history.append({"step": step, "loss": mean_loss, "lr": lr, "epoch": epoch})
        if acc.is_main_process:
            with open(out / "losses.jsonl", "a") as f:
                f.write(json.dumps(history[-1]) + "\n")
        if step % max(1, args.log_every) == 0 or step in (1, total):
            log.info("step %d/%d epoch %d loss %.4f lr %.2e", step, total, epoch, mean_loss, lr)
        yield TrainEvent("step", step=step, total=total, loss=mean_loss, lr=lr)
        if args.max_time is not None:
            over = float(time.monotonic() - started > args.max_time)
            stop = bool(acc.gather(torch.tensor([over], device=acc.device)).max() > 0)
            if stop:
                log.info("time budget of %.0f s used up at step %d", args.max_time, step)
        if (args.save_every and step % args.save_every == 0) or step == total or stop:
            path = save_training_checkpoint(
                acc, model, optimizer, scheduler, step, history, out, preset.name, args.keep
            )
            yield TrainEvent("checkpoint", step=step, total=total, path=path)
    final = out / "final"
    if acc.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        model.save_checkpoint(final, preset_name=preset.name)
        plot_losses(history, out / "loss_curve.png")
    acc.wait_for_everyone()
    yield TrainEvent(
        "done", step=step, total=total, path=final, loss=history[-1]["loss"] if history else None
    )


def _keys(samples: list, model_cfg: Any) -> list[str]:
    from ovhhir_core.features import feature_key

    return [feature_key(s, model_cfg) for s in samples]


def run(args: argparse.Namespace) -> int:
    """CLI entry: train with a progress bar and a log file in ``--out``."""
    from tqdm.auto import tqdm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ovhhir_core")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    bar = None
    try:
        for ev in train(args):
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
    finally:
        root.removeHandler(handler)
        handler.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """In-process entry (tests, scripts): ``main(["--data", f, "--out", d, ...])``."""
    import sys

    from ovhhir_core import cli

    return cli.main(["train", *(sys.argv[1:] if argv is None else argv)])
