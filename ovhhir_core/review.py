"""Reviewing an HHIRChat file: unpack an upload, keep verdicts and edits, export JSONL and CSV.

An annotator opens a dataset (the file with its videos, or a .zip of its folder), walks through the
samples, records a verdict (``correct`` / ``wrong``), an edited answer and a note per sample, and
exports the reviewed set: ``reviewed.jsonl`` (HHIRChat samples with a ``review`` object; an edited
answer replaces the first gpt turn and the original is kept in ``review.original_answer``) and
``reviewed.csv`` (one row per sample). No UI here: the app's Review tab wires these to widgets.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovhhir_core.errors import UserError

VERDICTS = ("unreviewed", "correct", "wrong")
CSV_FIELDS = (
    "id",
    "label",
    "question",
    "ground_truth",
    "prediction",
    "similarity",
    "verdict",
    "edited_answer",
    "note",
)
DATASET_SUFFIXES = (".json", ".jsonl")
EXPORT_JSONL = "reviewed.jsonl"
EXPORT_CSV = "reviewed.csv"


class ReviewError(UserError):
    """An upload or a path that cannot be reviewed; the message says why."""


def is_inside(path: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> bool:
    """True when ``path`` (symlinks resolved) is one of ``roots`` or lies below one."""
    real = Path(path).resolve()
    return any(real == Path(r) or Path(r) in real.parents for r in roots)


def unpack_uploads(files: Iterable[str | os.PathLike], dest: str | os.PathLike) -> Path:
    """Copy uploaded files (extracting any .zip) into a fresh ``dest``; return the dataset file.

    The dataset file is the shallowest ``.json``/``.jsonl`` found. A zip member that would land
    outside ``dest`` is refused before anything is extracted.
    """
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    inside = dest.resolve()
    for f in files:
        src = Path(f)
        if src.suffix.lower() != ".zip":
            shutil.copy(src, dest / src.name)
            continue
        with zipfile.ZipFile(src) as zf:
            for member in zf.namelist():
                if inside not in (dest / member).resolve().parents:
                    raise ReviewError(f"{src.name}: member {member!r} escapes the archive.")
            zf.extractall(dest)
    found = sorted(
        (p for p in dest.rglob("*") if p.suffix.lower() in DATASET_SUFFIXES),
        key=lambda p: (len(p.parts), p.name),
    )
    if not found:
        raise ReviewError("No .json or .jsonl dataset file among the uploads.")
    return found[0]


def first_question(sample: Any) -> str | None:
    """The sample's first human turn, or None."""
    return next((t.text for t in sample.conversations if t.role == "human"), None)


@dataclass
class ReviewSet:
    """An annotator's progress through one HHIRChat file (``samples`` from ``load_dataset``).

    ``records`` maps a sample id to ``{"prediction", "similarity", "verdict", "edited_answer",
    "note"}`` (any subset).
    """

    source: Path | None = None
    samples: list[Any] = field(default_factory=list)
    index: int = 0
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, source: str | os.PathLike) -> ReviewSet:
        """Load ``source`` (its videos must exist); an empty file is an error naming it."""
        from ovhhir_core.data.hhirchat import load_dataset

        source = Path(source)
        samples = load_dataset(source, check_files=True)
        if not samples:
            raise ReviewError(f"{source.name} holds no samples; nothing to review.")
        return cls(source=source, samples=samples)

    @property
    def current(self) -> Any:
        """The sample on screen (``Sample``), or None when nothing is open."""
        return self.samples[self.index] if self.samples else None

    def record(self, sample: Any | None = None) -> dict[str, Any]:
        """The (mutable) record of ``sample`` (default: the current one)."""
        sample = sample or self.current
        return self.records.setdefault(sample.id, {})

    def save(self, verdict: str, edited: str, note: str) -> int:
        """Keep the verdict, edited answer and note of the current sample; return how many
        samples now have a verdict."""
        if verdict not in VERDICTS:
            raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
        self.record().update(verdict=verdict, edited_answer=edited, note=note)
        return sum(1 for r in self.records.values() if r.get("verdict", VERDICTS[0]) != VERDICTS[0])

    def move(self, step: int) -> None:
        """Go ``step`` samples forward (negative: back), wrapping around."""
        if self.samples:
            self.index = (self.index + step) % len(self.samples)

    def review_object(self, sample: Any) -> dict[str, Any]:
        """The ``review`` object of ``sample`` in the export (an unchanged answer is no edit)."""
        rec = self.records.get(sample.id, {})
        edited = rec.get("edited_answer")
        if edited is not None and edited.strip() == (sample.answer or "").strip():
            edited = None
        return {
            "verdict": rec.get("verdict", VERDICTS[0]),
            "prediction": rec.get("prediction"),
            "similarity": rec.get("similarity"),
            "note": rec.get("note", ""),
            "edited_answer": edited,
            "original_answer": sample.answer,
        }

    def export(self, out_dir: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``reviewed.jsonl`` and ``reviewed.csv`` into ``out_dir``; return their paths.

        Video paths in the JSONL are relative to the dataset's folder, so the file works placed
        next to the original. Each file is written under a temporary name and then renamed, so a
        crash never leaves a half-written export under the final name.
        """
        if self.source is None:
            raise ReviewError("Open a dataset first.")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        root = self.source.resolve().parent
        jsonl, table = out / EXPORT_JSONL, out / EXPORT_CSV
        tmp_jsonl, tmp_table = jsonl.with_suffix(".jsonl.part"), table.with_suffix(".csv.part")
        with (
            open(tmp_jsonl, "w", encoding="utf-8") as fj,
            open(tmp_table, "w", newline="", encoding="utf-8") as fc,
        ):
            writer = csv.DictWriter(fc, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for s in self.samples:
                review = self.review_object(s)
                record = s.to_json(root)
                if review["edited_answer"] is not None:
                    first_gpt = next(t for t in record["conversations"] if t["from"] == "gpt")
                    first_gpt["value"] = review["edited_answer"]
                record["review"] = review
                fj.write(json.dumps(record, ensure_ascii=False) + "\n")
                writer.writerow(_csv_row(s, review))
        tmp_jsonl.replace(jsonl)
        tmp_table.replace(table)
        return jsonl, table


def _csv_row(sample: Any, review: dict[str, Any]) -> dict[str, Any]:
    sim = review["similarity"]
    return {
        "id": sample.id,
        "label": sample.label or "",
        "question": first_question(sample) or "",
        "ground_truth": sample.answer or "",
        "prediction": review["prediction"] or "",
        "similarity": "" if sim is None else f"{sim:.4f}",
        "verdict": review["verdict"],
        "edited_answer": review["edited_answer"] or "",
        "note": review["note"],
    }
