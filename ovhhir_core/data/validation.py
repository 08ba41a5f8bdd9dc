"""Checks of one HHIRChat JSON sample's fields; each failure is a :class:`DatasetError` naming the
file, the sample and the field.

- ``id``: a non-empty string or integer, unique in its file;
- ``p1`` / ``p2`` (required) and ``bg`` (optional): paths relative to the dataset file that stay
  inside its folder (no ``..`` or absolute path elsewhere, symlinks included);
- ``conversations``: ``{"from": "human" | "gpt", "value": text}`` turns that start with a human
  turn and alternate human, gpt, human, ...; at least one gpt turn. The placeholders ``<p1>``
  ``<p2>`` ``<bg>`` are the only ``<...>`` tags a human turn may hold (``<p3>`` or ``<video>``
  is refused rather than shown to the model as literal text);
- ``fill``: the colour removed pixels have in the streams, one integer 0..255 or three (R, G, B);
  absent means black;
- every text field (id, paths, label, source, turn values, other string values) is at most
  :data:`MAX_TEXT_CHARS` characters.

VideoChat-style samples (``QA`` lists of ``q`` / ``a`` / optional ``i``) follow the same rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ovhhir_core.data.records import DatasetError, ErrorContext, type_name
from ovhhir_core.streams import TOKENS

#: Longest text accepted in any field of a sample, in characters (a description is ~200).
MAX_TEXT_CHARS = 20_000
ROLES = ("human", "gpt")
PLACEHOLDERS = tuple(TOKENS.values())
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9_-]*>")


def check_text(value: Any, field: str, err: ErrorContext) -> str:
    """``value`` if it is a string of at most :data:`MAX_TEXT_CHARS` characters."""
    if not isinstance(value, str):
        raise err(f"must be a string, got {type_name(value)}", field)
    if len(value) > MAX_TEXT_CHARS:
        raise err(
            f"is {len(value):,} characters long; the limit is {MAX_TEXT_CHARS:,} per field", field
        )
    return value


def check_extra(d: Mapping[str, Any], known: set[str], err: ErrorContext) -> dict[str, Any]:
    """The sample's other keys (kept as they are), each string value within the text cap."""
    extra = {k: v for k, v in d.items() if k not in known}
    for key, value in extra.items():
        if isinstance(value, str):
            check_text(value, str(key), err)
    return extra


def parse_id(d: Mapping[str, Any], err: ErrorContext) -> str:
    if "id" not in d:
        raise err("missing; every sample needs a unique id", "id")
    value = d["id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise err(f"must be a string or integer, got {type_name(value)}", "id")
    if isinstance(value, str) and not check_text(value, "id", err).strip():
        raise err("must not be empty", "id")
    return str(value)


def optional_str(d: Mapping[str, Any], key: str, err: ErrorContext) -> str | None:
    value = d.get(key)
    return None if value is None else check_text(value, key, err)


def parse_fill(value: Any) -> tuple[int, int, int] | None:
    """A fill colour as (R, G, B): one integer 0..255 (grey) or three; None if invalid."""
    values = [value] * 3 if isinstance(value, int) else value
    if not isinstance(values, (list, tuple)) or len(values) != 3:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values):
        return None
    return int(values[0]), int(values[1]), int(values[2])


def fill_of(d: Mapping[str, Any], err: ErrorContext) -> tuple[int, int, int]:
    fill = parse_fill(d.get("fill", 0))
    if fill is None:
        raise err(f"must be one or three integers 0..255 (R, G, B), got {d['fill']!r}", "fill")
    return fill


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _resolve_video(value: str, root: Path) -> Path | None:
    """``value`` resolved against ``root``; None if it escapes ``root``."""
    root = root.resolve()
    p = Path(os.path.normpath(root / value))  # lexical: removes ".." segments
    if not _within(p, root):
        return None
    real = p.resolve()  # symlinks must stay inside too
    return p if _within(real, root) else None


