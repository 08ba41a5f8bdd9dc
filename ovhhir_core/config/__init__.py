"""Configuration dataclasses, strict dict/JSON round trip, and named presets.

A preset is a JSON file under ``ovhhir_core/presets/``. Each section (click segmenter, tracker,
model, sentence embedder, zero-shot answerer, timeline thresholds) is a plain dataclass with its
defaults written once; the sections live in this package (``config.tracking``, ``config.model``,
``config.zeroshot``, ``config.timeline``) so
that reading a preset imports no other package of ``ovhhir_core`` (every package may import this
one, never the reverse; a new section goes here too). Presets only
override what differs from those defaults, and a preset may ``"extend": "<other preset>"``: it then
starts from that preset and changes only what it names (see :func:`merge_preset_data`).

Two words, two meanings:

- ``weights`` (a preset field): the *name* of pretrained weights, a key of
  :data:`ovhhir_core.hub.PRETRAINED`, or ``None`` for a random-weight build of the same
  architecture, sized by ``arch`` (see :class:`~ovhhir_core.config.weights.WeightsConfig`).
- ``local_path`` (a preset field): a local file or folder that replaces those weights. At the edge
  (CLI, app) it comes from the *local weights path override* ``--weights COMPONENT=PATH`` or from
  the ``OVHHIR_<COMPONENT>_PATH`` environment variable: the edge reads the environment once
  (:func:`env_local_paths` over the mapping it is given) and passes the paths to
  :func:`load_preset`, which never reads the environment itself.
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

from ovhhir_core.config.model import ModelConfig
from ovhhir_core.config.timeline import TimelineConfig
from ovhhir_core.config.tracking import DetectorConfig, SamConfig, TrackerConfig
from ovhhir_core.config.zeroshot import ZeroShotConfig
from ovhhir_core.errors import UserError

PRESET_DIR = Path(__file__).parent.parent / "presets"

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
    #: thresholds of the interaction timeline (its own preset's, also for an auto preset)
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
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
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except UserError as exc:  # a section's own check of its values
        raise ConfigError(f"{where}: {exc}") from None


def to_dict(obj: Any) -> dict[str, Any]:
    """Plain, JSON-serialisable dict of a config dataclass."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


def to_json(obj: Any) -> str:
    return json.dumps(to_dict(obj), indent=2, sort_keys=False)


def list_presets() -> list[str]:
    """Names of the presets shipped with the package, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def env_local_paths(environ: Mapping[str, str]) -> dict[str, str]:
    """Local-path overrides from the ``OVHHIR_<COMPONENT>_PATH`` variables of ``environ`` (the
    edge passes ``os.environ``; a test passes a dict)."""
    out = {}
    for comp in COMPONENTS:
        value = environ.get(f"OVHHIR_{comp.upper()}_PATH")
        if value:
            out[comp] = value
    return out


def parse_local_paths(items: list[str] | None) -> dict[str, str]:
    """Parse ``COMPONENT=PATH`` strings: the CLI's local weights path overrides (``--weights``)."""
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


def _preset_path(name_or_path: str | os.PathLike, base: Path | None = None) -> Path:
    """The JSON file of a preset name (shipped) or path (relative paths: from ``base``)."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = PRESET_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise ConfigError(
                f"unknown preset {str(name_or_path)!r}; available: {', '.join(list_presets())}, "
                "or the path of a preset JSON file"
            )
        return path
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.exists():
        raise ConfigError(f"preset file {path} does not exist")
    return path


def merge_preset_data(cls: type, base: Mapping[str, Any], over: Mapping[str, Any]) -> dict:
    """``over`` laid on ``base`` (two dicts for dataclass ``cls``), as ``"extend"`` does.

    Sections (keys whose type is a config dataclass) merge key by key; every other value —
    numbers, strings, lists, ``null`` and free-form objects such as ``arch`` — replaces the
    parent's (so ``"arch": {}`` drops an inherited architecture).
    """
    hints = _resolve_hints(cls)
    out = dict(base)
    for key, value in over.items():
        section = _section_class(hints.get(key))
        if section and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_preset_data(section, out[key], value)
        else:
            out[key] = value
    return out


def _section_class(tp: Any) -> type | None:
    """The dataclass behind a field type (``X`` or ``X | None``), else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = inner[0] if len(inner) == 1 else None
    return tp if dataclasses.is_dataclass(tp) else None


def _read_preset_data(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A preset file's dict with its ``extend`` chain resolved (parents first)."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"preset file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"preset file {path}: expected a JSON object")
    data.setdefault("name", path.stem)
    parent = data.pop("extend", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path.name}: 'extend' must be a preset name or file, got {parent!r}")
    chain = (*chain, path.resolve())
    try:
        parent_path = _preset_path(parent, base=path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path.name} extends {parent!r}, which cannot be read: {exc}") from None
    if parent_path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, parent_path))
        raise ConfigError(f"presets extend each other in a cycle: {names}; break the cycle")
    return merge_preset_data(PresetConfig, _read_preset_data(parent_path, chain), data)


def preset_timeline(name_or_path: str | os.PathLike) -> TimelineConfig:
    """The ``timeline`` section of a preset (name or file), without resolving its weights."""
    path = _preset_path(name_or_path)
    return from_dict(PresetConfig, _read_preset_data(path), where=path.name).timeline


def load_preset(
    name_or_path: str | os.PathLike = "tiny",
    local_paths: Mapping[str, str] | None = None,
    device: str | None = None,
) -> PresetConfig:
    """Load a named preset (``auto``, ``tiny``, ``offline``, ``cpu``, ``small``, ``paper``) or a
    JSON file path.

    A preset that says ``"extend": "<name or file>"`` starts from that preset (see
    :func:`merge_preset_data`). ``local_paths`` (``{component: path}``, from the edge's
    ``--weights`` flags and environment) replace the components' weights. An auto preset is resolved here, per component
    (:mod:`ovhhir_core.autopreset`); ``device`` (a device string such as ``cpu`` or ``cuda:0``;
    default: what this machine has) picks its target.
    """
    path = _preset_path(name_or_path)
    preset = from_dict(PresetConfig, _read_preset_data(path), where=path.name)
    paths = dict(local_paths or {})
    if preset.auto is not None:
        from ovhhir_core.autopreset import resolve_auto, wants_gpu_preset

        resolved = resolve_auto(
            preset,
            lambda name: load_preset(name, paths),
            COMPONENTS,
            wants_gpu_preset(device),
        )
        resolved.timeline = preset.timeline  # not a component: the auto preset's own section
        return resolved
    return preset.with_local_paths(paths) if paths else preset
