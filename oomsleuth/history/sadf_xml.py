"""sysstat ``sadf -x`` (XML) output: what sosreport keeps as ``sos_commands/sar/saDD.xml``.

Sample input (``sadf -x saDD -- -A``; sadf writes one element a line) and what it gives::

    <sysstat xmlns="http://pagesperso-orange.fr/sebastien.godard/sysstat" ...>
      <host nodename="vm"> ... <statistics>
        <timestamp date="2026-12-06" time="04:56:12" utc="1" interval="1">
          <paging per="second" pgpgin="0.00" ... pgscank="0.00" pgsteal="0.00" .../>
          <memory unit="kB"> <memfree>20208780</memfree> <avail>24138828</avail> ...
          <psi per="second"> <psi-mem some_avg10="0.02" ... full_avg300="0.01" .../> </psi>
        </timestamp> ...
      </statistics> <restarts> <boot date="2026-12-06" time="04:56:17" utc="1" .../>
        -> Sample(04:56:12, "pgscank_s", 0.0), ("mem_free_kb", 20208780.0), ...,
           Sample(04:56:17, "restart", 0.0)

The elements and keys are those of ``sadf -j`` (the two are written from the same tables), so
the mapping is :data:`oomsleuth.history.sadf.JSON_KEYS` and a file gives the samples its
``sadf -j`` gives, in the same order. The text is read tag by tag with a regular expression,
line by line (a tag cut by a line end waits for the next line): nothing holds more than one
record. Stamps with ``utc="1"`` are UTC, ``utc="0"`` (``sadf -t``) local, placed in ``tz``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone, tzinfo
from math import isfinite

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import WarnLimiter, parse_stamp
from oomsleuth.history.sadf import JSON_KEYS
from oomsleuth.history.sar import warn_limiter
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_TAG = lazy_compile(r'<(/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*(/?)>([^<]*)')
_ATTR = lazy_compile(r'([\w.:-]+)\s*=\s*"([^"]*)"')
_SNIFF = lazy_compile(r"<!DOCTYPE sysstat\b|<sysstat\b|godard/sysstat\"|<sysdata-version>")
_DATE = lazy_compile(r"\d{4}-\d\d-\d\d")
_TIME = lazy_compile(r"\d\d:\d\d:\d\d")
_MAX_CARRY = 1 << 16  # characters of a tag cut by line ends before we give up on it


def sniff(head: list[str]) -> bool:
    return any(_SNIFF.search(line) for line in head[:20])


FORMAT = FormatInfo(name="sadf-xml", description="sysstat sadf -x (XML) output", sniff=sniff)


def record_time(attrs: dict[str, str], tz: tzinfo) -> datetime | None:
    """The time of a ``<timestamp>`` or ``<boot>`` element: UTC unless ``utc="0"``."""
    date, clock = attrs.get("date", ""), attrs.get("time", "")
    if not (_DATE.fullmatch(date) and _TIME.fullmatch(clock)):
        return None
    utc = attrs.get("utc", "1") != "0"
    when = parse_stamp(f"{date}T{clock}", timezone.utc if utc else tz)
    return when.astimezone(tz) if when is not None and utc else when


class _Record:
    """What one ``<timestamp>`` element holds: the activity values, as ``sadf -j`` keys them."""

    def __init__(self, when: datetime | None) -> None:
        self.when = when
        self.stack: list[str] = []  # elements open inside the record
        self.text = ""  # the text after the last start tag
        self.data: dict[str, dict[str, str]] = {}

    def open(self, name: str, attrs: str, closed: bool, text: str) -> None:
        if name in JSON_KEYS and attrs:
            self.data.setdefault(name, {}).update(_ATTR.findall(attrs))
        if not closed:
            self.stack.append(name)
            self.text = text

    def close(self, name: str) -> None:
        """``</memfree>`` after ``<memory><memfree>123``: memory's ``memfree`` is 123."""
        if self.stack and self.stack[-1] == name:
            if len(self.stack) > 1 and self.stack[-2] in JSON_KEYS and self.text.strip():
                self.data.setdefault(self.stack[-2], {})[name] = self.text.strip()
            self.stack.pop()
        elif name in self.stack:  # an element left open: close it and those inside it
            del self.stack[self.stack.index(name) :]
        self.text = ""

    def samples(self, source: str) -> Iterator[Sample]:
        """In the order of ``sadf.parse`` over ``sadf -j``: the activities of JSON_KEYS."""
        if self.when is None:
            return
        values: dict[str, float] = {}
        for activity, keys in JSON_KEYS.items():
            data = self.data.get(activity, {})
            for key, metric in keys.items():
                value = _number(data.get(key))
                if value is not None:
                    values[metric] = value
        if "swap_free_kb" in values and "swap_used_kb" in values:
            values["swap_total_kb"] = values["swap_free_kb"] + values["swap_used_kb"]
        for metric, value in values.items():
            yield Sample(self.when, metric, value, source=source)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and isfinite(value) else None


class _Reader:
    """Tags in, samples out: a record is collected from its ``<timestamp>`` to its end."""

    def __init__(
        self, source: str, tz: tzinfo, keep: Callable[[datetime], bool], warner: WarnLimiter
    ) -> None:
        self.source, self.tz, self.keep, self.warner = source, tz, keep, warner
        self.record: _Record | None = None
        self.carry = ""  # the start of a tag that the line end cut

    def line(self, lineno: int, raw: str) -> Iterator[Sample]:
        text = self.carry + raw.rstrip("\r\n")
        cut = text.rfind("<")
        self.carry = ""
        if cut >= 0 and ">" not in text[cut:]:
            text, self.carry = text[:cut], text[cut:] + " "
            if len(self.carry) > _MAX_CARRY:
                self.warner(lineno, "sadf-xml-bad-line", "a tag without an end: skipped")
                self.carry = ""
        tags = list(_TAG.finditer(text))
        if not tags and text.strip() and "<" not in text:
            self.warner(lineno, "sadf-xml-bad-line", f"not sadf -x: {text.strip()[:80]!r}")
        for m in tags:
            name = m[2].rpartition(":")[2]  # a namespace prefix, if any
            yield from self.tag(lineno, m[1] == "/", name, m[3], m[4] == "/", m[5])

    def tag(
        self, lineno: int, end: bool, name: str, attrs: str, closed: bool, text: str
    ) -> Iterator[Sample]:
        if name in ("timestamp", "boot") and not end:
            when = record_time(dict(_ATTR.findall(attrs)), self.tz)
            if when is None:
                self.warner(lineno, "sadf-bad-time", f"cannot read the time of <{name}{attrs}>")
            if name == "boot":
                if when is not None and self.keep(when):
                    yield Sample(when, "restart", 0.0, source=self.source)
                return
            if self.record is not None:
                self.warner(lineno, "sadf-truncated", "a record ends without </timestamp>")
            self.record = _Record(when if when is not None and self.keep(when) else None)
        elif self.record is None:
            return
        elif end and name == "timestamp":
            record, self.record = self.record, None
            yield from record.samples(self.source)
        elif end:
            self.record.close(name)
        else:
            self.record.open(name, attrs, closed, text)


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    warner = warn_limiter(source, warn)
    reader = _Reader(source, tz, keep, warner)
    lineno = 0
    for lineno, raw in enumerate(lines, 1):
        try:
            yield from reader.line(lineno, raw)
        except Exception as exc:  # a parser never raises on odd input
            warner(lineno, "sadf-parse-error", repr(exc))
    if reader.record is not None:
        warner(lineno, "sadf-truncated", "the XML ends inside a record: its values are dropped")
