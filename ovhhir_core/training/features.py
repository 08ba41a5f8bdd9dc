"""Frozen-encoder features of dataset samples, and their cache (safetensors shards), shared by
training and evaluation so that epochs and evaluation runs skip the encoders.

:class:`SampleFeatures` is the one way to get a sample's features: it decodes the sample's streams
(:func:`sample_clip`), runs the frozen encoders, and reads/writes a :class:`FeatureCache` when one
is given.

Each sample's features (the flat dict of tensors ``model.extract_features(clip)`` returns) are
stored under a *key*: a SHA-256 over the sample id, each stream file's resolved path, size and
modification time, the encoder part of the model config (encoders, number of frames, background
on/off) and :data:`CACHE_VERSION`. Change a video, the frame count or an encoder and the key
changes, so a stale entry is never read; it is simply left unused.

Layout of a cache folder::

    shard-<tag>-00000.safetensors    tensors named "<key>/<feature name>";
                                     metadata {"keys": JSON list of the keys it holds}

Shards are written atomically (temporary file, then rename). Several processes may fill one
folder at once (each with its own ``tag``, e.g. its DDP rank); readers see the union of all shards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ovhhir_core.config import to_dict
from ovhhir_core.config.model import ModelConfig

log = logging.getLogger(__name__)

#: Bump when the meaning of cached features changes without a config change.
CACHE_VERSION = 1


def encoder_signature(model_cfg: ModelConfig) -> dict[str, Any]:
    """The part of a ``ModelConfig`` that determines frozen features (not the trainable branch)."""
    return {
        "person_encoder": to_dict(model_cfg.person_encoder),
        "background_encoder": to_dict(model_cfg.background_encoder),
        "num_frames": model_cfg.num_frames,
        "use_background": model_cfg.use_background,
    }


def _file_stamp(path: Path | None) -> list[Any] | None:
    if path is None:
        return None
    p = Path(path).resolve()
    st = p.stat()
    return [str(p), st.st_size, st.st_mtime_ns]


def feature_key(sample: Any, model_cfg: ModelConfig, extra: dict[str, Any] | None = None) -> str:
    """Cache key of one sample (hex SHA-256, 64 chars); see the module docstring for its inputs.

    Raises FileNotFoundError when a stream file does not exist.
    """
    payload = {
        "version": CACHE_VERSION,
        "id": sample.id,
        "streams": {name: _file_stamp(p) for name, p in sample.streams.items()},
        "encoders": encoder_signature(model_cfg),
        "extra": extra or {},
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


class FeatureCache:
    """Reads and writes the safetensors shards of one cache folder.

    ``shard_size`` samples are buffered, then written as one shard; call :meth:`flush` (or use the
    cache as a context manager) to write the rest. Reads open shards lazily (memory-mapped).
    """

    def __init__(self, folder: str | os.PathLike, tag: str = "r0", shard_size: int = 64):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tag = tag
        self.shard_size = shard_size
        self._pending: dict[str, dict[str, torch.Tensor]] = {}
        self._index: dict[str, Path] = {}
        self._handles: dict[Path, Any] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read which keys the shards in the folder hold (after other processes wrote)."""
        self._index.clear()
        for shard in sorted(self.folder.glob("shard-*.safetensors")):
            try:
                with safe_open(str(shard), framework="pt") as f:
                    keys = json.loads((f.metadata() or {}).get("keys", "[]"))
            except Exception as exc:  # noqa: BLE001 - a broken shard is skipped, not fatal
                log.warning("skipping unreadable feature shard %s: %s", shard, exc)
                continue
            for key in keys:
                self._index[key] = shard

    def __contains__(self, key: str) -> bool:
        return key in self._index or key in self._pending

    def __len__(self) -> int:
        return len(set(self._index) | set(self._pending))

    def put(self, key: str, feats: dict[str, torch.Tensor]) -> None:
        """Store one sample's features (CPU copies, contiguous); writes a shard when full."""
        self._pending[key] = {k: v.detach().to("cpu").contiguous() for k, v in feats.items()}
        if len(self._pending) >= self.shard_size:
            self.flush()

    def get(self, key: str) -> dict[str, torch.Tensor]:
        """The features stored under ``key``; KeyError if absent."""
        if key in self._pending:
            return dict(self._pending[key])
        shard = self._index[key]
        handle = self._handles.get(shard)
        if handle is None:
            handle = self._handles[shard] = safe_open(str(shard), framework="pt")
        prefix = key + "/"
        return {
            name[len(prefix) :]: handle.get_tensor(name)
            for name in handle.keys()
            if name.startswith(prefix)
        }

    def flush(self) -> Path | None:
        """Write buffered samples as a new shard; returns its path (None if nothing was pending)."""
        if not self._pending:
            return None
        n = len(list(self.folder.glob(f"shard-{self.tag}-*.safetensors")))
        path = self.folder / f"shard-{self.tag}-{n:05d}.safetensors"
        while path.exists():
            n += 1
            path = self.folder / f"shard-{self.tag}-{n:05d}.safetensors"
        tensors = {
            f"{key}/{name}": t for key, feats in self._pending.items() for name, t in feats.items()
        }
        tmp = path.with_name(path.name + ".tmp")
        save_file(tensors, str(tmp), metadata={"keys": json.dumps(sorted(self._pending))})
        os.replace(tmp, path)
        for key in self._pending:
            self._index[key] = path
        log.debug("wrote %d samples to %s", len(self._pending), path)
        self._pending.clear()
        return path

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.flush()


