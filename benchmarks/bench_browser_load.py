"""Real browsers under CPU contention: N Chromium sessions at once, busy processes beside.

    python benchmarks/bench_browser_load.py [--sessions 8] [--busy 2] [--runs 3] [--frames 30]

Serves the demo with ``python app.py`` (tiny preset, CPU), starts ``--busy`` processes that each
keep a core busy, and runs ``--sessions`` browser sessions at once: each opens the page, uploads
its own real street clip (``--frames`` frames), clicks person 1 and person 2, tracks, and waits
for the four result videos. Prints every session's time per step, and for the run the sessions
that finished, the slowest and the wall time. Passes when every run has every session done in
under ``--limit`` seconds (default 400). The server's log (one line per model job) is kept in
``--log-dir`` when given.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--busy", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--limit", type=float, default=400.0)
    p.add_argument("--log-dir", type=Path)
    args = p.parse_args()
    # stopped with SIGTERM: still stop the server and the busy processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from tests.browser_load import app_server, busy_processes, real_clips, report, run_browsers

    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-browser-load-") as tmp:
        clips = real_clips(Path(tmp) / "clips", args.sessions, frames=args.frames)
        for run in range(1, args.runs + 1):
            log = (args.log_dir or Path(tmp)) / f"server-run{run}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with app_server(Path(tmp) / f"run{run}", log=log) as url:
                with busy_processes(args.busy, limit_s=3 * args.limit):
                    sessions, wall = run_browsers(url, clips, timeout_s=args.limit)
            print(f"== run {run}: {args.sessions} sessions, {args.busy} busy processes")
            print(report(sessions, wall), flush=True)
            passed = all(s.error is None and s.total <= args.limit for s in sessions)
            ok &= passed
    print(f"all runs passed (every session done in ≤ {args.limit:.0f} s): {'yes' if ok else 'NO'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
