"""Device and dtype, chosen once at the edge (CLI, app) and passed down.

A device or dtype that cannot be had is the user's to fix: :class:`DeviceError` (a UserError) says
what was asked for, what this machine has and what to pass instead.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ovhhir_core.errors import UserError

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


class DeviceError(UserError, ValueError):
    """A device or dtype that is unknown or not available on this machine."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; anything else is checked and passed to
    ``torch.device``."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise DeviceError(
            f"unknown device {name!r}; use auto, cpu, cuda, cuda:N (a GPU index) or mps"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {str(name)!r} was asked for but CUDA is not available on this machine; "
                "use --device cpu (or auto)"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(
                f"device {str(name)!r} does not exist: {count} CUDA device(s) visible "
                f"(cuda:0 … cuda:{count - 1})"
            )
    elif device.type == "mps" and not _mps_available():
        raise DeviceError(f"device {str(name)!r} is not available here; use --device cpu or auto")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device {str(name)!r} is not supported; use auto, cpu, cuda or mps")
    return device


def cpu_native_bf16() -> bool:
    """True when this CPU computes bfloat16 matmuls natively (AVX-512 BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def fast_dtype(device: torch.device) -> torch.dtype:
    """The reduced precision ``dtype: auto`` gives the parts that tolerate it (tracker, click
    model, a video-LLM's vision side): bfloat16 where the hardware computes it natively (CUDA
    with bf16, CPUs with AVX-512 BF16 or AMX), else float32."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu" and cpu_native_bf16():
        return torch.bfloat16
    return torch.float32


def resolve_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA with bf16 support, float16 on other GPUs, float32 on CPU."""
    if name in (None, "", "auto"):
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "mps":
            return torch.float16
        return torch.float32
    if name not in DTYPES:
        raise DeviceError(f"unknown dtype {name!r}; use auto or one of {', '.join(DTYPES)}")
    return DTYPES[name]
