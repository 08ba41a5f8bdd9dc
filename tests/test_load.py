"""Load: 8 concurrent gradio_client sessions on the tiny preset, each with its own clip.

Each uploads a different clip, clicks the two people, tracks 10 frames and asks one question. All
must finish without an error, and each must get its own clip's results. Prints p50/p95 latency
and peak RSS (``pytest -s -m load`` shows them).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.load_utils import figures, make_clips, run_load, serve

pytestmark = pytest.mark.load
SESSIONS = 8


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


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
        assert r.outputs["answer"]  # a streamed answer arrived (tiny model: noise)
        assert probe(r.outputs["person_1"]).num_frames == 10
        # the overlay shows this session's clip, not another one's
        shown = read_frame(r.outputs["overlay"], 0)
        own = mean_abs_diff(shown, r.clip.first_frame)
        others = [mean_abs_diff(shown, c.first_frame) for j, c in enumerate(clips) if j != i]
        assert own < min(others), (i, own, others)
        npz = next(f for f in r.outputs["files"] if f.endswith("_masks.npz"))
        labels = load_masks_npz(npz)
        assert sorted(labels) == list(range(10))
        assert (labels[0] == 1).any() and (labels[0] == 2).any()  # both people were segmented
        masks.append(labels[0])
    distinct = {m.tobytes() for m in masks}
    assert len(distinct) == SESSIONS  # no two sessions got the same masks
