"""The operator's status route: ``GET /status.json`` (JSON, no page).

What it holds (see README, "Operating the demo"):

- ``queue_length``, ``lanes`` (waiting and running model jobs per lane, with the session's short
  log id, kind and progress) and ``kinds`` (p50/p95 of queue wait and run time of the last
  finished jobs of each kind): from :meth:`app.jobs.ModelJobs.status`;
- ``process``: resident memory (MB), open files, threads of the server process;
- ``cpu``: the cores this process may use (``budget``), the cores other processes keep busy
  (``others``, smoothed over seconds) and the CPU threads a model job starting now gets;
- ``disk``: bytes under this process's folder (sessions and Gradio's cache) and session count;
- ``models``: loaded / loading / not loaded yet / the error, per model.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from app.state import Services
from app.storage import tree_size


def process_figures() -> dict[str, float]:
    """This process's resident memory (MB), open file descriptors and threads."""
    rss_mb = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_mb = int(line.split()[1]) / 1024
    except OSError:  # not Linux: peak instead of current
        import resource

        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        open_files = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_files = -1
    return {
        "rss_mb": round(rss_mb, 1),
        "open_files": open_files,
        "threads": threading.active_count(),
    }


def status(services: Services) -> dict[str, Any]:
    """Everything ``/status.json`` returns."""
    store = services.store
    sessions = len(list(store.sessions.iterdir())) if store.sessions.is_dir() else 0
    return {
        **services.jobs.status(),
        "process": process_figures(),
        "cpu": services.cpu.status(),
        "disk": {"used_bytes": tree_size(store.dir), "session_folders": sessions},
        "models": services.status(),
    }


def status_routes(services: Services) -> list[Any]:
    """The Starlette route(s) to pass to the app (``launch(app_kwargs={"routes": ...})``)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def endpoint(_request: Any) -> JSONResponse:
        return JSONResponse(status(services))

    return [Route("/status.json", endpoint, methods=["GET"])]
