"""Everything the user's inputs hold, sorted by role: kernel and userspace logs, history, and what
a host told about itself (:class:`~oomsleuth.model.HostFacts`).

A plain file is a log. A folder is searched for logs; a folder or archive that is a bundle (a
sosreport, an ``oomsleuth collect`` tarball, any tarball or zip of logs) gives its logs, the
history beside them and the facts it recorded (:mod:`oomsleuth.load.bundles`). With no path at
all, the live host is the evidence (:mod:`oomsleuth.load.host`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from oomsleuth.errors import InputError
from oomsleuth.load.files import Input
from oomsleuth.model import CgroupState, HostFacts
from oomsleuth.model.record import field, record

Say = Callable[[str], None]


# a history file and the span of time it covers (None: open-ended), read only when a span meets
# the window around an event (a host keeps a month of daily files)
Dated = tuple[Input, datetime | None, datetime | None]


@record()
class Evidence:
    logs: list[Input] = field(default_factory=list)
    history: list[Input] = field(default_factory=list)
    dated_history: list[Dated] = field(default_factory=list)
    facts: list[HostFacts] = field(default_factory=list)
    since: datetime | None = None  # events before it are left out (--since)
    commands: dict[str, str] = field(default_factory=dict)  # input name -> the command it runs
    # the live host reads the cgroups the kills named once they are known
    read_cgroups: Callable[[list[str]], tuple[CgroupState, ...]] | None = None

    def add(self, other: Evidence) -> None:
        self.logs += other.logs
        self.history += other.history
        self.dated_history += other.dated_history
        self.facts += other.facts


def gather(args: Sequence[str], *, warn: Say, info: Say | None = None) -> Evidence:
    """The evidence of the paths the user named (``-`` is standard input), in order.

    A bundle among them is read whole (logs, history, facts); every other path goes through
    :func:`~oomsleuth.load.paths.resolve_inputs`. One bad path among several is a warning;
    raises InputError when nothing can be read. ``info`` hears what was read and skipped (-v).
    """
    from oomsleuth.load.bundles import bundle_evidence
    from oomsleuth.load.paths import resolve_inputs

    tell = info or (lambda _: None)
    evidence = Evidence()
    plain: list[str] = []
    failures: list[str] = []
    for arg in args:
        try:
            found = bundle_evidence(arg, warn=warn, info=tell) if arg != "-" else None
        except InputError as exc:
            if len(args) == 1:
                raise
            failures.append(exc.message)
            warn(f"skipped {exc.message.removeprefix('cannot read ')}")
            continue
        if found is None:
            plain.append(arg)
        else:
            evidence.add(found)
    if plain:
        try:
            evidence.logs += resolve_inputs(plain, on_warning=warn)
        except InputError:
            if not evidence.logs:
                raise
    if not evidence.logs:
        raise InputError("nothing could be read: " + "; ".join(failures))
    for item in evidence.logs:
        tell(f"log {item.name}")
    for item in evidence.history:
        tell(f"history {item.name}")
    return evidence
