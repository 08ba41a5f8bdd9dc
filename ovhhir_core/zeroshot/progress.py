"""Progress while a clip is encoded: a callback after every layer of the video-LLM.

Encoding a clip (:class:`.engine.VideoPrefix`) is one forward pass through the vision tower and
the language model; :func:`layer_progress` reports ``(layers done, layers in all)`` after each
of their layers, so a waiting user sees a percentage and a queue can stop or pause the work
between layers (the callback may raise to stop it, or block to hand the model to someone else).

The hooks sit on the shared model; they report only for the thread that installed them, so
another user's forward pass meanwhile neither counts nor triggers the callback.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from torch import nn

from .precision import text_side, vision_side


def _layers(module: nn.Module) -> list[nn.Module]:
    """The repeated blocks of an encoder or decoder (its longest ``ModuleList``)."""
    lists = [m for m in module.modules() if isinstance(m, nn.ModuleList)]
    return max(lists, key=len) if lists else [module]


@contextlib.contextmanager
def layer_progress(loaded: Any, callback: Callable[[int, int], None]) -> Iterator[None]:
    """While open, call ``callback(done, total)`` after each vision and text layer of the
    forward passes this thread runs through ``loaded.model`` (a :class:`.loading.LoadedModel`).
    ``total`` counts one pass through the vision tower and one through the text model."""
    model = loaded.model
    layers = _layers(vision_side(model)[0]) + _layers(text_side(model))
    owner = threading.get_ident()
    state = {"done": 0}
    total = len(layers)

    def hook(_module, _args, _output):
        if threading.get_ident() != owner:
            return
        state["done"] = min(state["done"] + 1, total)
        callback(state["done"], total)

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        callback(0, total)
        yield
    finally:
        for handle in handles:
            handle.remove()


def encoding_progress(answerer: Any, callback: Callable[[int, int], None]):
    """:func:`layer_progress` for an answerer that encodes clips with a video-LLM (one that
    has a ``loaded`` model, possibly behind a wrapper's ``inner``); for other answerers a
    context that reports nothing."""
    while not hasattr(answerer, "loaded") and hasattr(answerer, "inner"):
        answerer = answerer.inner
    loaded = getattr(answerer, "loaded", None)
    if loaded is None or not hasattr(loaded, "model"):
        return contextlib.nullcontext()
    return layer_progress(loaded, callback)
