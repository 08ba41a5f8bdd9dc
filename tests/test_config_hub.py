"""Configs (strict dict/JSON round trip, presets) and weight resolution (hub table, overrides)."""

from __future__ import annotations

import argparse
import json

import pytest
from hub_utils import url_weights

from ovhhir_core import cli, config, hub
from ovhhir_core.config import ConfigError, PresetConfig
from ovhhir_core.errors import UserError


@pytest.mark.parametrize("name", ["tiny", "offline", "small", "paper"])
def test_presets_load_and_round_trip(name):
    preset = config.load_preset(name)
    assert preset.name == name and preset.description
    again = config.from_dict(PresetConfig, json.loads(config.to_json(preset)))
    assert again == preset
    for comp in config.COMPONENTS:
        weights = preset.component(comp).weights
        assert weights is None or weights in hub.PRETRAINED, (comp, weights)


def test_paper_preset_matches_the_paper():
    p = config.load_preset("paper")
    assert p.model.person_encoder.kind == "vitpose"
    assert hub.PRETRAINED[p.model.person_encoder.weights].repo_id.startswith(
        "usyd-community/vitpose-base"
    )
    assert hub.PRETRAINED[p.model.background_encoder.weights].repo_id.startswith(
        "google/vit-base-patch16"
    )
    assert hub.PRETRAINED[p.model.llm.weights].repo_id == "meta-llama/Llama-2-13b-chat-hf"
    assert p.model.num_frames == 16


def test_strict_from_dict_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"PresetConfig.model: unknown key\(s\) bogus"):
        config.from_dict(PresetConfig, {"model": {"bogus": 1}})
    with pytest.raises(ConfigError, match="model.num_frames: expected int"):
        config.from_dict(PresetConfig, {"model": {"num_frames": "16"}})
    with pytest.raises(ConfigError, match="expected an object"):
        config.from_dict(PresetConfig, {"sam": [1, 2]})


def test_unknown_preset_and_bad_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'nope'.*tiny"):
        config.load_preset("nope")
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        config.load_preset(bad)
    good = tmp_path / "mine.json"
    good.write_text(json.dumps({"name": "mine", "model": {"num_frames": 8}}))
    assert config.load_preset(good).model.num_frames == 8


def test_offline_extends_tiny_and_changes_only_what_it_names():
    tiny = config.load_preset("tiny")
    offline = config.load_preset("offline")
    assert '"extend": "tiny"' in (config.PRESET_DIR / "offline.json").read_text()
    assert offline.name == "offline" and offline.description != tiny.description
    assert offline.sam == tiny.sam and offline.tracker == tiny.tracker
    assert offline.model.llm.weights == "smollm2-135m-instruct-gguf"
    assert offline.model.llm.arch == {}  # free-form objects replace, so the tiny LLM arch is gone
    assert offline.model.person_encoder.kind == "vitpose"  # inherited key beside a replaced arch
    assert offline.model.person_encoder.arch["hidden_size"] == 64


def test_extend_chains_merge_and_errors(tmp_path):
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"extend": "tiny", "model": {"num_frames": 8}}))
    child = tmp_path / "child.json"
    child.write_text(
        json.dumps({"extend": "base.json", "name": "kid", "model": {"branch": {"dropout": 0.0}}})
    )
    preset = config.load_preset(child)
    assert preset.name == "kid" and preset.model.num_frames == 8
    assert preset.model.branch.dropout == 0.0
    assert preset.model.branch.num_query_tokens == 4  # from tiny, two levels up
    assert config.load_preset(base).name == "base"  # a file's name: its stem
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"extend": "b.json"}))
    b.write_text(json.dumps({"extend": "a.json"}))
    with pytest.raises(ConfigError, match=r"cycle: a.json -> b.json -> a.json"):
        config.load_preset(a)
    orphan = tmp_path / "orphan.json"
    orphan.write_text(json.dumps({"extend": "nope"}))
    with pytest.raises(ConfigError, match=r"orphan.json extends 'nope'.*unknown preset 'nope'"):
        config.load_preset(orphan)
    orphan.write_text(json.dumps({"extend": 3}))
    with pytest.raises(ConfigError, match="'extend' must be a preset name or file"):
        config.load_preset(orphan)
    orphan.write_text(json.dumps({"extend": "tiny", "model": {"bogus": 1}}))
    with pytest.raises(ConfigError, match="orphan.json.model: unknown key"):
        config.load_preset(orphan)


