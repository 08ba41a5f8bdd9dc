"""Build an HHIRChat dataset from labelled videos (``python -m ovhhir_core build-dataset``).

Per input row (see :mod:`ovhhir_core.data.build.inputs`): map the label through the taxonomy,
get per-frame label maps (from a mask file, or by tracking the person prompts with
:class:`ovhhir_core.tracking.TrackingSession`), write the three streams and an overlay with
:func:`ovhhir_core.masking.write_streams` (the app's own stream writer, so training data and the
app's inputs match) into ``<streams_dir>/<id>/``, write a soft label (the
taxonomy's templates or an LLM describer) and the one-word turn, and append the sample to a JSONL
file. The run is resumable (ids already in the output are skipped), shardable (every n-th row),
and a bad row is reported, listed in ``<out stem>.errors.jsonl`` and skipped.

:meth:`DatasetBuilder.run` is a generator of :class:`BuildEvent` (progress, cancellation);
:attr:`DatasetBuilder.report` holds the summary when it ends.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ovhhir_core import video
from ovhhir_core.answering.base import TrackedClip
from ovhhir_core.data.build.describe import Describer, template_describer
from ovhhir_core.data.build.inputs import InputError, Row, load_masks, read_rows, shard
from ovhhir_core.data.hhirchat import Sample, append_sample, make_conversations, require_samples
from ovhhir_core.data.records import write_text_atomic
from ovhhir_core.data.taxonomy import Category, Taxonomy, load_taxonomy
from ovhhir_core.errors import UserError
from ovhhir_core.masking import export_masks_npz, write_streams
from ovhhir_core.streams import LABEL_VALUES, PERSONS

log = logging.getLogger(__name__)

#: ``tracker(row, cancel) -> {frame_idx: (H, W) uint8 label map}`` from the row's prompts.
Tracker = Callable[[Row, "Callable[[], bool] | None"], Mapping[int, np.ndarray]]


@dataclass
class BuildOptions:
    """What to build. ``out`` is a ``.jsonl`` file; streams go to ``streams_dir``
    (default ``<out folder>/<out stem>_videos``), which must lie inside ``out``'s folder."""

    source: Path
    out: Path
    dataset: str | None = None
    label_map: Mapping[str, str] | None = None
    shard: tuple[int, int] = (0, 1)
    streams_dir: Path | None = None
    fill: int = 0
    seed: int = 0


@dataclass
class BuildEvent:
    """Progress: row ``index`` (1-based) of ``total`` in this shard, and what happened to it."""

    index: int
    total: int
    row_id: str
    status: str  # "written" | "skipped" (already in the output) | "error"
    message: str = ""


@dataclass
class BuildReport:
    """Summary of a run."""

    out: Path
    errors_path: Path
    total: int = 0
    written: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    by_class: Counter = field(default_factory=Counter)
    cancelled: bool = False

    def summary(self) -> str:
        lines = [
            f"{self.written} written, {self.skipped} already done, {len(self.errors)} "
            f"failed, of {self.total} rows" + (" (cancelled)" if self.cancelled else ""),
            f"output: {self.out}",
        ]
        if self.errors:
            lines.append(f"failed rows: {self.errors_path}")
        if self.by_class:
            lines.append(
                "written per class: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.by_class.items()))
            )
        return "\n".join(lines)


