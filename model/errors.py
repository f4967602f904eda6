"""The one error type a user should ever see from bad input.

Every message names where the bad value came from (file, key or argument) and what is
allowed, so the CLI can print it as one line and exit with status 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a scenario file, an experiment file or a command-line argument."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
