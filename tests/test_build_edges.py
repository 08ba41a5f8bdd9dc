"""The dataset builder's edges, each on its own small input: prompts tracked with the tracking
session, a CSV without rows, a full disk while resuming, cleaning an LLM's description."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ovhhir_core import video
from ovhhir_core.commands.build import PromptTracker
from ovhhir_core.data.build import BuildOptions, DatasetBuilder, existing_ids
from ovhhir_core.data.build.describe import clean_description
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.errors import UserError

CLASSES = ["Punching", "Hugging", "Waving", "Kicking"]


def test_clean_description():
    assert clean_description('  "A person  waves."  ') == "A person waves."
    assert clean_description("...") is None
    long = "A person waves. " * 50
    assert clean_description(long, 40) == "A person waves. A person waves."
    assert clean_description("A person waves. Then the other person tur") == "A person waves."
    assert clean_description("No sentence end at all") == "No sentence end at all"


def test_prompts_are_tracked_with_the_tracking_session(tmp_path):
    """Rows with p1/p2 prompts go through TrackingSession (micro random SAM + SAM 2)."""
    from tracking_utils import micro_segmenters

    clip = render_clip("Pushing", seed=3, size=(64, 48), num_frames=4, fps=4)
    write_clip(clip, tmp_path / "in", "c")
    ys, xs = np.nonzero(clip.labels[1] == 1)
    y2, x2 = np.nonzero(clip.labels[1] == 2)
    (tmp_path / "in" / "l.csv").write_text(
        "id,video,label,frame,p1,p2,mask\n"
        f'c,c.mp4,Pushing,1,"{xs[0]},{ys[0]};{xs[-1]},{ys[-1]}",'
        f'"{x2.min()},{y2.min()},{x2.max() + 1},{y2.max() + 1}",\n'
        f'half,c.mp4,Pushing,1,"{xs[0]},{ys[0]}",,\n'
    )
    # the mask file beside c.mp4 is ignored when a row has prompts
    calls = []

    def segmenters():
        calls.append(1)
        return micro_segmenters()

    out = tmp_path / "t.jsonl"
    tracker = PromptTracker(segmenters)
    builder = DatasetBuilder(BuildOptions(tmp_path / "in" / "l.csv", out), tracker=tracker)
    events = {e.row_id: e for e in builder.run()}
    assert events["c"].status == "written" and calls == [1]
    assert events["half"].status == "error" and "both people" in events["half"].message
    s = load_dataset(out, check_files=True)[0]
    assert s.extra["frames"] == [0, 4] and video.probe(s.p2).num_frames == 4


def test_a_csv_without_rows_is_an_error_naming_it(tmp_path):
    (tmp_path / "list.csv").write_text("video,label\n")
    builder = DatasetBuilder(BuildOptions(tmp_path / "list.csv", tmp_path / "d.jsonl"))
    with pytest.raises(UserError, match="list.csv.*no samples"):
        list(builder.run())


def test_full_disk_while_resuming_keeps_the_output_whole(tmp_path, monkeypatch):
    """Dropping a truncated last line rewrites the output; a disk that fills up during the
    rewrite must leave the samples already built as they were."""
    import errno

    out = tmp_path / "d.jsonl"
    good = '{"id": "a"}\n{"id": "b"}\n'
    out.write_text(good + '{"id": "c", "p1"')

    def half(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    with pytest.raises(OSError, match="No space"):
        existing_ids(out)
    monkeypatch.undo()
    assert out.read_text() == good + '{"id": "c", "p1"'
    assert [p.name for p in tmp_path.iterdir()] == ["d.jsonl"]
    assert existing_ids(out) == {"a", "b"} and out.read_text() == good
