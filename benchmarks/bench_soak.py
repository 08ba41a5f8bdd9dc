"""Soak: many sessions one after another against ``python app.py``; memory must stay flat.

    python benchmarks/bench_soak.py [--sessions 100] [--frames 10]

Serves the demo (tiny preset, CPU) in its own process, then runs sessions one at a time through
gradio_client (upload a clip, click the two people, track, ask one question, leave). After
session 1, 10, 20, 30, ... it reads ``/status.json``: the server's resident memory, open files,
threads and disk use. Flat means: after the last session each is at most 1.15 × its value after
session 10 (the first sessions load models and warm caches). Prints the table and the verdict;
exits 1 when a figure grew more than that or a session failed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIMIT = 1.15
FIGURES = ("rss_mb", "open_files", "threads")


def snapshot(url: str) -> dict[str, float]:
    status = json.load(urllib.request.urlopen(url + "status.json", timeout=60))
    return {**status["process"], "disk_mb": status["disk"]["used_bytes"] / 1e6}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--frames", type=int, default=10)
    p.add_argument(
        "--session-ttl",
        type=int,
        default=60,
        help="the server's --session-ttl: gradio_client leaves without closing its session, so "
        "the state of a finished session goes when it has been idle this long",
    )
    args = p.parse_args()
    # stopped with SIGTERM: still stop the server and the busy processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from tests.browser_load import app_server
    from tests.load_utils import make_clips, run_session

    marks = sorted({1, 10, *range(20, args.sessions + 1, 10), args.sessions})
    rows: dict[int, dict[str, float]] = {}
    failures = []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        clips = make_clips(Path(tmp) / "clips", 8, frames=args.frames, size=(128, 96))
        extra = ["--session-ttl", str(args.session_ttl)]
        with app_server(Path(tmp), extra=extra, log=Path(tmp) / "server.log") as url:
            t0 = time.perf_counter()
            for i in range(1, args.sessions + 1):
                result = run_session(url, clips[i % len(clips)])
                if result.error:
                    failures.append(f"session {i}: {result.error}")
                if i in marks:
                    time.sleep(2)  # the session's state is dropped once its client has left
                    rows[i] = snapshot(url)
                    figs = "  ".join(f"{k} {v:8.1f}" for k, v in rows[i].items())
                    print(f"after {i:4d} sessions ({time.perf_counter() - t0:6.0f} s): {figs}")
    base, last = rows[10], rows[args.sessions]
    ratios = {k: last[k] / base[k] for k in FIGURES}
    shown = ", ".join(f"{k} {r:.3f}" for k, r in ratios.items())
    print(f"after {args.sessions} / after 10: {shown}")
    print(f"failed sessions: {len(failures)}")
    for f in failures[:5]:
        print("  " + f)
    flat = all(r <= LIMIT for r in ratios.values())
    print(f"flat (each ≤ {LIMIT}×): {'yes' if flat else 'NO'}")
    sys.exit(0 if flat and not failures else 1)


if __name__ == "__main__":
    main()
