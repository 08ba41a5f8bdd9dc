"""Lay out local folders the way the Hugging Face cache holds a downloaded repo."""

from __future__ import annotations

import shutil
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"


def lay_out_hf_cache(hub_cache: Path, repo_id: str, src: Path) -> Path:
    """Copy ``src`` (a saved model folder) into ``hub_cache`` as repo ``repo_id`` at ``main``;
    returns the snapshot folder. ``hub_cache`` is what ``HF_HUB_CACHE`` points at."""
    repo = Path(hub_cache) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    shutil.copytree(src, snapshot)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(REVISION)
    return snapshot


def use_hub_cache(monkeypatch, hub_cache: Path) -> None:
    """Point huggingface_hub's cache at ``hub_cache`` for this test."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
