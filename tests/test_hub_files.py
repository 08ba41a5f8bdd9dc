"""Weights on disk: truncated files, checksum mismatches and half-downloaded folders are refused."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import save_file

from ovhhir_core.errors import UserError
from ovhhir_core.weights import hub
from ovhhir_core.weights.weightfiles import IncompleteWeightsError, WeightsFileError, check_path


def _folder(tmp_path, name="model"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "edgetam_video"}))
    save_file({"w": torch.arange(1000, dtype=torch.float32)}, folder / "model.safetensors")
    return folder


def test_whole_folder_and_file_pass(tmp_path):
    check_path(_folder(tmp_path))
    pth = tmp_path / "w.pth"
    torch.save({"w": torch.zeros(100)}, pth)
    check_path(pth)


def test_truncated_safetensors_is_refused_naming_the_file(tmp_path):
    folder = _folder(tmp_path)
    f = folder / "model.safetensors"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(WeightsFileError, match="truncated") as err:
        hub.resolve_weights("tracker", "edgetam", str(folder))
    assert str(f) in str(err.value) and isinstance(err.value, UserError)


def test_truncated_pth_is_refused_naming_the_file(tmp_path):
    pth = tmp_path / "sam.pth"
    torch.save({"w": torch.zeros(10_000)}, pth)
    pth.write_bytes(pth.read_bytes()[:20_000])
    with pytest.raises(WeightsFileError, match="truncated") as err:
        hub.resolve_weights("sam", "sam_vit_b", str(pth))
    assert str(pth) in str(err.value)


def test_cached_url_file_with_wrong_checksum_is_refused(monkeypatch, tmp_path):
    """A file in the download cache that is not the published one (same size, other bytes)."""
    payload = b"published checkpoint" * 50
    spec = hub.WeightSpec(
        "test-ckpt",
        "url",
        url="https://example.invalid/ckpt.pth",
        filename="ckpt.pth",
        sha256=hashlib.sha256(payload).hexdigest(),
        size_bytes=len(payload),
    )
    monkeypatch.setitem(hub.PRETRAINED, "test-ckpt", spec)
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path))
    cached = tmp_path / "ckpt.pth"
    cached.write_bytes(payload.upper())
    with pytest.raises(WeightsFileError, match="fails its checksum") as err:
        hub.resolve_weights("sam", "test-ckpt")
    assert str(cached) in str(err.value)
    cached.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(WeightsFileError, match="truncated"):
        hub.resolve_weights("sam", "test-ckpt")
    assert hub.obtainable("test-ckpt") is None  # a damaged copy is not offered
    cached.write_bytes(payload)
    assert hub.resolve_weights("sam", "test-ckpt") == cached
    assert hub.obtainable("test-ckpt") == "cache"


def test_half_downloaded_snapshot_counts_as_absent(tmp_path):
    folder = _folder(tmp_path)
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(IncompleteWeightsError, match="model-00001-of-00002"):
        check_path(folder)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors.index.json").unlink()
    with pytest.raises(IncompleteWeightsError, match="no weights file"):
        check_path(folder)


def test_snapshot_missing_files_is_not_offered_as_cached(monkeypatch, tmp_path):
    import huggingface_hub

    folder = _folder(tmp_path)
    (folder / "model.safetensors").unlink()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: str(folder))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.local_candidate(hub.PRETRAINED["edgetam"]) is None
    with pytest.raises(hub.MissingWeightsError, match="HF_HUB_OFFLINE"):
        hub.resolve_weights("tracker", "edgetam")


def test_unreachable_host_fails_fast_with_the_missing_weights_message(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path))
    monkeypatch.setattr(hub, "_reachable", lambda host: False)
    assert hub.obtainable("sam_vit_b") is None
    with pytest.raises(hub.MissingWeightsError, match="not reachable"):
        hub.resolve_weights("sam", "sam_vit_b")
    assert list(tmp_path.iterdir()) == []
