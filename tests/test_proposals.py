"""Person proposals: pick logic on synthetic clips with known label maps, the tiny RT-DETR path,
missing weights (RT-DETR, gated SAM 3), the ``people`` CLI and ``track --p1-id``."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from tracking_utils import boxes, centre, micro_preset

from ovhhir_core.commands.cli import main
from ovhhir_core.config import load_preset, to_json
from ovhhir_core.tracking import TrackingError, TrackingSession
from ovhhir_core.tracking.config import DetectorConfig
from ovhhir_core.tracking.detector import Detection, load_detector, select
from ovhhir_core.tracking.proposals import SessionProposals, draw_proposals, pick
from ovhhir_core.video import read_frame
from ovhhir_core.weights.hub import MissingWeightsError

W, H, N = 64, 48, 6


@dataclass
class KnownBoxes:
    """A detector that reports the clip's true person boxes (and, with ``group``, one box around
    both people, scored highest), like a trained detector would on this clip."""

    frame_idx: int
    group: bool = False
    source: str = "true boxes of the synthetic clip"
    trained: bool = True

    def detect(self, frame):
        h, w = frame.shape[:2]
        true = boxes(self.frame_idx, w, h)
        found = [
            Detection(tuple(map(float, true[1])), 0.9),
            Detection(tuple(map(float, true[2])), 0.8),
        ]
        if self.group:
            x0 = min(d.box[0] for d in found)
            x1 = max(d.box[2] for d in found)
            found.insert(0, Detection((x0, 0.0, x1, float(h)), 0.95))
        return found


def _proposals(segs, clip, frame_idx, group=False):
    detector = KnownBoxes(frame_idx, group)
    session = TrackingSession(segs, clip)
    return session, SessionProposals(detector, session)


def test_a_click_inside_a_proposal_assigns_its_mask(segs, clip):
    session, props = _proposals(segs, clip, 2)
    found = props.get(2)
    assert [p.id for p in found] == [1, 2] and found[0].box == tuple(map(float, boxes(2, W, H)[1]))
    for p in found:
        assert p.mask.shape == (H, W) and p.mask.dtype == bool
        np.testing.assert_array_equal(p.mask, session.segment_box(2, p.box))
    chosen = props.click(2, "person_1", *centre(2, 1, W, H))
    assert chosen is found[0]
    np.testing.assert_array_equal(session.mask(2, "person_1"), found[0].mask)
    chosen = props.click(2, "person_2", *centre(2, 2, W, H))
    assert chosen is found[1]
    assert session.objects == ["person_1", "person_2"]
    # a positive click still refines the picked proposal; undo goes back to it, then to nothing
    session.add_points(2, "person_1", [centre(2, 1, W, H)], [1])
    np.testing.assert_array_equal(session.undo("person_1"), found[0].mask)
    assert session.undo("person_1") is None
    # cached: one detector run and one image encode for the frame, however often it is asked
    props.get(2)
    props.get(2, min_score=0.85)
    assert props.detect_count == 1 and session.encode_count == 1


def test_overlapping_proposals_resolve_to_the_smaller_box(segs, clip):
    session, props = _proposals(segs, clip, 1, group=True)
    group, p1, p2 = props.get(1)
    assert group.box_area > p1.box_area and group.contains(*centre(1, 1, W, H))
    assert props.click(1, "person_2", *centre(1, 2, W, H)) is p2
    assert props.click(1, "person_1", *centre(1, 1, W, H)) is p1
    np.testing.assert_array_equal(
        session.mask(1, "person_1") | session.mask(1, "person_2"), session.label_map(1) > 0
    )
    # the group box alone is left where no person box is: a click there picks the group
    x = group.box[0] + 0.5
    assert not p1.contains(x, 1) and pick(props.get(1), x, 1) is group


def test_threshold_hides_proposals_but_keeps_ids(segs, clip):
    session, props = _proposals(segs, clip, 0)
    assert [p.id for p in props.get(0, min_score=0.85)] == [1]
    # person 2 is under the threshold: a click on them assigns nothing
    assert props.click(0, "person_2", *centre(0, 2, W, H), min_score=0.85) is None
    assert session.objects == []
    assert props.by_id(0, 2).score == pytest.approx(0.8)
    with pytest.raises(TrackingError, match="no person proposal 3"):
        props.by_id(0, 3)
    with pytest.raises(TrackingError, match="outside the tracked range"):
        props.get(N)


def test_select_clips_drops_duplicates_and_keeps_the_best():
    b = np.array([[-5, 0, 20, 30], [0, 0, 20, 31], [30, 10, 40, 20], [50, 5, 50.5, 9]], float)
    s = np.array([0.5, 0.9, 0.7, 0.99])
    found = select(b, s, (48, 64), keep=5)
    assert [d.score for d in found] == [0.9, 0.7]  # the duplicate and the empty box are gone
    assert found[0].box == (0.0, 0.0, 20.0, 31.0)
    assert select(b, s, (48, 64), keep=1) == found[:1]


def test_tiny_rtdetr_runs_offline(segs, clip):
    preset = load_preset("tiny")
    torch.manual_seed(0)
    detector = load_detector(preset.detector, torch.device("cpu"))
    assert not detector.trained and "random" in detector.source
    frame = read_frame(clip, 0)
    found = detector.detect(frame)
    assert 0 < len(found) <= preset.detector.max_people
    scores = [d.score for d in found]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    for d in found:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    props = SessionProposals(detector, TrackingSession(segs, clip))
    assert [p.box for p in props.get(0)] == [d.box for d in found]
    drawn = draw_proposals(frame, props.get(0))
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8 and (drawn != frame).any()


def test_missing_detector_weights_are_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="detector") as err:
        load_detector(DetectorConfig(), torch.device("cpu"))
    assert "--weights detector=PATH" in str(err.value)
    with pytest.raises(MissingWeightsError, match="gated") as err:
        load_detector(DetectorConfig(kind="sam3", weights="sam3"), torch.device("cpu"))
    assert "SAM License" in str(err.value) and "HF_TOKEN" in str(err.value)
    with pytest.raises(TrackingError, match="SAM License"):
        load_detector(DetectorConfig(kind="sam3", weights=None), torch.device("cpu"))
    with pytest.raises(TrackingError, match="unknown detector.kind"):
        load_detector(DetectorConfig(kind="yolo"), torch.device("cpu"))


@pytest.fixture(scope="module")
def micro_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("preset") / "micro.json"
    path.write_text(to_json(micro_preset()))
    return str(path)


def test_people_cli_prints_proposals(clip, micro_json, capsys):
    assert (
        main(["people", str(clip), "--frame", "1", "--preset", micro_json, "--device", "cpu"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["trained"] is False and "random" in out["detector"]
    assert out["people"] and [p["id"] for p in out["people"]] == list(
        range(1, len(out["people"]) + 1)
    )
    for p in out["people"]:
        assert set(p) == {"id", "box", "score", "area"} and len(p["box"]) == 4
        assert 0 <= p["area"] <= W * H
    cut = out["people"][len(out["people"]) // 2]["score"]
    assert (
        main(
            [
                "people",
                str(clip),
                "--frame",
                "1",
                "--preset",
                micro_json,
                "--device",
                "cpu",
                "--min-score",
                str(cut),
            ]
        )
        == 0
    )
    fewer = json.loads(capsys.readouterr().out)["people"]
    assert [p["id"] for p in fewer] == [p["id"] for p in out["people"] if p["score"] >= cut]


def test_track_cli_picks_proposals_and_boxes(clip, micro_json, tmp_path, capsys):
    common = [
        str(clip),
        "--frame",
        "1",
        "--end",
        "3",
        "--preset",
        micro_json,
        "--device",
        "cpu",
        "--no-progress",
    ]
    box = ",".join(str(v) for v in boxes(1, W, H)[2])
    code = main(["track", *common, "--p1-id", "1", "--p2-box", box, "--out", str(tmp_path)])
    assert code == 0 and (tmp_path / "masks.npz").exists()
    capsys.readouterr()
    assert main(["track", *common, "--p1-id", "99", "--p2-box", box, "--out", str(tmp_path)]) == 1
    assert "no person proposal 99" in capsys.readouterr().err
    code = main(
        ["track", *common, "--p1-id", "1", "--p1-box", box, "--p2-id", "2", "--out", str(tmp_path)]
    )
    assert code == 1 and "choose one" in capsys.readouterr().err
