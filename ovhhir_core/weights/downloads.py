"""Progress of weight downloads: a bar on stderr (the CLI) and a board the app's model panel reads.

A download is process-wide (the models it feeds are shared by every user), so :data:`BOARD` is one
module-level object; it holds no user data. :func:`progress_bar` gives the tqdm class to hand to
``huggingface_hub`` (``tqdm_class=``) or to use directly: every update is also posted on the board
under the download's name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from tqdm import tqdm


@dataclass(frozen=True)
class Progress:
    """One download as last seen: bytes ``done`` of ``total`` (None while unknown); ``state`` is
    ``"downloading"``, ``"done"`` or ``"failed"`` (then ``error`` says why)."""

    name: str
    source: str
    done: int = 0
    total: int | None = None
    state: str = "downloading"
    error: str = ""
    started: float = 0.0

    def line(self) -> str:
        """e.g. ``downloading edgetam (yonigozlan/EdgeTAM-hf): 12.5 of 55.1 MB (23%), 4 s``."""
        what = f"{self.name} ({self.source})"
        if self.state == "failed":
            return f"download of {what} failed: {self.error}"
        size = _mb(self.done)
        if self.state == "done":
            return f"downloaded {what}: {size}"
        if self.total:
            pct = min(100, round(100 * self.done / self.total))
            size = f"{_mb(self.done, unit=False)} of {_mb(self.total)} ({pct}%)"
        return f"downloading {what}: {size}, {time.monotonic() - self.started:.0f} s"


def _mb(n: int, unit: bool = True) -> str:
    return f"{n / 1e6:.1f}" + (" MB" if unit else "")


class DownloadBoard:
    """Thread-safe record of the downloads of this process, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Progress] = {}
        #: per download, per progress bar: (bytes done, total); the biggest bar is reported
        self._bars: dict[str, dict[int, tuple[int, int | None]]] = {}

    @contextmanager
    def tracking(self, name: str, source: str) -> Iterator[None]:
        """Post ``name`` as downloading for the duration; done or failed (with why) after."""
        with self._lock:
            self._items[name] = Progress(name, source, started=time.monotonic())
            self._bars[name] = {}
        try:
            yield
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self._finish(name, "failed", reason.rstrip(": "))
            raise
        self._finish(name, "done")

    def _finish(self, name: str, state: str, error: str = "") -> None:
        with self._lock:
            item = self._items.get(name)
            if item is not None:
                self._items[name] = replace(item, state=state, error=error)

    def update(self, name: str, bar: int, done: int, total: int | None) -> None:
        """Progress of one bar (``bar``: any id) of the download ``name``."""
        with self._lock:
            item, bars = self._items.get(name), self._bars.get(name)
            if item is None or bars is None:
                return
            bars[bar] = (done, total)
            done, total = max(bars.values(), key=lambda b: (b[1] or 0, b[0]))
            self._items[name] = replace(item, done=done, total=total or None)

    def snapshot(self) -> list[Progress]:
        """Every download of this process, oldest first."""
        with self._lock:
            return list(self._items.values())

    def active(self) -> list[Progress]:
        """The downloads still running."""
        return [p for p in self.snapshot() if p.state == "downloading"]


#: The process's board (downloads are shared by every user of the process).
BOARD = DownloadBoard()


def progress_bar(name: str, board: DownloadBoard | None = None) -> type[tqdm]:
    """A tqdm class (a bar in bytes on stderr) that also posts to ``board`` (default
    :data:`BOARD`) under ``name``; pass it as ``tqdm_class`` to huggingface_hub downloads."""
    target = board or BOARD

    class _Bar(tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if getattr(self, "unit", "") == "B":  # byte bars only (not a file count)
                target.update(name, id(self), int(self.n), int(self.total or 0) or None)
            return shown

    _Bar.__name__ = f"ProgressBar[{name}]"
    return _Bar
