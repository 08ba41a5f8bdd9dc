"""What made the masks and the keypoints travels with everything built on them: random segmenter
or pose weights are said in plain words in the facts, the facts answer, the plot title, the app's
events table and ``timeline.json``; the fallback warning is one sentence with the fix."""

from __future__ import annotations

import copy

import pytest

from app.timeline import event_rows
from ovhhir_core.answering import TrackedClip, backends
from ovhhir_core.config import load_preset
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.hub import MissingWeightsError
from ovhhir_core.masking import write_streams
from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION
from ovhhir_core.timeline import FactsAnswerer, compute_timeline, facts_text, load_timeline
from ovhhir_core.timeline.facts import describe
from ovhhir_core.timeline.io import write_timeline
from ovhhir_core.timeline.pipeline import segmenter_provenance, track_timeline
from ovhhir_core.timeline.plot import _title

RANDOM_MASKS = "The masks were made by a segmenter with RANDOM weights"
RANDOM_SEG = {"model": "sam: edgetam, untrained", "trained": False, "preset": "cpu"}
TRAINED_SEG = {"model": "sam: edgetam, yonigozlan/EdgeTAM-hf", "trained": True, "preset": "cpu"}
RANDOM_POSE = {"model": "ViTPose (random)", "trained": False, "keypoints": []}
LIMB_TOUCH = {
    "kind": "limb_touch",
    "source": "pose",
    "person": "person_1",
    "limb": "right ankle",
    "start_s": 0.5,
    "end_s": 1.0,
    "start_frame": 3,
}


@pytest.fixture(scope="module")
def clip():
    return render_clip("HighFiving", seed=3, size=(96, 64), num_frames=12, fps=6.0)


@pytest.fixture(scope="module")
def measured(clip):
    """The clip's timeline with a touch measured, no provenance yet."""
    timeline = compute_timeline(enumerate(clip.labels), clip.fps)
    assert any(e["kind"] == "contact" for e in timeline.events)
    return timeline


def _with(timeline, segmenter=None, pose=None, extra_events=()):
    t = copy.deepcopy(timeline)
    t.metadata["segmenter"], t.metadata["pose"] = segmenter, pose
    t.events = [*t.events, *extra_events]
    return t


def test_facts_and_description_say_the_masks_are_random(measured):
    random = _with(measured, RANDOM_SEG)
    text = facts_text(random)
    assert text.startswith(f"WARNING: {RANDOM_MASKS} (sam: edgetam, untrained; preset cpu)")
    assert "noise, not facts about the video" in text
    said = describe(random)
    assert said.startswith(RANDOM_MASKS) and "they touch" in said
    for trusted in (_with(measured, TRAINED_SEG), _with(measured, None)):
        assert RANDOM_MASKS not in facts_text(trusted) + describe(trusted)
        assert describe(trusted).startswith("Measured from the tracked masks only")


def test_the_facts_answer_from_random_masks_says_so_and_is_not_grounded(measured, clip, tmp_path):
    video, _ = write_clip(clip, tmp_path / "src")
    write_streams(video, dict(enumerate(clip.labels)), tmp_path)
    write_timeline(tmp_path, _with(measured, RANDOM_SEG))
    conv = FactsAnswerer("cpu").open(TrackedClip.from_track_dir(tmp_path))
    answer = list(conv.ask(DESCRIBE_QUESTION))[-1]
    assert answer.startswith(RANDOM_MASKS) and "touch" in answer
    assert RANDOM_MASKS in list(conv.ask(ONE_WORD_QUESTION))[-1]
    assert conv.provenance.grounded is False and RANDOM_MASKS in conv.provenance.warning
    wrapped = backends.WithWarning(FactsAnswerer("cpu"), "No model that looks at the video.")
    both = wrapped.open(TrackedClip.from_track_dir(tmp_path)).provenance
    assert both.warning.startswith("No model that looks") and RANDOM_MASKS in both.warning
    write_timeline(tmp_path, _with(measured, TRAINED_SEG))
    trusted = FactsAnswerer("cpu").open(TrackedClip.from_track_dir(tmp_path))
    assert trusted.provenance.grounded and not trusted.provenance.warning