def test_local_paths_from_flags_and_env(monkeypatch):
    assert config.parse_local_paths(["llm=/x", "sam=/y"]) == {"llm": "/x", "sam": "/y"}
    with pytest.raises(ConfigError, match="COMPONENT=PATH"):
        config.parse_local_paths(["llm"])
    with pytest.raises(ConfigError, match="unknown component 'vae'"):
        config.parse_local_paths(["vae=/x"])
    monkeypatch.setenv("OVHHIR_LLM_PATH", "/from/env")
    monkeypatch.setenv("OVHHIR_SAM_PATH", "/sam/env")
    args = argparse.Namespace(preset="tiny", device="cpu", local_paths=["sam=/sam/flag"])
    preset = cli.load_preset_arg(args)  # the command line reads the environment
    assert preset.model.llm.local_path == "/from/env"
    assert preset.sam.local_path == "/sam/flag"  # flags win over the environment
    assert config.env_local_paths({"OVHHIR_LLM_PATH": "/x", "PATH": "/bin"}) == {"llm": "/x"}
    assert config.load_preset("tiny").model.llm.local_path is None  # the core reads no env


def test_resolve_local_path_override(tmp_path):
    f = tmp_path / "w.pth"
    f.write_bytes(b"x")
    assert hub.resolve_weights("sam", "sam_vit_b", str(f)) == f
    with pytest.raises(hub.MissingWeightsError, match="does not exist") as err:
        hub.resolve_weights("sam", "sam_vit_b", str(tmp_path / "missing.pth"))
    assert isinstance(err.value, UserError)


def test_resolve_unknown_and_missing_names():
    with pytest.raises(hub.MissingWeightsError, match="not in the pretrained table"):
        hub.resolve_weights("llm", "gpt-17")
    with pytest.raises(hub.MissingWeightsError, match="no weights are named"):
        hub.resolve_weights("llm", None)


def test_offline_hub_weights_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path / "cache"))
    with pytest.raises(hub.MissingWeightsError) as err:
        hub.resolve_weights("tracker", "sam2.1-hiera-tiny")
    msg = str(err.value)
    assert "component 'tracker'" in msg and "facebook/sam2.1-hiera-tiny" in msg
    assert "HF_HUB_OFFLINE" in msg and "--weights tracker=PATH" in msg
    assert "OVHHIR_TRACKER_PATH" in msg
    with pytest.raises(hub.MissingWeightsError, match="dl.fbaipublicfiles.com"):
        hub.resolve_weights("sam", "sam_vit_b")


def test_failed_download_of_gated_model_mentions_token(monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))

    def refuse(*args, **kwargs):
        if kwargs.get("local_files_only"):
            raise FileNotFoundError("not cached")
        raise PermissionError("401 Client Error: repo is gated")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    monkeypatch.setattr(hub, "_reachable", lambda host: True)
    with pytest.raises(hub.MissingWeightsError) as err:
        hub.resolve_weights("llm", "llama-2-13b-chat")
    msg = str(err.value)
    assert "PermissionError: 401" in msg and "HF_TOKEN" in msg


def test_url_download_verifies_checksum(monkeypatch, tmp_path):
    payload = b"checkpoint bytes" * 100
    url_weights(monkeypatch, tmp_path, "test-good", payload, "good.pth")
    url_weights(monkeypatch, tmp_path, "test-bad", payload, "bad.pth", sha256="0" * 64)
    assert not hub.is_available_locally("test-good")
    path = hub.resolve_weights("sam", "test-good")
    assert path.read_bytes() == payload and hub.is_available_locally("test-good")
    with pytest.raises(hub.WeightsFileError, match="fails its checksum") as err:
        hub.resolve_weights("sam", "test-bad")
    assert isinstance(err.value, UserError)
    assert not (tmp_path / "cache" / "bad.pth").exists()
    left = [p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert left == ["good.pth"]  # nothing half-written stays beside it


def test_package_weights_resolve_to_installed_files():
    path = hub.resolve_weights("llm", "smollm2-135m-instruct-gguf")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert hub.resolve_weights("embedder", "all-minilm-l6-v2-package").is_dir()
