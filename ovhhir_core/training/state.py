"""Training state around the loop: gradient sync across processes, checkpoints with optimizer /
scheduler / step / RNG state, finding the newest checkpoint, and the loss-curve plot.

A training checkpoint ``OUT/checkpoints/step-NNNNNNN/`` holds the model checkpoint
(``model.save_checkpoint``: trainable tensors + config) plus ``trainer_state.pt`` (optimizer,
scheduler, step, loss history, per-process RNG states) and a readable ``trainer_state.json``.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)
STATE_FILE = "trainer_state.pt"


def sync_gradients(params: list[nn.Parameter], acc: Any) -> None:
    """Average the trainable gradients over processes (a no-op on one process).

    Done by hand rather than through DDP so the frozen encoders and LLM (possibly billions of
    parameters) are never wrapped or broadcast; only the small trainable part is reduced.
    """
    if acc.num_processes == 1:
        return
    import torch.distributed as dist

    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad.div_(acc.num_processes)


def broadcast_params(params: list[nn.Parameter], acc: Any) -> None:
    """Give every process rank 0's trainable values (they are built identically; belt and braces)."""
    if acc.num_processes == 1:
        return
    import torch.distributed as dist

    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, src=0)


def latest_checkpoint(out: Path) -> Path | None:
    """The newest ``OUT/checkpoints/step-*`` that holds a complete trainer state, or None."""
    ckpts = sorted((out / "checkpoints").glob("step-*"))
    done = [c for c in ckpts if (c / STATE_FILE).exists()]
    return done[-1] if done else None


def rng_state() -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_checkpoint(
    acc: Any,
    model: nn.Module,
    optimizer: Any,
    scheduler: Any,
    step: int,
    history: list,
    out: Path,
    preset_name: str,
    keep: int,
) -> Path:
    """Write ``OUT/checkpoints/step-NNNNNNN`` (model + trainer state); prune old ones."""
    path = out / "checkpoints" / f"step-{step:07d}"
    rng = acc.gather_for_metrics([rng_state()]) if acc.num_processes > 1 else [rng_state()]
    if acc.is_main_process:
        if path.exists():
            shutil.rmtree(path)
        model.save_checkpoint(path, preset_name=preset_name)
        tmp = path / (STATE_FILE + ".tmp")
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "history": history,
                "rng": rng,
            },
            tmp,
        )
        tmp.replace(path / STATE_FILE)
        (path / "trainer_state.json").write_text(
            json.dumps({"step": step, "loss": history[-1]["loss"] if history else None}, indent=1)
        )
        if keep > 0:
            for old in sorted((out / "checkpoints").glob("step-*"))[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
        log.info("saved checkpoint %s", path)
    acc.wait_for_everyone()
    return path


def plot_losses(history: list[dict[str, Any]], path: Path) -> Path:
    """Loss per optimizer step (and a moving average) as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    losses = np.asarray([h["loss"] for h in history], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, color="tab:blue", alpha=0.4, label="loss")
    win = max(1, len(losses) // 20)
    if win > 1:
        smooth = np.convolve(losses, np.ones(win) / win, mode="valid")
        ax.plot(steps[win - 1 :], smooth, color="tab:blue", label=f"mean of {win}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy (answer tokens)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
