"""Training of the branches (Q-Formers, queries, positions, projections): :func:`train`.

Encoders and the LLM stay frozen; the loss is cross-entropy on the answer (gpt) tokens of each
multi-turn HHIRChat sample, with ``ModelConfig.num_frames`` frames sampled uniformly per stream.
Frozen-encoder features are computed once into a safetensors cache (``TrainConfig.cache_dir``,
default ``OUT/feature_cache``) so later epochs and later runs skip the encoders.

Runs on one CPU/GPU as is, and on several GPUs or machines under ``accelerate launch`` (DDP);
``mixed_precision`` and ``grad_accum`` go to :class:`accelerate.Accelerator`. Writes into ``out``:
``checkpoints/step-NNNNNNN/`` (model checkpoint + optimizer/scheduler/step state) every
``save_every`` steps and at the end, ``final/`` (the last model checkpoint, for ``evaluate`` and
the app), ``losses.jsonl`` and ``loss_curve.png``. ``resume`` continues from the newest checkpoint
in ``out`` (or a given one) at the step it was saved.

The steps of a run, in order: :func:`_start` (settings, data, accelerator, model),
:func:`_feature_source` (fill the cache), :func:`_optimization` (optimizer, schedule, resumed
state), then :func:`_optimizer_step` per step with :func:`_record` and checkpoints, and
:func:`_finish` (``final/`` and the loss curve).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ovhhir_core.training.config import TrainConfig, TrainError
from ovhhir_core.training.state import (
    STATE_FILE,
    broadcast_params,
    latest_checkpoint,
    plot_losses,
    save_training_checkpoint,
    set_rng_state,
    sync_gradients,
)

log = logging.getLogger(__name__)


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


@dataclass
class _Run:
    """The state of one run, filled step by step."""

    cfg: TrainConfig
    preset: Any
    samples: list
    out: Path
    acc: Any
    model: Any
    resume_dir: Path | None
    features: Callable[[int], dict] | None = None
    params: list = field(default_factory=list)
    optimizer: Any = None
    scheduler: Any = None
    total: int = 0
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def train(cfg: TrainConfig) -> Iterator[TrainEvent]:
    """Run training as ``cfg`` says; a generator.

    Yields cache events while features are computed, one step event per optimizer step, a
    checkpoint event per save and a final ``done`` event (``path`` = the ``final`` folder).
    Stopping the iteration stops training (nothing is saved beyond the last checkpoint).
    """
    run = _start(cfg)
    run.features = yield from _feature_source(run)
    _optimization(run)
    run.model.train()
    stream = _batches(run)
    started = time.monotonic()
    stop = False
    while run.step < run.total and not stop:
        epoch, loss = _optimizer_step(run, stream)
        lr = _record(run, epoch, loss)
        yield TrainEvent("step", step=run.step, total=run.total, loss=loss, lr=lr)
        stop = _out_of_time(run, started)
        if (cfg.save_every and run.step % cfg.save_every == 0) or run.step == run.total or stop:
            path = save_training_checkpoint(
                run.acc,
                run.model,
                run.optimizer,
                run.scheduler,
                run.step,
                run.history,
                run.out,
                run.preset.name,
                cfg.keep,
            )
            yield TrainEvent("checkpoint", step=run.step, total=run.total, path=path)
    final = _finish(run)
    last = run.history[-1]["loss"] if run.history else None
    yield TrainEvent("done", step=run.step, total=run.total, path=final, loss=last)


def resolve_preset(cfg: TrainConfig) -> Any:
    """The run's ``PresetConfig``: ``cfg.preset`` loaded (or copied), ``num_frames`` applied."""
    from ovhhir_core.config import PresetConfig, from_dict, load_preset, to_dict

    if isinstance(cfg.preset, PresetConfig):
        preset = from_dict(PresetConfig, to_dict(cfg.preset))  # a copy: cfg stays untouched
        preset = preset.with_local_paths(cfg.local_paths) if cfg.local_paths else preset
    else:
        preset = load_preset(cfg.preset, cfg.local_paths)
    if cfg.num_frames is not None:
        preset.model.num_frames = cfg.num_frames
    return preset


def _start(cfg: TrainConfig) -> _Run:
    """Check the settings, read the data, start the accelerator, build (or resume) the model."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    from ovhhir_core.data.hhirchat import load_dataset
    from ovhhir_core.device import resolve_device, resolve_dtype
    from ovhhir_core.model import load_model

    cfg.validate()
    preset = resolve_preset(cfg)
    if cfg.device != "auto":
        resolve_device(cfg.device)  # a clear error when e.g. CUDA is asked for but absent
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = load_dataset(cfg.data, check_files=True)
    if not samples:
        raise TrainError(f"{cfg.data} holds no samples")
    acc = Accelerator(cpu=cfg.device == "cpu", mixed_precision=cfg.mixed_precision)
    dtype = resolve_dtype(cfg.dtype, acc.device)
    resume_dir = None
    if cfg.resume:
        resume_dir = latest_checkpoint(out) if cfg.resume == "latest" else Path(cfg.resume)
        if resume_dir is None or not (resume_dir / STATE_FILE).exists():
            raise TrainError(
                f"nothing to resume: no checkpoint with {STATE_FILE} in "
                f"{resume_dir or out / 'checkpoints'}; drop --resume to start afresh"
            )
    set_seed(cfg.seed)
    model = load_model(preset.model, acc.device, dtype, checkpoint=resume_dir)
    return _Run(cfg, preset, samples, out, acc, model, resume_dir)


def _feature_source(run: _Run):
    """Fill the feature cache (this process's share; yields cache events); returns
    ``features(index)`` for the step loop."""
    from ovhhir_core.training.features import FeatureCache, SampleFeatures

    folder = run.cfg.cache_folder
    if folder is None:
        online = SampleFeatures(run.model, run.preset.model)
        return lambda i: online(run.samples[i])
    rank, world = run.acc.process_index, run.acc.num_processes
    cache = FeatureCache(folder, tag=f"r{rank}")
    source = SampleFeatures(run.model, run.preset.model, cache)
    keys = [source.key(s) for s in run.samples]
    mine = list(range(rank, len(run.samples), world))
    computed = 0
    for done, new in source.fill([run.samples[i] for i in mine], [keys[i] for i in mine]):
        computed += int(new)
        yield TrainEvent("cache", step=done, total=len(mine))
    log.info("feature cache %s: %d computed, %d reused", folder, computed, len(mine) - computed)
    run.acc.wait_for_everyone()
    cache.refresh()  # see the shards the other processes wrote
    return lambda i: cache.get(keys[i])


def _lr_lambda(total: int, warmup: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return f


def _optimization(run: _Run) -> None:
    """Plan the steps; build optimizer and schedule; restore their state when resuming."""
    from ovhhir_core.training.batches import batches_per_epoch

    cfg, acc = run.cfg, run.acc
    per_epoch = batches_per_epoch(len(run.samples), cfg.batch_size, acc.num_processes)
    steps_per_epoch = max(1, per_epoch // cfg.grad_accum)
    run.total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else min(200, run.total // 20)
    run.params = run.model.trainable_parameters()
    if not run.params:
        raise TrainError("the model has no trainable parameters")
    broadcast_params(run.params, acc)
    optimizer = torch.optim.AdamW(run.params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    run.scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(run.total, max(1, warmup))
    )
    run.optimizer = acc.prepare(optimizer)
    if run.resume_dir is not None:
        state = torch.load(run.resume_dir / STATE_FILE, map_location="cpu", weights_only=False)
        run.optimizer.load_state_dict(state["optimizer"])
        run.scheduler.load_state_dict(state["scheduler"])
        run.step, run.history = int(state["step"]), list(state["history"])
        set_rng_state(state["rng"][min(acc.process_index, len(state["rng"]) - 1)])
        log.info("resumed from %s at step %d", run.resume_dir, run.step)
    elif latest_checkpoint(run.out) is not None:
        log.warning(
            "%s already holds checkpoints of an earlier run; they will be replaced or "
            "mixed with this run's (use --resume to continue that run)",
            run.out,
        )
    if acc.is_main_process:  # the log restarts at the resumed step
        with open(run.out / "losses.jsonl", "w") as f:
            f.writelines(json.dumps(h) + "\n" for h in run.history)


def _batches(run: _Run) -> Iterator[tuple[int, list[int]]]:
    from ovhhir_core.training.batches import batch_stream

    return batch_stream(
        len(run.samples),
        run.cfg.batch_size,
        run.cfg.seed,
        start_batch=run.step * run.cfg.grad_accum,
        rank=run.acc.process_index,
        world_size=run.acc.num_processes,
    )


def _optimizer_step(run: _Run, stream: Iterator[tuple[int, list[int]]]) -> tuple[int, float]:
    """``grad_accum`` batches forward and backward, one optimizer step; (epoch, mean loss)."""
    from ovhhir_core.model import collate_features
    from ovhhir_core.training.batches import to_device

    cfg, acc = run.cfg, run.acc
    loss_sum, epoch = 0.0, 0
    for _ in range(cfg.grad_accum):
        epoch, idx = next(stream)
        feats = to_device(collate_features([run.features(i) for i in idx]), acc.device)
        convs = [[t.to_json() for t in run.samples[i].conversations] for i in idx]
        with acc.autocast():
            loss = run.model.training_loss(feats, convs)
        acc.backward(loss / cfg.grad_accum)
        loss_sum += float(loss.detach())
    sync_gradients(run.params, acc)
    if cfg.max_grad_norm > 0:
        acc.clip_grad_norm_(run.params, cfg.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    run.step += 1
    mean = acc.gather(torch.tensor([loss_sum / cfg.grad_accum], device=acc.device)).mean()
    return epoch, float(mean)


def _record(run: _Run, epoch: int, loss: float) -> float:
    """Append the step to the history and ``losses.jsonl``, log it; returns the learning rate."""
    lr = run.scheduler.get_last_lr()[0]
    run.history.append({"step": run.step, "loss": loss, "lr": lr, "epoch": epoch})
    if run.acc.is_main_process:
        with open(run.out / "losses.jsonl", "a") as f:
            f.write(json.dumps(run.history[-1]) + "\n")
    if run.step % run.cfg.log_every == 0 or run.step in (1, run.total):
        log.info("step %d/%d epoch %d loss %.4f lr %.2e", run.step, run.total, epoch, loss, lr)
    return lr


def _out_of_time(run: _Run, started: float) -> bool:
    """True (on every process alike) once ``max_time`` is used up."""
    if run.cfg.max_time is None:
        return False
    over = float(time.monotonic() - started > run.cfg.max_time)
    stop = bool(run.acc.gather(torch.tensor([over], device=run.acc.device)).max() > 0)
    if stop:
        log.info("time budget of %.0f s used up at step %d", run.cfg.max_time, run.step)
    return stop


def _finish(run: _Run) -> Path:
    """Write ``final/`` and the loss curve; returns the ``final`` folder."""
    final = run.out / "final"
    if run.acc.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        run.model.save_checkpoint(final, preset_name=run.preset.name)
        plot_losses(run.history, run.out / "loss_curve.png")
    run.acc.wait_for_everyone()
    return final
