"""The only exceptions oomsleuth raises to its user. The CLI maps them to exit codes."""

from __future__ import annotations

EXIT_FOUND = 0  # OOM events found
EXIT_NONE = 1  # input read, no OOM event in it
EXIT_USAGE = 2  # bad usage or unreadable input


class OomsleuthError(Exception):
    """Base class: a one-line message for the user and the exit code to leave with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(OomsleuthError):
    """A path is missing or unreadable, not a text log, or a directory without logs."""
