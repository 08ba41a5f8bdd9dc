"""HHIRChat: the paper's dataset format (VideoChat style, three video streams per sample).

One sample, as JSON::

    {"id": "0", "p1": "0_p1.mp4", "p2": "0_p2.mp4", "bg": "0_bg.mp4",
     "label": "Punching", "source": "UT-Interaction",
     "conversations": [
        {"from": "human", "value": "Describe interaction between <p1> and <p2> in <bg>?"},
        {"from": "gpt", "value": "A person takes a step towards another person and swings ..."},
        {"from": "human", "value": "Describe the activity in one word."},
        {"from": "gpt", "value": "Punching."}]}

``label``, ``source`` and ``fill`` are optional additions of ours (class name, dataset name, and
the colour removed pixels have in the streams: ``[R, G, B]``, default black); any other key is
kept in ``Sample.extra`` and written back on save.

A file is either ``.json`` (a list of samples) or ``.jsonl`` (one sample per line). Video paths are
resolved relative to the folder that holds the dataset file (its *root*) and refused if they
escape it (``..`` or an absolute path elsewhere). The rules each sample must meet (conversations
that alternate from a human turn, only the ``<p1>`` ``<p2>`` ``<bg>`` placeholders, a
:data:`~ovhhir_core.data.validation.MAX_TEXT_CHARS` cap on every text field, the ``fill`` colour)
are in :mod:`ovhhir_core.data.validation`; a file without samples is an error too. Every error is
a :class:`DatasetError` naming the file, the sample index and id, and the field.

VideoChat-style files (``{"video": "x.mp4", "QA": [{"q": ..., "a": ...}]}``, optionally with an
``"i"`` instruction per QA) and Video-LLaMA-style files (``{"video": ..., "conversations": [...]}``)
are read as *single-stream* samples: the one video stands for all three streams
(``p1 = p2 = bg = video``, i.e. the whole frame as background and each person branch also seeing the
whole frame), and ``extra["single_stream"] = True`` records that the streams are not segmented.
Saving such a sample writes it in HHIRChat form.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovhhir_core.data import validation as V
from ovhhir_core.data.records import (
    DatasetError,
    ErrorContext,
    read_records,
    type_name,
    write_text_atomic,
)
from ovhhir_core.streams import DESCRIBE_QUESTION, HHIRCHAT_KEYS, ONE_WORD_QUESTION, STREAMS

_KNOWN_KEYS = {*HHIRCHAT_KEYS.values(), "id", "conversations", "label", "source", "fill"}


@dataclass
class Turn:
    """One conversation turn: ``role`` is "human" or "gpt"; JSON ``{"from": role, "value": text}``."""

    role: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"from": self.role, "value": self.text}


@dataclass
class Sample:
    """One HHIRChat sample. ``p1``/``p2``/``bg`` are resolved (absolute) video paths."""

    id: str
    p1: Path
    p2: Path
    bg: Path | None
    conversations: list[Turn]
    label: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    fill: tuple[int, int, int] = (0, 0, 0)

    def __post_init__(self) -> None:
        fill = V.parse_fill(self.fill)
        if fill is None:
            raise DatasetError(
                f"fill must be one or three integers 0..255, got {self.fill!r}",
                sample_id=self.id,
                field="fill",
            )
        self.fill = fill

    @classmethod
    def from_streams(
        cls,
        sample_id: str,
        streams: Mapping[str, Path],
        conversations: list[Turn],
        **fields: Any,
    ) -> Sample:
        """A sample whose videos are ``streams`` keyed by stream name (``person_1`` ...)."""
        p1, p2, bg = (streams.get(s) for s in STREAMS)
        return cls(sample_id, p1, p2, bg, conversations, **fields)  # type: ignore[arg-type]

    @property
    def streams(self) -> dict[str, Path | None]:
        """``{"person_1": p1, "person_2": p2, "background": bg}``."""
        return {s: getattr(self, HHIRCHAT_KEYS[s]) for s in STREAMS}

    @property
    def answer(self) -> str | None:
        """Text of the first gpt turn (the descriptive "soft" label), or None."""
        return next((t.text for t in self.conversations if t.role == "gpt"), None)

    @property
    def one_word(self) -> str | None:
        """The gpt answer that follows the one-word question (e.g. "Punching."), or None."""
        want = _norm_question(ONE_WORD_QUESTION)
        turns = self.conversations
        for i, turn in enumerate(turns[:-1]):
            if turn.role == "human" and _norm_question(turn.text) == want:
                nxt = turns[i + 1]
                if nxt.role == "gpt":
                    return nxt.text
        return None

    def to_json(self, root: str | os.PathLike) -> dict[str, Any]:
        """The sample as a JSON-ready dict, video paths relative to ``root`` (POSIX separators).

        Raises DatasetError if a video lies outside ``root`` (it could not be loaded back).
        """
        root = Path(root)
        out: dict[str, Any] = {"id": self.id}
        for key in HHIRCHAT_KEYS.values():
            value = getattr(self, key)
            out[key] = None if value is None else V.relative_path(value, root, self.id, key)
        out["fill"] = list(self.fill)
        out["conversations"] = [t.to_json() for t in self.conversations]
        if self.label is not None:
            out["label"] = self.label
        if self.source is not None:
            out["source"] = self.source
        for key, value in self.extra.items():
            if key not in _KNOWN_KEYS and key != "single_stream":
                out[key] = value
        return out

    @classmethod
    def from_json(
        cls,
        d: Any,
        root: str | os.PathLike,
        where: str | os.PathLike | None = None,
        index: int | None = None,
    ) -> Sample:
        """Validate one JSON sample (HHIRChat, VideoChat or Video-LLaMA style) and resolve its paths.

        ``root`` is the folder that video paths are relative to; ``where`` (the file) and ``index``
        only go into error messages.
        """
        err = ErrorContext(where, index)
        if not isinstance(d, Mapping):
            raise err(f"a sample must be a JSON object, got {type_name(d)}")
        if "p1" not in d and "video" in d:
            return _from_single_stream(d, Path(root), err)
        sample_id = V.parse_id(d, err)
        err.sample_id = sample_id
        p1, p2, bg = (
            V.parse_path(d, key, Path(root), err, required=key != "bg")
            for key in HHIRCHAT_KEYS.values()
        )
        turns = [Turn(r, t) for r, t in V.parse_turns(d.get("conversations"), "conversations", err)]
        label, source = V.optional_str(d, "label", err), V.optional_str(d, "source", err)
        fill = V.fill_of(d, err)
        extra = V.check_extra(d, _KNOWN_KEYS, err)
        return cls(sample_id, p1, p2, bg, turns, label, source, extra, fill)  # type: ignore[arg-type]


def make_conversations(
    description: str, one_word: str | None = None, question: str = DESCRIBE_QUESTION
) -> list[Turn]:
    """The paper's conversation: question, description, and (if ``one_word``) the one-word turn.

    ``one_word`` is a class name such as "Punching"; it is written as "Punching.".
    """
    turns = [Turn("human", question), Turn("gpt", description)]
    if one_word:
        word = one_word.strip()
        turns += [
            Turn("human", ONE_WORD_QUESTION),
            Turn("gpt", word if word.endswith(".") else word + "."),
        ]
    return turns


def require_samples(
    samples: Sequence[Any], path: str | os.PathLike | None, purpose: str = ""
) -> Sequence[Any]:
    """``samples`` if there is at least one; else a DatasetError naming ``path``.

    For every place that needs samples (training, evaluation, review, a build's input), also
    after filtering a loaded dataset. ``purpose`` ("to train on", ...) goes into the message.
    """
    if not samples:
        raise DatasetError(
            f"holds no samples{' ' + purpose if purpose else ''}; give a dataset with at least "
            "one sample",
            file=path,
        )
    return samples


def load_dataset(
    path: str | os.PathLike, check_files: bool = False, allow_empty: bool = False
) -> list[Sample]:
    """Read and validate a ``.json`` (list) or ``.jsonl`` dataset; paths resolve relative to it.

    With ``check_files=True`` every referenced video must exist; a file without samples is an
    error unless ``allow_empty``. Raises DatasetError.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError("no such dataset file; check the path", file=path)
    root = path.resolve().parent
    samples = []
    for index, line_no, record in read_records(path):
        try:
            samples.append(Sample.from_json(record, root, where=path, index=index))
        except DatasetError as exc:
            if line_no is not None and exc.line is None:
                raise DatasetError(
                    exc.message,
                    file=path,
                    index=index,
                    sample_id=exc.sample_id,
                    field=exc.field,
                    line=line_no,
                ) from None
            raise
    _check_unique(samples, path)
    if not allow_empty:
        require_samples(samples, path)
    if check_files:
        for index, sample in enumerate(samples):
            for key in HHIRCHAT_KEYS.values():
                p = getattr(sample, key)
                if p is not None and not p.is_file():
                    raise DatasetError(
                        f"video {p} does not exist; fix the path or add the file",
                        file=path,
                        index=index,
                        sample_id=sample.id,
                        field=key,
                    )
    return samples


def save_dataset(samples: Iterable[Sample], path: str | os.PathLike) -> Path:
    """Write samples as ``.json`` (an indented list) or ``.jsonl`` by suffix; paths relative to it.

    Returns the path. Raises DatasetError for duplicate ids, an unknown suffix, or a video outside
    the file's folder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".jsonl"):
        raise DatasetError("dataset files must end in .json or .jsonl", file=path)
    samples = list(samples)
    _check_unique(samples, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = path.resolve().parent
    records = []
    for index, s in enumerate(samples):
        try:
            records.append(s.to_json(root))
        except DatasetError as exc:
            raise DatasetError(
                exc.message, file=path, index=index, sample_id=s.id, field=exc.field
            ) from None
    if suffix == ".json":
        text = json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    else:
        text = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    write_text_atomic(path, text)
    return path


def append_sample(sample: Sample, path: str | os.PathLike) -> None:
    """Append one sample as a line of a ``.jsonl`` file (created if missing) and flush it."""
    path = Path(path)
    if path.suffix.lower() != ".jsonl":
        raise DatasetError("appending needs a .jsonl file", file=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rec = sample.to_json(path.resolve().parent)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.flush()


# ----------------------------------------------------------------------------- helpers


def _norm_question(text: str) -> str:
    return " ".join(text.lower().split())


def _check_unique(samples: list[Sample], path: Path) -> None:
    seen: dict[str, int] = {}
    for index, s in enumerate(samples):
        if s.id in seen:
            raise DatasetError(
                f"duplicate id (first used by sample {seen[s.id]}); ids must be unique",
                file=path,
                index=index,
                sample_id=s.id,
                field="id",
            )
        seen[s.id] = index


def _from_single_stream(d: Mapping[str, Any], root: Path, err: ErrorContext) -> Sample:
    """A VideoChat (``QA``) or Video-LLaMA (``conversations``) sample with one ``video``."""
    video = V.parse_path(d, "video", root, err, required=True)
    if "id" in d:
        sample_id = V.parse_id(d, err)
    else:  # no id in these formats: the video path, plus the index so repeated videos stay unique
        sample_id = f"{Path(str(d['video'])).as_posix()}#{err.index or 0}"
    err.sample_id = sample_id
    if "QA" in d:
        turns = V.parse_qa(d["QA"], err)
    else:
        turns = V.parse_turns(d.get("conversations"), "conversations", err)
    extra = V.check_extra(d, _KNOWN_KEYS | {"video", "QA"}, err)
    extra["single_stream"] = True
    label, source = V.optional_str(d, "label", err), V.optional_str(d, "source", err)
    conversation = [Turn(r, t) for r, t in turns]
    return Sample(sample_id, video, video, video, conversation, label, source, extra)  # type: ignore[arg-type]
