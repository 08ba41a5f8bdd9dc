"""``python -m ovhhir_core track``: click-to-track from the command line (headless).

Example::

    python -m ovhhir_core track clip.mp4 --p1 120,200 --p1-neg 130,40 --p2 400,210 \\
        --frame 12 --start 0 --end 150 --out out/

writes ``person_1.mp4``, ``person_2.mp4``, ``background.mp4``, ``overlay.mp4``, ``masks.zip``
(indexed PNGs), ``masks.npz``, an HHIRChat sample (``<id>_p1.mp4`` ... and ``<id>.json``), and
the interaction timeline (``timeline.json``, ``timeline.png``; skeletons on the overlay when the
preset's pose weights are present).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

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


def register(subparsers: argparse._SubParsersAction) -> None:
    from ovhhir_core import cli

    p = subparsers.add_parser(
        "track",
        help="mark two people with clicks, track them, write the three streams",
        description="Segment person 1 and person 2 from clicks/boxes on one frame with SAM, track "
        "them over the video with SAM 2.1, and write the person_1 / person_2 / background streams, "
        "an overlay video, the masks (PNG zip and npz) and an HHIRChat sample.",
    )
    p.add_argument("video", type=Path, help="input video")
    for k in (1, 2):
        p.add_argument(
            f"--p{k}",
            type=_point,
            action="append",
            default=[],
            metavar="X,Y",
            help=f"positive click on person {k} (repeatable; video pixels)",
        )
        p.add_argument(
            f"--p{k}-neg",
            type=_point,
            action="append",
            default=[],
            metavar="X,Y",
            help=f"negative click: not person {k} (repeatable)",
        )
        p.add_argument(
            f"--p{k}-box",
            type=_box,
            default=None,
            metavar="X0,Y0,X1,Y1",
            help=f"box around person {k}",
        )
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
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    cli.add_common_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ovhhir_core.config import load_preset, parse_local_paths
    from ovhhir_core.data.export import export_hhirchat_sample
    from ovhhir_core.device import resolve_device
    from ovhhir_core.masking import export_masks_npz, export_masks_png_zip, write_streams
    from ovhhir_core.tracking import TrackingSession, load_segmenters

    prompts = {
        f"person_{k}": (
            getattr(args, f"p{k}"),
            getattr(args, f"p{k}_neg"),
            getattr(args, f"p{k}_box"),
        )
        for k in (1, 2)
    }
    for obj_id, (pos, _neg, box) in prompts.items():
        if not pos and box is None:
            flag = obj_id.replace("person_", "--p")
            raise UserError(f"mark {obj_id}: give {flag} X,Y (a click on them) or {flag}-box")
    preset = load_preset(args.preset, parse_local_paths(args.weights))
    device = resolve_device(args.device)
    segs = load_segmenters(preset, device)
    session = TrackingSession(segs, args.video, start=args.start, end=args.end)
    frame_idx = session.start if args.frame is None else args.frame
    for obj_id, (pos, neg, box) in prompts.items():
        if box is not None:
            session.add_box(frame_idx, obj_id, box)
        if pos or neg:
            session.add_points(frame_idx, obj_id, [*pos, *neg], [1] * len(pos) + [0] * len(neg))
    total = session.end - session.start
    bar_off = args.no_progress
    with tqdm(total=total, desc="tracking", unit="frame", file=sys.stderr, disable=bar_off) as bar:
        for _ in session.propagate():
            bar.update(1)
    out = Path(args.out)
    with tqdm(
        total=total, desc="writing streams", unit="frame", file=sys.stderr, disable=bar_off
    ) as bar:
        streams = write_streams(
            args.video,
            session.labels,
            out,
            start=session.start,
            end=session.end,
            fill=args.fill,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
    export_masks_png_zip(session.labels, out / "masks.zip")
    export_masks_npz(session.labels, out / "masks.npz")
    sample_id = args.sample_id or Path(args.video).stem
    sample = export_hhirchat_sample(streams, out, sample_id, fill=args.fill)
    from ovhhir_core.timeline.pipeline import track_timeline

    timeline = track_timeline(session.labels, args.video, out, preset, device, start=session.start)
    for name, path in {
        **streams,
        "masks_png": out / "masks.zip",
        "masks_npz": out / "masks.npz",
        "hhirchat": sample,
        **timeline,
    }.items():
        print(f"{name}: {path}")
    return 0
