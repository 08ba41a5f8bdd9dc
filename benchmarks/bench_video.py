"""Time and peak memory to sample 16 frames from a generated 10-minute 720p video vs a 1-minute one.

Each measurement runs in a fresh subprocess, so peak RSS is that run's own. Prints a table and the
10-min / 1-min ratios (memory should stay flat; time should grow far slower than length).

    python benchmarks/bench_video.py [--workdir /tmp/ovhhir-bench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
t0 = time.perf_counter()
from ovhhir_core import video
t_import = time.perf_counter() - t0
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
info = video.probe(sys.argv[1])
t_probe = time.perf_counter() - t0
t0 = time.perf_counter()
idx, frames = video.sample_frames(sys.argv[1], 16)
t_sample = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"frames": info.num_frames, "probe_s": t_probe, "sample_s": t_sample,
                  "peak_rss_mb": rss / 1024, "rss_after_import_mb": rss0 / 1024,
                  "shape": list(frames.shape)}))
"""


def make_720p(path: Path, seconds: int, fps: int = 25) -> Path:
    if path.exists():
        return path
    tmp = path.with_suffix(".part.mp4")
    w, h = 1280, 720
    base = np.zeros((h, w, 3), np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    with av.open(str(tmp), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "g": str(5 * fps)}  # a keyframe every 5 s
        for i in range(seconds * fps):
            frame = base.copy()
            x = (7 * i) % (w - 100)
            frame[300:400, x : x + 100] = 255
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    tmp.rename(path)
    return path


def measure(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="/tmp/ovhhir-bench")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    short = make_720p(work / "720p_1min.mp4", 60)
    long = make_720p(work / "720p_10min.mp4", 600)
    print(
        f"test videos ready in {time.perf_counter() - t0:.0f} s "
        f"({long.stat().st_size / 1e6:.0f} MB for 10 min)"
    )
    rows = {name: measure(p) for name, p in [("1 min", short), ("10 min", long)]}
    print(f"{'video':8s} {'frames':>7s} {'probe s':>8s} {'sample16 s':>11s} {'peak RSS MB':>12s}")
    for name, r in rows.items():
        print(
            f"{name:8s} {r['frames']:7d} {r['probe_s']:8.2f} {r['sample_s']:11.2f} "
            f"{r['peak_rss_mb']:12.0f}"
        )
    a, b = rows["1 min"], rows["10 min"]
    print(
        f"ratio 10 min / 1 min: length 10.0, probe+sample time "
        f"{(b['probe_s'] + b['sample_s']) / (a['probe_s'] + a['sample_s']):.2f}, "
        f"peak RSS {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
