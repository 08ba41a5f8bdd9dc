"""The interaction taxonomy: categories standardised across the paper's ten datasets.

``taxonomy.json`` (next to this file) holds, for each category, a canonical name, a one-word class
name (the paper's one-word answer, e.g. "Punching"), the source label(s) in each dataset, and
several descriptive "soft" labels in the paper's style. ``unseen`` holds the open-set classes that
never appear in training. ``datasets`` records where each dataset's label list comes from and how
sure we are of it; rows with ``judgement`` are our calls, not facts from a source.

Usage::

    tax = load_taxonomy()
    tax.map_label("UT-Interaction", "Punching").class_name   # "Punching"
    tax.soft_label("Punching", random.Random(0))              # one of its soft labels
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovhhir_core.errors import UserError

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
MIN_SOFT_LABELS = 3
_CLASS_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SPORT_RE = re.compile(r"^\s*([A-Za-z]+)\s*-\s*(.+)$")


class TaxonomyError(UserError, ValueError):
    """The taxonomy file is invalid, or a label/class is unknown."""


@dataclass(frozen=True)
class Category:
    """One interaction category. ``sources`` maps dataset name → its label strings."""

    name: str
    class_name: str
    sources: dict[str, list[str]]
    soft_labels: list[str]
    unseen: bool = False
    judgement: str | None = None
    note: str | None = None
    unconfirmed_sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset's label list comes from. ``labels`` is None when not listed in full."""

    name: str
    citation: str
    url: str
    status: str
    labels: list[str] | None
    label_ids: dict[str, str]
    notes: str
    unseen_only: bool = False


def _norm(text: str) -> str:
    """Case- and punctuation-free form of a label; ids like A058 / A58 / a58 compare equal."""
    key = re.sub(r"[^a-z0-9]+", "", text.lower())
    m = re.fullmatch(r"a0*(\d+)", key)
    return f"a{m.group(1)}" if m else key


