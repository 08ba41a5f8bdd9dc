"""``python -m ovhhir_core``: one entry point, one subcommand per job.

Each subcommand lives beside the code it drives and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` (called with the parsed args; returns an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

#: Modules that provide subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = [
    "ovhhir_core.info",
    "ovhhir_core.tracking.cli",
    "ovhhir_core.tracking.people_cli",
    "ovhhir_core.timeline_cli",
    "ovhhir_core.chat_cli",
    "ovhhir_core.build_cli",
    "ovhhir_core.train",
    "ovhhir_core.eval.cli",
]


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that loads models."""
    parser.add_argument(
        "--preset",
        default="auto",
        help="preset name or JSON file (default: auto = the best weights this machine can have, "
        "per component)",
    )
    parser.add_argument(
        "--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:1…"
    )
    parser.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16")
    parser.add_argument(
        "--weights",
        action="append",
        metavar="COMPONENT=PATH",
        default=[],
        help="load a component's weights from a local file or folder (repeatable); components: "
        "sam, tracker, person_encoder, background_encoder, llm, embedder, detector, zeroshot",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ovhhir_core",
        description="Open-vocabulary human-to-human interaction recognition.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ovhhir_core.errors import UserError

    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
