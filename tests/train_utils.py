"""Helpers shared by the training tests and benchmark: the ``train`` command's argv."""

from __future__ import annotations

from pathlib import Path


def train_argv(data: Path, out: Path, cache: Path, *extra: str, **flags: object) -> list[str]:
    """``train`` flags: ``--data``, ``--out``, ``--cache-dir``, then each keyword as
    ``--key value`` (underscores become dashes), then ``extra`` as given."""
    argv = ["--data", str(data), "--out", str(out), "--cache-dir", str(cache)]
    for key, value in flags.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return [*argv, *extra]
