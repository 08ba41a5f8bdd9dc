"""``python -m ovhhir_core track``: click-to-track from the command line (headless).

Example::

    python -m ovhhir_core track clip.mp4 --p1 120,200 --p1-neg 130,40 --p2 400,210 \\
        --frame 12 --start 0 --end 150 --out out/

writes ``person_1.mp4``, ``person_2.mp4``, ``background.mp4``, ``overlay.mp4``, ``masks.zip``
(indexed PNGs), ``masks.npz``, an HHIRChat sample (``<id>_p1.mp4`` ... and ``<id>.json``), the
interaction timeline (``timeline.json``, ``timeline.png``; skeletons on the overlay when the
preset's pose weights are present) and ``track.json`` (range, fill, what made the masks): the track
folder of :mod:`ovhhir_core.tracking.folder`, the same the app offers for download.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)


def _numbers(text: str, n: int, what: str) -> tuple[float, ...]:
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != n:
        raise argparse.ArgumentTypeError(
            f"{what} must be {n} comma-separated numbers, got {text!r}"
        )
    return values


def _point(text: str) -> tuple[float, ...]:
    return _numbers(text, 2, "a point (X,Y)")


def _box(text: str) -> tuple[float, ...]:
    return _numbers(text, 4, "a box (X0,Y0,X1,Y1)")


def _fill(text: str) -> tuple[int, int, int]:
    values = _numbers(text, 3, "a fill colour (R,G,B)")
    if not all(v.is_integer() and 0 <= v <= 255 for v in values):
        raise argparse.ArgumentTypeError(f"fill values must be integers 0..255, got {text!r}")
    return tuple(int(v) for v in values)  # type: ignore[return-value]


#: Per-person flags of ``track``: (suffix, argparse options, help with ``{k}``).
_PERSON_FLAGS = (
    (
        "",
        {"type": _point, "action": "append", "default": []},
        "X,Y",
        "positive click on person {k} (repeatable; video pixels)",
    ),
    (
        "-neg",
        {"type": _point, "action": "append", "default": []},
        "X,Y",
        "negative click: not person {k} (repeatable)",
    ),
    ("-box", {"type": _box}, "X0,Y0,X1,Y1", "box around person {k} (alone or with clicks)"),
    (
        "-id",
        {"type": int},
        "K",
        "person {k} is person proposal K on --frame (the ids `people` prints)",
    ),
)


def video_command(subparsers, name: str, summary: str, description: str, func) -> Any:
    """Add subcommand ``name`` taking a video, with the shared model flags; returns its parser."""
    from ovhhir_core import cli

    p = subparsers.add_parser(name, help=summary, description=description)
    p.add_argument("video", type=Path, help="input video")
    cli.add_common_args(p)
    p.set_defaults(func=func)
    return p


def open_session(args: argparse.Namespace, start: int = 0, end: int | None = None):
    """(preset, device, shared segmenters, a session on ``args.video`` over [start, end))."""
    from ovhhir_core import cli
    from ovhhir_core.tracking import TrackingSession, load_segmenters

    preset, device, _dtype = cli.setup(args)
    if getattr(args, "track_fps", None) is not None:
        preset.tracker.track_fps = args.track_fps or None
    if getattr(args, "tracker_size", None) is not None:
        preset.tracker.input_size = args.tracker_size
    segs = load_segmenters(preset, device)
    return preset, device, segs, TrackingSession(segs, args.video, start=start, end=end)


def open_proposals(preset, device, segs, session):
    """The preset's person detector over ``session`` (a :class:`SessionProposals`)."""
    from ovhhir_core.tracking.detector import load_detector
    from ovhhir_core.tracking.proposals import SessionProposals

    proposals = SessionProposals(load_detector(preset.detector, device, segs.lock), session)
    log.info("person proposals from %s", proposals.source)
    return proposals


_SUMMARY = "mark two people with clicks, track them, write the three streams"
_DESCRIPTION = (
    "Segment person 1 and person 2 from clicks, boxes or person proposals on one frame with SAM, "
    "track them over the video with SAM 2.1, and write the person_1 / person_2 / background "
    "streams, an overlay video, the masks (PNG zip and npz) and an HHIRChat sample."
)


