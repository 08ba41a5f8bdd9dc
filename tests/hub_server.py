"""A Hugging Face Hub stand-in on localhost: serves a folder as a model repository to the real
``huggingface_hub`` client (``HF_ENDPOINT``); one file can pause halfway (to watch progress) or stop
there (a broken download)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send_json(self, value) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, head: bool) -> None:
        name = self.path.split("?")[0].split(f"/resolve/{COMMIT}/", 1)[-1]
        if "/resolve/main/" in self.path:
            name = self.path.split("?")[0].split("/resolve/main/", 1)[-1]
        data = self.server.files.get(name)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        if head:
            return
        half = len(data) // 2 if name == self.server.file else len(data)
        self.wfile.write(data[:half])
        self.wfile.flush()
        if half == len(data):
            return
        self.server.halfway.set()
        if self.server.cut:
            self.server.down = True  # the download stops halfway; the host answers no more
            self.close_connection = True
            return
        self.server.resume.wait(30)
        self.wfile.write(data[half:])

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        if self.server.down:
            self.close_connection = True  # hang up without an answer
            return
        self._send_file(head=True)

    def do_GET(self) -> None:  # noqa: N802
        if self.server.down:
            self.close_connection = True
            return
        path = self.path.split("?")[0]
        if path.startswith(f"/api/models/{self.server.repo_id}/tree/"):
            self._send_json(
                [
                    {"type": "file", "path": n, "size": len(d), "oid": hashlib.sha1(d).hexdigest()}
                    for n, d in self.server.files.items()
                ]
            )
        elif path.startswith(f"/api/models/{self.server.repo_id}"):
            siblings = [{"rfilename": n} for n in self.server.files]
            self._send_json({"id": self.server.repo_id, "sha": COMMIT, "siblings": siblings})
        elif path.startswith("/api/"):
            self._send_json({})
        else:
            self._send_file(head=False)


class FakeHub(ThreadingHTTPServer):
    """The server; ``halfway`` is set when ``file`` is half sent, ``resume`` sends the rest."""

    daemon_threads = True

    def __init__(self, repo_id: str, folder: Path, file: str | None, cut: bool):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repo_id, self.file, self.cut = repo_id, file, cut
        self.files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        self.halfway, self.resume = threading.Event(), threading.Event()
        self.down = False


@contextmanager
def fake_hub(
    monkeypatch, repo_id: str, folder: Path, file: str | None = None, cut: bool = False
) -> Iterator[FakeHub]:
    """Serve ``folder``'s files as ``repo_id`` at a local ``HF_ENDPOINT``. The file named ``file``
    pauses halfway until ``hub.resume`` is set, or with ``cut`` stops there, after which the host
    hangs up on every request (the client's retries fail)."""
    hub = FakeHub(repo_id, folder, file, cut)
    thread = threading.Thread(target=hub.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{hub.server_port}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(
        constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        endpoint + "/{repo_id}/resolve/{revision}/{filename}",
    )
    try:
        yield hub
    finally:
        hub.resume.set()
        hub.shutdown()
        hub.server_close()
