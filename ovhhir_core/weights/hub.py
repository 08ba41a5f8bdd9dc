"""Pretrained weights: the table of known checkpoints, lazy downloads, local-path overrides.

Nothing here downloads at import time. :func:`resolve_weights` is the one entry point: it returns a
local file or folder for a component, trying in order

1. the component's ``local_path`` (from ``--weights COMPONENT=PATH`` or ``OVHHIR_<COMPONENT>_PATH``),
2. the local cache (the Hugging Face cache for Hub weights, ``$OVHHIR_CACHE`` for URL weights,
   the installed package for package-shipped weights),
3. a download, unless ``HF_HUB_OFFLINE=1`` is set (short timeouts; to a temporary name first,
   renamed only when whole and, where the SHA-256 is known, verified),

and raises :class:`MissingWeightsError` naming the component, what was tried and how to supply it.
A file or folder that is truncated or fails its checksum is refused with a
:class:`~ovhhir_core.weights.weightfiles.WeightsFileError` naming the file (:mod:`ovhhir_core.weights.weightfiles`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import sys
import tempfile
import urllib.parse
import urllib.request
from functools import cache
from pathlib import Path

from ovhhir_core.errors import UserError
from ovhhir_core.weights.downloads import BOARD, progress_bar
from ovhhir_core.weights.pretrained import PRETRAINED, WeightSpec
from ovhhir_core.weights.weightfiles import (
    IncompleteWeightsError,
    WeightsFileError,
    check_checksum,
    check_folder,
    check_path,
    sha256_of,
)

__all__ = [
    "PRETRAINED",
    "MissingWeightsError",
    "WeightSpec",
    "WeightsFileError",
    "is_available_locally",
    "obtainable",
    "resolve_weights",
    "sha256_of",
]

#: Seconds to wait for a host before a download is given up (failing costs seconds, not minutes).
CONNECT_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class MissingWeightsError(UserError, RuntimeError):
    """Weights for a component are not available; the message says what was tried and what to do."""

    def __init__(self, component: str, weights: str | None, tried: list[str], how: str):
        self.component = component
        self.weights = weights
        self.tried = tried
        self.how = how
        lines = [f"weights for component '{component}' ({weights}) are not available."]
        lines += [f"  tried: {t}" for t in tried]
        lines.append(f"  to fix: {how}")
        super().__init__("\n".join(lines))


def cache_dir() -> Path:
    """Where URL downloads are kept: ``$OVHHIR_CACHE`` or ``~/.cache/ovhhir``."""
    return Path(os.environ.get("OVHHIR_CACHE", Path.home() / ".cache" / "ovhhir"))


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _override_hint(component: str) -> str:
    return f"pass --weights {component}=PATH or set OVHHIR_{component.upper()}_PATH to a local copy"


def _verified_dir() -> Path:
    return cache_dir() / ".verified"


def _package_path(spec: WeightSpec) -> Path | None:
    found = importlib.util.find_spec(spec.package) if spec.package else None
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(list(found.submodule_search_locations)[0])
    if spec.filename:
        hits = list(root.rglob(spec.filename))
        return hits[0] if hits else None
    return root


def _host(spec: WeightSpec) -> str:
    """``host:port`` that ``spec`` downloads from ("" for a file:// URL); the Hub's is
    ``HF_ENDPOINT``'s (a mirror may listen on any port)."""
    url = urllib.parse.urlparse(spec.url or os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    if not url.hostname:
        return ""
    return f"{url.hostname}:{url.port or (80 if url.scheme == 'http' else 443)}"


@cache
def _reachable(host: str) -> bool:
    """Whether ``host:port`` accepts a connection within :data:`CONNECT_TIMEOUT_S` ("": yes)."""
    if not host:  # a file:// URL
        return True
    name, port = host.rsplit(":", 1)
    try:
        socket.create_connection((name, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        return True
    except OSError:
        return False


def reachable(spec: WeightSpec) -> bool:
    """True when ``spec``'s host answers within :data:`CONNECT_TIMEOUT_S` (cached per process)."""
    return spec.source != "package" and not offline() and _reachable(_host(spec))


def _download_url(spec: WeightSpec, dest: Path) -> None:
    """Download to a temporary name, verify, then rename: a stopped download leaves nothing."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    os.close(fd)
    log.info("downloading %s from %s", spec.name, spec.url)
    try:
        with (
            urllib.request.urlopen(spec.url, timeout=CONNECT_TIMEOUT_S * 3) as resp,
            open(tmp, "wb") as out,
            progress_bar(spec.name)(
                total=spec.size_bytes, unit="B", unit_scale=True, desc=spec.name, file=sys.stderr
            ) as bar,
        ):
            while block := resp.read(1 << 20):
                out.write(block)
                bar.update(len(block))
        if spec.sha256:
            check_checksum(Path(tmp), spec.sha256, spec.size_bytes, _verified_dir())
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def local_candidate(spec: WeightSpec) -> Path | None:
    """The already-present, whole local copy of ``spec`` without network access, or None.

    A partial Hub snapshot (missing weights or shards) counts as absent, so a download completes
    it; a cached file that is truncated or fails its checksum raises ``WeightsFileError``.
    """
    if spec.source == "package":
        return _package_path(spec)
    if spec.source == "url":
        path = cache_dir() / spec.filename
        if not path.exists():
            return None
        if spec.sha256:
            check_checksum(path, spec.sha256, spec.size_bytes, _verified_dir())
        return path
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        if spec.source == "hub_file":
            return Path(hf_hub_download(spec.repo_id, spec.filename, local_files_only=True))
        path = Path(
            snapshot_download(
                spec.repo_id, allow_patterns=spec.allow_patterns, local_files_only=True
            )
        )
    except Exception:  # noqa: BLE001 - any failure here means "not cached"
        return None
    try:
        check_folder(path)
    except IncompleteWeightsError:
        return None
    return path


def _download(spec: WeightSpec) -> Path:
    """Download ``spec`` with progress on stderr and on :data:`ovhhir_core.weights.downloads.BOARD`."""
    with BOARD.tracking(spec.name, spec.url or spec.repo_id or spec.name):
        if spec.source == "url":
            dest = cache_dir() / spec.filename
            _download_url(spec, dest)
            return dest
        from huggingface_hub import hf_hub_download, snapshot_download

        bar = progress_bar(spec.name)
        if spec.source == "hub_file":
            return Path(
                hf_hub_download(
                    spec.repo_id, spec.filename, etag_timeout=CONNECT_TIMEOUT_S, tqdm_class=bar
                )
            )
        path = Path(
            snapshot_download(
                spec.repo_id,
                allow_patterns=spec.allow_patterns,
                etag_timeout=CONNECT_TIMEOUT_S,
                tqdm_class=bar,
            )
        )
        check_folder(path)
        return path


def _local_path(component: str, weights: str | None, local_path: str) -> Path:
    path = Path(local_path).expanduser()
    if not path.exists():
        raise MissingWeightsError(
            component,
            weights,
            [f"local path {path} (does not exist)"],
            f"fix the path given by --weights / OVHHIR_{component.upper()}_PATH",
        )
    check_path(path)
    spec = PRETRAINED.get(weights or "")
    if spec and spec.sha256 and path.is_file() and path.stat().st_size == spec.size_bytes:
        check_checksum(path, spec.sha256, spec.size_bytes, _verified_dir())  # claims to be it
    return path


def _spec(component: str, weights: str | None) -> WeightSpec:
    if weights is None:
        raise MissingWeightsError(
            component,
            None,
            ["no weights are named in the preset"],
            "name weights in the preset or " + _override_hint(component),
        )
    spec = PRETRAINED.get(weights)
    if spec is None:
        raise MissingWeightsError(
            component,
            weights,
            [f"'{weights}' is not in the pretrained table"],
            f"use one of: {', '.join(sorted(PRETRAINED))}, or " + _override_hint(component),
        )
    return spec


def resolve_weights(component: str, weights: str | None, local_path: str | None = None) -> Path:
    """Return a local file or folder holding ``weights`` for ``component``; download if needed.

    Raises :class:`MissingWeightsError` (never a bare hub exception) when nothing works, and
    ``WeightsFileError`` when the file found is truncated or fails its checksum.
    """
    if local_path:
        return _local_path(component, weights, local_path)
    spec = _spec(component, weights)
    found = local_candidate(spec)
    if found is not None:
        return found
    where = spec.url or spec.repo_id or spec.package
    tried = [f"local cache for {where}"]
    if spec.source == "package":
        raise MissingWeightsError(
            component,
            weights,
            [f"installed package {spec.package}"],
            f"{spec.note}; or " + _override_hint(component),
        )
    if offline():
        tried.append("download skipped: HF_HUB_OFFLINE=1")
        how = "unset HF_HUB_OFFLINE to download, or " + _override_hint(component)
        raise MissingWeightsError(
            component, weights, tried, f"{spec.note}; then {how}" if spec.gated else how
        )
    try:
        if not _reachable(_host(spec)):
            raise ConnectionError(f"{_host(spec)} is not reachable")
        return _download(spec)
    except WeightsFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - network, auth, disk: all reported the same way
        tried.append(f"download from {where}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        how = _override_hint(component)
        if spec.gated:
            how = f"{spec.note}; or " + how
        raise MissingWeightsError(component, weights, tried, how) from exc


def obtainable(weights: str | None, local_path: str | None = None) -> str | None:
    """Where ``weights`` would come from without loading them: ``"random"``, ``"local path"``,
    ``"cache"``, ``"package"``, ``"download"`` (the host answers), or None (cannot be had).

    A damaged local copy counts as None."""
    try:
        if local_path:
            _local_path("?", weights, local_path)
            return "local path"
        if weights is None:
            return "random"
        spec = PRETRAINED.get(weights)
        if spec is None:
            return None
        if local_candidate(spec) is not None:
            return "package" if spec.source == "package" else "cache"
    except (MissingWeightsError, WeightsFileError):
        return None
    return "download" if reachable(spec) else None


def is_available_locally(weights: str | None, local_path: str | None = None) -> bool:
    """True when the weights can be loaded without a download (random builds always can)."""
    return obtainable(weights, local_path) not in (None, "download")


def load_checked_config(path: str | Path, component: str, model_types: tuple[str, ...]) -> str:
    """The ``model_type`` of the transformers folder ``path``; a user error unless it is one of
    ``model_types`` (a folder of another model given to ``--weights``)."""
    config = Path(path) / "config.json"
    try:
        kind = json.loads(config.read_text()).get("model_type", "")
    except (OSError, ValueError) as exc:
        raise WeightsFileError(
            f"{component}: {config} cannot be read ({exc}); give a transformers folder"
        ) from exc
    if kind not in model_types:
        raise WeightsFileError(
            f"{component}: {path} holds a {kind or 'unknown'!r} model, expected "
            f"{' or '.join(model_types)}; check --weights {component}=PATH"
        )
    return kind
