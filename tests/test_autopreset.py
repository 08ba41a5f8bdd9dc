"""The auto preset: per component the best weights available, said plainly, random flagged."""

from __future__ import annotations

import pytest
import torch
from hub_utils import lay_out_hf_cache, use_hub_cache
from tracking_utils import edgetam_micro_preset

from ovhhir_core.config import load_preset
from ovhhir_core.weights import hub
from ovhhir_core.weights.autopreset import random_segmentation, resolution_report


@pytest.fixture
def empty_cache(monkeypatch, tmp_path):
    use_hub_cache(monkeypatch, tmp_path / "hub")
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path / "ovhhir"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for comp in ("SAM", "TRACKER", "LLM", "PERSON_ENCODER", "BACKGROUND_ENCODER", "EMBEDDER"):
        monkeypatch.delenv(f"OVHHIR_{comp}_PATH", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def edgetam_folder(tmp_path_factory):
    from ovhhir_core.tracking import load_segmenters

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("edgetam") / "edgetam"
    load_segmenters(edgetam_micro_preset(), "cpu").tracker.save_pretrained(folder)
    return folder


def _by_component(preset):
    return {e["component"]: e for e in resolution_report(preset)}


def test_nothing_cached_offline_falls_back_and_flags_random(empty_cache):
    p = load_preset("auto", device="cpu")
    report = _by_component(p)
    assert p.name == "auto" and p.auto is None
    assert report["sam"]["random"] and report["tracker"]["random"]
    assert report["sam"]["preset"] in ("offline", "tiny")
    assert report["llm"]["source"] == "package" and not report["llm"]["random"]
    assert random_segmentation(p) == ["sam", "tracker"]
    assert p.sam.weights is None and p.tracker.weights is None  # what gets built is random


@pytest.mark.parametrize(
    "device, target, sam_id",
    [("cpu", "cpu", "yonigozlan/EdgeTAM-hf"), ("cuda", "small", "sam_vit_b_01ec64.pth")],
)
def test_downloadable_real_weights_are_chosen(empty_cache, monkeypatch, device, target, sam_id):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub, "_reachable", lambda host: True)  # nothing is downloaded here
    p = load_preset("auto", device=device)
    report = _by_component(p)
    for comp in ("sam", "tracker", "llm", "person_encoder"):
        assert report[comp]["preset"] == target and report[comp]["source"] == "download", comp
        assert not report[comp]["random"]
    assert report["sam"]["id"].endswith(sam_id)
    assert random_segmentation(p) == []


def test_unreachable_hub_is_not_offered(empty_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub, "_reachable", lambda host: False)
    assert random_segmentation(load_preset("auto", device="cpu")) == ["sam", "tracker"]


def test_edgetam_in_the_hf_cache_is_used_offline(empty_cache, edgetam_folder):
    from tracking_utils import centre, make_clip

    from ovhhir_core.tracking import TrackingSession, load_segmenters

    lay_out_hf_cache(empty_cache / "hub", "yonigozlan/EdgeTAM-hf", edgetam_folder)
    p = load_preset("auto", device="cpu")
    report = _by_component(p)
    for comp in ("sam", "tracker"):
        assert report[comp]["preset"] == "cpu" and report[comp]["source"] == "cache"
    assert report["llm"]["preset"] != "cpu"  # the chat model is not cached: a fallback
    segs = load_segmenters(p, "cpu")
    assert type(segs.tracker).__name__ == "EdgeTamVideoModel"
    s = TrackingSession(segs, make_clip(empty_cache / "c.mp4", 2, 64, 48))
    assert s.add_points(0, "person_1", [centre(0, 1, 64, 48)], [1]).shape == (48, 64)


def test_weights_flags_count_as_real(empty_cache, edgetam_folder):
    p = load_preset("auto", {"sam": edgetam_folder, "tracker": edgetam_folder}, device="cpu")
    report = _by_component(p)
    assert report["tracker"]["source"] == "local path" and report["tracker"]["preset"] == "cpu"
    assert p.tracker.local_path == str(edgetam_folder) and p.tracker.kind == "edgetam"
    assert random_segmentation(p) == []


def test_info_prints_what_auto_resolved_to(empty_cache, capsys):
    from ovhhir_core.commands.cli import main

    assert main(["info", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "preset auto:" in out and "preset cpu:" in out
    auto = out.split("preset auto:")[1].split("\npreset ")[0]
    assert "offline: random" in auto and "smollm2-135m-instruct-gguf" in auto
