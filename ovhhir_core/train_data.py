"""Training inputs: per-sample features (from the cache or encoded on line) and the batch order.

The batch order is explicit and deterministic: epoch ``e`` visits the samples in
``randperm(n, seed + e)``, split round-robin over the processes and cut into batches. Resuming at
optimizer step ``s`` therefore just skips ``s × grad_accum`` batches, without loading them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from ovhhir_core.features import FeatureCache, feature_key, fill_cache

log = logging.getLogger(__name__)


def batches_per_epoch(num_samples: int, batch_size: int, world_size: int = 1) -> int:
    """Batches each process sees per epoch (the last one padded by wrapping around)."""
    return max(1, math.ceil(num_samples / (batch_size * world_size)))


def epoch_batches(
    num_samples: int, batch_size: int, epoch: int, seed: int, rank: int = 0, world_size: int = 1
) -> list[list[int]]:
    """Sample indices of each batch this process sees in ``epoch``.

    Every process gets the same number of equally sized batches (DDP needs that): the shuffled
    order is padded by wrapping around to a multiple of ``batch_size × world_size``.
    """
    gen = torch.Generator().manual_seed(seed + epoch)
    order = torch.randperm(num_samples, generator=gen).tolist()
    per_epoch = batches_per_epoch(num_samples, batch_size, world_size)
    total = per_epoch * batch_size * world_size
    padded = [order[i % num_samples] for i in range(total)]
    mine = padded[rank::world_size]  # this process's share, in order
    return [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]


def batch_stream(
    num_samples: int,
    batch_size: int,
    seed: int,
    start_batch: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[tuple[int, list[int]]]:
    """Endless ``(epoch, batch indices)`` over epochs, starting at global batch ``start_batch``."""
    per_epoch = batches_per_epoch(num_samples, batch_size, world_size)
    epoch, skip = divmod(start_batch, per_epoch)
    while True:
        for batch in epoch_batches(num_samples, batch_size, epoch, seed, rank, world_size)[skip:]:
            yield epoch, batch
        epoch, skip = epoch + 1, 0


class CachedFeatures:
    """Per-sample features read from a :class:`FeatureCache` (filled beforehand)."""

    def __init__(self, cache: FeatureCache, keys: Sequence[str]):
        self.cache = cache
        self.keys = list(keys)

    def __call__(self, index: int) -> dict[str, torch.Tensor]:
        return self.cache.get(self.keys[index])


class OnlineFeatures:
    """Per-sample features computed now: decode the streams, run the frozen encoders."""

    def __init__(self, model: Any, samples: Sequence[Any], load: Callable[[Any], Any]):
        self.model = model
        self.samples = samples
        self.load = load

    def __call__(self, index: int) -> dict[str, torch.Tensor]:
        clip = self.load(self.samples[index])
        with torch.no_grad():
            return self.model.extract_features(clip)


def prepare_cache(
    model: Any,
    model_cfg: Any,
    samples: Sequence[Any],
    folder: str,
    load: Callable[[Any], Any],
    rank: int = 0,
    world_size: int = 1,
    extra_key: dict[str, Any] | None = None,
) -> Iterator[tuple[int, int, FeatureCache | None]]:
    """Fill the feature cache in ``folder`` with every sample (this process: its round-robin share).

    A generator yielding ``(done, total, None)`` per sample of this process's share and finally
    ``(total, total, cache)``. Call ``cache.refresh()`` once all processes are done to see the
    shards the others wrote.
    """
    cache = FeatureCache(folder, tag=f"r{rank}")
    keys = [feature_key(s, model_cfg, extra_key) for s in samples]
    mine = list(range(rank, len(samples), world_size))
    was_training = model.training
    model.eval()

    def extract(sample: Any) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return model.extract_features(load(sample))

    computed = 0
    try:
        for done, new in fill_cache(
            cache, [samples[i] for i in mine], [keys[i] for i in mine], extract
        ):
            computed += int(new)
            yield done, len(mine), None
    finally:
        model.train(was_training)
    log.info("feature cache %s: %d computed, %d reused", folder, computed, len(mine) - computed)
    yield len(mine), len(mine), cache


def to_device(obj: Any, device: torch.device) -> Any:
    """Move tensors inside nested dicts/lists/tuples to ``device`` (other values unchanged)."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj
