"""The app's download is a track folder: unzipped, ``describe --track-dir`` reads it (tiny preset)."""

from __future__ import annotations

import json
import zipfile

import gradio as gr
import numpy as np
import pytest

from app.settings import Caps, Settings
from app.state import Services
from app.track_handlers import TrackHandlers
from ovhhir_core import cli
from ovhhir_core.answering import TrackedClip, backends
from ovhhir_core.data.synthetic import render_clip
from ovhhir_core.hub import MissingWeightsError
from ovhhir_core.video import write_video

POS = "Positive (this is the person)"
TRACK_FOLDER = {
    "person_1.mp4",
    "person_2.mp4",
    "background.mp4",
    "overlay.mp4",
    "masks.npz",
    "masks.zip",
    "timeline.json",
    "timeline.png",
    "track.json",
    "Clip_one.json",
    "Clip_one_p1.mp4",
    "Clip_one_p2.mp4",
    "Clip_one_bg.mp4",
}


@pytest.fixture
def services(tmp_path):
    svc = Services(
        Settings(preset="tiny", device="cpu", caps=Caps(max_frames=50)), root=tmp_path / "s"
    )
    yield svc
    svc.close()


def _click(label_map: np.ndarray, value: int) -> gr.SelectData:
    ys, xs = np.nonzero(label_map == value)
    i = len(ys) // 2
    return gr.SelectData(None, {"index": [int(xs[i]), int(ys[i])], "value": None, "selected": True})


def test_the_apps_download_unzipped_is_a_track_folder(services, tmp_path, capsys, monkeypatch):
    clip = render_clip("Handshaking", seed=1, size=(160, 120), num_frames=4, fps=4.0)
    video = write_video(tmp_path / "Clip one.mp4", iter(clip.frames), clip.fps)
    track = TrackHandlers(services)
    state = track.load_video(services.new_session(), str(video))[0]
    track.click(state, "Person 1", POS, _click(clip.labels[0], 1))
    track.click(state, "Person 2", POS, _click(clip.labels[0], 2))
    *_, files = list(track.track(state))[-1]
    (download,) = [f for f in files if f.endswith("_track.zip")]
    folder = tmp_path / "downloaded"
    with zipfile.ZipFile(download) as zf:
        assert set(zf.namelist()) == TRACK_FOLDER  # flat: unzips into the folder given
        zf.extractall(folder)
    info = json.loads((folder / "track.json").read_text())
    assert info["fill"] == [0, 0, 0] and info["sample_id"] == "Clip_one"
    assert info["segmenter"]["trained"] is False  # tiny: random weights, recorded
    read = TrackedClip.from_track_dir(folder)
    assert read.masks == folder / "masks.npz" and set(read.streams) == {
        "person_1",
        "person_2",
        "background",
    }

    def no_zeroshot(preset, device, dtype):
        raise MissingWeightsError("zeroshot", "smolvlm2", ["the Hub: offline"], "--weights ...")

    monkeypatch.setattr(backends, "load_zeroshot", no_zeroshot)
    argv = ["describe", "--track-dir", str(folder), "--preset", "tiny", "--device", "cpu"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "Measured from the tracked masks only" in out
    assert out.startswith("The masks were made by a segmenter with RANDOM weights")
    assert "answerer: " in err