def parse_path(
    d: Mapping[str, Any], key: str, root: Path, err: ErrorContext, required: bool
) -> Path | None:
    value = d.get(key)
    if value is None:
        if required:
            raise err("missing; give the video path relative to the dataset file", key)
        return None
    if not isinstance(value, str) or not check_text(value, key, err).strip():
        raise err(f"must be a non-empty string path, got {type_name(value)} {value!r}", key)
    resolved = _resolve_video(value, root)
    if resolved is None:
        raise err(
            f"path {value!r} escapes the dataset folder {root}; keep videos inside the "
            "folder that holds the dataset file",
            key,
        )
    return resolved


def relative_path(path: Path, root: Path, sample_id: str, key: str) -> str:
    """``path`` relative to ``root`` (POSIX); DatasetError if it lies outside."""
    root = root.resolve()
    p = Path(os.path.normpath(Path(path).absolute()))
    if not _within(p, root):
        raise DatasetError(
            f"video {p} is outside the dataset folder {root}; save the dataset "
            "next to (or above) its videos",
            sample_id=sample_id,
            field=key,
        )
    return p.relative_to(root).as_posix()


def check_turns(
    turns: list[tuple[str, str]],
    key: str,
    err: ErrorContext,
    field_of: Callable[[int, str], str] | None = None,
) -> None:
    """Roles alternate from a human turn; human turns hold only known placeholders.

    ``field_of(i, "from" | "value")`` names turn ``i``'s field in errors (default
    ``<key>[i].from``).
    """
    field_of = field_of or (lambda i, part: f"{key}[{i}].{part}")
    for i, (role, text) in enumerate(turns):
        want = ROLES[i % 2]
        if role != want:
            raise err(
                f"turn {i} is from {role!r} but should be from {want!r}: a conversation "
                "starts with a human turn and alternates human, gpt, human, ...",
                field_of(i, "from"),
            )
        unknown = sorted({t for t in _TAG.findall(text) if t not in PLACEHOLDERS})
        if role == "human" and unknown:
            raise err(
                f"unknown placeholder(s) {', '.join(unknown)}; the known ones are "
                f"{' '.join(PLACEHOLDERS)}",
                field_of(i, "value"),
            )
    if not any(role == "gpt" for role, _ in turns):
        raise err("has no gpt turn; a sample needs an answer to train or evaluate on", key)


def parse_turns(value: Any, key: str, err: ErrorContext) -> list[tuple[str, str]]:
    """``(role, text)`` of each ``{"from", "value"}`` turn, checked by :func:`check_turns`."""
    if value is None:
        raise err('missing; give a list of {"from", "value"} turns', key)
    if not isinstance(value, list):
        raise err(f"must be a list of turns, got {type_name(value)}", key)
    if not value:
        raise err("is empty; a sample needs at least one human and one gpt turn", key)
    turns = []
    for i, t in enumerate(value):
        f = f"{key}[{i}]"
        if not isinstance(t, Mapping):
            raise err(f'must be an object with "from" and "value", got {type_name(t)}', f)
        role = t.get("from")
        if role not in ROLES:
            raise err(f'unknown role {role!r}; use "human" or "gpt"', f + ".from")
        turns.append((role, check_text(t.get("value"), f + ".value", err)))
    check_turns(turns, key, err)
    return turns


def parse_qa(value: Any, err: ErrorContext) -> list[tuple[str, str]]:
    """VideoChat ``QA``: each ``{"q", "a", "i"?}`` becomes a human turn (``i`` then ``q``) and a
    gpt turn."""
    if not isinstance(value, list) or not value:
        raise err(f'must be a non-empty list of {{"q", "a"}} objects, got {type_name(value)}', "QA")
    turns = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise err(f"must be an object, got {type_name(item)}", f"QA[{i}]")
        q = check_text(item.get("q"), f"QA[{i}].q", err)
        a = check_text(item.get("a"), f"QA[{i}].a", err)
        instruction = item.get("i")
        if instruction:
            q = f"{check_text(instruction, f'QA[{i}].i', err)} {q}".strip()
        turns += [("human", q), ("gpt", a)]
    check_turns(turns, "QA", err, lambda i, _: f"QA[{i // 2}].{'aq'[i % 2 == 0]}")
    return turns
