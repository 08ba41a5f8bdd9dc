"""Configuration dataclasses, strict dict/JSON round trip, and named presets.

A preset is a JSON file under ``ovhhir_core/presets/``. Each component config (click segmenter,
tracker, model, sentence embedder) is a plain dataclass whose defaults are written once, in the
module that owns the component. Presets only override what differs from those defaults.

Weights of a component are named by ``weights`` (a key of :data:`ovhhir_core.hub.PRETRAINED`, or
``None`` for a random-weight build of the same architecture, sized by ``arch``) and can be replaced
by a local file or folder with ``local_path``. At the edge (CLI, app) local paths come from
``--weights COMPONENT=PATH`` flags or ``OVHHIR_<COMPONENT>_PATH`` environment variables.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovhhir_core.errors import UserError
from ovhhir_core.model.config import ModelConfig
from ovhhir_core.tracking.config import DetectorConfig, SamConfig, TrackerConfig
from ovhhir_core.zeroshot.config import ZeroShotConfig

PRESET_DIR = Path(__file__).parent / "presets"

#: Components whose weights can be overridden with a local path.
COMPONENTS = (
    "sam",
    "tracker",
    "person_encoder",
    "background_encoder",
    "llm",
    "embedder",
    "detector",
    "zeroshot",
)


class ConfigError(UserError, ValueError):
    """A config file or dict is malformed: unknown key, wrong type, unknown preset."""


@dataclass
class EmbedderConfig:
    """Sentence-embedding model used by evaluation (cosine similarity, nearest class)."""

    weights: str | None = "all-minilm-l6-v2-package"
    local_path: str | None = None


@dataclass
class AutoConfig:
    """An ``auto`` preset: take each component from the first of these presets that can have it
    (:mod:`ovhhir_core.autopreset`)."""

    gpu: str = "small"  # target with a CUDA GPU
    cpu: str = "cpu"  # target without one
    fallbacks: list[str] = field(default_factory=lambda: ["offline", "tiny"])


@dataclass
class PresetConfig:
    """Everything needed to build the tracker and the model."""

    name: str = "custom"
    description: str = ""
    sam: SamConfig = field(default_factory=SamConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    zeroshot: ZeroShotConfig = field(default_factory=ZeroShotConfig)
    #: set in an auto preset's file; resolved away by :func:`load_preset`
    auto: AutoConfig | None = None
    #: what an auto preset's components resolved to (see ``autopreset.resolution_report``)
    resolution: list[dict[str, Any]] = field(default_factory=list)

    @property
    def component_names(self) -> tuple[str, ...]:
        return COMPONENTS

    def component(self, name: str) -> Any:
        """Return the config object of a component named in :data:`COMPONENTS`."""
        if name in ("sam", "tracker", "embedder", "detector", "zeroshot"):
            return getattr(self, name)
        if name in ("person_encoder", "background_encoder", "llm"):
            return getattr(self.model, name)
        raise ConfigError(f"unknown component {name!r}; expected one of {', '.join(COMPONENTS)}")

    def with_local_paths(self, local_paths: Mapping[str, str]) -> PresetConfig:
        """Return a copy whose components load from the given local paths."""
        new = from_dict(PresetConfig, to_dict(self))
        for comp, path in local_paths.items():
            new.component(comp).local_path = str(path)
        return new


def _resolve_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _convert(non_none[0], value, where)
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        inner = args[0] if args else Any
        items = [_convert(inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object, got {type(value).__name__}")
        return dict(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    if tp is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    return value


def from_dict(cls: type, data: Mapping[str, Any] | None, where: str | None = None) -> Any:
    """Build dataclass ``cls`` from a (nested) dict; unknown keys and wrong types raise ConfigError."""
    where = where or cls.__name__
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected an object, got {type(data).__name__}")
    hints = _resolve_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}"
        )
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    """Plain, JSON-serialisable dict of a config dataclass."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


def to_json(obj: Any) -> str:
    return json.dumps(to_dict(obj), indent=2, sort_keys=False)


def list_presets() -> list[str]:
    """Names of the presets shipped with the package, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def env_local_paths(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Local-path overrides from ``OVHHIR_<COMPONENT>_PATH`` environment variables."""
    environ = os.environ if environ is None else environ
    out = {}
    for comp in COMPONENTS:
        value = environ.get(f"OVHHIR_{comp.upper()}_PATH")
        if value:
            out[comp] = value
    return out


def parse_local_paths(items: list[str] | None) -> dict[str, str]:
    """Parse ``COMPONENT=PATH`` strings (the CLI's ``--weights`` flags)."""
    out = {}
    for item in items or []:
        comp, sep, path = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"--weights expects COMPONENT=PATH, got {item!r}")
        if comp not in COMPONENTS:
            raise ConfigError(
                f"--weights: unknown component {comp!r}; expected one of {', '.join(COMPONENTS)}"
            )
        out[comp] = path
    return out


def load_preset(
    name_or_path: str | os.PathLike = "tiny",
    local_paths: Mapping[str, str] | None = None,
    use_env: bool = True,
    device: str | None = None,
) -> PresetConfig:
    """Load a named preset (``auto``, ``tiny``, ``offline``, ``cpu``, ``small``, ``paper``) or a
    JSON file path.

    Local paths from the environment are applied first, then ``local_paths`` (they win). An auto
    preset is resolved here, per component (:mod:`ovhhir_core.autopreset`); ``device`` (a device
    string such as ``cpu`` or ``cuda:0``; default: what this machine has) picks its target.
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = PRESET_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise ConfigError(
                f"unknown preset {str(name_or_path)!r}; available: {', '.join(list_presets())}, "
                "or the path of a preset JSON file"
            )
    elif not path.exists():
        raise ConfigError(f"preset file {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"preset file {path} is not valid JSON: {exc}") from exc
    preset = from_dict(PresetConfig, data, where=path.name)
    paths = {**(env_local_paths() if use_env else {}), **(local_paths or {})}
    if preset.auto is not None:
        from ovhhir_core.autopreset import resolve_auto, wants_gpu_preset

        return resolve_auto(
            preset,
            lambda name: load_preset(name, paths, use_env=False),
            COMPONENTS,
            wants_gpu_preset(device),
        )
    return preset.with_local_paths(paths) if paths else preset
