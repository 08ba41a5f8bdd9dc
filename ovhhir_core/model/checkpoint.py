"""Checkpoint files: the trainable tensors + a description of the model, as safetensors.

Plain file I/O: this module knows nothing of the model (``OVHHIRModel.save_checkpoint`` and
``load_checkpoint`` call it). A checkpoint directory holds ``model.safetensors`` (the branch
tensors, keyed ``<stream>.<param>``; metadata: preset name, LLM name and hidden size, model config
JSON) and ``ovhhir_config.json`` (the same information, readable). A Hub repo id works too
(downloaded with ``huggingface_hub.snapshot_download``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import torch

from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "ovhhir_config.json"
FORMAT_VERSION = "1"


class CheckpointError(UserError, RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the model; the message says why."""


def save_checkpoint(
    directory: str | Path, tensors: Mapping[str, torch.Tensor], info: Mapping
) -> Path:
    """Write ``model.safetensors`` (tensors, ``info`` as metadata) + ``ovhhir_config.json``."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    info = {"format_version": FORMAT_VERSION, **info}
    meta = {k: json.dumps(v) for k, v in info.items()}
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata=meta)
    (directory / CONFIG_FILE).write_text(json.dumps(info, indent=2))
    log.info("saved %d trainable tensors to %s", len(tensors), directory)
    return directory


def _resolve(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if path.exists():
        return path / WEIGHTS_FILE if path.is_dir() else path
    text = str(source)
    if text.count("/") == 1 and not text.startswith((".", "/", "~")):
        from huggingface_hub import snapshot_download

        try:
            folder = snapshot_download(text, allow_patterns=[WEIGHTS_FILE, CONFIG_FILE])
        except Exception as exc:  # noqa: BLE001 - network, auth, missing repo: one message
            raise CheckpointError(
                f"checkpoint {text!r} is not a local path and could not be fetched from the Hub "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "pass a local checkpoint directory"
            ) from exc
        return Path(folder) / WEIGHTS_FILE
    raise CheckpointError(
        f"checkpoint {text!r} does not exist (expected a directory holding "
        f"{WEIGHTS_FILE}, or a Hub repo id owner/name)"
    )


def read_checkpoint(source: str | Path) -> tuple[dict, dict]:
    """``(tensors, info)`` of a checkpoint dir / file / Hub repo id."""
    from safetensors import safe_open

    file = _resolve(source)
    if not file.exists():
        raise CheckpointError(f"{file} does not exist: not an OV-HHIR checkpoint directory")
    try:
        with safe_open(str(file), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign file
        raise CheckpointError(f"cannot read checkpoint {file}: {exc}") from exc
    info = {k: json.loads(v) for k, v in meta.items()}
    if "llm_hidden_size" not in info:
        raise CheckpointError(
            f"{file} has no OV-HHIR metadata: it was not written by save_checkpoint"
        )
    return tensors, info


def check_fits(
    source: str | Path,
    own: Mapping[str, torch.Tensor],
    tensors: Mapping[str, torch.Tensor],
    info: Mapping,
    this: Mapping,
) -> None:
    """Raise :class:`CheckpointError` unless ``tensors`` load strictly into a state dict ``own``.

    ``info`` describes the model the checkpoint was written from, ``this`` the model it goes
    into (keys preset, llm, llm_hidden_size, streams); the message names both.
    """
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    mismatched = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    problems = []
    if mismatched:
        k = mismatched[0]
        problems.append(
            f"{len(mismatched)} shape mismatch(es), e.g. {k}: checkpoint "
            f"{tuple(tensors[k].shape)} vs model {tuple(own[k].shape)}"
        )
    if missing:
        problems.append(f"{len(missing)} missing key(s), e.g. {missing[0]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s), e.g. {unexpected[0]}")
    if problems:
        raise CheckpointError(
            f"checkpoint {source} does not fit this model: {'; '.join(problems)}.\n"
            f"  the checkpoint was trained for {_model_words(info)};\n"
            f"  this model is {_model_words(this)}.\n"
            f"  load it with --preset {info.get('preset')} (or the same model config)."
        )


def _model_words(info: Mapping) -> str:
    return (
        f"preset '{info.get('preset')}' with LLM '{info.get('llm')}' (hidden size "
        f"{info.get('llm_hidden_size')}), streams {info.get('streams')}"
    )
