"""Download progress: the stderr bar, the process's board, and the app's loading lines."""

from __future__ import annotations

import threading

import pytest
from hub_server import fake_hub
from hub_utils import url_weights

from ovhhir_core.weights import downloads, hub
from ovhhir_core.weights.downloads import DownloadBoard, progress_bar


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
    url_weights(monkeypatch, tmp_path, "test-url", payload, "w.pth")
    hub.resolve_weights("sam", "test-url")
    (item,) = board.snapshot()
    assert (item.name, item.state, item.done, item.total) == (
        "test-url",
        "done",
        len(payload),
        len(payload),
    )


@pytest.fixture(scope="module")
def edgetam_folder(tmp_path_factory):
    """A saved EdgeTAM video model (the published architecture, random weights)."""
    import torch
    from transformers import EdgeTamVideoModel

    from ovhhir_core.tracking.edgetam import published_config

    folder = tmp_path_factory.mktemp("edgetam")
    torch.manual_seed(0)
    EdgeTamVideoModel(published_config()).save_pretrained(folder)
    return folder


@pytest.fixture
def hub_cache(monkeypatch, tmp_path):
    from hub_utils import use_hub_cache

    use_hub_cache(monkeypatch, tmp_path / "hub")
    return tmp_path / "hub"


def test_hub_download_shows_progress_then_loads(board, hub_cache, edgetam_folder, monkeypatch):
    """The real huggingface_hub client against a local Hub: halfway through the weights file
    the board says how far it is (what the app's panel shows); the download then loads."""
    import torch

    from ovhhir_core.config import load_preset
    from ovhhir_core.tracking.edgetam import build_edgetam_tracker

    repo = hub.PRETRAINED["edgetam"].repo_id
    seen = {}
    with fake_hub(monkeypatch, repo, edgetam_folder, file="model.safetensors") as server:

        def watch():
            server.halfway.wait(30)
            seen["halfway"] = [p.line() for p in board.active()]
            server.resume.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        path = hub.resolve_weights("tracker", "edgetam")
        watcher.join(30)
    (line,) = seen["halfway"]
    assert line.startswith(f"downloading edgetam ({repo}): ")
    assert 0 < board.snapshot()[0].total and "(0%)" not in line and "(100%)" not in line
    assert board.snapshot()[0].state == "done"
    cfg = load_preset("cpu").tracker
    model, _ = build_edgetam_tracker(cfg, torch.device("cpu"))
    assert type(model).__name__ == "EdgeTamVideoModel"
    assert path == hub.resolve_weights("tracker", "edgetam")  # now from the cache


def test_a_download_stopped_halfway_leaves_nothing_to_load(
    board, hub_cache, edgetam_folder, monkeypatch
):
    repo = hub.PRETRAINED["edgetam"].repo_id
    with fake_hub(monkeypatch, repo, edgetam_folder, file="model.safetensors", cut=True):
        with pytest.raises(hub.MissingWeightsError) as err:
            hub.resolve_weights("tracker", "edgetam")
    msg = str(err.value)
    assert "'tracker' (edgetam)" in msg and f"download from {repo}" in msg
    assert board.snapshot()[0].state == "failed"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a later run, without network
    assert hub.local_candidate(hub.PRETRAINED["edgetam"]) is None
    with pytest.raises(hub.MissingWeightsError, match="HF_HUB_OFFLINE"):
        hub.resolve_weights("tracker", "edgetam")


def test_app_shows_downloads_and_loading(board, tmp_path):
    from app.common import loading_markdown, loading_settled
    from app.settings import Settings
    from app.state import Services

    app_services = Services(Settings(preset="tiny", device="cpu"), root=tmp_path / "sessions")
    assert loading_markdown(app_services) == ""
    assert not loading_settled(app_services)  # models not loaded yet: pages keep refreshing
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
    assert not loading_settled(app_services)  # segmenters and answerer are not loaded yet
    for name in ("segmenters", "answerer"):
        app_services._loaded[name] = object()
    assert loading_settled(app_services)  # nothing left that the line could show changing
