"""The track folder: everything one tracking run writes, as ``track`` and the app write it.

One folder holds the three streams (``person_1.mp4``, ``person_2.mp4``, ``background.mp4``), the
overlay video, the label maps (``masks.npz``, ``masks.zip`` of indexed PNGs), an HHIRChat sample
(``<id>_p1.mp4`` ... and ``<id>.json``), the interaction timeline (``timeline.json``,
``timeline.png``) and ``track.json`` (the source video, the frame range, the fill colour of the
streams and what made the masks). ``describe --track-dir`` reads such a folder, wherever it was
written (an unzipped download from the app included).
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ovhhir_core.streams import MASKS_FILE, TRACK_INFO_FILE

#: The indexed-PNG copy of the label maps.
MASKS_PNG_FILE = "masks.zip"


def write_track_folder(
    video: str | os.PathLike,
    labels: Mapping[int, np.ndarray],
    out_dir: str | os.PathLike,
    *,
    start: int = 0,
    end: int | None = None,
    fill: Sequence[int] = (0, 0, 0),
    sample_id: str | None = None,
    preset: Any = None,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write the track folder of ``labels`` (frame index -> label map) on ``video`` frames
    [``start``, ``end``) into ``out_dir``; removed pixels are ``fill`` (R, G, B). ``preset``: the
    preset the masks were made with (its pose model runs for the timeline, and what made the masks
    is recorded). ``sample_id`` defaults to the video's file name without suffix. Returns the
    written paths by name (``person_1`` ... ``overlay``, ``masks_npz``, ``masks_png``,
    ``hhirchat``, ``timeline_json``, ``timeline_png``, ``track_info``)."""
    from ovhhir_core import masking
    from ovhhir_core.data.export import export_hhirchat_sample
    from ovhhir_core.timeline.pipeline import segmenter_provenance, track_timeline

    out = Path(out_dir)
    fill = tuple(int(v) for v in fill)
    sample_id = sample_id or Path(video).stem
    overlay_written = threading.Event()

    def beside() -> dict[str, Path]:  # mostly in C (zlib, OpenCV): runs while the videos encode
        masking.export_masks_png_zip(labels, out / MASKS_PNG_FILE)
        masking.export_masks_npz(labels, out / MASKS_FILE)
        return track_timeline(
            labels, video, out, preset, device, start=start, overlay_written=overlay_written
        )

    with ThreadPoolExecutor(1) as pool:  # leaving it waits for the work beside, even on failure
        timeline_job = pool.submit(beside)
        try:
            streams = masking.write_streams(
                video, labels, out, start=start, end=end, fill=fill, progress=progress
            )
        finally:
            overlay_written.set()
    timeline = timeline_job.result()
    sample = export_hhirchat_sample(streams, out, sample_id, fill=fill)
    info = {
        "video": Path(video).name,
        "start_frame": int(start),
        "end_frame": None if end is None else int(end),
        "fill": list(fill),
        "sample_id": sample_id,
        "segmenter": segmenter_provenance(preset),
    }
    (out / TRACK_INFO_FILE).write_text(json.dumps(info, indent=2))
    return {
        **streams,
        "masks_png": out / MASKS_PNG_FILE,
        "masks_npz": out / MASKS_FILE,
        "hhirchat": sample,
        **timeline,
        "track_info": out / TRACK_INFO_FILE,
    }


def zip_track_folder(folder: str | os.PathLike, archive: str | os.PathLike) -> Path:
    """Zip the files of ``folder`` (flat, no enclosing folder) into ``archive``: unzipped, it is
    a track folder again. ``archive`` itself is left out when it lies inside ``folder``."""
    folder, archive = Path(folder), Path(archive)
    tmp = archive.with_name("." + archive.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:  # videos are compressed already
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.resolve() not in (archive.resolve(), tmp.resolve()):
                zf.write(path, path.name)
    os.replace(tmp, archive)
    return archive