def cost_line(session, tracker) -> str:
    """What a tracking run will cost: frames the tracker processes, at which size."""
    from ovhhir_core.tracking.rate import estimated_frames

    total = session.end - session.start
    n = estimated_frames(total, session.info.fps, tracker.track_fps)
    rate = f"~{tracker.track_fps:g} fps" if n < total else f"{session.info.fps:g} fps (every frame)"
    size = session.segs.tracker.config.image_size
    return f"tracking: ~{n} of {total} frames at {rate}, tracker input {size} px"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = video_command(subparsers, "track", _SUMMARY, _DESCRIPTION, run)
    for k in (1, 2):
        for suffix, options, metavar, text in _PERSON_FLAGS:
            p.add_argument(f"--p{k}{suffix}", metavar=metavar, help=text.format(k=k), **options)
    p.add_argument(
        "--frame", type=int, default=None, help="frame the clicks are on (default: the start frame)"
    )
    p.add_argument("--start", type=int, default=0, help="first frame to track (default 0)")
    p.add_argument("--end", type=int, default=None, help="frame to stop before (default: the end)")
    p.add_argument(
        "--fill",
        type=_fill,
        default=(0, 0, 0),
        metavar="R,G,B",
        help="colour of removed pixels in the streams (default 0,0,0)",
    )
    p.add_argument(
        "--id",
        dest="sample_id",
        default=None,
        help="HHIRChat sample id (default: the video's file name without suffix)",
    )
    p.add_argument(
        "--track-fps",
        type=float,
        default=None,
        metavar="FPS",
        help="run the tracker at about this many frames per second (default: the preset's; "
        "0 = every frame); the streams keep the video's rate, masks held between tracked frames",
    )
    p.add_argument(
        "--tracker-size",
        type=int,
        default=None,
        metavar="PX",
        help="tracker input side in pixels, a multiple of 64 (default: the preset's; 1024 for the "
        "released models); smaller is faster, coarser masks",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _prompts(args: argparse.Namespace) -> dict[str, tuple]:
    """``{person_k: (positive points, negative points, box, proposal id)}``, checked."""
    prompts = {
        f"person_{k}": tuple(getattr(args, f"p{k}{s.replace('-', '_')}") for s, *_ in _PERSON_FLAGS)
        for k in (1, 2)
    }
    for obj_id, (pos, _neg, box, proposal_id) in prompts.items():
        flag = obj_id.replace("person_", "--p")
        if not pos and box is None and proposal_id is None:
            raise UserError(
                f"mark {obj_id}: give {flag} X,Y (a click on them), {flag}-box or {flag}-id"
            )
        if box is not None and proposal_id is not None:
            raise UserError(f"{flag}-box and {flag}-id both give a box: choose one")
    return prompts


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    prompts = _prompts(args)
    preset, device, segs, session = open_session(args, args.start, args.end)
    frame_idx = session.start if args.frame is None else args.frame
    if any(prompt[3] is not None for prompt in prompts.values()):
        proposals = open_proposals(preset, device, segs, session)
        prompts = {
            obj_id: (pos, neg, proposals.by_id(frame_idx, k).box if k is not None else box)
            for obj_id, (pos, neg, box, k) in prompts.items()
        }
    for obj_id, (pos, neg, box, *_) in prompts.items():
        if box is not None:
            session.add_box(frame_idx, obj_id, box)
        if pos or neg:
            session.add_points(frame_idx, obj_id, [*pos, *neg], [1] * len(pos) + [0] * len(neg))
    total = session.end - session.start
    print(cost_line(session, preset.tracker), file=sys.stderr)
    bar_off = args.no_progress
    with tqdm(total=total, desc="tracking", unit="frame", file=sys.stderr, disable=bar_off) as bar:
        for _ in session.propagate():
            bar.update(1)
    from ovhhir_core.tracking.folder import write_track_folder

    with tqdm(
        total=total, desc="writing streams", unit="frame", file=sys.stderr, disable=bar_off
    ) as bar:
        paths = write_track_folder(
            args.video,
            session.labels,
            args.out,
            start=session.start,
            end=session.end,
            fill=args.fill,
            sample_id=args.sample_id,
            preset=preset,
            device=device,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
