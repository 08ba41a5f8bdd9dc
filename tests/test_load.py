"""Load: 8 concurrent gradio_client sessions on the tiny preset, each with its own clip.

Each uploads a different clip, clicks the two people, tracks 10 frames and asks one question. All
must finish without an error, and each must get its own clip's results. Prints p50/p95 latency
and peak RSS (``pytest -s -m load`` shows them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.load_utils import figures, make_clips, run_load, serve

pytestmark = pytest.mark.load
SESSIONS = 8


def mean_abs_diff(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(diff[where].mean() if where is not None else diff.mean())


def away_from_edges(labels: np.ndarray, margin: int = 1) -> np.ndarray:
    """Pixels whose label is the same ``margin`` pixels around: where the codec's blur across a
    mask edge (the person stream is the fill colour beyond it) does not reach."""
    import cv2

    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    same = np.ones(labels.shape, bool)
    for value in np.unique(labels):
        region = (labels == value).astype(np.uint8)
        same &= cv2.erode(region, kernel) == region
    return same


def test_eight_concurrent_sessions_each_get_their_own_results(tmp_path):
    from ovhhir_core.masking import load_masks_npz
    from ovhhir_core.video import probe, read_frame

    clips = make_clips(tmp_path / "clips", SESSIONS, frames=10, size=(128, 96))
    demo, services = serve(tmp_path / "root")
    try:
        results, wall = run_load(demo.local_url, clips)
    finally:
        demo.close()
        services.close()
    print("\n" + figures(results, wall))
    assert [r.error for r in results] == [None] * SESSIONS
    masks = []
    for i, r in enumerate(results):
        assert r.outputs["status"] == "Tracked 10 frames (0–9)."
        assert r.clip.path.name in r.outputs["info"]
        # an answer arrived (random weights may say nothing) with what produced it beside it
        assert r.outputs["answer"] is not None and "Answered by" in r.outputs["provenance"]
        assert probe(r.outputs["person_1"]).num_frames == 10
        npz = next(f for f in r.outputs["files"] if Path(f).name == "masks.npz")
        labels = load_masks_npz(npz)
        assert sorted(labels) == list(range(10))
        assert (labels[0] == 1).any() and (labels[0] == 2).any()  # both people were segmented
        # the streams show this session's clip: put back together by the label map (person 1's
        # pixels from its stream, and so on), they are that clip's first frame up to video
        # coding noise, and not another session's
        streams = {k: read_frame(r.outputs[k], 0) for k in ("person_1", "person_2", "background")}
        rebuilt = np.where(
            (labels[0] == 1)[..., None],
            streams["person_1"],
            np.where((labels[0] == 2)[..., None], streams["person_2"], streams["background"]),
        )
        inner = away_from_edges(labels[0])  # random masks are speckled: many edges
        inner = inner if inner.any() else np.ones_like(inner)
        own = mean_abs_diff(rebuilt, r.clip.first_frame, inner)
        others = [
            mean_abs_diff(rebuilt, c.first_frame, inner) for j, c in enumerate(clips) if j != i
        ]
        assert own < min(others) / 2, (i, own, others)
        if inner.mean() > 0.2:  # enough pixels away from mask edges for an absolute bound
            assert own < 25, (i, own, others)
        masks.append(labels[0])
    distinct = {m.tobytes() for m in masks}
    assert len(distinct) == SESSIONS  # no two sessions got the same masks
