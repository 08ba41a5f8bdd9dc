"""Checkpoints of our own: only the trainable tensors + the config, as safetensors, strict load.

A checkpoint directory holds ``model.safetensors`` (the branch tensors, keyed
``<stream>.<param>``; metadata: preset name, LLM name and hidden size, model config JSON) and
``ovhhir_config.json`` (the same information, readable). A Hub repo id works too (downloaded with
``huggingface_hub.snapshot_download``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ovhhir_core.errors import UserError

if TYPE_CHECKING:
    from ovhhir_core.model.ovhhir import OVHHIRModel

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "ovhhir_config.json"
FORMAT_VERSION = "1"


class CheckpointError(UserError, RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the model; the message says why."""


def _info(model: OVHHIRModel, preset_name: str) -> dict:
    from ovhhir_core.config import to_dict
    from ovhhir_core.model.llm import describe_llm

    return {
        "format_version": FORMAT_VERSION,
        "preset": preset_name,
        "llm": describe_llm(model.cfg.llm),
        "llm_hidden_size": model.llm_hidden_size,
        "streams": model.streams,
        "model_config": to_dict(model.cfg),
    }


def save_checkpoint(model: OVHHIRModel, directory: str | Path, preset_name: str) -> Path:
    """Write ``model.safetensors`` + ``ovhhir_config.json`` into ``directory``; return it."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    info = _info(model, preset_name)
    meta = {k: json.dumps(v) for k, v in info.items()}
    tensors = {k: v.contiguous() for k, v in model.trainable_state_dict().items()}
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


def load_checkpoint(model: OVHHIRModel, source: str | Path) -> None:
    """Load a checkpoint into ``model``'s branches strictly; marks the model trained.

    Missing or unexpected keys, or any shape mismatch, raise :class:`CheckpointError` naming the
    preset and LLM the checkpoint was trained for and what this model is.
    """
    tensors, info = read_checkpoint(source)
    own = model.branches.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    mismatched = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or unexpected or mismatched:
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
        raise CheckpointError(
            f"checkpoint {source} does not fit this model: {'; '.join(problems)}.\n"
            f"  the checkpoint was trained for preset '{info.get('preset')}' with LLM "
            f"'{info.get('llm')}' (hidden size {info.get('llm_hidden_size')}), streams "
            f"{info.get('streams')};\n"
            f"  this model is preset '{model.preset_name}' with LLM "
            f"'{_llm_name(model)}' (hidden size {model.llm_hidden_size}), streams {model.streams}.\n"
            f"  load it with --preset {info.get('preset')} (or the same model config)."
        )
    model.branches.load_state_dict(tensors, strict=True)
    model.is_trained = True
    model.checkpoint_path = str(source)
    log.info("loaded checkpoint %s (trained for preset %s)", source, info.get("preset"))


def _llm_name(model: OVHHIRModel) -> str:
    from ovhhir_core.model.llm import describe_llm

    return describe_llm(model.cfg.llm)
