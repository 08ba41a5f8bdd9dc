"""``python -m ovhhir_core``: one entry point, one subcommand per job.

Each subcommand is a module of :mod:`ovhhir_core.commands`, listed in :data:`COMMAND_MODULES`,
that exposes ``register(subparsers)``, which adds its parser and sets ``func`` (called with the
parsed args; returns an exit code). Commands that load models take the common flags
(:func:`add_common_args`) and turn them into a preset, a device and a dtype with :func:`setup`
(or :func:`load_preset_arg` for the preset alone). A
:class:`~ovhhir_core.errors.UserError` raised anywhere below prints as one ``error:`` line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any, NamedTuple

#: Modules that provide subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = [
    "ovhhir_core.commands.info",
    "ovhhir_core.commands.track",
    "ovhhir_core.commands.people",
    "ovhhir_core.commands.timeline",
    "ovhhir_core.commands.chat",
    "ovhhir_core.commands.build",
    "ovhhir_core.commands.train",
    "ovhhir_core.commands.evaluate",
]


class UsageError(Exception):
    """Flags argparse refuses (unknown flag, bad number, missing argument)."""


class ArgParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one ``error:`` line (via :func:`main`), not usage
    text; subcommand parsers inherit it."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def count(minimum: int) -> Any:
    """An argparse ``type``: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


#: Help of ``--weights``, the local weights path override (the same words everywhere).
WEIGHTS_HELP = (
    "local weights path override: load COMPONENT from this local file or folder instead of the "
    "preset's pretrained weights (repeatable; env OVHHIR_<COMPONENT>_PATH); components: "
    "sam, tracker, person_encoder, background_encoder, llm, embedder, detector, zeroshot"
)


def add_weights_arg(parser: argparse.ArgumentParser) -> None:
    """``--weights COMPONENT=PATH`` (repeatable), read by :func:`load_preset_arg`."""
    parser.add_argument(
        "--weights",
        dest="local_paths",
        action="append",
        metavar="COMPONENT=PATH",
        default=[],
        help=WEIGHTS_HELP,
    )


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that loads models: --preset, --device, --dtype, --weights."""
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
    add_weights_arg(parser)


def command_parser(
    parser: argparse.ArgumentParser | None, command: str, description: str
) -> argparse.ArgumentParser:
    """``parser`` (a subcommand's) or a stand-alone one for ``command``, with the common flags."""
    p = parser or ArgParser(prog=f"python -m ovhhir_core {command}", description=description)
    add_common_args(p)
    return p


class Setup(NamedTuple):
    """What the common flags resolve to (unpacks as ``preset, device, dtype``)."""

    preset: Any  # ovhhir_core.config.PresetConfig
    device: Any  # torch.device
    dtype: Any  # torch.dtype


def local_paths_arg(args: argparse.Namespace) -> dict[str, str]:
    """The local weights path overrides: ``OVHHIR_<COMPONENT>_PATH`` from the environment (read
    here, once, for every command), then ``--weights COMPONENT=PATH`` (the flags win)."""
    from ovhhir_core.config import env_local_paths, parse_local_paths

    return {**env_local_paths(os.environ), **parse_local_paths(args.local_paths)}


def load_preset_arg(args: argparse.Namespace, preset: str | None = None) -> Any:
    """The preset named by ``--preset`` (or ``preset``), with the local weights overrides."""
    from ovhhir_core.config import load_preset

    return load_preset(preset or args.preset, local_paths_arg(args), device=args.device)


def setup(args: argparse.Namespace) -> Setup:
    """Preset, device and dtype from the common flags; bad values raise UserError."""
    from ovhhir_core.cpushare import cap_threads
    from ovhhir_core.device import resolve_device, resolve_dtype

    cap_threads()  # a container's CPU quota, not the host's core count
    preset = load_preset_arg(args)
    device = resolve_device(args.device)
    return Setup(preset, device, resolve_dtype(args.dtype, device))


def build_parser() -> argparse.ArgumentParser:
    parser = ArgParser(
        prog="python -m ovhhir_core",
        description="Open-vocabulary human-to-human interaction recognition.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run the subcommand; user errors print one ``error:`` line and return 1 (flags
    argparse refuses: 2)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
