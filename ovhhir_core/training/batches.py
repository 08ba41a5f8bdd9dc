"""The batch order of training, and moving a collated batch to the device.

The batch order is explicit and deterministic: epoch ``e`` visits the samples in
``randperm(n, seed + e)``, split round-robin over the processes and cut into batches. Resuming at
optimizer step ``s`` therefore just skips ``s × grad_accum`` batches, without loading them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch


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


def to_device(obj: Any, device: torch.device) -> Any:
    """Move tensors inside nested dicts/lists/tuples to ``device`` (other values unchanged)."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj
