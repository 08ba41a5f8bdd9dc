"""Training of the OV-HHIR branches, as a library and as ``python -m ovhhir_core train``.

    from ovhhir_core.training import TrainConfig, train
    for event in train(TrainConfig(data="train.jsonl", out="runs/a", preset="tiny")):
        print(event.kind, event.step, event.loss)

Modules: ``config`` (:class:`TrainConfig`, :class:`TrainError`), ``loop`` (:func:`train`, the run
split into named steps), ``batches`` (deterministic, resumable batch order), ``state`` (checkpoints
with optimizer/RNG state, gradient sync, loss curve), ``features`` (the frozen-feature cache,
shared with evaluation), ``cli`` (flags → TrainConfig).

The loop (and torch) is imported on the first :func:`train` call, so ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ovhhir_core.training.config import TrainConfig, TrainError

if TYPE_CHECKING:
    from ovhhir_core.training.loop import TrainEvent

__all__ = ["TrainConfig", "TrainError", "train"]


def train(cfg: TrainConfig) -> Iterator[TrainEvent]:
    """Run training as ``cfg`` says: :func:`ovhhir_core.training.loop.train`."""
    from ovhhir_core.training.loop import train as run_training

    return run_training(cfg)
