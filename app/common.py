"""What every tab shares: user-error display, display helpers and the generation settings.

Tab modules (``track.py``, ``chat.py``, ``review.py``) import from here and from ``state.py``,
never from each other.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import gradio as gr

from app.state import Services, SessionState
from ovhhir_core.answering import GenerationConfig
from ovhhir_core.errors import UserError
from ovhhir_core.streams import TOKENS

GPU = "gpu"  # concurrency_id shared by every event that runs a model


def gpu_queue(services: Services) -> dict[str, Any]:
    """Event arguments of a model-running event. Gradio does not limit these events: the
    model jobs they submit wait in ``services.jobs`` (app/jobs.py), where a click never waits
    behind another session's tracking, and a waiting user is told their place in line."""
    return {"concurrency_id": GPU, "concurrency_limit": None}


def _touch(args: tuple) -> None:
    for arg in args[:2]:  # (self, state, ...) or (state, ...)
        if isinstance(arg, SessionState):
            arg.touch()


def user_errors(fn: Callable) -> Callable:
    """Show ``UserError`` messages as ``gr.Error`` (a popup with the message, no traceback), and
    mark the user's session active (its idle time-to-live restarts)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            _touch(args)
            try:
                yield from fn(*args, **kwargs)
            except UserError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _touch(args)
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper


def fail(message: str) -> NoReturn:
    """Stop the event with ``message`` in a popup (no traceback)."""
    raise gr.Error(message, print_exception=False)


def display(text: str) -> str:
    """Chat text for display: the ``<p1> <p2> <bg>`` placeholders as code, not as HTML tags."""
    for tag in TOKENS.values():
        text = text.replace(tag, f"`{tag}`")
    return text


def video_info_markdown(info: Any) -> str:
    """One line describing a probed video (``ovhhir_core.video.VideoInfo``)."""
    return (
        f"**{Path(info.path).name}** — {info.width}×{info.height} px, {info.fps:.2f} fps, "
        f"{info.num_frames} frames, {info.duration:.2f} s, codec {info.codec}"
    )


def random_weights_banner(services: Services) -> str:
    """A red warning when the click segmenter or tracker has random weights, else ""."""
    from ovhhir_core.weights.autopreset import GETTING_WEIGHTS, random_segmentation

    parts = random_segmentation(services.preset)
    if not parts:
        return ""
    return (
        '<div style="background:#b91c1c;color:white;padding:8px 12px;border-radius:6px">'
        f"<b>{' and '.join(parts)}: random weights</b> (preset {services.preset.name}) — "
        f"{GETTING_WEIGHTS}</div>"
    )


def models_markdown(services: Services) -> str:
    """The model status panel: what each component resolved to, what is loaded, and for anything
    missing what to do."""
    from ovhhir_core.tracking.models import precision_line
    from ovhhir_core.weights.autopreset import describe, resolution_report

    lines = [f"Preset **{services.preset.name}** on **{services.device}**."]
    lines += [f"- {describe(e)}" for e in resolution_report(services.preset)]
    lines.append(f"- precision: {precision_line(services.preset, services.device)}")
    for name, status in services.status().items():
        if status in ("loaded", "loading", "not loaded yet"):
            lines.append(f"- {name}: {status}")
        else:
            lines.append(f"- {name}: **unavailable** — {status}".replace("\n", "\n  "))
    return "\n".join(lines)


def loading_markdown(services: Services) -> str:
    """What is being loaded and downloaded now (refreshed every few seconds), "" when nothing."""
    from ovhhir_core.weights.downloads import BOARD

    lines = [f"- {p.line()}" for p in BOARD.snapshot()]
    lines += [f"- loading {name}…" for name, st in services.status().items() if st == "loading"]
    return "**Downloads and loading**\n" + "\n".join(lines) if lines else ""


def loading_settled(services: Services) -> bool:
    """True once nothing downloads and every model is loaded or has failed: nothing the loading
    line shows can change any more, so pages stop refreshing it."""
    from ovhhir_core.weights.downloads import BOARD

    pending = ("loading", "not loaded yet")
    return not BOARD.active() and all(st not in pending for st in services.status().values())


def provenance_markdown(provenance: Any) -> str:
    """What produced the answers (``Provenance.caption()``), and its warning when the answers
    are not grounded in the video: shown beside every answer."""
    text = f"<small>Answered by: {provenance.caption()}</small>"
    if provenance.warning or not provenance.grounded:
        warning = provenance.warning or "these answers are not grounded in the video"
        text += f"\n\n⚠️ **Not grounded:** {warning}"
    return text


@dataclass(frozen=True)
class Generation:
    """What the generation sliders ask for: decoding settings and frames per stream."""

    config: GenerationConfig
    frames: int


class GenerationSettings:
    """The generation sliders (temperature, top-p, beams, max new tokens, frames per stream).

    Built inside a Gradio layout context. Events take :attr:`inputs` as inputs; the handler turns
    the values it receives into one :class:`Generation` with :meth:`parse`.
    """

    def __init__(self, frames: int = 16, max_new_tokens: int = 128):
        self.temperature = gr.Slider(
            0.0, 2.0, value=0.7, step=0.05, label="Temperature (0 = greedy)"
        )
        self.top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, label="top_p")
        self.beams = gr.Slider(1, 5, value=1, step=1, label="Beams")
        self.max_tokens = gr.Slider(8, 512, value=max_new_tokens, step=8, label="Max new tokens")
        self.frames = gr.Slider(2, 32, value=frames, step=1, label="Frames per stream")

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The sliders, in the order :meth:`parse` reads their values."""
        return [self.temperature, self.top_p, self.beams, self.max_tokens, self.frames]

    @staticmethod
    def parse(values: Sequence[float]) -> Generation:
        """One :class:`Generation` from the slider values (Gradio sends numbers as floats)."""
        if len(values) != 5:
            raise UserError(
                "generation settings are temperature, top_p, beams, max new tokens and frames "
                f"per stream; got {len(values)} values"
            )
        temperature, top_p, beams, max_tokens, frames = values
        config = GenerationConfig(
            temperature=float(temperature),
            top_p=float(top_p),
            num_beams=int(beams),
            max_new_tokens=int(max_tokens),
        )
        config.validate()
        if int(frames) < 1:
            raise UserError(f"frames per stream must be >= 1, got {frames}")
        return Generation(config=config, frames=int(frames))
