"""The tracking error type: bad clicks, ranges or prompts, reported to the user."""

from __future__ import annotations

from ovhhir_core.errors import UserError


class TrackingError(UserError, ValueError):
    """A click, box, frame index or propagation request cannot be used; the message says why."""
