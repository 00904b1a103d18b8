"""Load: all input I/O. Paths, standard input, compressed files and directories
(:mod:`~oomsleuth.load.paths`, :mod:`~oomsleuth.load.files`), history files with the real tools
that convert binary ones (:mod:`~oomsleuth.load.history`, :mod:`~oomsleuth.load.sa_binary`,
:mod:`~oomsleuth.load.atop_raw`), and the live host (:mod:`~oomsleuth.load.host`). Nothing else
in oomsleuth opens a file or runs a program."""

from oomsleuth.load.files import MAX_LINE_BYTES, Input
from oomsleuth.load.paths import resolve_inputs

__all__ = ["MAX_LINE_BYTES", "Input", "resolve_inputs"]
