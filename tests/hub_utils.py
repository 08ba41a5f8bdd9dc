"""Lay out local folders the way the Hugging Face cache holds a downloaded repo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"


def lay_out_hf_cache(hub_cache: Path, repo_id: str, src: Path) -> Path:
    """Copy ``src`` (a saved model folder) into ``hub_cache`` as repo ``repo_id`` at ``main``;
    returns the snapshot folder. ``hub_cache`` is what ``HF_HUB_CACHE`` points at."""
    repo = Path(hub_cache) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    shutil.copytree(src, snapshot, copy_function=_link_or_copy)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(REVISION)
    return snapshot


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link where the file system allows (large weights cost no copy), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def use_hub_cache(monkeypatch, hub_cache: Path) -> None:
    """Point huggingface_hub's cache at ``hub_cache`` for this test."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))


def url_weights(monkeypatch, tmp_path: Path, name: str, payload: bytes, filename: str, sha256=None):
    """Put ``name`` in the pretrained table as a file:// download of ``payload`` saved as
    ``filename`` (checksum ``sha256``, default the payload's own), with the download cache under
    ``tmp_path / "cache"`` and downloads allowed; returns the spec."""
    import hashlib

    from ovhhir_core import hub

    src = tmp_path / f"{name}.src"
    src.write_bytes(payload)
    spec = hub.WeightSpec(
        name,
        "url",
        url=src.as_uri(),
        filename=filename,
        sha256=sha256 or hashlib.sha256(payload).hexdigest(),
        size_bytes=len(payload),
    )
    monkeypatch.setitem(hub.PRETRAINED, name, spec)
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    return spec
