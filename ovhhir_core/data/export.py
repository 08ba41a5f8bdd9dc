"""Export one tracked clip as an HHIRChat sample: its three streams and a one-sample JSON file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ovhhir_core.data.hhirchat import Sample, Turn, save_dataset
from ovhhir_core.data.records import DatasetError
from ovhhir_core.streams import DESCRIBE_QUESTION, FILE_SUFFIXES, STREAMS


def _copy_atomic(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` under a temporary name, renamed only once complete."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=dest.suffix)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def export_hhirchat_sample(
    streams: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    sample_id: str,
    question: str = DESCRIBE_QUESTION,
    answer: str | None = None,
    fill: int | Sequence[int] = (0, 0, 0),
) -> Path:
    """Copy the three streams to ``<id>_p1.mp4``, ``<id>_p2.mp4``, ``<id>_bg.mp4`` in ``out_dir``
    and write ``<id>.json``: a list with one HHIRChat entry (``id``, ``p1``, ``p2``, ``bg``,
    ``fill`` — the colour the streams were written with — and the conversation ``question`` /
    ``answer``). Without an answer the gpt turn is left empty for the annotator to fill in.
    Returns the JSON path. Raises DatasetError for a bad id or missing streams.
    """
    sample_id = str(sample_id)
    if not sample_id or any(c in sample_id for c in "/\\") or sample_id.startswith("."):
        raise DatasetError(f"sample id {sample_id!r} must be a plain name (no slashes)")
    missing = [s for s in STREAMS if s not in streams or not Path(streams[s]).is_file()]
    if missing:
        raise DatasetError(f"streams missing: {', '.join(missing)}; write the streams first")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets: dict[str, Path] = {}
    copied: list[Path] = []
    try:  # on failure (a full disk) the copies made so far are removed: no half sample is left
        for stream in STREAMS:
            dest = out_dir / f"{sample_id}{FILE_SUFFIXES[stream]}"
            if Path(streams[stream]).resolve() != dest.resolve():
                _copy_atomic(Path(streams[stream]), dest)
                copied.append(dest)
            targets[stream] = dest
        turns = [Turn("human", question), Turn("gpt", answer or "")]
        sample = Sample.from_streams(sample_id, targets, turns, fill=fill)
        return save_dataset([sample], out_dir / f"{sample_id}.json")
    except BaseException:
        for dest in copied:
            dest.unlink(missing_ok=True)
        raise
