"""Training of the OV-HHIR branches, as a library and as ``python -m ovhhir_core train``.

    from ovhhir_core.training import TrainConfig, train
    for event in train(TrainConfig(data="train.jsonl", out="runs/a", preset="tiny")):
        print(event.kind, event.step, event.loss)

Modules: ``config`` (:class:`TrainConfig`, :class:`TrainError`), ``loop`` (:func:`train`, the run
split into named steps), ``batches`` (deterministic, resumable batch order), ``state`` (checkpoints
with optimizer/RNG state, gradient sync, loss curve), ``features`` (the frozen-feature cache,
shared with evaluation). The command's flags → :class:`TrainConfig` live in
:mod:`ovhhir_core.commands.train`.

Names are imported lazily: the loop (and torch) only when :func:`train` is first used, so
``--help`` stays fast.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "config": ("TrainConfig", "TrainError"),
    "loop": ("train",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
