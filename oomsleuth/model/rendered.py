"""Members of the JSON document written elsewhere: the events and incidents of some reports,
as text, by the process that parsed them (:mod:`oomsleuth.api_ahead`). Each text is what the
document's writer would have written for that member itself (``renderers.json.dumps`` of it at
depth 0); :func:`oomsleuth.model.document.document_items` puts it in its place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from oomsleuth.model.incidents import Incident

if TYPE_CHECKING:  # (a Protocol costs an import's time; this one is for annotations only)

    class Elsewhere(Protocol):
        """The texts of the reports another process holds (asked for in document order)."""

        ids: frozenset[int]  # the reports (by index) whose events and incident it writes

        def events(self, report_id: int) -> list[str]:
            """The report's events (:func:`oomsleuth.model.document.report_events`)."""
            ...

        def incident(self, report_id: int) -> str:
            """The report's incident."""
            ...


class Rendered:
    """A member of the document as its JSON text (depth 0)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def incidents(own: Iterable[Incident], elsewhere: Elsewhere) -> Iterator[Incident | Rendered]:
    """The incidents, those of ``elsewhere``'s reports as their texts."""
    for incident in own:
        i = incident.report_id
        yield Rendered(elsewhere.incident(i)) if i in elsewhere.ids else incident


def event(elsewhere: Elsewhere, i: int, j: int) -> Rendered:
    """Report ``i``'s event ``j`` as its text."""
    return Rendered(elsewhere.events(i)[j])


def or_built(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``build``, but a member written elsewhere as it is."""
    return lambda item: item if type(item) is Rendered else build(item)
