"""Reading dataset files as records: ``.json`` (a list) or ``.jsonl`` (one object per line), and
the error that names where a problem is (file, line, sample index and id, field)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ovhhir_core.errors import UserError


class DatasetError(UserError, ValueError):
    """A dataset file or sample is malformed; the message names file, sample and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike | None = None,
        index: int | None = None,
        sample_id: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.index = index
        self.sample_id = sample_id
        self.field = field
        self.line = line
        parts = []
        if self.file is not None:
            parts.append(self.file + (f" line {line}" if line is not None else ""))
        if index is not None:
            parts.append(f"sample {index}" + (f" (id {sample_id!r})" if sample_id else ""))
        elif sample_id:
            parts.append(f"sample id {sample_id!r}")
        if field is not None:
            parts.append(f"field {field!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ErrorContext:
    """Builds the :class:`DatasetError` for one sample (its file, index and, once known, id)."""

    def __init__(self, where: Any, index: int | None) -> None:
        self.where = where
        self.index = index
        self.sample_id: str | None = None

    def __call__(self, message: str, field: str | None = None) -> DatasetError:
        return DatasetError(
            message, file=self.where, index=self.index, sample_id=self.sample_id, field=field
        )


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def read_records(path: Path) -> Iterable[tuple[int, int | None, Any]]:
    """(index, line number or None, record) for each sample of a .json or .jsonl file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"not UTF-8 text ({exc.reason}); is this a dataset file?", file=path
        ) from None
    if path.suffix.lower() == ".jsonl":
        index = 0
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"invalid JSON ({exc.msg} at column {exc.colno}); each line "
                    "must hold one sample object",
                    file=path,
                    line=line_no,
                ) from None
            yield index, line_no, record
            index += 1
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=path
        ) from None
    if isinstance(data, Mapping):
        data = [data]  # a single VideoChat-style object is accepted as a one-sample file
    if not isinstance(data, list):
        raise DatasetError(
            f"a .json dataset must be a list of samples, got {type_name(data)}", file=path
        )
    for index, record in enumerate(data):
        yield index, None, record


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed when
    complete: a failure (a full disk) leaves the old file or none, never half of the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
