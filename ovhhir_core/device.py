"""Device and dtype, chosen once at the edge (CLI, app) and passed down."""

from __future__ import annotations

import torch


def resolve_device(name: str | None = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; anything else is passed to ``torch.device``."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} was asked for but CUDA is not available; use --device cpu"
        )
    if (
        device.type == "cuda"
        and device.index is not None
        and device.index >= torch.cuda.device_count()
    ):
        raise ValueError(
            f"device {name!r} does not exist: {torch.cuda.device_count()} CUDA device(s) visible"
        )
    return device


def resolve_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA with bf16 support, float16 on other GPUs, float32 on CPU."""
    if name in (None, "", "auto"):
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32
    table = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "float16": torch.float16,
        "fp16": torch.float16,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
    }
    if name not in table:
        raise ValueError(f"unknown dtype {name!r}; expected auto or one of {', '.join(table)}")
    return table[name]
