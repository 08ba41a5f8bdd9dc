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
