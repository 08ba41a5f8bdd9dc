"""Timeline files, the `timeline` command, facts text, the measured-facts answerer and pose."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ovhhir_core.answering import Answerer, Conversation, TrackedClip
from ovhhir_core.commands.cli import main
from ovhhir_core.config import load_preset
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.errors import UserError
from ovhhir_core.masking import export_masks_npz, export_masks_png_zip, write_streams
from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION
from ovhhir_core.timeline import (
    TIMELINE_JSON,
    TIMELINE_PNG,
    FactsAnswerer,
    MaskFile,
    TimelineError,
    compute_timeline,
    facts_text,
    load_timeline,
    write_timeline,
)
from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.pipeline import pose_estimator, track_timeline, video_timeline
from ovhhir_core.video import probe


@pytest.fixture(scope="module")
def clip():
    return render_clip("HighFiving", seed=3, size=(96, 64), num_frames=12, fps=6.0)


@pytest.fixture(scope="module")
def files(clip, tmp_path_factory):
    root = tmp_path_factory.mktemp("tl")
    video, synth_npz = write_clip(clip, root)
    labels = dict(enumerate(clip.labels))
    return {
        "video": video,
        "synthetic": synth_npz,
        "npz": export_masks_npz(labels, root / "masks.npz"),
        "zip": export_masks_png_zip(labels, root / "masks.zip"),
        "root": root,
    }


def _no_nan(text: str) -> dict:
    def bad(c):
        raise AssertionError(f"{c} in timeline.json")

    return json.loads(text, parse_constant=bad)


def test_every_masks_file_gives_the_same_timeline(clip, files):
    ref = compute_timeline(enumerate(clip.labels), clip.fps)
    for key in ("npz", "zip", "synthetic"):
        got = compute_timeline(MaskFile(files[key]), clip.fps)
        assert got.frames == ref.frames and got.events == ref.events, key
    with pytest.raises(TimelineError, match="does not exist"):
        MaskFile(files["root"] / "nothing.npz")


def test_plots_drawn_from_many_threads_keep_one_font_file_open(clip, tmp_path):
    """The server draws each session's plot on that job's own thread; matplotlib keeps a font
    file open per drawing thread, so the plots go through one thread of their own."""
    import os
    import threading

    timeline = compute_timeline(enumerate(clip.labels), clip.fps, source="clip")

    def fonts_open() -> int:
        fds = [os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")]
        return sum(p.endswith(".ttf") for p in fds)

    write_timeline(tmp_path / "first", timeline)  # fonts loaded once
    before = fonts_open()
    for i in range(6):
        t = threading.Thread(target=write_timeline, args=(tmp_path / f"t{i}", timeline))
        t.start()
        t.join()
    assert (tmp_path / "t5" / TIMELINE_PNG).is_file()
    assert fonts_open() == before


def test_write_and_load_round_trip(clip, tmp_path):
    timeline = compute_timeline(enumerate(clip.labels), clip.fps, source="clip")
    paths = write_timeline(tmp_path, timeline)
    assert paths == {
        "timeline_json": tmp_path / TIMELINE_JSON,
        "timeline_png": tmp_path / TIMELINE_PNG,
    }
    data = _no_nan(paths["timeline_json"].read_text())
    assert data["schema"] == "ovhhir-timeline/1" and len(data["frames"]) == 12
    assert set(data["metadata"]) >= {"fps", "size", "source", "pose", "pose_note", "config"}
    for e in data["events"]:
        assert set(e) >= {"kind", "start_frame", "end_frame", "start_s", "end_s"}
    assert paths["timeline_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = load_timeline(tmp_path)
    assert back.frames == data["frames"] and back.events == data["events"]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(TimelineError, match="not a timeline"):
        load_timeline(tmp_path / "bad.json")


def test_timeline_command(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["timeline", "--masks", str(files["zip"]), "--fps", "6", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "timeline_json:" in printed and "Events:" in printed and "contact" in printed
    data = _no_nan((out / TIMELINE_JSON).read_text())
    assert data["metadata"]["pose"] is None and "no --video" in data["metadata"]["pose_note"]
    assert (out / TIMELINE_PNG).is_file()
    assert main(["timeline", "--masks", str(files["npz"]), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error: give the frame rate")


def test_facts_text_states_the_measurements(clip):
    timeline = compute_timeline(enumerate(clip.labels), clip.fps)
    text = facts_text(timeline)
    assert "12 frames at 6 fps" in text and "Person 1 in 12/12" in text
    for e in timeline.events:
        assert f"{e['kind']}:" in text
    waving = render_clip("Waving", seed=0, size=(96, 64), num_frames=12, fps=6.0)
    assert "Events: none measured" in facts_text(compute_timeline(enumerate(waving.labels), 6.0))


def _track_dir(clip, files, tmp_path):
    streams = write_streams(files["video"], dict(enumerate(clip.labels)), tmp_path)
    export_masks_npz(dict(enumerate(clip.labels)), tmp_path / "masks.npz")
    return streams


def test_facts_answerer_describes_only_measurements(clip, files, tmp_path):
    _track_dir(clip, files, tmp_path)
    answerer = FactsAnswerer("offline", warning="no grounded model")
    assert isinstance(answerer, Answerer) and answerer.name == "facts"
    conv = answerer.open(TrackedClip.from_track_dir(tmp_path))  # computed from masks.npz
    assert isinstance(conv, Conversation)
    assert conv.provenance.answerer == "facts" and conv.provenance.grounded
    assert conv.provenance.model_id == "timeline measurements"
    assert "measured facts" in conv.provenance.caption()
    answer = list(conv.ask(DESCRIBE_QUESTION))[-1]
    assert answer.startswith("Measured from the tracked masks only") and "touch" in answer
    other = list(conv.ask(ONE_WORD_QUESTION))[-1]
    assert other.startswith("No model that can look at the video") and "Events:" in other
    assert conv.prompt_facts.startswith("Clip:") and len(conv.history) == 4
    assert list(conv.regenerate())[-1] == other and len(conv.history) == 4
    with pytest.raises(UserError, match="cannot score"):
        conv.score(ONE_WORD_QUESTION, ["Hugging."])
    bare = answerer.open(
        TrackedClip.from_paths(tmp_path / "person_1.mp4", tmp_path / "person_2.mp4")
    )
    assert "no measurements" in list(bare.ask(DESCRIBE_QUESTION))[-1]


def test_facts_answerer_reads_timeline_json(clip, files, tmp_path):
    _track_dir(clip, files, tmp_path)
    (tmp_path / "masks.npz").unlink()
    timeline = compute_timeline(enumerate(clip.labels), clip.fps)
    timeline.events = []  # a different file proves it is the one read
    write_timeline(tmp_path, timeline)
    conv = FactsAnswerer("offline").open(TrackedClip.from_track_dir(tmp_path))
    assert "Neither approaches" in list(conv.ask(DESCRIBE_QUESTION))[-1]


def test_pose_runs_with_random_tiny_vitpose(clip, files, tmp_path):
    estimator, note = pose_estimator(load_preset("tiny"))
    assert note is None and not estimator.trained
    timeline = video_timeline(MaskFile(files["zip"]), files["video"], estimator=estimator)
    meta = timeline.metadata["pose"]
    assert meta["trained"] is False and len(meta["keypoints"]) == 17
    for row in timeline.frames:
        for p in ("person_1", "person_2"):
            kp = np.asarray(row["pose"][p]["keypoints"])
            assert kp.shape == (17, 3) and np.isfinite(kp).all()
    pose_events = [e for e in timeline.events if e.get("source") == "pose"]
    assert all(e["kind"] in ("limb_touch", "facing") for e in pose_events)
    text = facts_text(timeline)
    assert "random weights" in text and "limb_touch" not in text and "facing" not in text


def test_limb_touch_and_facing_events_from_keypoints():
    from ovhhir_core.timeline.pose import _facing, _near, _pose_events

    timeline_series = _series_of_two_boxes()
    touch = np.zeros((6, 2, 4), bool)
    touch[2:4, 0, 1] = True  # person 1's right wrist, frames 2-3
    facing = np.full((6, 2), None, object)
    facing[:, 1] = "toward"
    events = _pose_events(timeline_series, 2.0, TimelineConfig(), touch, facing)
    wrist = [e for e in events if e["kind"] == "limb_touch"]
    assert [(e["person"], e["limb"], e["start_frame"], e["end_frame"]) for e in wrist] == [
        ("person_1", "right wrist", 2, 3)
    ]
    assert [(e["person"], e["start_frame"]) for e in events if e["kind"] == "facing"] == [
        ("person_2", 0)
    ]
    label_map = np.zeros((20, 20), np.uint8)
    label_map[5:10, 12:15] = 2
    assert _near(label_map, np.array([10.0, 7.0]), 2, 2) and not _near(label_map, (5.0, 7.0), 2, 2)
    kp = np.zeros((17, 3))
    kp[[0, 5, 6], 2] = 1.0
    kp[0, 0], kp[[5, 6], 0] = 12.0, 10.0  # nose right of the shoulders
    assert _facing(kp, other_dx=30.0, min_score=0.3) == "toward"
    assert _facing(kp, other_dx=-30.0, min_score=0.3) == "away"


def _series_of_two_boxes():
    from ovhhir_core.timeline.measure import collect, derive

    maps = []
    for i in range(6):
        m = np.zeros((40, 60), np.uint8)
        m[10:30, 5:10], m[10:30, 40:45] = 1, 2
        maps.append((i, m))
    return derive(collect(maps), 2.0, None, TimelineConfig())


def test_missing_pose_weights_give_no_pose_rows(monkeypatch, clip, files):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    preset = load_preset("small", {"person_encoder": str(files["root"] / "missing")})
    estimator, note = pose_estimator(preset)
    assert estimator is None and "person_encoder" in note
    timeline = video_timeline(MaskFile(files["npz"]), files["video"], pose_note=note)
    assert timeline.metadata["pose"] is None and "person_encoder" in timeline.metadata["pose_note"]
    assert all("pose" not in row for row in timeline.frames)


def test_track_timeline_writes_files_and_skeleton_overlay(clip, files, tmp_path):
    _track_dir(clip, files, tmp_path)
    before = (tmp_path / "overlay.mp4").read_bytes()
    paths = track_timeline(
        dict(enumerate(clip.labels)), files["video"], tmp_path, load_preset("tiny")
    )
    assert paths["timeline_json"].is_file() and paths["timeline_png"].is_file()
    assert (tmp_path / "overlay.mp4").read_bytes() != before  # skeletons drawn
    assert probe(tmp_path / "overlay.mp4").num_frames == 12
    assert load_timeline(tmp_path).metadata["pose"]["trained"] is False
