"""Data pipeline speed: synthetic rendering, stream writing, and build-dataset throughput.

Prints, on this machine:

- rendering a 64-frame 320x240 clip (two people; and a crowded four-person clip), per clip and
  as a multiple of real time (the clip lasts 4 s at 16 fps);
- writing a clip's H.264 video + masks npz, and the three stream videos, per clip;
- ``build-dataset`` on a folder of rendered clips with mask files: samples per second and seconds
  per sample (mask path; no tracking).

    python benchmarks/bench_data.py [--clips 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ovhhir_core.data.build import BuildOptions, DatasetBuilder  # noqa: E402
from ovhhir_core.data.synthetic import CLASSES, render_clip, write_clip  # noqa: E402
from ovhhir_core.masking import write_streams  # noqa: E402


def _time(fn, repeat: int) -> float:
    start = time.perf_counter()
    for i in range(repeat):
        fn(i)
    return (time.perf_counter() - start) / repeat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6, help="clips per measurement")
    args = parser.parse_args(argv)
    n, frames, fps, size = args.clips, 64, 16.0, (320, 240)
    duration = frames / fps
    names = [CLASSES[i % len(CLASSES)] for i in range(n)]
    render_clip(names[0], 0, size, 4, fps)  # warm-up (imports, OpenCV)

    t_two = _time(lambda i: render_clip(names[i], i, size, frames, fps), n)
    t_crowd = _time(lambda i: render_clip(names[i], i, size, frames, fps, crowded=True), n)
    print(
        f"render 64 frames 320x240, 2 people: {t_two:.3f} s/clip "
        f"({duration / t_two:.0f}x real time)"
    )
    print(
        f"render 64 frames 320x240, 4 people: {t_crowd:.3f} s/clip "
        f"({duration / t_crowd:.0f}x real time)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = [render_clip(names[i], i, size, frames, fps) for i in range(n)]
        t_write = _time(lambda i: write_clip(clips[i], tmp / "src" / names[i], f"c{i}"), n)
        t_streams = _time(
            lambda i: write_streams(
                enumerate(clips[i].frames),
                dict(enumerate(clips[i].labels)),
                tmp / "streams",
                fps=fps,
                prefix=f"c{i}",
                overlay=False,
            ),
            n,
        )
        print(
            f"write video + masks npz: {t_write:.3f} s/clip; three streams: "
            f"{t_streams:.3f} s/clip (ratio streams/video {t_streams / t_write:.2f})"
        )
        builder = DatasetBuilder(BuildOptions(tmp / "src", tmp / "out" / "d.jsonl"))
        start = time.perf_counter()
        statuses = [e.status for e in builder.run()]
        took = time.perf_counter() - start
        ok = statuses.count("written")
        print(
            f"build-dataset (mask files, {ok}/{len(statuses)} written): "
            f"{ok / took:.2f} samples/s, {took / max(1, ok):.2f} s/sample "
            f"(3 streams + overlay per sample)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
