"""Video I/O: probing, random access equal to sequential decoding, sampling, writing, bad files."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
from video_utils import decoded_index, make_frame, make_video

from ovhhir_core import video
from ovhhir_core.errors import UserError

FORMATS = [
    ("h264.mp4", "libx264", "yuv420p", 64, 48, False),
    ("mpeg4.avi", "mpeg4", "yuv420p", 64, 48, False),
    ("mjpeg.avi", "mjpeg", "yuvj420p", 64, 48, False),
    ("h264.mov", "libx264", "yuv420p", 64, 48, False),
    ("vp9.webm", "libvpx-vp9", "yuv420p", 64, 48, False),
    ("vp8.webm", "libvpx", "yuv420p", 64, 48, False),
    ("odd.mp4", "libx264", "yuv444p", 65, 47, False),
    ("vfr.mp4", "libx264", "yuv420p", 64, 48, True),
    ("vfr.mkv", "libx264", "yuv420p", 64, 48, True),
]


def _sequential(path) -> list[np.ndarray]:
    """Reference: every frame by plain sequential decoding, sorted by pts."""
    with av.open(str(path)) as c:
        frames = [(f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    return [f for _, f in sorted(frames, key=lambda t: t[0])]


@pytest.mark.parametrize("name,codec,pix_fmt,w,h,vfr", FORMATS, ids=[f[0] for f in FORMATS])
def test_formats_probe_and_random_access(tmp_path, name, codec, pix_fmt, w, h, vfr):
    path = make_video(tmp_path / name, 40, w, h, codec=codec, pix_fmt=pix_fmt, vfr_gaps=vfr)
    info = video.probe(path)
    assert (info.num_frames, info.width, info.height) == (40, w, h)
    if vfr:
        # 40 frames: 13 last 120 ms, 27 last 40 ms -> about 2.6 s, average rate ~15 fps
        assert info.duration == pytest.approx(0.04 * 27 + 0.12 * 13, abs=0.13)
        assert info.fps == pytest.approx(40 / info.duration, rel=0.01)
    else:
        assert info.fps == pytest.approx(25)
        assert info.duration == pytest.approx(40 / 25, abs=0.05)
    reference = _sequential(path)
    idx, arr = video.sample_frames(path, 16)
    assert arr.shape == (16, h, w, 3) and arr.dtype == np.uint8
    for i, frame in zip(idx, arr, strict=True):
        np.testing.assert_array_equal(frame, reference[i])
    assert [decoded_index(f) for f in arr] == [i % 32 for i in idx]
    np.testing.assert_array_equal(video.read_frame(path, 33), reference[33])


def test_iter_frames_range_and_stride(tmp_path):
    path = make_video(tmp_path / "a.mp4", 30)
    got = list(video.iter_frames(path, start=5, end=23, stride=4))
    assert [i for i, _ in got] == [5, 9, 13, 17, 21]
    assert [decoded_index(f) for _, f in got] == [5, 9, 13, 17, 21]
    assert len(list(video.iter_frames(path))) == 30


def test_max_side_resizes_keeping_aspect(tmp_path):
    path = make_video(tmp_path / "a.mp4", 5, 128, 96)
    frame = video.read_frame(path, 2, max_side=64)
    assert frame.shape == (48, 64, 3)
    assert video.scaled_size(128, 96, 1000) == (128, 96)


def test_sample_indices_uniform_and_repeating():
    assert video.sample_indices(4, 0, 8) == [1, 3, 5, 7]
    assert video.sample_indices(16, 10, 26) == list(range(10, 26))
    assert video.sample_indices(3, 0, 1) == [0, 0, 0]
    with pytest.raises(ValueError):
        video.sample_indices(4, 5, 5)


def test_one_frame_video(tmp_path):
    path = make_video(tmp_path / "one.mp4", 1)
    assert video.probe(path).num_frames == 1
    idx, arr = video.sample_frames(path, 16)
    assert idx == [0] * 16 and arr.shape[0] == 16


def test_long_video_sampling_seeks(tmp_path):
    """Sampling 16 frames of a long video decodes far fewer than all frames (keyframe every 1 s)."""
    path = make_video(tmp_path / "long.mp4", 1500, 64, 48, fps=25, gop=25)
    decoded = 0
    real_decode = av.container.InputContainer.decode

    def counting_decode(self, *args, **kwargs):
        nonlocal decoded
        for frame in real_decode(self, *args, **kwargs):
            decoded += 1
            yield frame

    av.container.InputContainer.decode = counting_decode
    try:
        idx, arr = video.sample_frames(path, 16)
    finally:
        av.container.InputContainer.decode = real_decode
    assert [decoded_index(f) for f in arr] == [i % 32 for i in idx]
    assert decoded <= 16 * 25


def test_writer_h264_even_size_and_fps(tmp_path):
    frames = [make_frame(i, 65, 47) for i in range(12)]
    out = video.write_video(tmp_path / "out" / "w.mp4", frames, fps=30000 / 1001)
    info = video.probe(out)
    assert info.codec == "h264" and info.num_frames == 12
    assert (info.width, info.height) == (66, 48)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    assert [p.name for p in out.parent.iterdir()] == ["w.mp4"]


def test_writer_keeps_colours_as_ffmpeg_converts_them(tmp_path):
    """A player must see the colours FFmpeg's conversion to YUV 4:2:0 gives (BT.601, limited
    range): flat patches of the overlay and fill colours, written and read back."""
    colours = [(255, 255, 255), (0, 0, 0), (230, 57, 70), (29, 130, 230), (0, 255, 0), (90, 90, 90)]
    frame = np.zeros((64, 96, 3), np.uint8)
    for i, c in enumerate(colours):
        frame[:, i * 16 : (i + 1) * 16] = c
    out = video.write_video(tmp_path / "c.mp4", [frame] * 3, fps=10)
    ffmpeg = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p")
    expected = ffmpeg.reformat(format="rgb24").to_ndarray()
    (_, got), *_ = list(video.iter_frames(out, 0, 1))
    for i in range(len(colours)):  # patch centres, away from chroma and codec edges
        patch = (slice(24, 40), slice(i * 16 + 4, i * 16 + 12))
        diff = np.abs(got[patch].astype(int) - expected[patch].astype(int))
        assert diff.mean() < 3, (colours[i], got[patch].mean((0, 1)), expected[patch].mean((0, 1)))


def test_writer_failure_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with video.VideoWriter(tmp_path / "x.mp4", 25) as w:
            w.write(make_frame(0, 32, 32))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(video.VideoError, match="size changed"):
        with video.VideoWriter(tmp_path / "y.mp4", 25) as w:
            w.write(make_frame(0, 32, 32))
            w.write(make_frame(1, 30, 32))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content,match",
    [
        (b"", "empty"),
        (b"this is not a video\n" * 50, "not a readable video"),
        (os.urandom(4096), "not a readable video"),
    ],
)
def test_bad_files_raise_video_error(tmp_path, content, match):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(video.VideoError, match=match) as err:
        video.probe(path)
    assert isinstance(err.value, UserError)
    assert "ffmpeg" in str(err.value) or "empty" in str(err.value)


def test_missing_file_and_no_video_stream(tmp_path):
    with pytest.raises(video.VideoError, match="does not exist"):
        video.probe(tmp_path / "nope.mp4")
    audio = tmp_path / "a.m4a"
    with av.open(str(audio), "w") as c:
        s = c.add_stream("aac", rate=16000)
        fr = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        fr.sample_rate = 16000
        for pk in list(s.encode(fr)) + list(s.encode(None)):
            c.mux(pk)
    with pytest.raises(video.VideoError, match="no video stream"):
        video.probe(audio)


def test_truncated_files(tmp_path):
    mp4 = make_video(tmp_path / "t.mp4", 120)
    mp4.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    with pytest.raises(video.VideoError):
        video.probe(mp4)
    mkv = make_video(tmp_path / "t.mkv", 120)
    mkv.write_bytes(mkv.read_bytes()[: mkv.stat().st_size // 2])
    info = video.probe(mkv)  # matroska streams: what arrived is usable
    assert 0 < info.num_frames < 120
    idx, arr = video.sample_frames(mkv, 8)
    assert [decoded_index(f) for f in arr] == [i % 32 for i in idx]


def test_out_of_range_frames(tmp_path):
    path = make_video(tmp_path / "a.mp4", 10)
    with pytest.raises(video.VideoError, match="outside"):
        video.read_frame(path, 10)
    with pytest.raises(video.VideoError, match="outside"):
        list(video.iter_frames(path, start=-1))
    with pytest.raises(video.VideoError, match="end frame"):
        video.sample_frames(path, 4, start=5, end=5)


def test_index_cache_sees_file_changes(tmp_path):
    path = make_video(tmp_path / "a.mp4", 10)
    assert video.probe(path).num_frames == 10
    make_video(path, 14)
    os.utime(path, ns=(1, 10**18))
    assert video.probe(path).num_frames == 14
