"""Helpers shared by the model tests: a synthetic clip, a conversation, an embeddings probe."""

from __future__ import annotations

import numpy as np
import torch

from ovhhir_core.model import Clip

CONV = [
    {"from": "human", "value": "Describe interaction between <p1> and <p2> in <bg>?"},
    {"from": "gpt", "value": "A person swings a punch."},
    {"from": "human", "value": "Describe the activity in one word."},
    {"from": "gpt", "value": "Punching."},
]


def make_clip(num_frames: int = 16, p2_absent_from: int | None = None, seed: int = 0) -> Clip:
    """Person 1 always visible, person 2 visible until ``p2_absent_from``; noisy background."""
    rng = np.random.default_rng(seed)
    h, w = 72, 96
    p1 = np.zeros((num_frames, h, w, 3), np.uint8)
    p2 = np.zeros((num_frames, h, w, 3), np.uint8)
    for t in range(num_frames):
        x = 10 + t % 20
        p1[t, 10:60, x : x + 20] = rng.integers(60, 255, (50, 20, 3), dtype=np.uint8)
        if p2_absent_from is None or t < p2_absent_from:
            p2[t, 15:65, 60:85] = rng.integers(60, 255, (50, 25, 3), dtype=np.uint8)
    bg = rng.integers(0, 255, (num_frames, h, w, 3), dtype=np.uint8)
    return Clip.from_arrays({"person_1": p1, "person_2": p2, "background": bg})


class CaptureEmbeds:
    """Records the ``inputs_embeds`` of every LLM call made with embeddings (not token ids)."""

    def __init__(self, llm):
        self.calls: list[torch.Tensor] = []
        self.handle = llm.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        if kwargs.get("inputs_embeds") is not None:
            self.calls.append(kwargs["inputs_embeds"].detach().clone())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.remove()
