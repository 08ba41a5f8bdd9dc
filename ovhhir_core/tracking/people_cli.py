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
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from ovhhir_core import cli

    p = subparsers.add_parser(
        "people",
        help="find the people on one frame (person proposals, JSON)",
        description="Detect the people on one frame (RT-DETR by default; a preset can choose "
        "SAM 3, whose gated weights are under Meta's SAM License, not an open-source licence), "
        "turn each box into a mask with the click segmenter and print them as JSON.",
    )
    p.add_argument("video", type=Path, help="input video")
    p.add_argument("--frame", type=int, default=0, help="frame to look at (default 0)")
    p.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="lowest detector confidence listed (default: the preset's detector.min_score)",
    )
    cli.add_common_args(p)
    p.set_defaults(func=run)


def session_proposals(args: argparse.Namespace, start: int = 0, end: int | None = None):
    """Load the preset's segmenters and detector; returns (preset, session, proposals)."""
    from ovhhir_core.config import load_preset, parse_local_paths
    from ovhhir_core.device import resolve_device
    from ovhhir_core.tracking import TrackingSession, load_segmenters
    from ovhhir_core.tracking.detector import load_detector
    from ovhhir_core.tracking.proposals import SessionProposals

    preset = load_preset(args.preset, parse_local_paths(args.weights))
    device = resolve_device(args.device)
    segs = load_segmenters(preset, device)
    session = TrackingSession(segs, args.video, start=start, end=end)
    detector = load_detector(preset.detector, device, segs.lock)
    return preset, session, SessionProposals(detector, session)


def run(args: argparse.Namespace) -> int:
    preset, _session, proposals = session_proposals(args)
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
