"""Command-line and environment options of the demo, including the caps that protect the server.

Every option has a flag and an ``OVHHIR_*`` environment variable; the flag wins. Model weights are
overridden with ``--weights COMPONENT=PATH`` (repeatable) or ``OVHHIR_<COMPONENT>_PATH``.

Default preset: ``auto`` — per component, the best weights this machine can have (real ones when
cached or downloadable, else the packaged offline models, else random; see
``ovhhir_core.weights.autopreset``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ovhhir_core.answering import BACKENDS
from ovhhir_core.commands.cli import WEIGHTS_HELP
from ovhhir_core.config.zeroshot import QUANTIZE
from ovhhir_core.errors import UserError


class CapError(UserError):
    """An upload exceeds one of the server's caps; the message names the cap and how to comply."""


@dataclass
class Caps:
    """Limits on what one user may upload. All are inclusive maxima."""

    max_upload_mb: float = 200.0
    max_duration_s: float = 120.0
    max_frames: int = 3600
    max_side: int = 1920  # longest side of the video, in pixels

    def check_file_size(self, path: str | os.PathLike) -> None:
        """Raise :class:`CapError` when the file at ``path`` is larger than ``max_upload_mb``."""
        size_mb = Path(path).stat().st_size / 1e6
        if size_mb > self.max_upload_mb:
            raise CapError(
                f"This file is {size_mb:.1f} MB; this server accepts uploads up to "
                f"{self.max_upload_mb:g} MB (OVHHIR_MAX_UPLOAD_MB). Trim or re-encode it first."
            )

    def check_video(
        self, fps: float, num_frames: int, width: int, height: int, duration: float
    ) -> None:
        """Raise :class:`CapError` naming the first cap the probed video exceeds."""
        if duration > self.max_duration_s:
            raise CapError(
                f"This video lasts {duration:.1f} s; this server accepts at most "
                f"{self.max_duration_s:g} s (OVHHIR_MAX_DURATION_S). Cut the part with the two "
                "people, e.g. ffmpeg -ss START -t SECONDS -i in.mp4 out.mp4."
            )
        if num_frames > self.max_frames:
            raise CapError(
                f"This video has {num_frames} frames; this server accepts at most "
                f"{self.max_frames} (OVHHIR_MAX_FRAMES). Cut it or lower its frame rate, e.g. "
                "ffmpeg -i in.mp4 -r 15 out.mp4."
            )
        if max(width, height) > self.max_side:
            raise CapError(
                f"This video is {width}×{height} pixels; this server accepts at most "
                f"{self.max_side} pixels on the longest side (OVHHIR_MAX_SIDE). Downscale it, "
                f"e.g. ffmpeg -i in.mp4 -vf scale={self.max_side}:-2 out.mp4."
            )


@dataclass
class Settings:
    """Everything app.py needs: which models, where, how to serve, and the caps."""

    preset: str = "tiny"
    device: str = "auto"
    dtype: str = "auto"
    checkpoint: str | None = None
    backend: str = "auto"  # which answerer: auto | ovhhir | zeroshot (ovhhir_core.answering)
    quantize: str | None = None  # zero-shot text model: none | int8 (None: the preset's)
    weights: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    concurrency_limit: int = 1  # simultaneous GPU jobs (tracking, generation)
    session_ttl_s: int = 3600  # a session's files are deleted this long after its last event
    root: str | None = None  # shared folder of every process's files (None: <tmp>/ovhhir-app)
    preload: bool = True  # load the models in the background at start-up (app.py)
    review_roots: list[str] = field(default_factory=list)  # folders the Review tab may open
    caps: Caps = field(default_factory=Caps)

    @property
    def max_file_size(self) -> str:
        """``max_file_size`` for ``launch()``: Gradio rejects larger uploads before they land."""
        return f"{int(self.caps.max_upload_mb * 1_000_000)}b"


def default_preset() -> str:
    """``auto``: resolved per component when the preset loads (``ovhhir_core.weights.autopreset``)."""
    return "auto"


