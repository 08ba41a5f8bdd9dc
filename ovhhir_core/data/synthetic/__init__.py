"""Synthetic interactions: drawn figures acting out interactions, with exact per-frame label maps.

- ``generator``: :func:`render_clip`, :func:`write_clip`, :func:`make_dataset` (an HHIRChat set);
- ``choreography``: each interaction's poses over time;
- ``figures``: the drawn figures, their palettes and the backdrop.

``from ovhhir_core.data.synthetic import make_dataset`` is the public entry point.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "generator": (
        "CLASSES",
        "SOURCE",
        "Pair",
        "SyntheticClip",
        "SyntheticError",
        "iter_specs",
        "make_dataset",
        "render_clip",
        "write_clip",
    ),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
