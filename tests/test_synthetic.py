"""Synthetic interactions: exact label maps, determinism, crowded scenes, the written dataset."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ovhhir_core import video
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import (
    CLASSES,
    SyntheticError,
    make_dataset,
    render_clip,
    write_clip,
)
from ovhhir_core.data.taxonomy import load_taxonomy
from ovhhir_core.streams import ONE_WORD_QUESTION

SIZE = (160, 120)
T = 40


@pytest.fixture(scope="module")
def clips():
    return {name: render_clip(name, seed=7, size=SIZE, num_frames=T) for name in CLASSES}


def _touch(labels: np.ndarray, a: int = 1, b: int = 2) -> bool:
    grown = ndimage.binary_dilation(labels == a, iterations=2)
    return bool((grown & (labels == b)).any())


def _centre_x(labels: np.ndarray, k: int) -> float:
    return float(np.nonzero(labels == k)[1].mean())


def test_class_names_are_taxonomy_classes():
    assert len(CLASSES) >= 10
    known = set(load_taxonomy().class_names())
    assert set(CLASSES) <= known
    assert {
        "Approaching",
        "Departing",
        "Handshaking",
        "Hugging",
        "Pushing",
        "Punching",
        "Kicking",
        "Waving",
        "HighFiving",
        "Pointing",
    } <= set(CLASSES)


def test_shapes_and_label_values(clips):
    for name, clip in clips.items():
        assert clip.frames.shape == (T, SIZE[1], SIZE[0], 3) and clip.frames.dtype == np.uint8
        assert clip.labels.shape == (T, SIZE[1], SIZE[0]) and clip.labels.dtype == np.uint8
        assert clip.class_name == name and clip.pairs[0].obj_ids == (1, 2)
        assert set(np.unique(clip.labels)) == {0, 1, 2}
        # both people are visible in every frame
        for k in (1, 2):
            assert ((clip.labels == k).sum(axis=(1, 2)) > 30).all(), (name, k)


def test_labels_are_exactly_the_drawn_pixels(clips):
    for name, clip in clips.items():
        bg = clip.background
        for i in (0, T // 2, T - 1):
            frame, labels = clip.frames[i], clip.labels[i]
            changed = (frame != bg).any(axis=-1)
            assert np.array_equal(changed, labels > 0), name  # area and position match
            colours = [{tuple(c) for c in frame[labels == k]} for k in (1, 2)]
            assert colours[0] and colours[1] and not colours[0] & colours[1]
            assert len(colours[0]) <= 5 and len(colours[1]) <= 5  # the person's palette only


def test_deterministic_by_seed():
    a = render_clip("Punching", seed=3, size=SIZE, num_frames=8)
    b = render_clip("Punching", seed=3, size=SIZE, num_frames=8)
    c = render_clip("Punching", seed=4, size=SIZE, num_frames=8)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.frames, c.frames)


@pytest.mark.parametrize(
    "name",
    ["Handshaking", "Hugging", "Pushing", "Punching", "Kicking", "HighFiving", "FistBumping"],
)
def test_contact_interactions_touch_only_midway(clips, name):
    labels = clips[name].labels
    assert not _touch(labels[0])
    assert any(_touch(labels[i]) for i in range(int(0.4 * T), int(0.75 * T))), name


@pytest.mark.parametrize("name", ["Waving", "Pointing", "Departing"])
def test_distant_interactions_never_touch(clips, name):
    assert not any(_touch(lab) for lab in clips[name].labels)


def test_approach_and_depart_change_distance(clips):
    def gap(clip, i):
        return abs(_centre_x(clip.labels[i], 1) - _centre_x(clip.labels[i], 2))

    app, dep = clips["Approaching"], clips["Departing"]
    assert gap(app, T - 1) < 0.6 * gap(app, 0)
    assert gap(dep, T - 1) > 1.6 * gap(dep, 0)


def test_waving_raises_a_hand(clips):
    labels = clips["Waving"].labels

    def top(i, k):
        return np.nonzero(labels[i] == k)[0].min()

    # someone's topmost pixel (a raised hand) is well above where it starts
    assert (
        min(top(i, k) for i in range(T // 4, 3 * T // 4) for k in (1, 2))
        < min(top(0, 1), top(0, 2)) - 5
    )


def test_crowded_scene_has_two_pairs():
    clip = render_clip("Hugging", seed=1, size=(200, 150), num_frames=12, crowded=True)
    assert clip.num_people == 4
    assert [p.obj_ids for p in clip.pairs] == [(1, 2), (3, 4)]
    assert clip.pairs[0].class_name == "Hugging" and clip.pairs[1].class_name != "Hugging"
    for lab in clip.labels:
        assert set(np.unique(lab)) == {0, 1, 2, 3, 4}
    other = render_clip(
        "Hugging", seed=1, size=(200, 150), num_frames=4, crowded=True, other="Kicking"
    )
    assert other.pairs[1].class_name == "Kicking"


def test_bad_arguments():
    with pytest.raises(SyntheticError, match="no synthetic script"):
        render_clip("Juggling")
    with pytest.raises(SyntheticError, match="size"):
        render_clip("Hugging", size=(10, 10))


def test_write_clip_round_trip(tmp_path):
    clip = render_clip("Kicking", seed=2, size=(96, 72), num_frames=6, fps=10)
    video_path, masks_path = write_clip(clip, tmp_path, "k")
    info = video.probe(video_path)
    assert (info.num_frames, info.width, info.height) == (6, 96, 72)
    data = np.load(masks_path)
    assert np.array_equal(data["labels"], clip.labels)
    assert list(data["frame_idx"]) == list(range(6)) and list(data["obj_ids"]) == [1, 2]
    frame = video.read_frame(video_path, 3).astype(int)
    assert np.abs(frame - clip.frames[3]).mean() < 12  # lossy H.264, same picture


def test_make_dataset_writes_three_streams(tmp_path):
    path = make_dataset(
        tmp_path,
        n_per_class=1,
        classes=["Pushing", "Waving"],
        seed=5,
        size=(64, 48),
        num_frames=6,
        fps=6,
    )
    samples = load_dataset(path, check_files=True)
    tax = load_taxonomy()
    assert [s.label for s in samples] == ["Pushing", "Waving"]
    for s in samples:
        assert s.answer in tax.by_class(s.label).soft_labels
        assert s.one_word == f"{s.label}." and s.conversations[2].text == ONE_WORD_QUESTION
        assert s.source == "synthetic"
    # the person_1 stream is black outside person 1 and shows them inside
    s = samples[0]
    clip = render_clip("Pushing", s.extra["seed"], (64, 48), 6, 6)
    p1 = video.read_frame(s.p1, 2).astype(int).sum(-1)
    bg = video.read_frame(s.bg, 2).astype(int).sum(-1)
    inside = clip.labels[2] == 1
    assert p1[~ndimage.binary_dilation(inside, iterations=2)].mean() < 20
    assert p1[inside].mean() > 60
    assert bg[ndimage.binary_erosion(inside)].mean() < 60 < bg[clip.labels[2] == 0].mean()


def test_full_disk_while_writing_a_clip_leaves_neither_file(tmp_path, monkeypatch):
    import errno

    clip = render_clip("Waving", seed=1, size=(64, 48), num_frames=3)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    with pytest.raises(OSError, match="No space"):
        write_clip(clip, tmp_path, "c")
    assert list(tmp_path.iterdir()) == []
