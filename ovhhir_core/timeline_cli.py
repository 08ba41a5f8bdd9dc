"""``python -m ovhhir_core timeline``: the interaction timeline of any masks file the project
writes (``masks.npz``, the PNG ``masks.zip``, a synthetic ``*_masks.npz``).

    python -m ovhhir_core timeline --masks out/masks.npz --fps 10 --out DIR
    python -m ovhhir_core timeline --masks out/masks.zip --video clip.mp4 --out DIR --preset small

    python -m ovhhir_core timeline --masks out/masks.npz --fps 10 --out DIR --set min_speed=0.2

writes ``DIR/timeline.json`` and ``DIR/timeline.png`` and prints the measured facts. With
``--video`` the frame rate and size come from the video, and pose runs where the preset's
ViTPose weights are present. The thresholds are the preset's ``timeline`` section
(:class:`~ovhhir_core.config.timeline.TimelineConfig`, where their defaults are documented),
with ``--set KEY=VALUE`` applied over it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ovhhir_core.errors import UserError

DESCRIPTION = (
    "Per-frame measurements of the two tracked people (distance, gap, approach speed, motion, "
    "occlusion), events (approach, contact, separation, walk_together, pass_by, follow) and, "
    "with --video and pose weights, keypoints and pose events."
)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    return w, h


def register(subparsers: argparse._SubParsersAction) -> None:
    from ovhhir_core import cli
    from ovhhir_core.config.timeline import settings_help

    about = "measure an interaction from a masks file: timeline.json, timeline.png, facts"
    p = subparsers.add_parser("timeline", help=about, description=DESCRIPTION)
    p.add_argument("--masks", type=Path, required=True, help="masks .npz or PNG .zip")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: the video's)")
    p.add_argument("--video", type=Path, default=None, help="the tracked video (fps, size, pose)")
    p.add_argument(
        "--size", type=_size, default=None, metavar="WxH", help="video size, when not --video"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--no-pose", action="store_true", help="skip pose even when weights exist")
    p.add_argument("--no-plot", action="store_true", help="write timeline.json only")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a threshold of the preset's timeline section (repeatable); keys and "
        f"defaults: {settings_help()}",
    )
    cli.add_common_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ovhhir_core.config import preset_timeline
    from ovhhir_core.timeline.core import compute_timeline
    from ovhhir_core.timeline.facts import facts_text
    from ovhhir_core.timeline.io import MaskFile, segmenter_beside, write_timeline

    config = preset_timeline(args.preset).with_settings(args.set)  # bad values fail first
    masks = MaskFile(args.masks)
    if args.video is not None:
        from ovhhir_core.cli import load_preset_arg
        from ovhhir_core.device import resolve_device
        from ovhhir_core.timeline.pipeline import pose_estimator, video_timeline

        estimator, note = None, "no pose: turned off (--no-pose)"
        if not args.no_pose:
            preset = load_preset_arg(args)
            estimator, note = pose_estimator(preset, str(resolve_device(args.device)))
        timeline = video_timeline(
            masks, args.video, estimator=estimator, pose_note=note, config=config
        )
        if args.fps is not None and abs(args.fps - timeline.fps) > 1e-3:
            raise UserError(f"--fps {args.fps:g} differs from the video's {timeline.fps:g}")
    else:
        if args.fps is None:
            raise UserError("give the frame rate: --fps FPS (or --video VIDEO to read it)")
        timeline = compute_timeline(
            masks,
            args.fps,
            config=config,
            video_size=args.size,
            source=args.masks.name,
            pose_note="no pose: no --video given (pose needs the frames)",
        )
    timeline.metadata["segmenter"] = segmenter_beside(args.masks)  # from track.json, if any
    paths = write_timeline(args.out, timeline, plot=not args.no_plot)
    for name, path in paths.items():
        print(f"{name}: {path}")
    print(facts_text(timeline))
    return 0
