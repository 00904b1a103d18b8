"""Prometheus HTTP API responses: ``/api/v1/query_range`` (matrix) and ``/api/v1/query`` (vector).

A file holds one response, several (one per line, or a JSON array of them), a bare ``data``
object or a bare ``result`` array. It is streamed point by point, in bounded memory whatever the
size of a line or a series (see :mod:`oomsleuth.history.prometheus_json`); ``parse_chunks`` takes
the raw bytes, which the loader gives for this format. Series are mapped from
node_exporter, cAdvisor and process-exporter names (see ``docs/history-formats.md``); samples
come out series by series, not in time order. Counters become rates between consecutive points
(a fall is a reset: the new value counts as the increase, as in PromQL ``rate``); a fall of a
``/proc`` counter of node_exporter means the host booted again and is reported as ``restart``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any

from oomsleuth.history import FormatInfo
from oomsleuth.history.common import MEMINFO, UNLIMITED_BYTES, WarnLimiter
from oomsleuth.history.prometheus_json import (
    Events,
    Piece,
    pieces_of_chunks,
    pieces_of_lines,
    walk,
)
from oomsleuth.model import Sample, Warning_
from oomsleuth.model.patterns import lazy_compile

_KB = 1 / 1024
# gauges: name -> (metric, factor); node_exporter before 0.16 had no _bytes suffix
GAUGES = {f"node_memory_{k}{s}": (v, _KB) for k, v in MEMINFO.items() for s in ("_bytes", "")}
GAUGES |= {
    "node_pressure_memory_waiting_seconds_total": ("psi_mem_some_total_us", 1e6),
    "node_pressure_memory_stalled_seconds_total": ("psi_mem_full_total_us", 1e6),
}
CADVISOR = {
    "container_memory_working_set_bytes": "container_working_set_kb",
    "container_memory_rss": "container_rss_kb",
    "container_memory_cache": "container_cache_kb",
    "container_spec_memory_limit_bytes": "container_limit_kb",
    "container_memory_usage_bytes": "cg_mem_current_kb",
    "container_memory_swap": "cg_swap_current_kb",
}
# counters: name -> (metric of the rate, factor); PSI seconds per second -> percent of the time
COUNTERS = {
    "node_pressure_memory_waiting_seconds_total": ("psi_mem_some_avg10", 100.0),
    "node_pressure_memory_stalled_seconds_total": ("psi_mem_full_avg10", 100.0),
    "node_vmstat_pgscan_direct": ("pgscand_s", 1.0),
    "node_vmstat_pgscan_kswapd": ("pgscank_s", 1.0),
    "node_vmstat_pswpin": ("pswpin_s", 1.0),
    "node_vmstat_pswpout": ("pswpout_s", 1.0),
    "node_vmstat_pgmajfault": ("majflt_s", 1.0),
    "node_vmstat_pgfault": ("fault_s", 1.0),
}
PROCESS = {"resident": "proc_rss_kb", "virtual": "proc_vsz_kb", "swapped": "proc_swap_kb"}
_PAUSE = lazy_compile(r"(?:^|/)pause(?:-\w+)?(?:[:@]|$)")
_SNIFF = lazy_compile(
    r'"resultType"\s*:\s*"(?:matrix|vector|scalar|string)"|"metric"\s*:\s*\{|'
    r'"status"\s*:\s*"error"\s*,\s*"errorType"'  # an error response: its error is said
)


def _labels(metric: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The entity and the labels of a cAdvisor series."""
    keys = ("instance", "pod", "container", "namespace", "image")  # k8s < 1.16: pod_name, ...
    labels = {k: str(metric.get(k) or metric.get(f"{k}_name") or "") for k in keys}
    if labels["pod"]:
        pause = labels["container"] == "POD" or _PAUSE.search(labels["image"])
        labels["level"] = "pause" if pause else "container" if labels["container"] else "pod"
    cid, name = str(metric.get("id", "")), str(metric.get("name", ""))
    if cid.startswith("/"):
        entity: str | None = f"cgroup:{cid}"
    elif cid or name:
        entity = f"container:{cid or name}"
    elif labels["pod"]:
        entity = f"container:{labels['namespace']}/{labels['pod']}/{labels['container']}"
    else:
        entity = None
    return entity, {k: v for k, v in labels.items() if v}


# a series' (name, gauge, counter, entity, labels); gauge and counter: (metric, factor)
_Mapping = tuple[
    str, tuple[str, float] | None, tuple[str, float] | None, str | None, dict[str, str]
]


