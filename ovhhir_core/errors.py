"""Errors that carry a message meant for the user (CLI prints it, the app shows it)."""

from __future__ import annotations


class UserError(Exception):
    """Base of every error whose message says what is wrong and what to do.

    The CLI prints these without a traceback; the app shows them in the UI.
    """
