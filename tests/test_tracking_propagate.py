"""Propagation: covers the range both ways, flat memory, cancel, failures; the ``track`` CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tracking_utils import centre, make_clip, micro_preset, micro_segmenters

from ovhhir_core.answering import TrackedClip
from ovhhir_core.cli import main
from ovhhir_core.config import to_json
from ovhhir_core.masking import load_masks_npz, load_masks_png_zip
from ovhhir_core.tracking import TrackingError, TrackingSession
from ovhhir_core.tracking.sam2 import Propagator
from ovhhir_core.video import VideoError, probe

W, H, N = 64, 48, 7


@pytest.fixture(scope="module")
def segs():
    return micro_segmenters()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", N, W, H)


def test_propagation_covers_the_range_in_both_directions(segs, clip):
    s = TrackingSession(segs, clip, start=1, end=6)
    s.add_points(3, "person_1", [centre(3, 1, W, H)], [1])
    s.add_box(3, "person_2", (30, 8, 63, 44))
    before = s.label_map(3)
    order = []
    for frame_idx, label_map in s.propagate():
        assert label_map.shape == (H, W) and label_map.dtype == np.uint8
        assert set(np.unique(label_map)) <= {0, 1, 2}
        order.append(frame_idx)
    assert order == [3, 4, 5, 2, 1]  # forward from the click, then backward
    assert list(s.labels) == [1, 2, 3, 4, 5] and s.propagation_complete
    np.testing.assert_array_equal(s.labels[3], before)  # the seed frame keeps the click masks
    np.testing.assert_array_equal(s.label_map(4), s.labels[4])


def test_objects_first_marked_on_different_frames(segs, clip):
    s = TrackingSession(segs, clip, start=0, end=5)
    s.add_points(1, "person_1", [centre(1, 1, W, H)], [1])
    s.add_points(3, "person_2", [centre(3, 2, W, H)], [1])
    frames = [f for f, _ in s.propagate()]
    # forward from frame 1 (person_2 joins at 3), then backward over what is left per object;
    # frames 1 and 2 wait for the backward pass to add person_2: each frame comes once
    assert frames == [3, 4, 2, 1, 0]
    assert list(s.labels) == [0, 1, 2, 3, 4]


def test_memory_bank_stays_bounded(segs):
    frames = [
        np.random.default_rng(i).integers(0, 255, (H, W, 3), dtype=np.uint8) for i in range(12)
    ]

    def source(lo, hi, reverse):
        order = range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)
        return ((i, frames[i]) for i in order)

    mask = np.zeros((H, W), bool)
    mask[10:30, 10:30] = True
    run = Propagator(segs.tracker, segs.processor, segs.device, segs.lock, {2: {1: mask}}, (H, W))
    cfg = segs.tracker.config
    sizes = []
    for _ in run.run(source, 0, 12):
        session = run._sessions[1]
        assert not session.processed_frames  # no decoded frame is kept
        non_cond = session.output_dict_per_obj[0]["non_cond_frame_outputs"]
        full = [f for f, out in non_cond.items() if "maskmem_features" in out]
        assert len(full) <= cfg.num_maskmem - 1
        assert len(non_cond) <= cfg.max_object_pointers_in_encoder
        sizes.append(len(non_cond))
    assert max(sizes) == cfg.max_object_pointers_in_encoder  # the window fills, then stays


def test_cancel_keeps_frames_done_and_failure_keeps_old_labels(segs, clip, monkeypatch):
    s = TrackingSession(segs, clip)
    s.add_points(0, "person_1", [centre(0, 1, W, H)], [1])
    done = []
    for frame_idx, _ in s.propagate(cancel=lambda: len(done) >= 2):
        done.append(frame_idx)
    assert done == [0, 1] and list(s.labels) == [0, 1] and not s.propagation_complete

    import ovhhir_core.video as video_module

    real = video_module.iter_frames

    def broken(path, start=0, end=None, **kw):
        for k, item in enumerate(real(path, start, end, **kw)):
            if k == 1 and start == 0 and end != 1:
                raise VideoError("clip.mp4: frame 1 could not be decoded (test)")
            yield item

    monkeypatch.setattr(video_module, "iter_frames", broken)
    with pytest.raises(VideoError, match="frame 1"):
        list(s.propagate())
    assert list(s.labels) == [0, 1]  # the failed run changed nothing


def test_track_cli_writes_everything(clip, tmp_path, capsys):
    preset = tmp_path / "micro.json"
    preset.write_text(to_json(micro_preset()))
    out = tmp_path / "out"
    p1 = centre(2, 1, W, H)
    argv = [
        "track",
        str(clip),
        "--p1",
        f"{p1[0]},{p1[1]}",
        "--p1-neg",
        "1,1",
        "--p2-box",
        "30,8,63,44",
        "--frame",
        "2",
        "--start",
        "1",
        "--end",
        "5",
        "--fill",
        "0,255,0",
        "--preset",
        str(preset),
        "--device",
        "cpu",
        "--id",
        "s0",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "tracking" in printed.err  # the progress bar
    for name in ("person_1", "person_2", "background", "overlay"):
        info = probe(out / f"{name}.mp4")
        assert (info.num_frames, info.width, info.height) == (4, W, H)
    png, npz = load_masks_png_zip(out / "masks.zip"), load_masks_npz(out / "masks.npz")
    assert list(png) == list(npz) == [1, 2, 3, 4]
    for i in png:
        np.testing.assert_array_equal(png[i], npz[i])
    (entry,) = json.loads((out / "s0.json").read_text())
    assert (entry["p1"], entry["p2"], entry["bg"]) == ("s0_p1.mp4", "s0_p2.mp4", "s0_bg.mp4")
    assert not [p for p in out.iterdir() if p.name.startswith(".part-")]
    clip_read = TrackedClip.from_track_dir(out)  # the track folder records the fill used
    assert clip_read.fill == (0, 255, 0) and clip_read.masks == out / "masks.npz"
    info = json.loads((out / "track.json").read_text())
    assert (info["start_frame"], info["end_frame"], info["sample_id"]) == (1, 5, "s0")
    assert info["segmenter"]["trained"] is False  # the micro preset: random weights


def test_track_cli_bad_input(clip, tmp_path, capsys):
    assert main(["track", str(clip), "--p2", "5,5", "--out", str(tmp_path)]) == 1
    assert "--p1" in capsys.readouterr().err
    assert (
        main(
            [
                "track",
                str(clip),
                "--p1",
                "500,5",
                "--p2",
                "5,5",
                "--device",
                "cpu",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "outside the frame" in capsys.readouterr().err
    assert main(["track", str(clip), "--p1", "5", "--out", str(tmp_path)]) == 2  # argparse refuses
    assert capsys.readouterr().err.startswith("error: python -m ovhhir_core track: argument --p1")
    assert issubclass(TrackingError, Exception)
