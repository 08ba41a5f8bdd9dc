"""Building an HHIRChat dataset from labelled videos (``python -m ovhhir_core build-dataset``).

- ``builder``: :class:`DatasetBuilder` — per row: label → taxonomy class, label maps (mask file
  or a tracker), the three streams, a soft label; resumable and shardable;
- ``inputs``: rows from a folder or a CSV, person prompts, mask files;
- ``describe``: soft labels from the taxonomy's templates or a chat LLM.

The command itself (``ovhhir_core.commands.build``) wires the tracking models and the LLM in, so
this package never imports ``ovhhir_core.tracking`` (whose ``track`` command writes HHIRChat samples).
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "builder": (
        "BuildEvent",
        "BuildOptions",
        "BuildReport",
        "DatasetBuilder",
        "Tracker",
        "existing_ids",
    ),
    "describe": ("clean_description", "template_describer"),
    "inputs": ("InputError", "parse_shard", "read_rows"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
