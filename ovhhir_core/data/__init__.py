"""Data: the HHIRChat format, the interaction taxonomy, a synthetic generator, the dataset builder.

The format (light imports): ``hhirchat`` (the sample schema, ``load_dataset`` / ``save_dataset`` /
``append_sample``, ``require_samples``), ``validation`` (the rules a sample must meet, the text
cap), ``records`` (reading ``.json`` / ``.jsonl`` records, ``DatasetError``),
``export`` (one tracked clip as an HHIRChat sample), ``taxonomy`` (+ ``taxonomy.json``: categories
across the paper's datasets, soft labels).

Subpackages: ``synthetic`` (drawn interactions with exact label maps) and ``build`` (labelled
videos → an HHIRChat dataset). Names are imported lazily; nothing heavy is imported here.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "export": ("export_hhirchat_sample",),
    "hhirchat": (
        "Sample",
        "Turn",
        "append_sample",
        "load_dataset",
        "make_conversations",
        "require_samples",
        "save_dataset",
    ),
    "records": ("DatasetError",),
    "taxonomy": ("Category", "Taxonomy", "TaxonomyError", "load_taxonomy"),
    "validation": ("MAX_TEXT_CHARS",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