class _Converter:
    def __init__(self, source: str, keep: Callable[[datetime], bool], warn: WarnLimiter) -> None:
        self.source, self.keep, self.warn = source, keep, warn
        self.unmapped: set[str] = set()
        self.restarts: set[tuple[str, float]] = set()

    def series(
        self, line: int, metric: dict[str, Any], points: Iterable[Sequence[Any]]
    ) -> Iterator[Sample]:
        mapped = self._mapping(line, metric)
        if mapped is None:
            return
        name, gauge, counter, entity, labels = mapped
        tags = tuple(sorted((k, v) for k, v in labels.items() if v))
        prev: tuple[float, float] | None = None
        keep, stamp, utc, finite = self.keep, datetime.fromtimestamp, timezone.utc, math.isfinite
        for point in points:
            try:
                ts, value = float(point[0]), float(point[1])
                t = stamp(ts, utc)
            except (TypeError, ValueError, IndexError, KeyError, OverflowError, OSError):
                self.warn(line, "bad-point", f"{name}: cannot read point {str(point)[:60]}")
                continue
            if not finite(value):
                continue
            kept = keep(t)
            if gauge is not None and kept:
                unlimited = gauge[0].endswith("limit_kb") and not 0 < value < UNLIMITED_BYTES
                if not unlimited:
                    yield Sample(t, gauge[0], value * gauge[1], entity, tags, self.source)
            if counter is None:
                continue
            if prev is not None and ts > prev[0]:
                increase = value - prev[1]
                if increase < 0:  # the counter started again from zero: the host rebooted
                    increase = value
                    yield from self._reset(line, name, t, ts, kept, labels, tags)
                if kept:
                    rate = increase / (ts - prev[0]) * counter[1]
                    rate = min(rate, 100.0) if counter[0].startswith("psi_") else rate
                    yield Sample(t, counter[0], rate, entity, tags, self.source)
            prev = (ts, value)

    def _mapping(self, line: int, metric: dict[str, Any]) -> _Mapping | None:
        """(name, gauge, counter, entity, labels) of a series; None, with one warning per
        name, for a metric oomsleuth does not read."""
        name = str(metric.get("__name__", ""))
        entity, labels = None, {"instance": str(metric.get("instance", ""))}
        gauge, counter = GAUGES.get(name), COUNTERS.get(name)
        if name in CADVISOR:
            gauge = (CADVISOR[name], _KB)
            entity, labels = _labels(metric)
        elif name == "namedprocess_namegroup_memory_bytes":
            group = str(metric.get("groupname", ""))
            gauge = (PROCESS[metric["memtype"]], _KB) if metric.get("memtype") in PROCESS else None
            entity, labels["comm"] = f"group:{group}", group
        elif gauge is None and counter is None:
            if name not in self.unmapped and len(self.unmapped) < 1000:
                self.unmapped.add(name)
                what = name or "a series without __name__ (an expression?)"
                self.warn(line, "unmapped-metric", f"{what}: not a metric oomsleuth reads")
            return None
        return name, gauge, counter, entity, labels

    def _reset(
        self,
        line: int,
        name: str,
        t: datetime,
        ts: float,
        kept: bool,
        labels: dict[str, str],
        tags: tuple[tuple[str, str], ...],
    ) -> Iterator[Sample]:
        """A counter fell: the host booted again. A warning, and one ``restart`` sample per
        instance and time."""
        self.warn(line, "counter-reset", f"{name} fell at {t.isoformat()}: a reboot")
        if kept and (labels["instance"], ts) not in self.restarts:
            self.restarts.add((labels["instance"], ts))
            yield Sample(t, "restart", 0.0, None, tags, self.source)


def parse(
    lines: Iterable[str],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """Stream samples from Prometheus API responses; ``tz`` is unused (epoch stamps)."""
    return _samples(pieces_of_lines(lines), source, keep, warn)


def parse_chunks(
    chunks: Iterable[bytes],
    *,
    source: str,
    tz: tzinfo,
    keep: Callable[[datetime], bool] = lambda t: True,
    warn: Callable[[Warning_], None] = lambda w: None,
) -> Iterator[Sample]:
    """As :func:`parse`, from the file's bytes in chunks of any size (no line limit)."""
    return _samples(pieces_of_chunks(chunks), source, keep, warn)


def _samples(
    pieces: Iterable[Piece],
    source: str,
    keep: Callable[[datetime], bool],
    warn: Callable[[Warning_], None],
) -> Iterator[Sample]:
    limiter = WarnLimiter(warn, source)
    events = Events(pieces)
    yield from walk(events, limiter, _Converter(source, keep, limiter).series)
    limiter.close(events.line)


def sniff(head: list[str]) -> bool:
    """JSON that names a ``resultType``, holds ``"metric": {`` objects or is an error
    response of the API."""
    text = "\n".join(head)
    return text.lstrip()[:1] in ("{", "[") and _SNIFF.search(text) is not None


FORMAT = FormatInfo(
    name="prometheus",
    description="Prometheus HTTP API query_range/query JSON (node_exporter, cAdvisor, "
    "process-exporter series)",
    sniff=sniff,
)
