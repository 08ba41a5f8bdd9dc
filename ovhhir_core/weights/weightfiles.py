"""Integrity checks of weight files on disk: truncated, corrupt or not the expected checkpoint.

A weights file that stopped halfway (an interrupted copy, a full disk) must never load as if it were
whole. :func:`check_file` and :func:`check_folder` inspect the formats we load without reading the
tensors: safetensors (the header records every tensor's byte range, so the expected size is known),
PyTorch zip archives (``.pth``/``.pt``/``.bin``: a truncated zip has no central directory) and, where
the expected SHA-256 is known, the checksum (verified once per file version; a marker in
``$OVHHIR_CACHE/.verified`` remembers it). Each failure is a :class:`WeightsFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from pathlib import Path

from ovhhir_core.errors import UserError

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


class WeightsFileError(UserError, RuntimeError):
    """A weights file is truncated, corrupt or not the checkpoint it should be."""


class IncompleteWeightsError(WeightsFileError):
    """A weights folder lacks files (a download that has not finished): fetch it again."""


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _fix(path: Path) -> str:
    return f"delete {path} and download or copy it again"


def check_safetensors(path: Path) -> None:
    """Refuse a safetensors file whose size disagrees with its own header."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > size:
                raise ValueError("header longer than the file")
            header = json.loads(f.read(n))
        end = max(
            (v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0
        )
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise WeightsFileError(
            f"weights file {path} is not a readable safetensors file ({exc}); {_fix(path)}"
        ) from exc
    if 8 + n + end != size:
        raise WeightsFileError(
            f"weights file {path} is truncated or damaged: {size:,} bytes on disk, its header "
            f"describes {8 + n + end:,}; {_fix(path)}"
        )


def check_zip(path: Path) -> None:
    """Refuse a PyTorch checkpoint (zip archive) that is cut short."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic.startswith(b"PK"):  # a zip that lost its end: truncated
            raise WeightsFileError(
                f"weights file {path} is truncated (its zip directory is missing); {_fix(path)}"
            )
        if path.stat().st_size == 0:
            raise WeightsFileError(f"weights file {path} is empty; {_fix(path)}")


def _marker(path: Path, sha256: str, marker_dir: Path) -> Path:
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{sha256}".encode())
    return marker_dir / key.hexdigest()


def check_checksum(
    path: Path, sha256: str, size_bytes: int | None = None, marker_dir: Path | None = None
) -> None:
    """Refuse ``path`` unless its size (when known) and SHA-256 match. With ``marker_dir``, a
    verified file version is remembered there and not hashed again."""
    size = path.stat().st_size
    if size_bytes is not None and size != size_bytes:
        state = "truncated" if size < size_bytes else "larger than expected"
        raise WeightsFileError(
            f"weights file {path} is {state}: {size:,} bytes, expected {size_bytes:,}; {_fix(path)}"
        )
    marker = _marker(path, sha256, marker_dir) if marker_dir else None
    if marker is not None and marker.exists():
        return
    got = sha256_of(path)
    if got != sha256:
        raise WeightsFileError(
            f"weights file {path} fails its checksum: SHA-256 {got}, expected {sha256}; "
            f"{_fix(path)}"
        )
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only cache only costs a re-check next time
        pass


def check_file(path: Path) -> None:
    """Format checks of one weights file (by suffix); other files pass."""
    if path.suffix == ".safetensors":
        check_safetensors(path)
    elif path.suffix in (".pth", ".pt", ".bin"):
        check_zip(path)


def check_folder(path: Path) -> None:
    """A transformers folder: config.json, every weights file whole, every indexed shard present."""
    if not (path / "config.json").exists():
        raise IncompleteWeightsError(f"weights folder {path} has no config.json; {_fix(path)}")
    files = [p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES]
    if not files:
        raise IncompleteWeightsError(
            f"weights folder {path} holds no weights file ({', '.join(WEIGHT_SUFFIXES)}); "
            f"{_fix(path)}"
        )
    for index in path.glob("*.index.json"):
        shards = set(json.loads(index.read_text()).get("weight_map", {}).values())
        missing = sorted(s for s in shards if not (path / s).exists())
        if missing:
            raise IncompleteWeightsError(
                f"weights folder {path} lacks shard(s) {', '.join(missing)} listed in {index.name}; "
                f"{_fix(path)}"
            )
    for f in files:
        check_file(f)


def check_path(path: Path) -> None:
    """:func:`check_folder` for a folder, :func:`check_file` for a file."""
    if path.is_dir():
        check_folder(path)
    elif os.path.getsize(path) == 0:
        raise WeightsFileError(f"weights file {path} is empty; {_fix(path)}")
    else:
        check_file(path)
