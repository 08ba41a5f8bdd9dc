"""How many threads one model job's CPU work should use, given what else the machine runs.

PyTorch runs each operation on ``torch.get_num_threads()`` threads that meet at a barrier when it
ends. When other processes keep the cores busy, one of those threads is often descheduled and
every operation waits for it: a tiny model tracking 30 frames on 2 cores beside 2 busy processes
took 11.5 s with 2 threads and 3.6 s with 1 (quiet: 2.1 s and 2.7 s). So a job uses every core
this process may use only while the others leave that many cores idle, and fewer (down to one)
while they do not. On a big shared host (a container's ``/proc/stat`` counts the host's CPUs) that
means: fewer threads only when the host has fewer idle cores than the container's budget.

- :func:`cpu_budget`: the cores this process may use — its CPU affinity, capped by a cgroup CPU
  quota (``cpu.max``, as containers and hosted Spaces set it; ``os.cpu_count()`` there is the
  host's).
- :class:`CpuShare`: a daemon thread samples ``/proc/stat`` and this process's own CPU time once a
  second; ``others`` is a smoothed count of cores busy with other processes, :meth:`CpuShare.threads`
  the thread count for a job starting now. Without ``/proc`` (not Linux) it always answers the
  budget.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

#: Smoothing of the others' load: weight of the newest one-second sample.
ALPHA = 0.5
#: How far below the budget the idle cores may fall before a job gets fewer threads.
TOLERANCE = 0.5


def cpu_budget(cgroup_root: str | os.PathLike = "/sys/fs/cgroup") -> int:
    """The cores this process may use: its affinity mask, capped by a cgroup quota (v2
    ``cpu.max`` or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``) rounded up; at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota(Path(cgroup_root))
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota - 1e-9)))
    return max(1, cores)


def _cgroup_quota(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _busy_ticks(stat: str) -> int | None:
    """Busy clock ticks of all CPUs from ``/proc/stat``'s first line: everything but idle and
    iowait (a hypervisor's steal counts as busy: those cycles went to someone else too)."""
    first = stat.split("\n", 1)[0].split()
    if len(first) < 5 or first[0] != "cpu":
        return None
    ticks = [int(v) for v in first[1:9]]
    return sum(ticks) - ticks[3] - ticks[4]


class CpuShare:
    """Cores the other processes keep busy, sampled in the background (see the module text)."""

    def __init__(
        self, budget: int | None = None, interval_s: float = 1.0, cores: int | None = None
    ) -> None:
        self.budget = budget or cpu_budget()
        #: the CPUs ``/proc/stat`` counts: a container's host may have many more than its budget
        self.cores = cores or os.cpu_count() or self.budget
        self.interval_s = interval_s
        self.others = 0.0  #: smoothed cores busy with other processes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def start(self) -> CpuShare:
        """Start sampling (a daemon thread); a no-op without ``/proc/stat``."""
        if self._thread is None and self._sample() is not None:
            self._thread = threading.Thread(target=self._loop, name="cpu-share", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def threads(self) -> int:
        """Threads for a job starting now: the budget while the others leave that many cores
        idle, else the cores they leave idle, at least one."""
        free = self.cores - self.others
        if free >= self.budget - TOLERANCE:
            return self.budget
        return max(1, min(self.budget, int(free + 0.5)))

    def status(self) -> dict[str, float]:
        """For the operator's status page."""
        return {"budget": self.budget, "others": round(self.others, 2), "threads": self.threads()}

    # ------------------------------------------------------------------ sampling
    def _sample(self) -> tuple[float, float, float] | None:
        """(monotonic time, busy CPU seconds of the machine, CPU seconds of this process)."""
        try:
            ticks = _busy_ticks(Path("/proc/stat").read_text())
        except OSError:
            return None
        if ticks is None:
            return None
        own = time.process_time()
        return time.monotonic(), ticks / self._hz, own

    def _loop(self) -> None:
        last = self._sample()
        while not self._stop.wait(self.interval_s):
            now = self._sample()
            if now is None or last is None:
                return
            self.observe(now[0] - last[0], now[1] - last[1], now[2] - last[2])
            last = now

    def observe(self, wall_s: float, busy_s: float, own_s: float) -> None:
        """Fold one sample in: over ``wall_s`` seconds the machine was busy ``busy_s`` CPU
        seconds, ``own_s`` of them this process's."""
        if wall_s <= 0:
            return
        others = max(0.0, (busy_s - own_s) / wall_s)
        self.others = ALPHA * min(others, float(self.cores)) + (1 - ALPHA) * self.others


def use_threads(n: int) -> None:
    """Run this thread's PyTorch operations (and later new threads') on ``n`` threads."""
    import torch

    torch.set_num_threads(max(1, int(n)))


def cap_threads() -> int:
    """Never more PyTorch threads than :func:`cpu_budget` (a container's quota included);
    returns the count in use."""
    import torch

    n = min(torch.get_num_threads(), cpu_budget())
    torch.set_num_threads(n)
    return n