class Taxonomy:
    """Validated categories and datasets. Build with :func:`load_taxonomy`."""

    def __init__(
        self, categories: list[Category], unseen: list[Category], datasets: dict[str, DatasetInfo]
    ) -> None:
        self.categories = categories
        self.unseen = unseen
        self.datasets = datasets
        self._by_class = {_norm(c.class_name): c for c in categories + unseen}
        self._by_name = {_norm(c.name): c for c in categories + unseen}
        self._dataset_keys = {_norm(name): name for name in datasets}
        for alias, name in _DATASET_ALIASES.items():
            if name in datasets:
                self._dataset_keys.setdefault(alias, name)
        # dataset → normalised source label → seen category (unseen ones kept apart)
        self._label_maps: dict[str, dict[str, Category]] = {}
        for cat in categories + unseen:
            for ds, labels in cat.sources.items():
                for label in labels:
                    self._label_maps.setdefault(ds, {})[_norm(label)] = cat

    def class_names(self, seen: bool = True, unseen: bool = False) -> list[str]:
        """Class names in file order: the seen ones, the unseen ones, or both."""
        cats = (self.categories if seen else []) + (self.unseen if unseen else [])
        return [c.class_name for c in cats]

    def by_class(self, name: str) -> Category:
        """The category with this class name (case-insensitive; "Punching." works too)."""
        cat = self._by_class.get(_norm(name))
        if cat is None:
            raise TaxonomyError(
                f"unknown class {name!r}; see `load_taxonomy().class_names("
                "unseen=True)` for the known ones"
            )
        return cat

    def find(self, label: str) -> Category | None:
        """A category by class name or canonical name ("Handshaking", "handshake"), or None."""
        key = _norm(label)
        return self._by_class.get(key) or self._by_name.get(key)

    def dataset_name(self, dataset: str) -> str:
        """Canonical dataset name for a name or alias ("UT", "ntu120", "TVHI")."""
        name = self._dataset_keys.get(_norm(dataset))
        if name is None:
            raise TaxonomyError(f"unknown dataset {dataset!r}; known: {', '.join(self.datasets)}")
        return name

    def map_label(
        self, dataset: str, source_label: str | int, overrides: Mapping[str, str] | None = None
    ) -> Category | None:
        """The category of ``source_label`` in ``dataset``, or None if the dataset has no such label.

        Accepts the dataset's strings and numeric ids where the dataset has them (UT 0-5,
        SBU 1-8, NTU "A58"/"A058", AIR "A005"). ``overrides`` (source label → class name) wins
        over the file. For datasets whose names are unconfirmed (SportsHHI) a label
        "<sport> - <x>" matches the category whose class name is ``<Sport><X...>``.
        """
        ds = self.dataset_name(dataset)
        label = str(source_label)
        if overrides:
            for key, cls in overrides.items():
                if _norm(key) == _norm(label):
                    return self.by_class(cls)
        info = self.datasets[ds]
        label = info.label_ids.get(label.strip(), label)
        cat = self._label_maps.get(ds, {}).get(_norm(label))
        if cat is not None:
            return cat
        return self._match_unconfirmed(ds, label)

    def _match_unconfirmed(self, ds: str, label: str) -> Category | None:
        m = _SPORT_RE.match(label)
        if not m:
            return None
        sport, rest = _norm(m.group(1)), _norm(m.group(2))
        if not rest:
            return None
        hits = [
            c
            for c in self.categories
            if ds in c.unconfirmed_sources
            and _norm(c.class_name).startswith(sport)
            and _norm(c.class_name)[len(sport) :].startswith(rest)
        ]
        return hits[0] if len(hits) == 1 else None

    def soft_label(self, class_name: str, rng: random.Random | Any | int | None = None) -> str:
        """One soft label of the class, drawn with ``rng`` (random.Random, numpy Generator or seed).

        With ``rng=None`` the first soft label is returned (deterministic).
        """
        labels = self.by_class(class_name).soft_labels
        if rng is None:
            return labels[0]
        if isinstance(rng, int):
            rng = random.Random(rng)
        if hasattr(rng, "integers"):  # numpy Generator
            return labels[int(rng.integers(len(labels)))]
        return labels[rng.randrange(len(labels))]


_DATASET_ALIASES = {
    "hw2": "Hollywood2",
    "hollywood": "Hollywood2",
    "ut": "UT-Interaction",
    "utinteraction": "UT-Interaction",
    "tvhi": "TV Human Interaction",
    "tvhumaninteractions": "TV Human Interaction",
    "sbu": "SBU Kinect Interaction",
    "sbukinect": "SBU Kinect Interaction",
    "jpl": "JPL-Interaction",
    "jplfirstpersoninteraction": "JPL-Interaction",
    "sf2": "ShakeFive2",
    "shakefive": "ShakeFive2",
    "k400": "Kinetics",
    "k600": "Kinetics",
    "k700": "Kinetics",
    "kinetics400": "Kinetics",
    "kinetics600": "Kinetics",
    "kinetics700": "Kinetics",
    "ntu": "NTU RGB+D 120",
    "ntu120": "NTU RGB+D 120",
    "nturgbd": "NTU RGB+D 120",
    "ntu60": "NTU RGB+D 120",
    "nturgbd60": "NTU RGB+D 120",
    "air": "AIR-Act2Act",
    "act2act": "AIR-Act2Act",
}


