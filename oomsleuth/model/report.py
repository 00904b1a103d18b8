"""The whole analysis: what the input held (reports, kills, boots, warnings), on the wall clock,
with the incidents correlation found. :meth:`Report.to_dict` is the documented JSON document."""

from __future__ import annotations

from typing import Any

from oomsleuth.model.history import History
from oomsleuth.model.host import HostFacts
from oomsleuth.model.incidents import Incident
from oomsleuth.model.kernel import AllocFailure, OomReport, UserspaceKill
from oomsleuth.model.lines import Boot, BootSegment, Warning_
from oomsleuth.model.record import record


@record(frozen=True, slots=True)
class Report:
    """What :func:`oomsleuth.analyze` returns; every renderer reads this and nothing else."""

    reports: tuple[OomReport, ...] = ()
    alloc_failures: tuple[AllocFailure, ...] = ()
    userspace: tuple[UserspaceKill, ...] = ()
    boots: tuple[Boot, ...] = ()
    warnings: tuple[Warning_, ...] = ()
    sources: tuple[str, ...] = ()
    lines_read: int = 0
    framings: tuple[tuple[str, int], ...] = ()  # framing name -> lines seen
    segments: tuple[BootSegment, ...] = ()  # boots per (source, host), with wall-clock anchors
    # filled by correlation (oomsleuth.correlate), after parsing and time resolution
    incidents: tuple[Incident, ...] = ()
    history: History | None = None
    host_facts: tuple[HostFacts, ...] = ()  # the live host's or a bundle's, when given

    @property
    def has_events(self) -> bool:
        """True when the input held an OOM event: a kernel report or a userspace kill."""
        return bool(self.reports) or any(u.kind == "kill" for u in self.userspace)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``schema_version`` 1; docs/json-schema.md), as Python objects."""
        from oomsleuth.model.document import to_document

        return to_document(self)
