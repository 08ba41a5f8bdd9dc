"""Streams, overlay, mask exports and the HHIRChat sample, from known label maps (no models)."""

from __future__ import annotations

import errno
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from tracking_utils import P1_COLOUR, make_clip, make_frame, true_labels

from ovhhir_core import masking
from ovhhir_core.data.export import export_hhirchat_sample
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.errors import UserError
from ovhhir_core.masking import (
    davis_palette,
    export_masks_npz,
    export_masks_png_zip,
    load_masks_npz,
    load_masks_png_zip,
    overlay_frame,
    write_streams,
)
from ovhhir_core.streams import DESCRIBE_QUESTION
from ovhhir_core.tracking.labels import LabelStore
from ovhhir_core.video import VideoError, iter_frames, probe

W, H, N, FPS = 64, 48, 8, 10


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", N, W, H, FPS)


@pytest.fixture(scope="module")
def labels():
    store = LabelStore()
    for i in range(N):
        store[i] = true_labels(i, W, H)
    return store


@pytest.fixture(scope="module")
def streams(clip, labels, tmp_path_factory):
    calls = []
    out = write_streams(
        clip,
        labels,
        tmp_path_factory.mktemp("streams"),
        start=1,
        end=7,
        fill=(0, 255, 0),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(i, 6) for i in range(1, 7)]
    return out