def parse_taxonomy(data: Any, where: str = "taxonomy") -> Taxonomy:
    """Validate a taxonomy dict (the JSON file's content) and build a :class:`Taxonomy`."""

    def fail(msg: str) -> TaxonomyError:
        return TaxonomyError(f"{where}: {msg}")

    if not isinstance(data, Mapping):
        raise fail("must be a JSON object")
    datasets = {}
    for name, d in (data.get("datasets") or {}).items():
        if not isinstance(d, Mapping) or not d.get("citation") or not d.get("status"):
            raise fail(f"dataset {name!r} needs a 'citation' and a 'status'")
        datasets[name] = DatasetInfo(
            name,
            d["citation"],
            d.get("url", ""),
            d["status"],
            d.get("labels"),
            dict(d.get("label_ids") or {}),
            d.get("notes", ""),
            bool(d.get("unseen_only", False)),
        )
    if not datasets:
        raise fail("has no 'datasets'")
    seen = [
        _parse_category(r, i, False, datasets, fail)
        for i, r in enumerate(data.get("categories") or [])
    ]
    unseen = [
        _parse_category(r, i, True, datasets, fail) for i, r in enumerate(data.get("unseen") or [])
    ]
    if not seen:
        raise fail("has no 'categories'")
    for attr in ("name", "class_name"):
        first: dict[str, str] = {}
        for c in seen + unseen:
            key = _norm(getattr(c, attr))
            if key in first:
                raise fail(
                    f"duplicate {attr} {getattr(c, attr)!r} (also used by "
                    f"{first[key]!r}); names must be unique"
                )
            first[key] = c.name
    owner: dict[tuple[str, str], Category] = {}
    for c in seen + unseen:
        for ds, labels in c.sources.items():
            for label in labels:
                key = (ds, _norm(label))
                if key in owner and owner[key] is not c:
                    raise fail(
                        f"{ds} label {label!r} is mapped to both "
                        f"{owner[key].class_name!r} and {c.class_name!r}"
                    )
                owner[key] = c
    return Taxonomy(seen, unseen, datasets)


def _parse_category(
    row: Any, index: int, unseen: bool, datasets: Mapping[str, DatasetInfo], fail
) -> Category:
    kind = "unseen" if unseen else "categories"
    if not isinstance(row, Mapping):
        raise fail(f"{kind}[{index}] must be an object")
    name, cls = row.get("name"), row.get("class")
    where = f"{kind}[{index}] ({name!r})"
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{where}: 'name' must be a non-empty string")
    if not isinstance(cls, str) or not _CLASS_RE.match(cls):
        raise fail(f"{where}: 'class' must be one CamelCase word, got {cls!r}")
    sources = row.get("sources")
    if not isinstance(sources, Mapping):
        raise fail(f"{where}: 'sources' must be an object of dataset → labels")
    for ds, labels in sources.items():
        if ds not in datasets:
            raise fail(f"{where}: source dataset {ds!r} is not described under 'datasets'")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise fail(f"{where}: sources[{ds!r}] must be a list of strings")
    unconfirmed = list(row.get("unconfirmed_sources") or [])
    for ds, labels in sources.items():
        if not labels and ds not in unconfirmed:
            raise fail(
                f"{where}: sources[{ds!r}] is empty; list the label or mark the dataset "
                "in 'unconfirmed_sources'"
            )
    if not unseen and not sources:
        raise fail(f"{where}: needs at least one source dataset")
    if unseen and not sources and not row.get("note"):
        raise fail(f"{where}: an unseen class without sources needs a 'note' saying why")
    soft = row.get("soft_labels")
    if (
        not isinstance(soft, list)
        or len(soft) < MIN_SOFT_LABELS
        or not all(isinstance(s, str) and s.strip() for s in soft)
    ):
        raise fail(f"{where}: needs at least {MIN_SOFT_LABELS} non-empty 'soft_labels'")
    if len({s.strip().lower() for s in soft}) != len(soft):
        raise fail(f"{where}: soft labels must differ from each other")
    return Category(
        name,
        cls,
        {k: list(v) for k, v in sources.items()},
        list(soft),
        unseen,
        row.get("judgement"),
        row.get("note"),
        unconfirmed,
    )


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> Taxonomy:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return parse_taxonomy(data, where=path)


def load_taxonomy(path: str | os.PathLike | None = None) -> Taxonomy:
    """Load and validate the taxonomy (the packaged ``taxonomy.json`` by default).

    The result is shared between callers (cached per file and modification time); treat it as
    read-only.
    """
    p = Path(path) if path is not None else TAXONOMY_PATH
    if not p.is_file():
        raise TaxonomyError(f"taxonomy file {p} not found")
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)
