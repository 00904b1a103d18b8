"""oomd (facebookincubator/oomd): the ``oomd kill:`` line is the kill of a cgroup.

oomd writes that summary to /dev/kmsg (so it arrives tagged ``kernel``) and echoes it, without
the ``oomd kill:`` prefix, to its own log; the echo of a summary already seen is dropped. Its
per-process lines (``Killed 2: 123(comm) 456(comm)``, 2018's ``Killed pid 123``) become
notices that carry the cgroup of the preceding ``Trying to kill``.
"""

from __future__ import annotations

from collections import deque

from oomsleuth.model import LogLine, UserspaceKill
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.parsers.userspace_lines import make_kill, to_int

_OOMD_PREFIX = lazy_compile(
    r"(?:\(inl\) )?(?:\d{4} \d\d:\d\d:\d\d )?\[(?P<file>[\w.+-]+):\d+\] "  # OLOG
    r"|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ (?P<xfile>[\w.+-]+):\d+\] "  # 2018 XLOG
)
_OOMD_FILES = ("BaseKillPlugin.cpp", "OomKiller.cpp", "Log.cpp")
_OOMD_SUMMARY = lazy_compile(
    r"(?P<p10>\d+\.\d+) \d+\.\d+ \d+\.\d+ (?P<cg>\S.*?) +(?P<usage>\d+) "
    r"(?:ruleset:\[(?P<ruleset>.*)\] detectorgroup:\[(?P<group>.*)\]|detector:(?P<det>.*?)) "
    r"killer:(?P<dry>\(dry\))?(?P<plugin>\S+?)(?: v2)?"
)
_OOMD_PIDS = lazy_compile(r"Killed (?P<n>\d+):(?P<list>(?: \S.*)?)")
_OOMD_PID = lazy_compile(
    r" (?P<pid>\d+)(?:\((?P<comm>.*?)\)(?=(?:\[E\d+\])?(?: \d|$)))?(?P<e>\[E\d+\])?"
)
_OOMD_TARGET = lazy_compile(
    r"Trying to kill (?P<cg>\S.*?)(?: with cgroup\.freeze and cgroup\.kill)?"
)


def _oomd_cgroup(path: str) -> str:
    for mount in ("/sys/fs/cgroup/unified/", "/sys/fs/cgroup/"):
        if path.startswith(mount):
            return "/" + path[len(mount) :]
    return path if path.startswith("/") else "/" + path


class Oomd:
    """oomd: the ``oomd kill:`` summary is the kill; per-process lines are notices."""

    def __init__(self) -> None:
        self._target: dict[tuple[str, str | None], str] = {}
        self._recent: deque[str] = deque(maxlen=64)

    def parse(self, line: LogLine, text: str, tagged: bool) -> list[UserspaceKill] | None:
        body = text
        if text.startswith("oomd kill: "):
            body = text[11:]
        else:
            prefix = _OOMD_PREFIX.match(text)
            if prefix is None:
                if not tagged:
                    return None
            else:
                body = text[prefix.end() :]
                if not tagged and (prefix["file"] or prefix["xfile"]) not in _OOMD_FILES:
                    return None
        return self._body(line, body)

    def _body(self, line: LogLine, body: str) -> list[UserspaceKill]:
        key = (line.source, line.host)
        summary = _OOMD_SUMMARY.fullmatch(body)
        if summary:
            if summary["dry"] or body in self._recent:
                return []  # a dry run, or the journal's echo of the kmsg line already seen
            self._recent.append(body)
            why = summary["det"] and f"detector:{summary['det']}"
            if summary["ruleset"] is not None:
                why = f"ruleset:[{summary['ruleset']}] detectorgroup:[{summary['group']}]"
            reason = f"{why} killer:{summary['plugin']}"
            return [
                make_kill(
                    line,
                    "oomd",
                    cgroup=_oomd_cgroup(summary["cg"]),
                    signal="SIGKILL",
                    reason=reason,
                )
            ]
        target = _OOMD_TARGET.fullmatch(body)
        if target:
            self._target[key] = _oomd_cgroup(target["cg"])
            return []
        pids = _OOMD_PIDS.fullmatch(body)
        found: list[tuple[str, str | None]] = []
        if pids:
            found = [(m["pid"], m["comm"]) for m in _OOMD_PID.finditer(pids["list"]) if not m["e"]]
        elif body.startswith("Killed pid "):
            found = [(body[11:], None)]
        return [
            make_kill(
                line,
                "oomd",
                kind="notice",
                pid=to_int(pid),
                comm=comm,
                cgroup=self._target.get(key),
                signal="SIGKILL",
                reason="process of a cgroup kill",
            )
            for pid, comm in found
            if to_int(pid) is not None
        ]