def fill_cache(
    cache: FeatureCache,
    samples: Iterable[Any],
    keys: Iterable[str],
    extract: Callable[[Any], dict[str, torch.Tensor]],
) -> Iterator[tuple[int, bool]]:
    """Compute and store features of every sample whose key the cache lacks.

    ``extract(sample)`` returns that sample's feature dict. A generator: yields
    ``(samples done, was computed)`` per sample so callers can show progress and stop early; the
    cache is flushed at the end (and when the caller stops iterating).
    """
    try:
        for i, (sample, key) in enumerate(zip(samples, keys, strict=True), start=1):
            computed = key not in cache
            if computed:
                cache.put(key, extract(sample))
            yield i, computed
    finally:
        cache.flush()


def sample_clip(sample: Any, num_frames: int) -> Any:
    """Decode a dataset sample's three streams (``num_frames`` frames each) into a model clip,
    with the fill colour its removed pixels were written with."""
    from ovhhir_core.model import load_clip

    return load_clip(sample.streams, num_frames=num_frames, fill=sample.fill)


class SampleFeatures:
    """Frozen-encoder features of dataset samples for ``model`` (built from ``model_cfg``).

    With a ``cache``, ``features(sample)`` reads the sample's entry, computing and storing it first
    on a miss; without one it computes the features every call. Features are computed without
    gradients, in whatever train/eval mode the model is in (the encoders are frozen).
    """

    def __init__(
        self,
        model: Any,
        model_cfg: ModelConfig,
        cache: FeatureCache | None = None,
        extra_key: dict[str, Any] | None = None,
    ):
        self.model = model
        self.model_cfg = model_cfg
        self.cache = cache
        self.extra_key = extra_key

    def key(self, sample: Any) -> str:
        """The sample's cache key (see :func:`feature_key`)."""
        return feature_key(sample, self.model_cfg, self.extra_key)

    def compute(self, sample: Any) -> dict[str, torch.Tensor]:
        """Decode the sample's streams and run the frozen encoders (no cache involved)."""
        clip = sample_clip(sample, self.model_cfg.num_frames)
        with torch.no_grad():
            return self.model.extract_features(clip)

    def __call__(self, sample: Any, key: str | None = None) -> dict[str, torch.Tensor]:
        """The sample's features; ``key`` saves recomputing its cache key (file stats)."""
        if self.cache is None:
            return self.compute(sample)
        key = key or self.key(sample)
        if key not in self.cache:
            self.cache.put(key, self.compute(sample))
        return self.cache.get(key)

    def fill(self, samples: Sequence[Any], keys: Sequence[str]) -> Iterator[tuple[int, bool]]:
        """Store every sample the cache lacks, the model in eval mode; see :func:`fill_cache`."""
        if self.cache is None:
            raise ValueError("SampleFeatures.fill needs a cache")
        was_training = self.model.training
        self.model.eval()
        try:
            yield from fill_cache(self.cache, samples, keys, self.compute)
        finally:
            self.model.train(was_training)