def _codec(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return s.codec_context.name, s.format.name


def test_streams_have_frame_count_fps_size_and_are_h264(streams):
    assert set(streams) == {"person_1", "person_2", "background", "overlay"}
    for path in streams.values():
        info = probe(path)
        assert (info.num_frames, info.width, info.height) == (6, W, H)
        assert info.fps == pytest.approx(FPS, rel=0.01)
        assert _codec(path) == ("h264", "yuv420p")


def _eroded(mask: np.ndarray, r: int = 2) -> np.ndarray:
    """Pixels at least ``r`` away from the mask edge (H.264 blurs edges)."""
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out &= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


def test_pixels_under_persons_are_the_fill_in_background(streams):
    fill = np.array([0, 255, 0], float)
    for k, (_, frame) in enumerate(iter_frames(streams["background"])):
        src_idx = 1 + k
        truth = true_labels(src_idx, W, H)
        persons = _eroded(truth > 0)
        assert np.abs(frame[persons].astype(float) - fill).mean() < 12
        original = make_frame(src_idx, W, H)
        bg = _eroded(truth == 0)
        assert np.abs(frame[bg].astype(float) - original[bg]).mean() < 12


def test_person_stream_keeps_only_that_person(streams):
    for k, (_, frame) in enumerate(iter_frames(streams["person_1"])):
        truth = true_labels(1 + k, W, H)
        inside, outside = _eroded(truth == 1), _eroded(truth != 1)
        assert np.abs(frame[inside].astype(float) - P1_COLOUR).mean() < 20
        assert np.abs(frame[outside].astype(float) - [0, 255, 0]).mean() < 12


def test_png_zip_round_trip_is_exact(labels, tmp_path):
    path = export_masks_png_zip(labels, tmp_path / "masks.zip")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        img = Image.open(zf.open(names[0]))
        assert img.mode == "P"
        assert img.getpalette()[3:9] == davis_palette()[1:3].reshape(-1).tolist()
    assert names == [f"{i:05d}.png" for i in range(N)]
    back = load_masks_png_zip(path)
    assert list(back) == list(labels)
    for i in labels:
        np.testing.assert_array_equal(back[i], labels[i])


@pytest.mark.parametrize("kind", ["npz", "zip"])
def test_loaders_read_only_the_frames_picked(labels, tmp_path, kind):
    export, load = {
        "npz": (export_masks_npz, load_masks_npz),
        "zip": (export_masks_png_zip, load_masks_png_zip),
    }[kind]
    shifted = {i + 7: m for i, m in labels.items()}  # a clip tracked from frame 7
    path = export(shifted, tmp_path / f"masks.{kind}")
    seen = []

    def pick(keys):
        seen.append(keys)
        return [keys[0] + 1, keys[0] + 3, 10_000]  # a frame the file lacks is skipped

    back = load(path, pick)
    assert seen == [sorted(shifted)] and list(back) == [8, 10]
    np.testing.assert_array_equal(back[10], labels[3])


def test_npz_round_trip_is_exact(labels, tmp_path):
    path = export_masks_npz(labels, tmp_path / "masks.npz")
    back = load_masks_npz(path)
    assert list(back) == list(labels)
    for i in labels:
        assert back[i].dtype == np.uint8
        np.testing.assert_array_equal(back[i], labels[i])
    with np.load(path) as data:  # a plain npz any tool can read
        assert "frame_00003" in data.files


def test_label_store_is_compact_and_ordered():
    store = LabelStore()
    big = np.zeros((480, 640), np.uint8)
    big[100:300, 200:300] = 1
    for i in (5, 1, 3):
        store[i] = big
    assert list(store) == [1, 3, 5] and len(store) == 3
    np.testing.assert_array_equal(store[3], big)
    assert store.nbytes() < big.nbytes / 50
    store.remove_value(1)
    assert store[5].max() == 0


def test_overlay_colours_masks_and_keeps_background():
    frame = make_frame(0, W, H)
    truth = true_labels(0, W, H)
    out = overlay_frame(frame, truth)
    assert out.shape == frame.shape and out.dtype == np.uint8
    inner = _eroded(truth == 2, 3)
    assert not np.array_equal(out[inner], frame[inner])
    far = np.zeros_like(truth, bool)
    far[-6:, -20:] = True  # bottom-right corner: no mask, no legend
    far &= truth == 0
    np.testing.assert_array_equal(out[far], frame[far])
    with pytest.raises(UserError):
        overlay_frame(frame, truth[:10])


def test_overlay_outlines_each_person_in_its_colour_at_its_edge():
    frame = np.full((120, 160, 3), 128, np.uint8)
    labels = np.zeros((120, 160), np.uint8)
    labels[30:90, 20:60] = 1  # person 1 alone
    labels[30:90, 100:140] = 2  # person 2 alone
    out = overlay_frame(frame, labels)
    p1, p2 = masking.OVERLAY_COLOURS[1], masking.OVERLAY_COLOURS[2]
    assert tuple(out[60, 20]) == p1 and tuple(out[60, 19]) == p1  # both sides of the left edge
    assert tuple(out[30, 120]) == p2 and tuple(out[89, 120]) == p2
    inside, outside = out[60, 40], out[60, 80]  # tinted, not outlined; untouched
    assert tuple(inside) not in (p1, p2) and tuple(outside) == (128, 128, 128)
    labels[30:90, 60:100] = 2  # now touching: the shared edge takes the higher label's colour
    out = overlay_frame(frame, labels)
    assert tuple(out[60, 60]) == p2 and tuple(out[60, 59]) == p2


def test_hhirchat_sample_loads_back(streams, tmp_path):
    path = export_hhirchat_sample(streams, tmp_path, "clip7", answer="Two people walk past.")
    (sample,) = load_dataset(path, check_files=True)
    assert sample.id == "clip7"
    assert sample.p1.name == "clip7_p1.mp4" and sample.bg.name == "clip7_bg.mp4"
    assert sample.conversations[0].text == DESCRIBE_QUESTION
    assert sample.answer == "Two people walk past."
    assert probe(sample.p2).num_frames == 6
    assert sample.fill == (0, 0, 0)
    green = export_hhirchat_sample(streams, tmp_path / "g", "clip8", fill=(0, 255, 0))
    assert load_dataset(green)[0].fill == (0, 255, 0)  # the colour the streams were written with
    with pytest.raises(UserError):
        export_hhirchat_sample({"person_1": streams["person_1"]}, tmp_path, "x")
    with pytest.raises(UserError):
        export_hhirchat_sample(streams, tmp_path, "../escape")


def test_failing_video_leaves_nothing_behind(clip, labels, tmp_path, monkeypatch):
    real = masking.iter_frames

    def broken(*args, **kwargs):
        for k, item in enumerate(real(*args, **kwargs)):
            if k == 3:
                raise VideoError("clip.mp4: frame 3 could not be decoded (test)")
            yield item

    monkeypatch.setattr(masking, "iter_frames", broken)
    out = tmp_path / "out"
    with pytest.raises(VideoError, match="frame 3"):
        write_streams(clip, labels, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_fill_and_size_mismatch(clip, tmp_path):
    with pytest.raises(UserError, match="fill"):
        write_streams(clip, {}, tmp_path, fill=(0, 300, 0))
    with pytest.raises(UserError, match="label map"):
        write_streams(clip, {0: np.zeros((10, 10), np.uint8)}, tmp_path / "x")
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []


def test_streams_from_frames_with_dataset_names_and_resized_labels(tmp_path):
    """The synthetic generator's and the builder's use: in-memory frames, ``<id>_p1.mp4`` names,
    label maps of another size resized, other people (label 3) kept in the background."""
    frames = [make_frame(i, W, H) for i in range(4)]
    small = {}
    for i in range(4):
        lab = true_labels(i, W, H)
        lab[:4, :8] = 3  # a third person in the corner
        small[i] = lab[::2, ::2]  # half size
    with pytest.raises(UserError, match="label map"):
        write_streams(enumerate(frames), small, tmp_path / "x", fps=FPS, prefix="s")
    out = write_streams(
        enumerate(frames),
        small.get,  # a function works as well as a mapping
        tmp_path / "d",
        fps=FPS,
        prefix="s7",
        overlay=False,
        resize_labels=True,
        fill=255,
    )
    assert sorted(p.name for p in out.values()) == ["s7_bg.mp4", "s7_p1.mp4", "s7_p2.mp4"]
    (_, bg), *_ = iter_frames(out["background"])
    (_, p1), *_ = iter_frames(out["person_1"])
    truth = true_labels(0, W, H)
    assert np.abs(bg[:3, :6].astype(float) - frames[0][:3, :6]).mean() < 20  # third person kept
    assert np.abs(bg[_eroded(truth == 1)].astype(float) - 255).mean() < 12
    assert np.abs(p1[_eroded(truth == 1)].astype(float) - P1_COLOUR).mean() < 20
    with pytest.raises(UserError, match="fps"):
        write_streams(enumerate(frames), small, tmp_path / "y", prefix="s")
    with pytest.raises(UserError, match="no frames"):
        write_streams(iter(()), {}, tmp_path / "z", fps=FPS)
    assert not (tmp_path / "z").exists() or list((tmp_path / "z").iterdir()) == []


def _disk_full_after(calls: int):
    """A replacement that works ``calls`` times, then fails as a full disk does."""
    count = [0]

    def fail(real):
        def wrapper(*args, **kwargs):
            count[0] += 1
            if count[0] > calls:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(*args, **kwargs)

        return wrapper

    return fail


def _half_then_full_disk(self, text, *args, **kwargs):
    """``Path.write_text`` on a disk that fills up halfway through."""
    with open(self, "w", encoding="utf-8") as f:
        f.write(text[: len(text) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def _files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("method", ["write", "close"])
def test_full_disk_while_writing_streams_leaves_no_file(
    clip, labels, tmp_path, monkeypatch, method
):
    """ENOSPC partway through a frame write, or while the last stream is flushed (after the
    first ones were already complete): no stream, overlay or temporary file is left."""
    real = getattr(masking.VideoWriter, method)
    monkeypatch.setattr(
        masking.VideoWriter, method, _disk_full_after(10 if method == "write" else 2)(real)
    )
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space"):
        write_streams(clip, labels, out)
    assert _files(out) == []


def test_full_disk_while_exporting_masks_leaves_no_file(labels, tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile.ZipFile, "writestr", _disk_full_after(3)(zipfile.ZipFile.writestr))
    with pytest.raises(OSError, match="No space"):
        export_masks_png_zip(labels, tmp_path / "masks.zip")
    monkeypatch.undo()
    monkeypatch.setattr(
        np.lib.format, "write_array", _disk_full_after(3)(np.lib.format.write_array)
    )
    with pytest.raises(OSError, match="No space"):
        export_masks_npz(labels, tmp_path / "masks.npz")
    assert _files(tmp_path) == []


def test_full_disk_while_exporting_a_sample_leaves_no_sample(streams, tmp_path, monkeypatch):
    import shutil

    from ovhhir_core.data import export

    monkeypatch.setattr(export.shutil, "copyfile", _disk_full_after(2)(shutil.copyfile))
    with pytest.raises(OSError, match="No space"):
        export_hhirchat_sample(streams, tmp_path / "s", "c1")
    assert _files(tmp_path / "s") == []  # neither the two copies made nor a JSON
    monkeypatch.undo()
    monkeypatch.setattr(Path, "write_text", _half_then_full_disk)  # the sample's JSON
    with pytest.raises(OSError, match="No space"):
        export_hhirchat_sample(streams, tmp_path / "t", "c2")
    assert _files(tmp_path / "t") == []


def test_npz_loader_refuses_a_zip_of_pngs_in_words(tmp_path):
    labels = {0: np.zeros((4, 6), np.uint8), 1: np.ones((4, 6), np.uint8)}
    png_zip = export_masks_png_zip(labels, tmp_path / "masks.zip")
    with pytest.raises(UserError, match="not a mask npz"):
        load_masks_npz(png_zip.rename(tmp_path / "masks.npz"))
