"""``describe`` and ``chat`` subcommands: ask an answerer about a tracked clip.

    python -m ovhhir_core describe --track-dir out/ [--backend auto|ovhhir|zeroshot] \\
        [--question Q] [--preset P] [--checkpoint DIR] [--no-facts] [--temperature 0.7 ...]
    python -m ovhhir_core describe --p1 A.mp4 --p2 B.mp4 [--bg C.mp4] [--fill R,G,B]
    python -m ovhhir_core chat --track-dir out/      # then type; /reset, /quit

The answer streams to stdout; what wrote it (the provenance caption) and any warning go to
stderr, once. With ``--track-dir`` the timeline's facts (``DIR/timeline.json``) go into the
prompt unless ``--no-facts``. The answerer is chosen by
:func:`ovhhir_core.answering.backends.load_answerer`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from ovhhir_core.answering.backends import BACKENDS, picks_ovhhir
from ovhhir_core.errors import UserError


def _fill(text: str) -> tuple[int, int, int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if len(values) == 1:
        values *= 3
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise argparse.ArgumentTypeError(f"fill must be R,G,B (or one value) in 0..255: {text!r}")
    return values[0], values[1], values[2]


def _add_args(parser: argparse.ArgumentParser) -> None:
    from ovhhir_core.commands import cli

    cli.add_common_args(parser)
    clip = parser.add_argument_group("clip (a track folder, or three stream videos)")
    clip.add_argument("--track-dir", help="a folder written by `track` (streams, masks)")
    clip.add_argument("--p1", help="person 1 stream video")
    clip.add_argument("--p2", help="person 2 stream video")
    clip.add_argument("--bg", help="background stream video (optional)")
    clip.add_argument(
        "--fill", type=_fill, default=(0, 0, 0), help="fill colour of --p1/--p2 (default 0,0,0)"
    )
    clip.add_argument(
        "--no-facts", action="store_true", help="keep the timeline's facts out of the prompt"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: OV-HHIR with --checkpoint, else the zero-shot video-LLM, else measured facts",
    )
    parser.add_argument("--checkpoint", help="trained branches: a directory or a Hub repo id")
    parser.add_argument(
        "--num-frames",
        type=cli.count(1),
        default=None,
        help="frames sampled per stream (preset default)",
    )
    parser.add_argument(
        "--quantize",
        choices=("none", "int8"),
        default=None,
        help="zero-shot text model: int8 weights and activations (CPU; faster prefill, answers "
        "differ visibly from float32) or none (default: the preset's)",
    )
    gen = parser.add_argument_group("generation")
    gen.add_argument("--temperature", type=float, default=0.7, help="0 = greedy")
    gen.add_argument("--top-p", type=float, default=0.9)
    gen.add_argument("--num-beams", type=int, default=1, help=">1: beam search (no streaming)")
    gen.add_argument("--max-new-tokens", type=int, default=256)
    gen.add_argument("--repetition-penalty", type=float, default=1.1)
    gen.add_argument("--seed", type=int, default=None)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "describe",
        help="describe the interaction in a tracked clip",
        description="Stream an answer about a clip to stdout (what wrote it: on stderr).",
    )
    _add_args(p)
    p.add_argument(
        "--question", default=None, help="question with <p1> <p2> <bg> (default: the paper's)"
    )
    p.set_defaults(func=run_describe)
    c = subparsers.add_parser(
        "chat",
        help="interactive multi-turn chat about a tracked clip",
        description="Chat about a clip. Commands: /reset clears the conversation, /quit leaves.",
    )
    _add_args(c)
    c.set_defaults(func=run_chat)


def _clip(args: argparse.Namespace):
    from ovhhir_core.answering.backends import track_dir_facts
    from ovhhir_core.answering.base import TrackedClip

    if args.track_dir:
        if args.p1 or args.p2 or args.bg:
            raise UserError("give either --track-dir or --p1/--p2 (--bg), not both")
        clip = TrackedClip.from_track_dir(args.track_dir)
        clip.facts = None if args.no_facts else track_dir_facts(args.track_dir)
        return clip
    if not (args.p1 and args.p2):
        raise UserError("give a clip: --track-dir DIR (from `track`), or both --p1 and --p2")
    return TrackedClip.from_paths(args.p1, args.p2, args.bg, fill=args.fill)


def _open(args: argparse.Namespace):
    """(conversation, clip, generation config): preset, answerer, clip, then one line on stderr
    saying what answers (and the warning, when there is one)."""
    from ovhhir_core.answering.backends import default_frames, load_answerer
    from ovhhir_core.answering.base import GenerationConfig
    from ovhhir_core.commands import cli

    fields = [f.name for f in dataclasses.fields(GenerationConfig)]
    gen = GenerationConfig(**{n: getattr(args, n) for n in fields if hasattr(args, n)})
    gen.validate()
    clip = _clip(args)
    preset, device, dtype = cli.setup(args)
    if args.quantize:
        preset.zeroshot.quantize = args.quantize
    ahead = _sample_ahead(args, preset, clip)
    answerer = load_answerer(preset, args.backend, device, dtype, args.checkpoint)
    frames = args.num_frames or default_frames(preset, answerer)
    if ahead is not None and answerer.name == "zeroshot":
        conversation = answerer.open(
            clip, frames=frames, use_facts=not args.no_facts, sampled=ahead.result()
        )
    else:
        conversation = answerer.open(clip, frames=frames, use_facts=not args.no_facts)
    print(f"answerer: {conversation.provenance.caption()}", file=sys.stderr)
    if conversation.provenance.warning:
        print(f"warning: {conversation.provenance.warning}", file=sys.stderr)
    return conversation, clip, gen


def _sample_ahead(args: argparse.Namespace, preset, clip):
    """The clip's frames for a zero-shot answerer, sampled on a thread while the model loads
    (a future), or None when another answerer will answer."""
    zeroshot = getattr(preset, "zeroshot", None)
    if picks_ovhhir(args.backend, args.checkpoint) or zeroshot is None:
        return None
    if not (zeroshot.weights or zeroshot.local_path or zeroshot.arch):
        return None
    from ovhhir_core.zeroshot.frames import sample_ahead

    return sample_ahead(clip, args.num_frames or zeroshot.frames, zeroshot.max_side)


def _stream(growing) -> None:
    from ovhhir_core.model.chat import deltas

    for piece in deltas(growing):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()


def run_describe(args: argparse.Namespace) -> int:
    from ovhhir_core.streams import describe_question

    conversation, clip, gen = _open(args)
    question = args.question or describe_question("background" in clip.streams)
    _stream(conversation.ask(question, gen))
    return 0


def run_chat(args: argparse.Namespace, stdin=None) -> int:
    from ovhhir_core.streams import describe_question

    conversation, clip, gen = _open(args)
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    if interactive:
        hint = describe_question("background" in clip.streams)
        print(f"chat ready; try: {hint}   (/reset, /quit)", file=sys.stderr)
    while True:
        if interactive:
            print("you> ", end="", file=sys.stderr, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        text = line.strip()
        if not text:
            continue
        if text == "/quit":
            return 0
        if text == "/reset":
            conversation.clear()
            print("(conversation cleared)", file=sys.stderr)
            continue
        try:
            _stream(conversation.ask(text, gen))
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
