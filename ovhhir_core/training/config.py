"""What a training run is asked to do: :class:`TrainConfig`, the argument of ``train()``.

The CLI (``python -m ovhhir_core train``) builds one from its flags; each field has the flag of the
same name (``batch_size`` ↔ ``--batch-size``). Library users build it directly::

    cfg = TrainConfig(data="train.jsonl", out="runs/a", preset="tiny", num_frames=4, max_steps=10)
    for event in train(cfg): ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ovhhir_core.config import PresetConfig
from ovhhir_core.errors import UserError

#: Devices training accepts; several GPUs are chosen with ``CUDA_VISIBLE_DEVICES`` + accelerate.
TRAIN_DEVICES = ("auto", "cpu", "cuda", "mps")
MIXED_PRECISION = ("no", "fp16", "bf16")


class TrainError(UserError, RuntimeError):
    """Training cannot start or continue as asked (bad settings, nothing to resume, ...)."""


@dataclass
class TrainConfig:
    """One training run. ``preset`` is a preset name, a preset JSON path or a ``PresetConfig``.

    ``num_frames`` (when set) replaces the preset's ``model.num_frames``; ``local_paths`` are local
    weights path overrides (component → file or folder) applied to a preset given by name.
    ``max_steps`` overrides ``epochs``; ``max_time`` (seconds) stops and saves early while the
    learning-rate schedule still follows the planned steps. ``warmup_steps`` None: 5% of the
    steps, at most 200. ``resume``: None, ``"latest"`` (newest checkpoint in ``out``) or a
    checkpoint folder. ``cache_dir`` None: ``out/feature_cache``; ``use_cache`` False runs the
    frozen encoders every step.
    """

    data: str | Path
    out: str | Path
    preset: str | Path | PresetConfig = "tiny"
    local_paths: dict[str, str] = field(default_factory=dict)
    num_frames: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    mixed_precision: str = "no"
    epochs: float = 3.0
    max_steps: int | None = None
    max_time: float | None = None
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.05
    warmup_steps: int | None = None
    max_grad_norm: float = 1.0
    cache_dir: str | Path | None = None
    use_cache: bool = True
    seed: int = 0
    save_every: int = 500
    keep: int = 3
    resume: str | Path | None = None
    log_every: int = 10

    def validate(self) -> None:
        """Raise :class:`TrainError` naming the first setting that cannot work."""
        at_least = {
            "batch_size": 1,
            "grad_accum": 1,
            "max_steps": 1,
            "num_frames": 1,
            "warmup_steps": 0,
            "save_every": 0,
            "keep": 0,
            "log_every": 1,
        }
        for name, low in at_least.items():
            value = getattr(self, name)
            if value is not None and value < low:
                raise TrainError(f"{_flag(name)} must be at least {low}, got {value}")
        for name in ("epochs", "lr", "max_time"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise TrainError(f"{_flag(name)} must be a positive number, got {value}")
        for name in ("weight_decay", "max_grad_norm"):
            if not getattr(self, name) >= 0:
                raise TrainError(f"{_flag(name)} must be 0 or more, got {getattr(self, name)}")
        if self.device not in TRAIN_DEVICES:
            raise TrainError(
                f"--device {self.device}: training picks devices through accelerate; use "
                f"{', '.join(TRAIN_DEVICES)}, and CUDA_VISIBLE_DEVICES to choose GPUs"
            )
        if self.mixed_precision not in MIXED_PRECISION:
            raise TrainError(
                f"--mixed-precision must be one of {', '.join(MIXED_PRECISION)}, "
                f"got {self.mixed_precision!r}"
            )

    @property
    def cache_folder(self) -> Path | None:
        """Where the feature cache lives (None when ``use_cache`` is off)."""
        if not self.use_cache:
            return None
        return Path(self.cache_dir) if self.cache_dir else Path(self.out) / "feature_cache"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
