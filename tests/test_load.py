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
        npz = next(f for f in r.outputs["files"] if f.endswith("_masks.npz"))
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
        own = mean_abs_diff(rebuilt, r.clip.first_frame)
        others = [mean_abs_diff(rebuilt, c.first_frame) for j, c in enumerate(clips) if j != i]
        assert own < 25 and own < min(others) / 2, (i, own, others)
        masks.append(labels[0])
    distinct = {m.tobytes() for m in masks}
    assert len(distinct) == SESSIONS  # no two sessions got the same masks
