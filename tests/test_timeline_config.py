"""The timeline's thresholds: a preset's ``timeline`` section, ``timeline --set``, bad values."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ovhhir_core.cli import main
from ovhhir_core.config import ConfigError, TimelineConfig, load_preset, preset_timeline
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.errors import UserError
from ovhhir_core.masking import export_masks_npz
from ovhhir_core.timeline import TIMELINE_JSON, load_timeline


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    clip = render_clip("HighFiving", seed=3, size=(96, 64), num_frames=12, fps=6.0)
    return export_masks_npz(dict(enumerate(clip.labels)), tmp_path_factory.mktemp("m") / "m.npz")


def _preset(tmp_path, timeline, extend="tiny"):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"extend": extend, "timeline": timeline}))
    return path


def test_a_preset_section_sets_some_thresholds_and_keeps_the_defaults(tmp_path):
    path = _preset(tmp_path, {"min_speed": 0.5, "contact_gap": 0})
    cfg = load_preset(path).timeline
    assert (cfg.min_speed, cfg.contact_gap) == (0.5, 0.0)
    assert cfg.merge_s == TimelineConfig().merge_s
    assert preset_timeline(path) == cfg
    assert load_preset("tiny").timeline == TimelineConfig()


def test_an_auto_preset_keeps_its_own_timeline_section(tmp_path):
    path = _preset(tmp_path, {"min_speed": 0.7}, extend="auto")
    assert load_preset(path, device="cpu").timeline.min_speed == 0.7


@pytest.mark.parametrize(
    "section, message",
    [
        ({"min_sped": 1}, "unknown key.*min_sped.*allowed:.*min_speed"),
        ({"min_speed": -1}, "min_speed must be a number >= 0, got -1"),
        ({"occlusion_area": 1.5}, r"occlusion_area must be a number in \[0, 1\]"),
        ({"merge_s": "long"}, "expected float"),
    ],
)
def test_bad_preset_sections_name_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message):
        load_preset(_preset(tmp_path, section))


def test_settings_apply_over_a_config_and_bad_ones_are_clear():
    base = TimelineConfig(min_speed=0.5)
    cfg = base.with_settings(["merge_s=1", " min_contact_s = 0.2"])
    assert (cfg.merge_s, cfg.min_contact_s, cfg.min_speed) == (1.0, 0.2, 0.5)
    assert base.with_settings(None) == base
    for bad, message in [
        ("merge_s", "expects KEY=VALUE"),
        ("bogus=1", "unknown timeline threshold 'bogus'; known: contact_gap"),
        ("merge_s=soon", "merge_s: expected a number, got 'soon'"),
        ("min_keypoint_score=2", r"min_keypoint_score must be a number in \[0, 1\]"),
        ("merge_s=nan", "merge_s must be a number >= 0"),
    ]:
        with pytest.raises(UserError, match=message):
            base.with_settings([bad])


def test_timeline_command_takes_the_preset_section_and_set_flags(masks, tmp_path, capsys):
    preset = _preset(tmp_path, {"min_speed": 0.5})
    out = tmp_path / "out"
    argv = ["timeline", "--masks", str(masks), "--fps", "6", "--out", str(out), "--no-plot"]
    assert main([*argv, "--preset", str(preset), "--set", "merge_s=0.75"]) == 0
    used = load_timeline(out / TIMELINE_JSON).metadata["config"]
    assert (used["min_speed"], used["merge_s"]) == (0.5, 0.75)
    assert used["min_contact_s"] == TimelineConfig().min_contact_s
    capsys.readouterr()
    assert main([*argv, "--set", "bogus=1"]) == 1
    assert capsys.readouterr().err.startswith("error: --set: unknown timeline threshold 'bogus'")


def test_thresholds_change_the_events(masks, tmp_path):
    argv = ["timeline", "--masks", str(masks), "--fps", "6", "--no-plot", "--preset", "tiny"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b"), "--set", "min_contact_s=100"]) == 0
    kinds = [[e["kind"] for e in load_timeline(tmp_path / d / TIMELINE_JSON).events] for d in "ab"]
    assert "contact" in kinds[0] and "contact" not in kinds[1]


def test_track_uses_the_presets_thresholds(tmp_path):
    from ovhhir_core.timeline.pipeline import track_timeline

    clip = render_clip("HighFiving", seed=3, size=(96, 64), num_frames=12, fps=6.0)
    video, _ = write_clip(clip, tmp_path)
    preset = load_preset("tiny")
    preset.timeline = dataclasses.replace(preset.timeline, min_speed=0.9)
    labels = dict(enumerate(clip.labels))
    paths = track_timeline(labels, video, tmp_path / "out", preset, pose=False)
    assert load_timeline(paths["timeline_json"]).metadata["config"]["min_speed"] == 0.9
