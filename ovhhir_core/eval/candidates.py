"""Which classes a sample is classified among: per-dataset lists, seen + unseen for the open set.

Class names come from the taxonomy (``ovhhir_core/data/taxonomy.json``). A sample from one of the
taxonomy's datasets is classified among that dataset's categories (as the paper's per-dataset
prompt classifier); a sample from any other source among the labels that source has in the
evaluated file. The open set uses every seen and unseen taxonomy class, plus the file's labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovhhir_core.eval.classify import display_name


def _taxonomy() -> Any:
    from ovhhir_core.data.taxonomy import load_taxonomy

    return load_taxonomy()


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


@dataclass
class ClassSpace:
    """Candidate class lists of an evaluation. Build with :meth:`build`."""

    taxonomy: Any
    mode: str = "dataset"
    labels_by_source: dict[str, list[str]] = field(default_factory=dict)
    unseen: set[str] = field(default_factory=set)
    open_set_enabled: bool = False

    @classmethod
    def build(
        cls,
        samples: Sequence[Any],
        mode: str = "dataset",
        open_set: str = "auto",
        extra_unseen: Sequence[str] = (),
        taxonomy: Any = None,
    ) -> ClassSpace:
        """Collect the labels of ``samples`` (label, else the one-word answer) per source.

        ``mode``: ``dataset`` or ``all``; ``open_set``: ``auto`` (on when a sample's class is
        unseen), ``on`` or ``off``; ``extra_unseen``: more class names to treat as unseen.
        """
        if mode not in ("dataset", "all"):
            raise ValueError(f"unknown candidates mode {mode!r}; use dataset or all")
        space = cls(taxonomy if taxonomy is not None else _taxonomy(), mode)
        for s in samples:
            label = s.label or (s.one_word.strip().rstrip(".") if s.one_word else None)
            if label:
                src = s.source or "unknown"
                space.labels_by_source.setdefault(src, [])
                space.labels_by_source[src] = _unique(
                    [*space.labels_by_source[src], space.canon(label)]
                )
        space.unseen = {c for c in space.taxonomy.class_names(seen=False, unseen=True)}
        space.unseen |= {space.canon(u) for u in extra_unseen}
        if open_set == "on":
            space.open_set_enabled = True
        elif open_set == "auto":
            space.open_set_enabled = any(
                lab in space.unseen for labs in space.labels_by_source.values() for lab in labs
            )
        elif open_set != "off":
            raise ValueError(f"unknown open_set {open_set!r}; use auto, on or off")
        return space

    def canon(self, label: str) -> str:
        """The taxonomy class name of ``label`` ("handshake", "Handshaking." → "Handshaking");
        labels the taxonomy does not know stay as they are (stripped of a final period)."""
        label = label.strip().rstrip(".")
        cat = self.taxonomy.find(label)
        return cat.class_name if cat is not None else label

    def _file_labels(self) -> list[str]:
        return _unique(lab for labs in self.labels_by_source.values() for lab in labs)

    def candidates(self, source: str, label: str | None = None) -> list[str]:
        """Closed-set candidates of a sample from ``source`` (its own ``label`` always included)."""
        if self.mode == "all":
            names = [*self.taxonomy.class_names(seen=True), *self._file_labels()]
        else:
            names = []
            try:
                ds = self.taxonomy.dataset_name(source)
            except Exception:  # noqa: BLE001 - not a taxonomy dataset: use the file's labels
                ds = None
            if ds is not None:
                names = [
                    c.class_name
                    for c in self.taxonomy.categories
                    if ds in c.sources or ds in c.unconfirmed_sources
                ]
            names += self.labels_by_source.get(source, [])
        if label is not None:
            names.append(self.canon(label))
        return _unique(names)

    def open_candidates(self, label: str | None = None) -> list[str]:
        """Open-set candidates: every seen and unseen class, the file's labels, and ``label``."""
        names = [
            *self.taxonomy.class_names(seen=True, unseen=True),
            *self._file_labels(),
            *sorted(self.unseen),
        ]
        if label is not None:
            names.append(self.canon(label))
        return _unique(names)

    def is_unseen(self, label: str) -> bool:
        return self.canon(label) in self.unseen

    def soft_labels(self, class_name: str) -> list[str]:
        """Descriptions of a class for the nearest-class reading: the taxonomy's soft labels, or
        the class name as words when the taxonomy does not know it."""
        cat = self.taxonomy.find(class_name)
        return list(cat.soft_labels) if cat is not None else [display_name(class_name)]
