"""Concurrent gradio_client sessions against the demo (tests/test_load.py, bench_load.py).

Each session uploads its own synthetic clip, clicks the two people (``/click_at``, at pixels
inside each person's true mask), tracks every frame and asks one question. Latencies of every
request and of whole sessions are recorded; peak RSS is the process's (server and clients).
"""

from __future__ import annotations

import resource
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

POSITIVE = "Positive (this is the person)"
GEN = (0.0, 0.9, 1, 8, 4)  # greedy, top_p, beams, max new tokens, frames per stream


@dataclass
class LoadClip:
    path: Path
    first_frame: np.ndarray  # (H, W, 3) uint8
    points: dict[str, tuple[int, int]]  # person -> (x, y) inside the person on frame 0


@dataclass
class SessionResult:
    clip: LoadClip
    latencies: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def inside(label_map: np.ndarray, value: int) -> tuple[int, int]:
    """(x, y) of a pixel in the middle of the region labelled ``value``."""
    ys, xs = np.nonzero(label_map == value)
    y = int(np.median(ys))
    row = xs[ys == y]
    return int(row[len(row) // 2]), y


def make_clips(out: Path, n: int, frames: int = 10, size=(160, 120)) -> list[LoadClip]:
    """``n`` distinct synthetic clips (different interactions and seeds)."""
    from ovhhir_core.data.synthetic import CLASSES, render_clip
    from ovhhir_core.video import read_frame, write_video

    out.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(n):
        name = sorted(CLASSES)[i % len(CLASSES)]
        clip = render_clip(name, seed=100 + i, size=size, num_frames=frames, fps=8.0)
        path = write_video(out / f"load{i:02d}_{name}.mp4", iter(clip.frames), clip.fps)
        points = {"Person 1": inside(clip.labels[0], 1), "Person 2": inside(clip.labels[0], 2)}
        clips.append(LoadClip(Path(path), read_frame(path, 0), points))
    return clips


def run_session(url: str, clip: LoadClip) -> SessionResult:
    """One user: upload, two clicks, track, one question. Errors are recorded, not raised."""
    from gradio_client import Client, handle_file

    result = SessionResult(clip)
    start = time.perf_counter()

    def timed(name: str, *args: Any, api: str) -> Any:
        t = time.perf_counter()
        value = client.predict(*args, api_name=api)
        result.latencies[name] = time.perf_counter() - t
        return value

    try:
        # a loaded server answers slowly: wait for it rather than count a time-out as an error
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 600})
        result.outputs["info"] = timed("upload", handle_file(str(clip.path)), api="/load_video")[0]
        for person, (x, y) in clip.points.items():
            timed(f"click {person}", person, POSITIVE, x, y, api="/click_at")
        status, overlay, p1, p2, bg, files = timed("track", api="/track")
        result.outputs.update(status=status, overlay=overlay, files=files)
        result.outputs.update(person_1=p1, person_2=p2, background=bg)
        messages, _, provenance = timed("ask", "What do <p1> and <p2> do?", True, *GEN, api="/ask")
        result.outputs.update(answer=messages[-1]["content"], provenance=provenance)
        client.close()
    except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
        result.error = f"{type(exc).__name__}: {exc}"
    result.total = time.perf_counter() - start
    return result


def serve(root: Path, concurrency: int = 1):
    """The demo (tiny preset, CPU) in this process on a free port: ``(demo, services)``."""
    from app.settings import Settings
    from app.state import Services
    from app.ui import build_demo, launch_kwargs

    settings = Settings(preset="tiny", device="cpu", concurrency_limit=concurrency)
    services = Services(settings, root=root)
    services.warm_up()
    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_kwargs(services)
    )
    return demo, services


def run_load(url: str, clips: list[LoadClip]) -> tuple[list[SessionResult], float]:
    """All sessions at once (one thread each); returns their results and the wall time."""
    barrier = threading.Barrier(len(clips))

    def one(clip: LoadClip) -> SessionResult:
        barrier.wait()
        return run_session(url, clip)

    t = time.perf_counter()
    with ThreadPoolExecutor(len(clips)) as pool:
        results = list(pool.map(one, clips))
    return results, time.perf_counter() - t


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def figures(results: list[SessionResult], wall: float) -> str:
    """p50/p95 of request and session latencies, errors, wall time and peak RSS, as text."""
    requests = [v for r in results for v in r.latencies.values()]
    sessions = [r.total for r in results]
    per_kind: dict[str, list[float]] = {}
    for r in results:
        for name, v in r.latencies.items():
            per_kind.setdefault(name.split()[0], []).append(v)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"sessions {len(results)}, errors {sum(r.error is not None for r in results)}, "
        f"wall {wall:.1f} s, peak RSS {rss_mb:.0f} MB",
        f"request latency p50 {percentile(requests, 50):.2f} s, p95 {percentile(requests, 95):.2f} s",
        f"session latency p50 {statistics.median(sessions):.2f} s, "
        f"p95 {percentile(sessions, 95):.2f} s",
    ]
    for kind, values in per_kind.items():
        lines.append(
            f"  {kind:7s} p50 {percentile(values, 50):.2f} s, p95 {percentile(values, 95):.2f} s"
        )
    return "\n".join(lines)
