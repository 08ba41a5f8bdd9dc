"""Download progress: the stderr bar, the process's board, and the app's loading lines."""

from __future__ import annotations

import hashlib
import threading

import pytest

from ovhhir_core import downloads, hub
from ovhhir_core.downloads import DownloadBoard, progress_bar


@pytest.fixture
def board(monkeypatch):
    fresh = DownloadBoard()
    monkeypatch.setattr(downloads, "BOARD", fresh)
    monkeypatch.setattr(hub, "BOARD", fresh)
    return fresh


def test_board_reports_the_biggest_byte_bar_and_the_end(board):
    with board.tracking("edgetam", "yonigozlan/EdgeTAM-hf"):
        files = progress_bar("edgetam", board)(total=3, unit="it", disable=False)
        files.update(2)  # a file count, not bytes: not reported
        small = progress_bar("edgetam", board)(total=1_000, unit="B", disable=False)
        big = progress_bar("edgetam", board)(total=55_000_000, unit="B", disable=False)
        small.update(1_000)
        big.update(12_500_000)
        (item,) = board.active()
        assert (item.done, item.total) == (12_500_000, 55_000_000)
        assert item.line().startswith(
            "downloading edgetam (yonigozlan/EdgeTAM-hf): 12.5 of 55.0 MB (23%)"
        )
        for bar in (files, small, big):
            bar.close()
    (item,) = board.snapshot()
    assert board.active() == [] and item.state == "done"
    assert item.line() == "downloaded edgetam (yonigozlan/EdgeTAM-hf): 12.5 MB"


def test_a_failed_download_says_why(board):
    with pytest.raises(ConnectionError), board.tracking("vit", "google/vit"):
        raise ConnectionError("huggingface.co is not reachable\nmore")
    (item,) = board.snapshot()
    assert item.state == "failed"
    assert item.line() == (
        "download of vit (google/vit) failed: ConnectionError: huggingface.co is not reachable"
    )


def test_url_download_posts_its_bytes(board, monkeypatch, tmp_path):
    payload = b"weights" * 50_000
    src = tmp_path / "src.pth"
    src.write_bytes(payload)
    spec = hub.WeightSpec(
        "test-url",
        "url",
        url=src.as_uri(),
        filename="w.pth",
        sha256=hashlib.sha256(payload).hexdigest(),
        size_bytes=len(payload),
    )
    monkeypatch.setitem(hub.PRETRAINED, "test-url", spec)
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    hub.resolve_weights("sam", "test-url")
    (item,) = board.snapshot()
    assert (item.name, item.state, item.done, item.total) == (
        "test-url",
        "done",
        len(payload),
        len(payload),
    )


def test_hub_downloads_hand_the_bar_to_huggingface_hub(board, monkeypatch, tmp_path):
    """The bar class reaches ``snapshot_download`` and what it counts reaches the board while
    the download runs (checked from inside the fake download, as the app's timer would)."""
    import huggingface_hub

    seen = {}

    def fake_snapshot(repo_id, *, local_files_only=False, tqdm_class=None, **kwargs):
        if local_files_only:
            raise FileNotFoundError("not cached")
        bar = tqdm_class(total=4_000_000, unit="B", unit_scale=True)
        bar.update(3_000_000)
        seen["during"] = [p.line() for p in board.active()]
        bar.close()
        folder = tmp_path / "snap"
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"x")
        return str(folder)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    monkeypatch.setattr(hub, "_reachable", lambda host: True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub, "check_folder", lambda path: None)
    hub.resolve_weights("tracker", "edgetam")
    repo = hub.PRETRAINED["edgetam"].repo_id
    assert seen["during"] == [f"downloading edgetam ({repo}): 3.0 of 4.0 MB (75%), 0 s"]
    assert board.snapshot()[0].state == "done"


def test_app_shows_downloads_and_loading(board, tmp_path):
    from app.common import loading_markdown
    from app.settings import Settings
    from app.state import Services

    app_services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path / "sessions")
    assert loading_markdown(app_services) == ""
    release, started = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        release.wait(10)
        return object()

    loader = threading.Thread(target=app_services._get, args=("embedder", slow_build))
    with board.tracking("all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        loader.start()
        started.wait(10)
        text = loading_markdown(app_services)
        assert "downloading all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)" in text
        assert "loading embedder" in text
    release.set()
    loader.join(10)
    text = loading_markdown(app_services)
    assert "downloaded all-minilm-l6-v2" in text and "loading embedder" not in text
