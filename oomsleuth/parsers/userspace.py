"""Kills by userspace OOM daemons, and systemd's notes of kernel kills.

Input is :class:`LogLine` s with the framing removed; output is :class:`UserspaceKill` s.

Sample input (syslog framing) and what it gives::

    earlyoom[10231]: sending SIGTERM to process 7378 uid 1000 "tail": oom_score 156, VmRSS 4962 MiB
        -> killer="earlyoom", pid=7378, comm="tail", uid=1000, signal="SIGTERM",
           score=156, rss_kb=5081088
    systemd-oomd[588]: Killed /user.slice/.../vte-spawn-1.scope due to memory pressure for
    /user.slice/user-1000.slice/user@1000.service being 57.97% > 50.00% for > 20s with
    reclaim activity
        -> killer="systemd-oomd", pid=None, cgroup="/user.slice/.../vte-spawn-1.scope"
    kernel: oomd kill: 67.66 20.44 6.63 system.slice/foo.service 2147483648
    ruleset:[low swap] detectorgroup:[swap] killer:kill_by_swap_usage v2
        -> killer="oomd", cgroup="/system.slice/foo.service"
    systemd[1]: foo.service: A process of this unit has been killed by the OOM killer.
        -> killer="systemd", kind="notice", cgroup="foo.service" (the unit)

``kind="notice"`` marks a record that is not a kill of its own: systemd's unit notes (about a
kernel or systemd-oomd kill) and the per-process lines of a cgroup kill (oomd's ``Killed N:``,
systemd-oomd's debug ``oomd attempting to kill``). Renderers list only ``kind="kill"``.

A line counts when its syslog tag names the daemon, or when it has no tag and its wording is
unmistakable. Lines of other programs that merely repeat kill text (node-problem-detector,
kubelet, containerd, nohang's ``kmsg:`` echo) are never read as kills.
"""

from __future__ import annotations

from oomsleuth.model import LogLine, UserspaceKill, Warning_, Where
from oomsleuth.parsers.userspace_lines import Earlyoom, clean, parse_systemd_note
from oomsleuth.parsers.userspace_nohang import Nohang
from oomsleuth.parsers.userspace_oomd import Oomd
from oomsleuth.parsers.userspace_systemd_oomd import SystemdOomd

# A prefilter on raw lines (syslog prefix included): each daemon's tag ("earlyoom", "oomd" also
# in "systemd-oomd" and "oomd kill:", "nohang") and the words of its untagged wordings. Python's
# re scans an alternation fastest when every branch starts with a literal and few start with a
# common letter, so branches are factored by first character and anchored on rare ones.
KEYWORDS: str = (
    r"yoom|o(?:omd|hang|rrective)|O(?:OM killer|omKiller)|'oom-kill'|S(?:IG|wap Usage)"
    r"|\] detectorgroup|V(?:mRSS|m, MiB|ictim)|victim|Kill(?:ed /|Plugin)"
    r"|M(?:arked /|emAvailable|emory (?:Min|Low|Pressure))|C(?:onsidered \d|urrent Memory)"
    r"|P(?:ID|id|ath|gscan|ressure):|Name:|UID:|Badness:|TRIGGERED|_v2:"
)

_OOMD_TAGS = frozenset({"oomd", "fb-oomd"})


class UserspaceParser:
    """Feed it lines in log order; it returns kills as soon as each is complete."""

    def __init__(self) -> None:
        self._earlyoom = Earlyoom()
        self._oomd = Oomd()
        self._nohang = Nohang()
        self._systemd_oomd = SystemdOomd()
        self.warnings: list[Warning_] = []

    def feed(self, line: LogLine) -> list[UserspaceKill]:
        text = line.text
        if (
            line.ident == "kernel"
            and "oomd" not in text
            and "\x1b" not in text
            and "#033[" not in text
            and not self._systemd_oomd.holds_kill
            and not line.boot_marker
        ):
            return []  # what _feed does with such a line: nothing (no kill pending to hand out)
        try:
            return self._feed(line)
        except Exception as exc:  # a parser never raises on odd input
            where = Where(line.source, line.lineno)
            self.warnings.append(Warning_(where, "userspace-parse-error", repr(exc)[:200]))
            return []

    def passes_over(self, texts: list[str], start: int, end: int) -> int:
        """Where :meth:`feed` would stop passing over the kernel lines ``texts[start:end]``
        (none a boot marker), as it passes over the lines tested first there: the index of
        the first line it would read, or ``end``."""
        if self._systemd_oomd.holds_kill:
            return start
        joined = "\n".join(texts[start:end])  # in C first: most runs hold none of them
        if "oomd" not in joined and "\x1b" not in joined and "#033[" not in joined:
            return end
        for i in range(start, end):
            text = texts[i]
            if "oomd" in text or "\x1b" in text or "#033[" in text:
                return i
        return end

    def close(self) -> list[UserspaceKill]:
        kills = self._systemd_oomd.flush() + self._nohang.close()
        self._collect()
        return kills

    def _collect(self) -> None:
        self.warnings.extend(self._nohang.warnings)
        self._nohang.warnings.clear()

    def _feed(self, line: LogLine) -> list[UserspaceKill]:
        out: list[UserspaceKill] = []
        if line.boot_marker:
            out += self._nohang.close_block(line)
        text = clean(line.text)
        ident = line.ident.lower() if line.ident else None
        if not self._systemd_oomd.continues(text, ident):
            out += self._systemd_oomd.flush()
        found = self._dispatch(line, text, ident)
        self._collect()
        return out + (found or [])

    def _dispatch(self, line: LogLine, text: str, ident: str | None) -> list[UserspaceKill] | None:
        if not text:
            return None
        if ident is None:
            return (
                self._nohang.parse(line, text, tagged=False)
                or self._earlyoom.parse(line, text, tagged=False)
                or self._systemd_oomd.parse(line, text)
                or parse_systemd_note(line, text)
                or self._oomd.parse(line, text, tagged=False)
            )
        if ident == "earlyoom":
            return self._earlyoom.parse(line, text, tagged=True)
        if ident == "systemd-oomd":
            return self._systemd_oomd.parse(line, text)
        if ident == "systemd":
            return parse_systemd_note(line, text)
        if ident.startswith("nohang"):
            return self._nohang.parse(line, text, tagged=True)
        if ident in _OOMD_TAGS:
            return self._oomd.parse(line, text, tagged=True)
        if ident == "kernel" and text.startswith("oomd kill: "):
            return self._oomd.parse(line, text, tagged=False)  # oomd writes it to /dev/kmsg
        return None  # another program's line, whatever it quotes
