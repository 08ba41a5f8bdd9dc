"""Version checks for the libraries whose private internals the tracking adapters touch.

:mod:`ovhhir_core.tracking.sam_adapter` and :mod:`ovhhir_core.tracking.sam2_adapter` reach into
segment-anything's predictor and transformers' SAM 2 / EdgeTAM video session. Those internals are
not a public API, so each adapter names the versions it was tested with and refuses others with a
:class:`UntestedVersionError` before any model is built. ``OVHHIR_ALLOW_UNTESTED=1`` skips the
check (at your own risk: masks may be wrong or tracking may fail later).
"""

from __future__ import annotations

import importlib.metadata
import os

from ovhhir_core.errors import UserError

ALLOW_ENV = "OVHHIR_ALLOW_UNTESTED"


class UntestedVersionError(UserError, RuntimeError):
    """An installed library's version was not tested with the code that patches its internals."""


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _matches(version: str, tested: str) -> bool:
    """``tested`` is a release prefix: "5.24" matches 5.24.0 and 5.24.1, "1.0" matches 1.0."""
    want = tested.split(".")
    have = version.split("+")[0].split(".")
    return have[: len(want)] == want


def require_tested(
    distribution: str, tested: tuple[str, ...], what: str, version: str | None = None
) -> str:
    """Return the installed version of ``distribution`` or raise :class:`UntestedVersionError`.

    ``what`` says which internals depend on it (shown in the message); ``version`` overrides the
    installed one (tests).
    """
    version = version if version is not None else installed_version(distribution)
    if version is None:
        raise UntestedVersionError(
            f"{distribution} is not installed; {what} needs it "
            f"(tested: {', '.join(tested)}): pip install -r requirements.txt"
        )
    if any(_matches(version, t) for t in tested):
        return version
    if os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes"):
        return version
    raise UntestedVersionError(
        f"{distribution} {version} is not a tested version for {what} (tested: "
        f"{', '.join(tested)}). Install a tested one (pip install -r requirements.txt), or set "
        f"{ALLOW_ENV}=1 to try this one anyway."
    )
