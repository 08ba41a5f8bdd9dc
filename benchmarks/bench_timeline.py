"""Time and peak memory of the interaction timeline on a generated 10-minute 480p masks file vs
a 1-minute one (10 fps: 6,000 vs 600 label maps).

The masks cycle through synthetic interactions rendered at 640x480 and are written the way
``track`` writes them (``masks.npz``, one compressed map per frame). Each measurement runs in a
fresh subprocess (peak RSS is its own): read the maps one at a time, measure, detect events,
write ``timeline.json`` and ``timeline.png``. Memory should stay flat in length; time should
grow linearly.

    python benchmarks/bench_timeline.py [--workdir /tmp/ovhhir-bench-timeline] [--fps 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from ovhhir_core.timeline import MaskFile, compute_timeline, write_timeline
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); c0 = time.process_time()
timeline = compute_timeline(MaskFile(sys.argv[1]), float(sys.argv[2]), video_size=(640, 480))
t_measure = time.perf_counter() - t0; c_measure = time.process_time() - c0
t0 = time.perf_counter()
write_timeline(sys.argv[4], timeline)
t_write = time.perf_counter() - t0
print(json.dumps({"frames": len(timeline.frames), "events": len(timeline.events),
                  "measure_s": t_measure, "measure_cpu_s": c_measure, "write_s": t_write,
                  "rss_after_import_mb": rss0 / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


class CycledLabels(Mapping[int, np.ndarray]):
    """``n`` label maps cycling through rendered synthetic clips (made on access)."""

    def __init__(self, clips: list[np.ndarray], n: int):
        self.clips, self.n = clips, n

    def __getitem__(self, i: int) -> np.ndarray:
        clip = self.clips[(i // len(self.clips[0])) % len(self.clips)]
        return clip[i % len(clip)]

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def make_masks(path: Path, n: int) -> Path:
    from ovhhir_core.data.synthetic import render_clip
    from ovhhir_core.masking import export_masks_npz

    if path.is_file():
        return path
    names = ("Handshaking", "Approaching", "Chasing", "Departing")
    clips = [
        render_clip(c, seed=i, size=(640, 480), num_frames=64).labels for i, c in enumerate(names)
    ]
    return export_masks_npz(CycledLabels(clips, n), path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ovhhir-bench-timeline"))
    ap.add_argument("--fps", type=float, default=10.0)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for minutes in (1, 10):
        n = int(minutes * 60 * args.fps)
        t0 = time.perf_counter()
        masks = make_masks(args.workdir / f"masks_{minutes}min.npz", n)
        print(f"{minutes} min: {n} maps, {masks.stat().st_size / 1e6:.1f} MB "
              f"(made in {time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
        out = args.workdir / f"out_{minutes}min"
        cmd = [sys.executable, "-c", MEASURE, str(masks), str(args.fps), str(ROOT), str(out)]
        results[minutes] = json.loads(
            subprocess.check_output(cmd, text=True).strip().splitlines()[-1]
        )
        r = results[minutes]
        print(f"  measure {r['measure_s']:.1f} s wall / {r['measure_cpu_s']:.1f} s CPU "
              f"({1000 * r['measure_cpu_s'] / n:.1f} ms CPU per frame), write json+png "
              f"{r['write_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB "
              f"(after imports {r['rss_after_import_mb']:.0f} MB), {r['events']} events", flush=True)  # fmt: skip
    a, b = results[1], results[10]
    cpu = b["measure_cpu_s"] / a["measure_cpu_s"]
    rss = b["peak_rss_mb"] / a["peak_rss_mb"]
    print(f"10 min / 1 min: CPU time ratio {cpu:.2f} (length ratio 10), peak RSS ratio {rss:.2f}")


if __name__ == "__main__":
    main()