class DatasetBuilder:
    """Builds (or resumes) one shard of a dataset; see the module docstring.

    ``tracker(row, cancel)`` turns a row's person prompts into ``frame_idx -> (H, W) uint8``
    label maps (it is only called for rows without a mask file; the build-dataset command gives
    one that tracks with the preset's segmenters). ``describer`` writes soft labels (default: the
    taxonomy's templates).
    """

    def __init__(
        self,
        options: BuildOptions,
        describer: Describer | None = None,
        tracker: Tracker | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        out = Path(options.out)
        if out.suffix.lower() != ".jsonl":
            raise InputError(f"--out {out}: the output must be a .jsonl file (it is appended to)")
        self.options = options
        self.tax = taxonomy or load_taxonomy()
        if options.dataset:
            options.dataset = self.tax.dataset_name(options.dataset)
        self.describer = describer
        self._template = template_describer(self.tax, options.seed)
        self._tracker = tracker
        self.streams_dir = Path(options.streams_dir or out.parent / f"{out.stem}_videos")
        try:
            self.streams_dir.resolve().relative_to(out.resolve().parent)
        except ValueError:
            raise InputError(
                f"--streams-dir {self.streams_dir} must lie inside the output's "
                f"folder {out.parent} (sample paths are stored relative to it)"
            ) from None
        self.report = BuildReport(out, out.with_name(out.stem + ".errors.jsonl"))

    # ------------------------------------------------------------------ run
    def run(self, cancel: Callable[[], bool] | None = None) -> Iterator[BuildEvent]:
        """Build every row of this shard; yields one event per row."""
        opts, report = self.options, self.report
        rows = read_rows(opts.source, opts.dataset)
        rows = shard(list(require_samples(rows, opts.source, "(rows) to build from")), *opts.shard)
        done = existing_ids(report.out)
        report.total = len(rows)
        seen: set[str] = set()
        for index, row in enumerate(rows, start=1):
            if cancel is not None and cancel():
                report.cancelled = True
                break
            if row.id in done:
                report.skipped += 1
                yield BuildEvent(index, len(rows), row.id, "skipped")
                continue
            try:
                if row.id in seen:
                    raise InputError(f"duplicate id {row.id!r}; give each row a unique 'id'")
                seen.add(row.id)
                sample = self.build_row(row, cancel)
            except UserError as exc:
                report.errors.append(
                    {
                        "id": row.id,
                        "where": row.where,
                        "video": str(row.video),
                        "label": row.label,
                        "error": str(exc),
                    }
                )
                log.warning("%s (%s): %s", row.where, row.id, exc)
                yield BuildEvent(index, len(rows), row.id, "error", str(exc))
                continue
            append_sample(sample, report.out)
            report.written += 1
            report.by_class[sample.label] += 1
            yield BuildEvent(index, len(rows), row.id, "written")
        self._write_errors()

    def _write_errors(self) -> None:
        path = self.report.errors_path
        if not self.report.errors:
            path.unlink(missing_ok=True)
            return
        lines = (json.dumps(rec, ensure_ascii=False) + "\n" for rec in self.report.errors)
        write_text_atomic(path, "".join(lines))

    # ------------------------------------------------------------------ one row
    def category(self, row: Row) -> Category:
        """The taxonomy category of a row's label (via its dataset when it has one)."""
        dataset = self._dataset_name(row)
        overrides = self.options.label_map
        if dataset:
            cat = self.tax.map_label(dataset, row.label, overrides)
            if cat is None:
                raise InputError(
                    f"label {row.label!r} is not a {dataset} label in the "
                    "taxonomy; check the spelling, or map it with --label-map "
                    '(JSON {"source label": "ClassName"})'
                )
            return cat
        if overrides and row.label in overrides:
            return self.tax.by_class(overrides[row.label])
        cat = self.tax.find(row.label)
        if cat is None:
            raise InputError(
                f"unknown label {row.label!r}: not a class or category name of the taxonomy; "
                "pass --dataset NAME to map a dataset's own labels, or --label-map"
            )
        return cat

    def build_row(self, row: Row, cancel: Callable[[], bool] | None = None) -> Sample:
        """Streams, soft label and conversation of one row (raises UserError for a bad row)."""
        if row.problem:
            raise InputError(row.problem)
        cat = self.category(row)
        if not row.video.is_file():
            raise InputError(f"video {row.video} not found")
        info = video.probe(row.video)
        labels = self._labels(row, info, cancel)
        present = set()
        for frame_idx in labels:
            present |= set(np.unique(labels[frame_idx]).tolist())
        missing = [p for p, value in LABEL_VALUES.items() if value not in present]
        if missing:
            raise InputError(
                f"the masks never show {' or '.join(missing)} (label values 1 and "
                "2); check the mask file or the prompts"
            )
        keys = sorted(labels)
        lo, hi = max(0, keys[0]), min(info.num_frames, keys[-1] + 1)
        if lo >= hi:
            raise InputError(
                f"the masks cover frames {keys[0]}..{keys[-1]}, outside the video's "
                f"{info.num_frames} frames"
            )
        paths = write_streams(
            row.video,
            labels,
            self.streams_dir / row.id,
            start=lo,
            end=hi,
            fill=self.options.fill,
            resize_labels=True,
        )
        text, how = self._describe(cat, row.id, lambda: _clip(paths, labels, self.options.fill))
        extra = {
            "source_label": row.label,
            "video": str(row.video),
            "frames": [lo, hi],
            "overlay": os.path.relpath(paths["overlay"], self.report.out.parent),
            "soft_label_from": how,
        }
        if cat.unseen:
            extra["unseen"] = True
        return Sample.from_streams(
            row.id,
            paths,
            make_conversations(text, cat.class_name),
            label=cat.class_name,
            source=self._dataset_name(row),
            extra=extra,
            fill=self.options.fill,
        )

    def _dataset_name(self, row: Row) -> str | None:
        dataset = row.dataset or self.options.dataset
        return self.tax.dataset_name(dataset) if dataset else None

    def _describe(self, cat: Category, sample_id: str, clip: Callable) -> tuple[str, str]:
        """The soft label and where it came from. A describer with ``sees_clip`` (one that
        watches the video, e.g. the zero-shot video-LLM) also gets the sample's clip."""
        reference = self._template(cat, sample_id)
        if self.describer is not None:
            if getattr(self.describer, "sees_clip", False):
                with clip() as tracked:
                    text = self.describer(cat, reference, tracked)
            else:
                text = self.describer(cat, reference)
            if text:
                return text, getattr(self.describer, "source", "describer")
            log.warning("the describer gave no text for %s; using a taxonomy template", sample_id)
        return reference, "taxonomy"

    def _labels(
        self, row: Row, info: video.VideoInfo, cancel: Callable[[], bool] | None
    ) -> Mapping[int, np.ndarray]:
        if row.mask is not None:
            return load_masks(row.mask)
        if not row.prompts:
            raise InputError(
                "no prompts: give p1 and p2 (points 'x,y;x,y' or a box "
                "'x0,y0,x1,y1') or a mask file"
            )
        if set(row.prompts) != set(PERSONS):
            raise InputError("give prompts for both people (p1 and p2)")
        if not 0 <= row.frame < info.num_frames:
            raise InputError(
                f"prompt frame {row.frame} is outside the video (0..{info.num_frames - 1})"
            )
        if self._tracker is None:
            raise InputError("this row needs tracking but no tracker was given")
        return self._tracker(row, cancel)


def existing_ids(path: Path) -> set[str]:
    """Ids of the samples already in a JSONL output. A truncated last line (an interrupted run)
    is removed; any other bad line is an error."""
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    ids, keep = set(), []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ids.add(str(json.loads(line)["id"]))
            keep.append(line if line.endswith("\n") else line + "\n")
        except (json.JSONDecodeError, KeyError, TypeError):
            if n != len(lines):
                raise InputError(
                    f"{path} line {n} is not a sample; fix or remove it before resuming"
                ) from None
            log.warning("%s: dropping an incomplete last line (interrupted run)", path)
    if "".join(keep) != "".join(lines):
        write_text_atomic(path, "".join(keep))  # never a half-written output on a full disk
    return ids


__all__ = [
    "BuildEvent",
    "BuildOptions",
    "BuildReport",
    "DatasetBuilder",
    "Tracker",
    "existing_ids",
]


@contextmanager
def _clip(paths: Mapping[str, Path], labels: Mapping[int, np.ndarray], fill: int):
    """The built sample as a :class:`TrackedClip` with its label maps (in a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        masks = export_masks_npz(labels, Path(tmp) / "masks.npz")
        streams = {k: Path(v) for k, v in paths.items() if k != "overlay"}
        yield TrackedClip(streams=streams, masks=masks, fill=(fill,) * 3)
