"""Where the demo keeps files on disk, and how they are removed.

Every process owns one folder ``<root>/<pid>-<random>`` under a shared root (``--root`` /
``OVHHIR_ROOT``, default ``<tmp>/ovhhir-app``): per-session folders in ``sessions/`` and Gradio's
upload cache in ``gradio/`` (``GRADIO_TEMP_DIR``). Folders are removed

- at start: the folders of processes that are gone (killed, crashed) are swept;
- on exit, SIGTERM or SIGINT: the process's own folder (``app.py`` installs the handlers);
- after a session's time-to-live without activity, even if its browser never comes back (a
  sweep on each new session and a background sweeper thread);
- when Gradio drops a session's state (``delete_callback``).

Results are written under a ``.part`` name and renamed when complete
(:func:`publish`), so a reader never sees a half-written result folder.

Who may fetch what: nothing under the root is served by path. A file is served only once the app
hands it to a session (:func:`hand_out`): it is linked into Gradio's cache under a
folder named by 128 random bits, and only that session is told the name. Process and session
folders are named with 128 random bits too.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path(tempfile.gettempdir()) / "ovhhir-app"
_PROCESS_DIR = re.compile(r"^(\d+)-[0-9a-f]{8,32}$")
TOKEN_BYTES = 16  # 128 random bits in every folder name a URL could reveal
PART = ".part"


def pid_alive(pid: int) -> bool:
    """True while a process with this id exists (also one of another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tree_size(path: str | os.PathLike) -> int:
    """Bytes of all files below ``path`` (0 when it does not exist). Files and folders removed
    while it counts (a session ending) are skipped, never an error."""
    total = 0
    for folder, _, files in os.walk(path):  # os.walk skips folders that vanish under it
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def sweep_dead(root: str | os.PathLike) -> list[Path]:
    """Remove the folders under ``root`` of processes that no longer run; return them."""
    root = Path(root)
    removed = []
    for d in root.iterdir() if root.is_dir() else ():
        match = _PROCESS_DIR.match(d.name)
        if match and d.is_dir() and not pid_alive(int(match.group(1))):
            log.info("removing %s (process %s is gone)", d, match.group(1))
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def publish(part: Path) -> Path:
    """Rename a finished ``<name>.part`` folder to ``<name>`` (replacing an older one)."""
    final = part.with_name(part.name.removesuffix(PART))
    if final.exists():
        shutil.rmtree(final)
    part.rename(final)
    return final


def hand_out(path: str | os.PathLike) -> str:
    """The path under which ``path`` may be served to the session it is returned to: a
    hard link (a copy across file systems) in Gradio's cache, in a folder named by 128
    random bits. Gradio serves files of its cache by exact path only, so a session can fetch
    what it was handed and nothing else of the root."""
    from gradio.utils import get_upload_folder

    src = Path(path)
    folder = Path(get_upload_folder()) / secrets.token_hex(TOKEN_BYTES)
    folder.mkdir(parents=True)
    dst = folder / src.name
    try:
        os.link(src, dst)
    except OSError:  # another file system: copy instead
        shutil.copy2(src, dst)
    return str(dst)


class SessionStore:
    """This process's folder under the shared ``root``, its session folders and their sweeps."""

    def __init__(self, root: str | os.PathLike | None, ttl_s: float):
        self.root = Path(root) if root else DEFAULT_ROOT
        self.root.mkdir(parents=True, exist_ok=True)
        self.swept = sweep_dead(self.root)
        self.dir = self.root / f"{os.getpid()}-{secrets.token_hex(TOKEN_BYTES)}"
        self.sessions = self.dir / "sessions"
        self.sessions.mkdir(parents=True)
        self.ttl_s = ttl_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def gradio_cache(self) -> Path:
        """Where Gradio's uploads and served files go (``GRADIO_TEMP_DIR``)."""
        return self.dir / "gradio"

    def new_workdir(self) -> Path:
        """A new session's folder (not created: it is made on first write)."""
        return self.sessions / f"session-{secrets.token_hex(TOKEN_BYTES)}"

    def sweep_expired(self, now: float | None = None) -> list[Path]:
        """Remove session folders untouched for longer than the time-to-live; return them."""
        now = time.time() if now is None else now
        removed = []
        for d in list(self.sessions.iterdir()) if self.sessions.is_dir() else ():
            try:
                idle = now - d.stat().st_mtime
            except FileNotFoundError:  # removed meanwhile by its session
                continue
            if idle > self.ttl_s:
                log.info("removing %s (idle for %.0f s)", d.name, idle)
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        return removed

    def start_sweeper(self, interval_s: float | None = None) -> None:
        """Sweep expired sessions every ``interval_s`` seconds in a daemon thread."""
        if self._thread is not None:
            return
        interval = interval_s or max(1.0, min(60.0, self.ttl_s / 4))

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sweep_expired()
                except OSError:  # a full or vanished disk must not kill the sweeper
                    log.exception("session sweep failed")

        self._thread = threading.Thread(target=loop, name="session-sweeper", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the sweeper and delete this process's folder."""
        self._stop.set()
        shutil.rmtree(self.dir, ignore_errors=True)