def test_plot_title_and_event_rows_name_random_weights(measured):
    random = _with(measured, RANDOM_SEG, RANDOM_POSE, [LIMB_TOUCH])
    assert _title(random).startswith("masks from RANDOM segmenter weights (sam: edgetam")
    rows = event_rows(random)
    assert rows[0][2].startswith(f"WARNING: {RANDOM_MASKS}")
    assert len(rows) == len(random.events) + 1
    assert all(
        r[2].endswith("(masks from RANDOM segmenter weights: not a finding)") for r in rows[1:]
    )
    pose_only = _with(measured, TRAINED_SEG, RANDOM_POSE, [LIMB_TOUCH])
    assert "RANDOM segmenter" not in _title(pose_only)
    rows = event_rows(pose_only)
    touch = [r[2] for r in rows if r[2].startswith("limb touch")]
    assert touch == [
        "limb touch: Person 1's right ankle touches Person 2 "
        "(pose from RANDOM weights: not a finding)"
    ]
    assert not any("RANDOM" in r[2] for r in rows if not r[2].startswith("limb touch"))


def test_timeline_json_records_what_made_the_masks(clip, tmp_path):
    video, _ = write_clip(clip, tmp_path)
    labels = dict(enumerate(clip.labels))
    tiny = load_preset("tiny")
    paths = track_timeline(labels, video, tmp_path / "a", tiny, pose=False)
    seg = load_timeline(paths["timeline_json"]).metadata["segmenter"]
    assert seg["trained"] is False and seg["preset"] == "tiny"
    assert seg["model"] == "sam: sam, untrained; tracker: sam2, untrained"
    cpu = load_preset("cpu", {"sam": tmp_path, "tracker": tmp_path})
    assert segmenter_provenance(cpu) == {
        "model": f"sam: edgetam, {tmp_path}; tracker: edgetam, {tmp_path}",
        "trained": True,
        "preset": "cpu",
    }
    named = segmenter_provenance(load_preset("cpu"))
    assert named["trained"] is True and "yonigozlan/EdgeTAM-hf" in named["model"]


def test_the_fallback_warning_is_one_sentence_with_the_fix(monkeypatch):
    def none_named(preset, device, dtype):
        raise MissingWeightsError(
            "zeroshot", None, ["this preset names no zero-shot video-LLM"], "choose a preset"
        )

    monkeypatch.setattr(backends, "load_zeroshot", none_named)
    warning = backends.load_answerer(load_preset("tiny")).provenance().warning
    assert warning == (
        "No model that looks at the video could be loaded (this preset names no zero-shot "
        "video-LLM), so these answers are only the measurements of the tracked masks; to get "
        "answers that see the video, supply the zero-shot weights (--weights zeroshot=PATH or "
        "OVHHIR_ZEROSHOT_PATH) or a trained OV-HHIR checkpoint (--checkpoint DIR)."
    )
    assert "(None)" not in warning and "\n" not in warning and warning.count(".") == 1


def test_masks_of_a_track_folder_keep_their_provenance(clip, tmp_path, capsys):
    import json

    from ovhhir_core.cli import main
    from ovhhir_core.masking import export_masks_npz

    video, _ = write_clip(clip, tmp_path / "src")
    write_streams(video, dict(enumerate(clip.labels)), tmp_path)
    export_masks_npz(dict(enumerate(clip.labels)), tmp_path / "masks.npz")
    (tmp_path / "track.json").write_text(json.dumps({"fill": [0, 0, 0], "segmenter": RANDOM_SEG}))
    conv = FactsAnswerer("cpu").open(TrackedClip.from_track_dir(tmp_path))  # no timeline.json
    assert list(conv.ask(DESCRIBE_QUESTION))[-1].startswith(RANDOM_MASKS)
    argv = ["timeline", "--masks", str(tmp_path / "masks.npz"), "--fps", "6", "--out"]
    assert main([*argv, str(tmp_path / "again")]) == 0
    assert f"WARNING: {RANDOM_MASKS}" in capsys.readouterr().out
    again = load_timeline(tmp_path / "again" / "timeline.json")
    assert again.metadata["segmenter"] == RANDOM_SEG
