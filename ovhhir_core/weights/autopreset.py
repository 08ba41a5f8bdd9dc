"""The ``auto`` preset: per component, the best weights this machine can have.

For each component the candidates are, in order, the target preset (``small`` with a CUDA GPU,
``cpu`` without), then the fallbacks (``offline``: packaged real models and small random builds;
``tiny``: random). A candidate's component is taken when its weights are present (local path,
Hugging Face cache, installed package), random by design, or downloadable now (the host answers
within seconds and ``HF_HUB_OFFLINE`` is not set; the download itself happens on first use, with
progress). The model's encoders, branches and LLM go together (the branches are sized for them).

What each component resolved to is logged at start (a random segmenter or tracker as a warning),
kept on the preset as ``resolution`` (see :func:`resolution_report`), and shown by ``info`` and the
app. This module never imports :mod:`ovhhir_core.config`: the loader is passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ovhhir_core.weights import hub

log = logging.getLogger(__name__)

#: Components that must come from one candidate together (attribute of the preset holding them).
MODEL_GROUP = ("person_encoder", "background_encoder", "llm")
#: Components whose random weights make masks meaningless (the app shows a red banner).
SEGMENTATION = ("sam", "tracker")

GETTING_WEIGHTS = (
    "masks from random weights are meaningless. To get real weights: run once with network "
    "access (they download and are cached), or pass --weights sam=DIR --weights tracker=DIR "
    "(or OVHHIR_SAM_PATH / OVHHIR_TRACKER_PATH) with a local copy; `python -m ovhhir_core info` "
    "shows what is present."
)


def wants_gpu_preset(device: str | None) -> bool:
    """True when the machine (or the ``device`` asked for) is a CUDA GPU."""
    if device and device not in ("auto",):
        return device.startswith("cuda")
    import torch

    return torch.cuda.is_available()


def _entry(component: str, preset_name: str, cfg: Any, source: str | None) -> dict[str, Any]:
    random = cfg.weights is None and not cfg.local_path
    spec = hub.PRETRAINED.get(cfg.weights or "")
    if random and component == "zeroshot" and not getattr(cfg, "arch", None):
        random, source, ident = False, "none", "no zero-shot model in this preset"
    elif cfg.local_path:
        ident = str(cfg.local_path)
    elif spec is not None:
        ident = spec.repo_id or spec.url or f"package {spec.package}"
    else:
        ident = f"random weights ({preset_name} architecture)"
    return {
        "component": component,
        "preset": preset_name,
        "weights": cfg.weights or "random",
        "source": source or "unavailable",
        "id": ident,
        "random": random,
    }


def _groups(components: tuple[str, ...]) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    for comp in components:
        if comp in MODEL_GROUP:
            if MODEL_GROUP not in groups:
                groups.append(MODEL_GROUP)
        else:
            groups.append((comp,))
    return groups


def resolve_auto(
    auto: Any,
    load: Callable[[str], Any],
    components: tuple[str, ...],
    gpu: bool,
) -> Any:
    """The resolved preset (a copy of the target preset with components swapped in).

    ``auto``: the auto preset (its ``auto`` section names the target presets and fallbacks);
    ``load(name)``: loads a named preset with the caller's local paths applied.
    """
    target = auto.auto.gpu if gpu else auto.auto.cpu
    names = [target, *[n for n in auto.auto.fallbacks if n != target]]
    presets = {name: load(name) for name in names}
    result = load(target)
    result.name, result.auto = auto.name, None
    report: list[dict[str, Any]] = []
    for group in _groups(components):
        chosen, sources = names[-1], {}
        for name in names:
            cfgs = {c: presets[name].component(c) for c in group}
            found = {c: hub.obtainable(cfg.weights, cfg.local_path) for c, cfg in cfgs.items()}
            if all(found.values()):
                chosen, sources = name, found
                break
        if group == MODEL_GROUP:
            result.model = presets[chosen].model
        else:
            setattr(result, group[0], getattr(presets[chosen], group[0]))
        report += [_entry(c, chosen, presets[chosen].component(c), sources.get(c)) for c in group]
    result.resolution = report
    result.description = (
        f"best weights available per component (target: {target}; fallbacks: "
        f"{', '.join(names[1:])})"
    )
    for entry in report:
        level = logging.WARNING if entry["random"] and entry["component"] in SEGMENTATION else 20
        log.log(level, "auto preset: %s", describe(entry))
    return result


def describe(entry: dict[str, Any]) -> str:
    """One line for a resolution entry, e.g. ``tracker: yonigozlan/EdgeTAM-hf (download)``."""
    if entry["random"]:
        return f"{entry['component']}: RANDOM weights, {entry['id']}"
    return f"{entry['component']}: {entry['id']} ({entry['source']}, from {entry['preset']})"


def resolution_report(preset: Any) -> list[dict[str, Any]]:
    """What each component of ``preset`` resolved to: dicts with ``component``, ``preset``,
    ``weights``, ``source`` (``cache``, ``package``, ``local path``, ``download``, ``random`` or
    ``unavailable``), ``id`` and ``random`` (bool). A fixed preset reports its own weights and where
    they would come from now (nothing is downloaded)."""
    if preset.resolution:
        return [dict(e) for e in preset.resolution]
    report = []
    for comp in preset.component_names:
        cfg = preset.component(comp)
        report.append(_entry(comp, preset.name, cfg, hub.obtainable(cfg.weights, cfg.local_path)))
    return report


def random_segmentation(preset: Any) -> list[str]:
    """The segmentation components (``sam``, ``tracker``) of ``preset`` with random weights."""
    return [
        e["component"]
        for e in resolution_report(preset)
        if e["random"] and e["component"] in SEGMENTATION
    ]
