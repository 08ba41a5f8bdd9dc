"""``python -m ovhhir_core people``: the person proposals on one frame, as JSON.

Example::

    python -m ovhhir_core people clip.mp4 --frame 12 --min-score 0.5 --preset small
    # {"people": [{"id": 1, "box": [x0, y0, x1, y1], "score": 0.93, "area": 5120}, ...],
    #  "detector": "RT-DETR rtdetr-r50vd-coco-o365", "trained": true, "frame": 12}

``id`` numbers the people best score first (the same ids whatever ``--min-score`` shows; pick one
with ``track --p1-id K``); ``area`` is the pixels of the mask the click segmenter makes from the
box. The ``detector`` line says what produced the boxes: random weights (tiny, offline presets)
give noise.
"""

from __future__ import annotations

import argparse
import json

SUMMARY = "find the people on one frame (person proposals, JSON)"
DESCRIPTION = (
    "Detect the people on one frame (RT-DETR by default; a preset can choose SAM 3, whose gated "
    "weights are under Meta's SAM License, not an open-source licence), turn each box into a "
    "mask with the click segmenter and print them as JSON. The default --min-score is the "
    "preset's detector.min_score."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    from ovhhir_core.commands.track import video_command

    p = video_command(subparsers, "people", SUMMARY, DESCRIPTION, run)
    p.add_argument("--frame", type=int, default=0, help="frame to look at (default 0)")
    p.add_argument("--min-score", type=float, help="lowest detector confidence listed")


def run(args: argparse.Namespace) -> int:
    from ovhhir_core.commands.track import open_proposals, open_session

    preset, device, segs, session = open_session(args)
    proposals = open_proposals(preset, device, segs, session)
    min_score = preset.detector.min_score if args.min_score is None else args.min_score
    found = proposals.get(args.frame, min_score)
    out = {
        "people": [p.as_json() for p in found],
        "detector": proposals.source,
        "trained": proposals.detector.trained,
        "preset": preset.name,
        "frame": args.frame,
    }
    print(json.dumps(out))
    return 0
