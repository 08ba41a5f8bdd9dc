"""Helpers shared by the evaluation tests: a deterministic embedder, a results dict."""

from __future__ import annotations

import re

import numpy as np


class BagOfWords:
    """A deterministic stand-in for a sentence embedder: normalised word counts."""

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def encode(self, texts):
        rows = []
        for t in texts:
            v = np.zeros(64, np.float32)
            for w in re.findall(r"[a-z]+", t.lower()):
                v[self.vocab.setdefault(w, len(self.vocab)) % 64] += 1
            rows.append(v / max(np.linalg.norm(v), 1e-12))
        return np.stack(rows)


def sample_results() -> dict:
    """The results of a small run, as ``evaluate`` writes them (one dataset, two seeds)."""
    return {
        "meta": {"preset": "tiny", "checkpoint": "ck", "seeds": [0, 1], "embedder": "e"},
        "num_samples_by_source": {"UT-Interaction": 3, "all": 3},
        "cosine": {
            "UT-Interaction": {"mean": 0.628, "std": 0.019, "n": 3},
            "all": {"mean": 0.628, "std": 0.019, "n": 3},
        },
        "prompt_classifier": {
            "macro_f1": {
                "UT-Interaction": {"mean": 0.5, "std": 0.1, "n": 2},
                "all": {"mean": 0.5, "std": 0.1, "n": 2},
            },
            "per_class": {"Hugging": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}},
            "confusion": {"labels": ["Hugging", "Punching"], "matrix": [[1, 1], [0, 1]]},
        },
        "nearest_class": {"macro_f1": {"UT-Interaction": 0.4, "all": 0.4}},
        "open_set": {
            "num_candidates": 109,
            "num_unseen_samples": 1,
            "prompt_macro_f1_unseen": {"mean": 0.315, "std": 0.0, "n": 2},
            "prompt_macro_f1_all": {"mean": 0.25, "std": 0.05, "n": 2},
            "nearest_macro_f1_unseen": float("nan"),
            "nearest_macro_f1_all": 0.2,
        },
        "samples": [{"cosine": 0.6}, {"cosine": 0.7}, {"cosine": 0.5}],
    }
