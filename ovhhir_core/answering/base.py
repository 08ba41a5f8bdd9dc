"""The answerer boundary: one small interface to ask questions about a tracked clip.

The app, the CLI, evaluation and the review tab talk to answerers only through this package:

    conversation = answerer.open(clip, frames=16)        # encodes the clip once
    for text in conversation.ask("What does <p1> do?", GenerationConfig()):
        ...                                              # the GROWING answer text
    scores = conversation.score(ONE_WORD_QUESTION, ["Hugging.", "Punching."])
    conversation.provenance.caption()                    # what wrote the answers, always shown

Every conversation is a :class:`Conversation`: it owns the history, ``ask``, ``regenerate``,
``clear``, the input checks and the provenance; an answerer supplies only how it streams an answer
(``_stream``) and how it scores candidates (``_score``). Implementations:
``ovhhir_core.model.answerer`` (the OV-HHIR branches; grounded only with a trained checkpoint),
``ovhhir_core.zeroshot`` (a pretrained video-LLM that sees the clip with both people marked) and
``ovhhir_core.timeline.facts_answerer`` (a description built only from the measured timeline
facts). :func:`ovhhir_core.answering.backends.load_answerer` picks one
(``auto|ovhhir|zeroshot``); :mod:`ovhhir_core.answering.decoding` is the token loop the two
language models share.

This module is a leaf: it imports nothing from the rest of the package but the stream vocabulary
and the error types, so every implementation can depend on it without a cycle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ovhhir_core.errors import UserError
from ovhhir_core.streams import MASKS_FILE, STREAMS, TRACK_FILES, TRACK_INFO_FILE


@dataclass
class GenerationConfig:
    """Decoding settings (applied by :mod:`ovhhir_core.answering.decoding`).

    ``temperature`` 0 = greedy, else sampling; ``top_p`` keeps the smallest set of most likely
    tokens whose probability reaches it (sampling only); ``repetition_penalty`` > 1 makes tokens
    already in the prompt or the answer less likely; ``num_beams`` > 1 = beam search
    (deterministic: temperature and top_p are not used); ``seed`` None = a fresh random seed.
    """

    temperature: float = 0.7
    top_p: float = 0.9
    num_beams: int = 1
    max_new_tokens: int = 256
    repetition_penalty: float = 1.1
    seed: int | None = None

    def validate(self) -> None:
        """Raise :class:`UserError` for out-of-range values."""
        problems = []
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if self.num_beams < 1:
            problems.append(f"num_beams must be >= 1, got {self.num_beams}")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty must be > 0, got {self.repetition_penalty}")
        if problems:
            raise UserError("invalid generation settings: " + "; ".join(problems))


@dataclass(frozen=True)
class Provenance:
    """What produced an answer; shown beside every answer (the honesty rule).

    ``answerer``: ``"ovhhir"``, ``"zeroshot"`` or ``"facts"``. ``model_id``: a Hub id, a local
    path, or e.g. ``"tiny (random weights)"``. ``grounded``: the answers are about the video
    (False for untrained branches or random weights: then ``warning`` says so and the UI shows it).
    """

    answerer: str
    model_id: str
    preset: str
    grounded: bool
    frames: int | None = None
    warning: str | None = None
    facts_in_prompt: bool = False

    def caption(self) -> str:
        """One line for the UI and the CLI, e.g. ``zero-shot · HuggingFaceTB/SmolVLM2-… · 16
        frames · preset small``."""
        names = {"ovhhir": "OV-HHIR", "zeroshot": "zero-shot", "facts": "measured facts"}
        parts = [names.get(self.answerer, self.answerer), self.model_id]
        if self.frames:
            parts.append(f"{self.frames} frames")
        parts.append(f"preset {self.preset}")
        if self.facts_in_prompt:
            parts.append("timeline facts in prompt")
        if not self.grounded:
            parts.append("NOT GROUNDED")
        return " · ".join(parts)


@dataclass
class TrackedClip:
    """What an answerer may look at: the three stream videos of a tracked clip, and optionally
    the label maps and the timeline's facts text.

    ``streams``: ``{"person_1": path, "person_2": path, "background": path or None}``.
    ``masks``: a ``masks.npz`` of (H, W) uint8 label maps (0 bg, 1 P1, 2 P2) at the stream size,
    or None (boxes then come from the non-``fill`` pixels). ``facts``: the timeline's facts text
    (``ovhhir_core.timeline``), given to answerers that accept grounding.
    """

    streams: dict[str, Path]
    masks: Path | None = None
    fill: tuple[int, int, int] = (0, 0, 0)
    facts: str | None = None
    extra: dict[str, Path] = field(default_factory=dict)  # overlay, timeline.json, ...

    @classmethod
    def from_paths(
        cls,
        p1: str | os.PathLike,
        p2: str | os.PathLike,
        bg: str | os.PathLike | None = None,
        fill: tuple[int, int, int] = (0, 0, 0),
    ) -> TrackedClip:
        """A clip from three stream files (``--p1 --p2 --bg``); each must exist."""
        streams = {"person_1": Path(p1), "person_2": Path(p2)}
        if bg is not None:
            streams["background"] = Path(bg)
        for name, path in streams.items():
            if not path.is_file():
                raise UserError(f"{name} stream {path} does not exist")
        return cls(streams=streams, fill=fill)

    @classmethod
    def from_track_dir(cls, directory: str | os.PathLike) -> TrackedClip:
        """A clip from a folder written by ``python -m ovhhir_core track`` (or the app)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise UserError(f"--track-dir {directory} is not a folder")
        streams = {s: directory / TRACK_FILES[s] for s in STREAMS}
        missing = [p.name for s, p in streams.items() if s != "background" and not p.is_file()]
        if missing:
            raise UserError(
                f"{directory} is not a track folder: {', '.join(missing)} missing; write one with "
                "`python -m ovhhir_core track VIDEO --p1 X,Y --p2 X,Y --out DIR`"
            )
        if not streams["background"].is_file():
            del streams["background"]
        masks = directory / MASKS_FILE
        extra = {p.name: p for p in directory.iterdir() if p.suffix in (".json", ".mp4", ".png")}
        info = directory / TRACK_INFO_FILE  # the fill the streams were written with
        fill = json.loads(info.read_text()).get("fill") if info.is_file() else None
        return cls(
            streams=streams,
            masks=masks if masks.is_file() else None,
            fill=tuple(fill) if fill else (0, 0, 0),
            extra=extra,
        )


