"""Track tab handlers as plain functions, with the tiny random-weight segmenters.

Clicks go through a constructed ``gr.SelectData`` exactly as Gradio builds it for ``Image.select``.
"""

from __future__ import annotations

import os

import gradio as gr
import numpy as np
import pytest

from app.settings import Caps, Settings
from app.state import Services
from app.track_handlers import TrackHandlers as Handlers
from ovhhir_core.data.synthetic import render_clip
from ovhhir_core.video import write_video

P1, P2 = "Person 1", "Person 2"
POS, NEG = "Positive (this is the person)", "Negative (not this)"


def centre(label_map: np.ndarray, value: int) -> tuple[int, int]:
    """(x, y) of a pixel inside the region labelled ``value`` (its median row and column)."""
    ys, xs = np.nonzero(label_map == value)
    order = np.argsort(ys)
    y = int(ys[order[len(ys) // 2]])
    row = xs[ys == y]
    return int(row[len(row) // 2]), y


def select(x: int, y: int) -> gr.SelectData:
    return gr.SelectData(None, {"index": [x, y], "value": None, "selected": True})


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    root = tmp_path_factory.mktemp("track")
    svc = Services(
        Settings(preset="tiny", device="cpu", caps=Caps(max_frames=50)), root=root / "sessions"
    )
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two short synthetic clips and the exact label map of their first frame."""
    out = tmp_path_factory.mktemp("clips")
    result = {}
    for name, seed in (("Pushing", 2), ("Waving", 5)):
        clip = render_clip(name, seed=seed, size=(160, 120), num_frames=6, fps=6.0)
        result[name] = (
            str(write_video(out / f"{name}.mp4", iter(clip.frames), clip.fps)),
            clip.labels[0],
        )
    return result


def test_load_video_shows_info_and_first_frame(services, clips):
    h = Handlers(services)
    path, _ = clips["Pushing"]
    state, info, start, end, frame_idx, frame = h.load_video(services.new_session(), path)
    assert "160×120 px" in info and "6 frames" in info and "6.00 fps" in info
    assert (start["maximum"], end["maximum"], end["value"], frame_idx["maximum"]) == (5, 6, 6, 5)
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert state.info.num_frames == 6 and state.start == 0 and state.end == 6


def test_caps_refuse_with_a_message(services, clips, tmp_path):
    h = Handlers(services)
    long_clip = write_video(
        tmp_path / "long.mp4", (np.zeros((16, 16, 3), np.uint8) for _ in range(60)), fps=30
    )
    with pytest.raises(gr.Error, match=r"60 frames.*at most 50 \(OVHHIR_MAX_FRAMES\)"):
        h.load_video(services.new_session(), str(long_clip))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(gr.Error, match="not a readable video"):
        h.load_video(services.new_session(), str(broken))


def test_clicks_draw_masks_undo_clear(services, clips):
    h = Handlers(services)
    path, labels = clips["Pushing"]
    state = h.load_video(services.new_session(), path)[0]
    raw = h.show_frame(state, 0)
    with pytest.raises(gr.Error, match="only negative clicks"):
        h.click(state, P1, NEG, select(*centre(labels, 1)))
    img, text = h.click(state, P1, POS, select(*centre(labels, 1)))
    assert img.shape == raw.shape and not np.array_equal(img, raw)
    assert text == "Person 1: 1 click(s), Person 2: 0 click(s)"
    assert (state.tracking.label_map(0) == 1).any()
    img2, text = h.click(state, P2, POS, select(*centre(labels, 2)))
    assert (state.tracking.label_map(0) == 2).any()
    assert state.tracking.encode_count == 1  # the frame's embedding is cached between clicks
    h.click(state, P2, NEG, select(2, 2))
    _, text = h.undo(state, P2)
    assert text.endswith("Person 2: 1 click(s)")
    _, text = h.clear_person(state, P1)
    assert text.startswith("Person 1: 0 click(s)")
    assert not (state.tracking.label_map(0) == 1).any()
    assert (state.tracking.label_map(0) == 2).any()


def test_trim_and_frame_choice(services, clips):
    h = Handlers(services)
    path, labels = clips["Pushing"]
    state = h.load_video(services.new_session(), path)[0]
    h.click(state, P1, POS, select(*centre(labels, 1)))
    start, end, frame_idx, frame, status = h.set_range(state, 2, 5)
    assert (start["value"], end["value"]) == (2, 5)
    assert (frame_idx["minimum"], frame_idx["maximum"], frame_idx["value"]) == (2, 4, 2)
    assert "clicks were cleared" in status and state.tracking is None
    assert h.set_range(state, 4, 1)[1]["value"] == 5  # end is kept after start
    h.show_frame(state, 3)
    assert state.frame_idx == 4  # clamped into the trimmed range [4, 5)
    h.set_range(state, 2, 5)
    h.show_frame(state, 3)
    assert state.frame_idx == 3
    with pytest.raises(gr.Error, match="Click on Person 1 and Person 2 first"):
        list(h.track(state))


def test_sessions_do_not_share_masks(services, clips):
    h = Handlers(services)
    (path_a, labels_a), (path_b, _) = clips["Pushing"], clips["Waving"]
    a = h.load_video(services.new_session(), path_a)[0]
    b = h.load_video(services.new_session(), path_b)[0]
    raw_b = h.show_frame(b, 0)
    h.click(a, P1, POS, select(*centre(labels_a, 1)))
    assert b.tracking is None
    assert np.array_equal(h.show_frame(b, 0), raw_b)
    assert a.workdir != b.workdir


def test_track_writes_streams_and_exports_then_cancel(services, clips):
    from ovhhir_core.masking import load_masks_npz, load_masks_png_zip
    from ovhhir_core.video import probe

    h = Handlers(services)
    path, labels = clips["Pushing"]
    state = h.load_video(services.new_session(), path)[0]
    h.set_range(state, 0, 3)
    h.click(state, P1, POS, select(*centre(labels, 1)))
    h.click(state, P2, POS, select(*centre(labels, 2)))
    steps = list(h.track(state))
    assert steps[0][0] == "Tracking…"
    status, overlay, p1, p2, bg, files = steps[-1]
    assert status == "Tracked 3 frames (0–2)."
    for video in (overlay, p1, p2, bg):
        info = probe(video)
        assert (info.num_frames, info.width, info.height) == (3, 160, 120)
    names = sorted(f.rsplit("/", 1)[-1] for f in files)
    assert names == [
        "Pushing_track.zip",
        "background.mp4",
        "masks.npz",
        "masks.zip",
        "person_1.mp4",
        "person_2.mp4",
    ]
    npz = load_masks_npz(next(f for f in files if f.endswith(".npz")))
    png = load_masks_png_zip(next(f for f in files if f.endswith("masks.zip")))
    assert sorted(npz) == sorted(png) == [0, 1, 2]
    assert all(np.array_equal(npz[i], png[i]) for i in npz)
    assert set(np.unique(npz[0])) <= {0, 1, 2} and (npz[0] == 1).any() and (npz[0] == 2).any()
    assert set(state.outputs) >= {"person_1", "person_2", "background", "overlay"}

    # Results on screen stay while valid, and are blanked once a click makes them stale.
    kept = h.stale_results(state)
    assert len(kept) == 5 and all(u == gr.update() for u in kept)
    h.click(state, P1, POS, select(*centre(labels, 1)))
    assert h.stale_results(state) == (None, None, None, None, None)
    steps = list(h.track(state))
    assert steps[-1][0] == "Tracked 3 frames (0–2)."

    # Cancel: the flag set while tracking runs stops propagation after the current frame.
    run = h.track(state)
    assert next(run)[0] == "Tracking…"
    assert h.cancel(state) == "Cancelling…"
    status, *videos = list(run)[-1]
    assert status.startswith("Cancelled after") and videos == [None] * 5
    assert state.outputs == {} and state.cancel_requested is False


def test_a_failed_write_leaves_no_result_folder(services, clips, monkeypatch):
    import ovhhir_core.masking as masking

    h = Handlers(services)
    path, labels = clips["Waving"]
    state = h.load_video(services.new_session(), path)[0]
    h.set_range(state, 0, 2)
    h.click(state, P1, POS, select(*centre(labels, 1)))
    h.click(state, P2, POS, select(*centre(labels, 2)))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(masking, "export_masks_npz", full_disk)
    with pytest.raises(OSError, match="No space left"):
        list(h.track(state))
    folder = state.workdir / f"v{state.version}"
    assert [p.name for p in folder.iterdir()] == ["tracked.part"]  # never the final name
    assert state.outputs == {}
    monkeypatch.undo()
    status, overlay, *_ = list(h.track(state))[-1]
    assert status.startswith("Tracked 2 frames")
    assert [p.name for p in folder.iterdir()] == ["tracked"]
    assert state.outputs["overlay"].parent == folder / "tracked"
    # the browser gets its own link to the file, outside the session folder
    assert os.path.samefile(overlay, state.outputs["overlay"])
    assert not overlay.startswith(str(state.workdir))


def test_tracking_rate_shows_its_cost_and_keeps_every_frame(services, clips):
    from ovhhir_core.video import probe

    h = Handlers(services)
    path, labels = clips["Pushing"]
    state = h.load_video(services.new_session(), path)[0]
    n = state.end - state.start
    assert f"~{n} of {n} frames" in h.cost(state)  # the tiny preset tracks every frame
    fewer = -(-n // 3) + 1
    assert f"~{fewer} of {n} frames" in h.set_track_fps(state, state.info.fps / 3)
    h.click(state, P1, POS, select(*centre(labels, 1)))
    h.click(state, P2, POS, select(*centre(labels, 2)))
    status, overlay, *_ = list(h.track(state))[-1]
    assert status.startswith(f"Tracked {n} frames") and probe(overlay).num_frames == n
    assert f"~{n} of {n}" in h.set_track_fps(state, 0)