def _env_bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The ``python app.py`` parser; defaults come from ``environ`` (``OVHHIR_*``).

    Longer than 60 lines on purpose: one flat ``add_argument`` per flag, read top to bottom like
    the ``--help`` it produces; splitting it would only scatter the flags.
    """
    env = environ.get
    p = argparse.ArgumentParser(prog="python app.py", description="OV-HHIR Gradio demo.")
    for flag, default, what in (
        ("preset", None, "preset name or JSON file (default: auto, the best weights this machine "
         "can have per component)"),
        ("device", "auto", "auto, cpu, cuda, cuda:1, mps"),
        ("dtype", "auto", "auto, float32, float16, bfloat16"),
        ("checkpoint", None, "trained branches: a checkpoint folder written by `train`, or a "
         "Hub repo id"),
    ):  # fmt: skip
        name = f"OVHHIR_{flag.upper()}"
        p.add_argument(f"--{flag}", default=env(name, default), help=f"{what} (env {name})")
    p.add_argument(
        "--backend",
        default=env("OVHHIR_BACKEND", "auto"),
        choices=BACKENDS,
        help="who answers: ovhhir (the branches; untrained without --checkpoint), zeroshot (a "
        "pretrained video-LLM), auto (ovhhir with a checkpoint, else zeroshot, else the measured "
        "facts) (env OVHHIR_BACKEND)",
    )
    p.add_argument(
        "--quantize",
        default=env("OVHHIR_QUANTIZE") or None,
        choices=QUANTIZE,
        help="the zero-shot video-LLM's text model: int8 weights and activations (CPU; faster "
        "prefill, answers differ visibly) or none (default: the preset's) (env OVHHIR_QUANTIZE)",
    )
    p.add_argument(
        "--weights",
        action="append",
        metavar="COMPONENT=PATH",
        default=[],
        help=WEIGHTS_HELP,
    )
    p.add_argument(
        "--host",
        default=env("OVHHIR_HOST", env("GRADIO_SERVER_NAME", "127.0.0.1")),
        help="address to listen on (env OVHHIR_HOST; 0.0.0.0 for all interfaces)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(env("OVHHIR_PORT", env("GRADIO_SERVER_PORT", "7860"))),
        help="port (env OVHHIR_PORT; 0 picks a free one)",
    )
    p.add_argument(
        "--share",
        action="store_true",
        default=bool(_env_bool(env("OVHHIR_SHARE"))),
        help="create a public gradio.live link (env OVHHIR_SHARE=1)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=int(env("OVHHIR_CONCURRENCY", "1")),
        help="simultaneous tracking/generation jobs (env OVHHIR_CONCURRENCY)",
    )
    p.add_argument(
        "--session-ttl",
        type=int,
        default=int(env("OVHHIR_SESSION_TTL_S", "3600")),
        help="seconds a session's files live after its last event",
    )
    p.add_argument(
        "--root",
        default=env("OVHHIR_ROOT"),
        help="folder for session files and Gradio's cache, one sub-folder per process; folders "
        "of stopped processes are removed at start (env OVHHIR_ROOT; default <tmp>/ovhhir-app)",
    )
    p.add_argument(
        "--no-preload",
        action="store_true",
        default=_env_bool(env("OVHHIR_PRELOAD")) is False,
        help="load models on first use instead of at start-up (env OVHHIR_PRELOAD=0)",
    )
    p.add_argument(
        "--review-root",
        action="append",
        default=None,
        help="folder the Review tab may open by path (repeatable; env "
        "OVHHIR_REVIEW_ROOTS, separated by os.pathsep)",
    )
    caps = Caps()
    for flag, kind, what in (
        ("max_upload_mb", float, "largest upload in MB"),
        ("max_duration_s", float, "longest video in seconds"),
        ("max_frames", int, "most frames in a video"),
        ("max_side", int, "longest video side in pixels"),
    ):
        name, default = f"OVHHIR_{flag.upper()}", getattr(caps, flag)
        p.add_argument(
            "--" + flag.replace("_", "-"),
            type=kind,
            default=kind(env(name, default)),
            help=f"{what} (env {name}; default {default:g})",
        )
    return p


def parse_settings(
    argv: list[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from command-line flags, falling back to ``OVHHIR_*`` environment variables."""
    from ovhhir_core.config import env_local_paths, parse_local_paths

    environ = os.environ if environ is None else environ
    args = build_parser(environ).parse_args(argv)
    roots = args.review_root
    if roots is None:
        roots = [r for r in environ.get("OVHHIR_REVIEW_ROOTS", "").split(os.pathsep) if r]
    weights = {**env_local_paths(environ), **parse_local_paths(args.weights)}
    return Settings(
        preset=args.preset or default_preset(),
        device=args.device,
        dtype=args.dtype,
        checkpoint=args.checkpoint or None,
        backend=args.backend,
        quantize=args.quantize,
        weights=weights,
        host=args.host,
        port=args.port,
        share=args.share,
        concurrency_limit=max(1, args.concurrency),
        session_ttl_s=args.session_ttl,
        root=args.root or None,
        preload=not args.no_preload,
        review_roots=[str(Path(r).expanduser().resolve()) for r in roots],
        caps=Caps(
            max_upload_mb=args.max_upload_mb,
            max_duration_s=args.max_duration_s,
            max_frames=args.max_frames,
            max_side=args.max_side,
        ),
    )
