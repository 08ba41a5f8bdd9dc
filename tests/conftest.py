"""Test-wide settings: CPU only, no network, small thread pools."""

import os

import pytest

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """``slow`` tests run only when asked for (``-m slow``): the default run stays in CI's budget."""
    import pytest

    expr = config.getoption("markexpr") or ""
    if "slow" in expr and "not slow" not in expr:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def published_edgetam(tmp_path_factory):
    """EdgeTAM from its published files with random weights, saved once per test session."""
    from tracking_utils import save_published_edgetam

    return save_published_edgetam(tmp_path_factory.mktemp("published") / "EdgeTAM-hf")


@pytest.fixture(scope="module")
def segs():
    """The micro random-weight segmenters of the tracking tests, one set per test module."""
    from tracking_utils import micro_segmenters

    return micro_segmenters()


@pytest.fixture(scope="module")
def clip(request, tmp_path_factory):
    """The synthetic two-person clip of a tracking test module: ``N`` frames of ``W`` x ``H``
    (the module's constants). Modules that mean another clip define their own ``clip``."""
    from tracking_utils import make_clip

    m = request.module
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", m.N, m.W, m.H)


@pytest.fixture()
def mask_reads(monkeypatch):
    """``masking.load_masks_npz`` watched: the list of each call's frame indices read."""
    from ovhhir_core import masking

    real, reads = masking.load_masks_npz, []

    def spy(path, pick=None):
        maps = real(path, pick)
        reads.append(sorted(maps))
        return maps

    monkeypatch.setattr(masking, "load_masks_npz", spy)
    return reads
