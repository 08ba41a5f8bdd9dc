"""The command line, ``python -m ovhhir_core COMMAND`` (or ``ovhhir COMMAND``): the edge.

``cli`` is the entry point (:func:`main`), the common flags (``--preset``, ``--device``,
``--dtype``, ``--weights``) and :func:`setup`, which turns them into a preset, a device and a
dtype; it is also the one place a command reads the environment. Every other module here is one
command (or two close ones) and exposes ``register(subparsers)``: ``info``, ``track``, ``people``,
``timeline``, ``chat`` (``describe`` and ``chat``), ``build`` (``build-dataset``), ``train``,
``evaluate``. A command parses flags, calls the library packages and prints; the library packages
never import this one. A new command is one module here plus its line in
:data:`~ovhhir_core.commands.cli.COMMAND_MODULES`.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "cli": ("COMMAND_MODULES", "add_common_args", "build_parser", "main", "setup"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
