"""Helpers shared by the app tests: clicks on a label map, the demo served on a local port, the
headless Chromium the browser tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr
import numpy as np

#: The Chromium the browser tests and benchmark drive, and its headless launch flags.
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def centre(label_map: np.ndarray, value: int) -> tuple[int, int]:
    """(x, y) of a pixel well inside the region labelled ``value`` (its median row and column)."""
    ys, xs = np.nonzero(label_map == value)
    order = np.argsort(ys)
    y = int(ys[order[len(ys) // 2]])
    row = xs[ys == y]
    return int(row[len(row) // 2]), y


def select(x: int, y: int) -> gr.SelectData:
    """A click at (x, y), built as Gradio builds it for ``Image.select``."""
    return gr.SelectData(None, {"index": [x, y], "value": None, "selected": True})


def click_on(label_map: np.ndarray, value: int) -> gr.SelectData:
    """A click on the middle pixel (in reading order) of the region labelled ``value``."""
    ys, xs = np.nonzero(label_map == value)
    i = len(ys) // 2
    return select(int(xs[i]), int(ys[i]))


@contextmanager
def served(services: Any) -> Iterator[Any]:
    """The demo built on ``services``, launched on a free local port; closed (with the services)
    on exit."""
    from app.ui import build_demo, launch_kwargs

    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1",
        server_port=None,
        prevent_thread_lock=True,
        quiet=True,
        **launch_kwargs(services),
    )
    try:
        yield demo
    finally:
        demo.close()
        services.close()
