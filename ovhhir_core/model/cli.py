"""``describe`` and ``chat`` subcommands: ask the model about three stream videos.

    python -m ovhhir_core describe --p1 A.mp4 --p2 B.mp4 [--bg C.mp4] [--question Q] \\
        [--preset P] [--checkpoint DIR] [--temperature 0.7 --top-p 0.9 --num-beams 1 ...]
    python -m ovhhir_core chat --p1 A.mp4 --p2 B.mp4 [--bg C.mp4]   # then type; /reset, /quit
"""

from __future__ import annotations

import argparse
import sys

from ovhhir_core.errors import UserError


def _add_model_args(parser: argparse.ArgumentParser, videos_required: bool) -> None:
    from ovhhir_core import cli

    cli.add_common_args(parser)
    parser.add_argument("--p1", required=videos_required, help="person 1 stream video")
    parser.add_argument("--p2", required=videos_required, help="person 2 stream video")
    parser.add_argument("--bg", help="background stream video (optional)")
    parser.add_argument("--checkpoint", help="trained branches: a directory or a Hub repo id")
    parser.add_argument(
        "--num-frames",
        type=cli.count(1),
        default=None,
        help="frames sampled per stream (default: the preset's, 16)",
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
        help="describe the interaction in three stream videos",
        description="Stream the model's answer about a clip to stdout.",
    )
    _add_model_args(p, videos_required=True)
    p.add_argument(
        "--question",
        default=None,
        help="question with <p1> <p2> <bg> (default: the paper's question)",
    )
    p.set_defaults(func=run_describe)
    c = subparsers.add_parser(
        "chat",
        help="interactive multi-turn chat about a clip",
        description="Chat about a clip (or text only, without --p1/--p2). "
        "Commands: /reset clears the conversation, /quit leaves.",
    )
    _add_model_args(c, videos_required=False)
    c.set_defaults(func=run_chat)


def _setup(args: argparse.Namespace):
    from ovhhir_core import cli
    from ovhhir_core.model import GenerationConfig, load_clip, load_model

    preset, device, dtype = cli.setup(args)
    model = load_model(preset, device, dtype, args.checkpoint)
    if not model.is_trained:
        print(
            "warning: no --checkpoint: the branches are untrained, answers are not grounded "
            "in the video",
            file=sys.stderr,
        )
    clip = None
    if args.p1 or args.p2:
        if not (args.p1 and args.p2):
            raise UserError("give both --p1 and --p2 (or neither, for text-only chat)")
        frames = args.num_frames or preset.model.num_frames
        clip = load_clip(
            {"person_1": args.p1, "person_2": args.p2, "background": args.bg}, num_frames=frames
        )
    gen = GenerationConfig(
        temperature=args.temperature,
        top_p=args.top_p,
        num_beams=args.num_beams,
        max_new_tokens=args.max_new_tokens,
        repetition_penalty=args.repetition_penalty,
        seed=args.seed,
    )
    gen.validate()
    return model, clip, gen


def _stream(growing) -> None:
    from ovhhir_core.model import deltas

    for piece in deltas(growing):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()


def run_describe(args: argparse.Namespace) -> int:
    from ovhhir_core.model import ChatSession, default_question

    model, clip, gen = _setup(args)
    question = args.question or default_question(clip.has_background and model.cfg.use_background)
    _stream(ChatSession(model, clip).ask(question, gen))
    return 0


def run_chat(args: argparse.Namespace, stdin=None) -> int:
    from ovhhir_core.model import ChatSession, default_question

    model, clip, gen = _setup(args)
    session = ChatSession(model, clip)
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    if interactive:
        hint = default_question(bool(clip and clip.has_background)) if clip else "any question"
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
            session.clear()
            print("(conversation cleared)", file=sys.stderr)
            continue
        try:
            _stream(session.ask(text, gen))
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
