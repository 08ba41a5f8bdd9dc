"""Compact per-frame label maps (DAVIS convention: uint8, 0 = background, k = k-th object).

A 480p label map is 300 kB raw but a few kB zlib-compressed (masks are large flat regions), so a
:class:`LabelStore` keeps hundreds of frames in a few MB and tracking memory does not grow with
video length beyond these compressed maps.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping

import numpy as np


class LabelStore(Mapping[int, np.ndarray]):
    """``frame_idx -> (H, W) uint8`` label map, stored zlib-compressed; iterates in frame order."""

    def __init__(self, level: int = 1) -> None:
        self._level = level
        self._maps: dict[int, tuple[tuple[int, int], bytes]] = {}

    def __setitem__(self, frame_idx: int, label_map: np.ndarray) -> None:
        if label_map.ndim != 2:
            raise ValueError(f"a label map is (H, W), got shape {label_map.shape}")
        data = np.ascontiguousarray(label_map, dtype=np.uint8)
        self._maps[int(frame_idx)] = (data.shape, zlib.compress(data.tobytes(), self._level))

    def __getitem__(self, frame_idx: int) -> np.ndarray:
        shape, blob = self._maps[int(frame_idx)]
        return np.frombuffer(zlib.decompress(blob), dtype=np.uint8).reshape(shape).copy()

    def __delitem__(self, frame_idx: int) -> None:
        del self._maps[int(frame_idx)]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._maps))

    def __len__(self) -> int:
        return len(self._maps)

    def __contains__(self, frame_idx: object) -> bool:
        return frame_idx in self._maps

    def nbytes(self) -> int:
        """Compressed size of all stored maps, in bytes."""
        return sum(len(blob) for _, blob in self._maps.values())

    def update_from(self, other: Mapping[int, np.ndarray]) -> None:
        """Copy every map of ``other`` into this store (overwriting frames present in both)."""
        for frame_idx in other:
            self[frame_idx] = other[frame_idx]

    def remove_value(self, value: int) -> None:
        """Set pixels labelled ``value`` to background in every stored map."""
        for frame_idx in list(self._maps):
            label_map = self[frame_idx]
            if (label_map == value).any():
                label_map[label_map == value] = 0
                self[frame_idx] = label_map
