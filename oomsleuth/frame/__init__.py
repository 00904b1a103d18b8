"""Frame: physical log lines -> logical :class:`~oomsleuth.model.LogLine` objects, one module per
framing (dmesg, syslog, journal, kmsg, quoted/mail) and the :class:`Framer` that picks per line."""

from oomsleuth.frame.framer import Framer, Searcher, frame_lines

__all__ = ["Framer", "Searcher", "frame_lines"]
