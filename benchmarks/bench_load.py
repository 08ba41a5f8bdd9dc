"""Concurrent sessions against the demo: latency and memory with 8, 16 and 32 users at once.

    python benchmarks/bench_load.py [--sessions 8 16 32] [--frames 10] [--concurrency 1]

For each count, a fresh process serves the demo (tiny preset, CPU) and runs that many
gradio_client sessions at once, as tests/test_load.py does with 8: each uploads its own synthetic
clip, clicks the two people, tracks every frame and asks one question. Prints errors, wall time,
p50/p95 latency of requests and of whole sessions (and per request kind), and the process's peak
RSS (server plus client threads). Model jobs share one queue (``--concurrency`` at a time), so
latency grows with the number of sessions; the ratio of wall time to sessions is the throughput.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_one(sessions: int, frames: int, concurrency: int) -> None:
    from tests.load_utils import figures, make_clips, run_load, serve

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        # this run's uploads in its own folder: the machine-wide /tmp/gradio is shared with
        # other Gradio servers, whose clean-up would delete our (identically named) clips
        os.environ["GRADIO_TEMP_DIR"] = str(Path(tmp) / "gradio")
        clips = make_clips(Path(tmp) / "clips", sessions, frames=frames, size=(128, 96))
        demo, services = serve(Path(tmp) / "root", concurrency=concurrency)
        try:
            results, wall = run_load(demo.local_url, clips)
        finally:
            demo.close()
            services.close()
    print(f"== {sessions} sessions, {frames} frames each, {concurrency} model job(s) at a time")
    print(figures(results, wall))
    print(f"throughput {sessions / wall * 60:.1f} sessions/min")
    for r in results:
        if r.error:
            print(f"  error ({r.clip.path.name}): {r.error}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, nargs="+", default=[8, 16, 32])
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one count, this process
    args = p.parse_args()
    if args.one:
        run_one(args.one, args.frames, args.concurrency)
        return
    for n in args.sessions:  # a fresh process per count: peak RSS is per run
        cmd = [sys.executable, __file__, "--one", str(n), "--frames", str(args.frames)]
        subprocess.run([*cmd, "--concurrency", str(args.concurrency)], check=True)


if __name__ == "__main__":
    main()
