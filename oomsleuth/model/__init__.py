"""The one typed model of oomsleuth: frozen dataclasses, no behaviour beyond small helpers.

It imports nothing else of oomsleuth (a test checks it). Units are explicit in every field
name (``_kb`` = KiB, ``_bytes``, ``_pages``, ``_s``).
"""

from oomsleuth.model.cascade import CascadeStep
from oomsleuth.model.history import (
    CounterTrace,
    History,
    HistoryTraces,
    ProcessTrace,
    Sample,
)
from oomsleuth.model.host import CgroupState, Finding, HostFacts, Swap
from oomsleuth.model.incidents import BadnessRow, Incident, Suspect, TimelineEntry
from oomsleuth.model.kernel import (
    AllocationSite,
    AllocFailure,
    Constraint,
    Counter,
    Kill,
    MemcgInfo,
    MemInfo,
    OomdCandidate,
    OomReport,
    Reap,
    Selection,
    TaskRow,
    Trigger,
    UserspaceKill,
    Victim,
)
from oomsleuth.model.lines import (
    Boot,
    BootSegment,
    LogLine,
    Run,
    Stamp,
    Warning_,
    Where,
    has_placeholder_year,
)
from oomsleuth.model.report import Report

Event = OomReport | UserspaceKill  # what oomsleuth.scanner() yields

__all__ = [
    "AllocFailure",
    "AllocationSite",
    "BadnessRow",
    "Boot",
    "BootSegment",
    "CascadeStep",
    "CgroupState",
    "Constraint",
    "Counter",
    "CounterTrace",
    "Event",
    "Finding",
    "History",
    "HistoryTraces",
    "HostFacts",
    "Incident",
    "Kill",
    "LogLine",
    "MemInfo",
    "MemcgInfo",
    "OomReport",
    "OomdCandidate",
    "ProcessTrace",
    "Reap",
    "Report",
    "Run",
    "Sample",
    "Selection",
    "Stamp",
    "Suspect",
    "Swap",
    "TaskRow",
    "TimelineEntry",
    "Trigger",
    "UserspaceKill",
    "Victim",
    "Warning_",
    "Where",
    "has_placeholder_year",
]