def check_question(text: str) -> str:
    """``text`` when it is a question that can be asked, else a :class:`UserError`."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("the question is empty: type a question first")
    return text


class Conversation:
    """A multi-turn conversation about one clip (encoded once, at ``open``): what every
    answerer's conversation shares, i.e. the history (``{"role": "user"|"assistant",
    "content": str}`` messages), ``ask``, ``regenerate``, ``clear``, the input checks and the
    provenance.

    An answerer's conversation subclasses this and supplies :meth:`_stream` (the growing answer
    to the history, whose last message is the user's) and :meth:`_score`. Bad input (an empty
    question, out-of-range generation settings, nothing to regenerate) raises
    :class:`UserError` at the call, before anything is streamed. The question joins ``history``
    at once and the answer when it ends (or what there was when the caller stops early); a
    question whose prompt cannot even be built (the stream fails before its first text) is
    dropped from the history again.
    """

    def __init__(self, provenance: Provenance | None = None, facts: str | None = None):
        self.provenance = provenance
        self.history: list[dict[str, str]] = []
        self._facts = facts.strip() if facts and facts.strip() else None

    @property
    def prompt_facts(self) -> str | None:
        """The facts text given in the prompt (None when none was)."""
        return self._facts

    def ask(self, text: str, gen: GenerationConfig | None = None) -> Iterator[str]:
        """Ask ``text``; yields the GROWING answer (each item is the whole answer so far)."""
        check_question(text)
        gen = self._settings(gen)
        self.history.append({"role": "user", "content": text})
        return self._answer(gen)

    def regenerate(self, gen: GenerationConfig | None = None) -> Iterator[str]:
        """Drop the last answer and answer the last question again (growing text, as ``ask``)."""
        asked = [i for i, turn in enumerate(self.history) if turn["role"] == "user"]
        if not asked:
            raise UserError("nothing to regenerate: ask a question first")
        gen = self._settings(gen)
        del self.history[asked[-1] + 1 :]
        return self._answer(gen)

    def clear(self) -> None:
        """Forget the turns; keep the encoded clip."""
        self.history.clear()

    def score(self, question: str, answers: Sequence[str]) -> list[float]:
        """Mean per-token log-probability (<= 0) of each answer as the reply to ``question``
        about this clip (history not included); an empty list scores nothing."""
        check_question(question)
        answers = list(answers)
        return self._score(question, answers) if answers else []

    @staticmethod
    def _settings(gen: GenerationConfig | None) -> GenerationConfig:
        gen = gen or GenerationConfig()
        gen.validate()
        return gen

    def _answer(self, gen: GenerationConfig) -> Iterator[str]:
        answer, started = "", False
        try:
            for answer in self._stream(list(self.history), gen):
                started = True
                yield answer
        except Exception:
            if not started:  # the question could not be asked: forget it
                self.history.pop()
                raise
            self.history.append({"role": "assistant", "content": answer})
            raise
        except BaseException:  # the caller stopped early (GeneratorExit): keep what there was
            self.history.append({"role": "assistant", "content": answer})
            raise
        self.history.append({"role": "assistant", "content": answer})

    def _stream(self, history: list[dict[str, str]], gen: GenerationConfig) -> Iterator[str]:
        """The growing answer to ``history`` (its last message is the user's question)."""
        raise NotImplementedError

    def _score(self, question: str, answers: list[str]) -> list[float]:
        """Scores of ``answers`` (not empty) as the reply to ``question``."""
        raise NotImplementedError


@runtime_checkable
class Answerer(Protocol):
    """A shared, read-only answerer (one per process); conversations are per user."""

    name: str  # "ovhhir" | "zeroshot" | "facts"

    def provenance(self, frames: int | None = None, facts: bool = False) -> Provenance:
        """What this answerer's answers come from (before any clip is opened)."""

    def open(self, clip: TrackedClip, frames: int = 16, use_facts: bool = True) -> Conversation:
        """Start a conversation on ``clip`` sampled to ``frames`` frames; the facts text
        (``clip.facts``) goes into the prompt when ``use_facts`` and the answerer accepts it."""
