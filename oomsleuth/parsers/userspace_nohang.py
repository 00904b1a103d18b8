"""nohang's multi-line corrective-action blocks (hakavlad/nohang, 2018 to now).

nohang prints one message per action with embedded newlines; journald stores each as its own
line. A block names the victim (``Victim status``, ``Process with highest badness``, ``Victim
is``...) and then the action (``Sending SIGTERM to the victim``). One kill is produced per block
whose signal was sent; a block that named a victim but was cut off leaves a warning. Soft
actions (running a command) and aborted blocks produce nothing.
"""

from __future__ import annotations

from oomsleuth.model import LogLine, UserspaceKill, Warning_, Where
from oomsleuth.model.patterns import lazy_compile
from oomsleuth.model.record import record
from oomsleuth.parsers.userspace_lines import make_kill, mib_to_kb, to_int

_HARD_STARTS = ("TRIGGERED", "Low memory; corrective action required", ">>===", ">-----")
_STARTS = (
    *_HARD_STARTS,
    "Memory status that requires corrective actions",
    "SIGKILL threshold exeeded",  # sic, 2019
    "SIGTERM threshold exeeded",
    "Hard threshold exeeded",
    "Soft threshold exeeded",
    "Victim status (found in",
    "Victim information (found in",
    "Found the victim with highest badness",
    "Found a victim with highest badness",
    "Found the process with highest badness",
    "Process with highest badness",
    "TOP printed in",
    "Worst process",
    "Finding the process with the highest badness",
    "Try to implement a corrective action",
    "New victim is cached victim",
    "Preventing OOM:",
    "Victim is ",
)
_ENDS = ("<<===", "<-----")
_ABORTS = (
    "nothing to do",
    "died in the search process",
    "Victim died:",
    "Thresholds is not exceeded",
    "During the search for the victim",
    "lifetime is not exceeded",
    "exit_time is not exceeded",
    "IS NOT EXCEEDED",
    "the command:",  # a soft action runs a command instead of sending a signal
)
_FAILS = ("died before corrective action", "Cannot send a signal", "no such process")

_ACTION = lazy_compile(
    r"(?:Sending|Send) (?P<sig>SIG[A-Z0-9]+) to the victim(?:; (?P<result>.*))?"
    r"|Preventing OOM: trying to send the (?P<sig2>SIG[A-Z0-9]+) signal to (?P<comm>.*),"
)
_PID = lazy_compile(r"(?:PID|Pid):\s*(?P<pid>\d+)(?P<rest>.*)")
_PID_NAME = lazy_compile(
    r", [Nn]ame: (?P<comm>.*?)(?:, state: .*?EUID: (?P<uid>\d+).*|, badness: .*)?"
)
_ANYWHERE = lazy_compile(r"PID: (?P<pid>\d+), Name: (?P<comm>.*), badness: (?P<score>-?\d+)")
_VICTIM_IS = lazy_compile(
    r"Victim is (?P<comm>.*), pid: (?P<pid>\d+), badness: (?P<score>-?\d+), .*"
)
_CACHED = lazy_compile(r"New victim is cached victim (?P<pid>\d+) \((?P<comm>.*)\)")
_NAME = lazy_compile(r"Name:\s*(?P<comm>.*)")
_UID = lazy_compile(r"E?UID:\s*(?P<uid>\d+)|Uid:\s*(?P<uid2>\d+)")
_BADNESS = lazy_compile(r"[Bb]adness:\s*(?P<score>-?\d+)")
_RSS = lazy_compile(
    r"VmRSS:\s*(?P<rss>\d+(?:\.\d+)?)\s*MiB|Vm, MiB:.*?RSS:\s*(?P<rss2>\d+(?:\.\d+)?)"
)
_CGROUP = lazy_compile(r"(?:cgroup|CGroup)_v2:\s*(?P<cg>\S.*)")
_SKIP = ("Cmdline:", "cmdline:", "exe realpath:", "cwd realpath:", "Realpath:", "Cwd:", "ancestry:")
_OWN_LOG = lazy_compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: ")  # nohang's separate_log
_REASON = ("MemAvailable", "MemUsedZram", "SwapFree", "Current PSI", "PSI ")


@record(slots=True)
class _Block:
    start: LogLine
    pid: int | None = None
    comm: str | None = None
    uid: int | None = None
    rss_kb: int | None = None
    score: int | None = None
    cgroup: str | None = None
    reason: str | None = None
    signal: str | None = None
    sent: LogLine | None = None  # the line that sent the signal


class Nohang:
    def __init__(self) -> None:
        self._blocks: dict[tuple[str, str | None, int | None], _Block] = {}
        self.warnings: list[Warning_] = []

    def parse(self, line: LogLine, text: str, tagged: bool) -> list[UserspaceKill] | None:
        """``None`` when an untagged line is no part of a nohang block."""
        if not tagged and text[:1].isdigit() and (own := _OWN_LOG.match(text)):
            text = text[own.end() :]
        key = (line.source, line.host, line.ident_pid)
        block = self._blocks.get(key)
        if text.startswith(("kmsg:", "debug kmsg:")):
            return []  # nohang echoing the kernel's own OOM lines: not its kill
        out: list[UserspaceKill] = []
        if block is not None:
            if block.sent is not None and any(f in text for f in _FAILS):
                del self._blocks[key]
                return []
            if text.startswith(_ENDS) or any(a in text for a in _ABORTS):
                return self._finish(key, warn=False)
            if text.startswith(_HARD_STARTS):
                out += self._finish(key, warn=True)
                block = None
        if block is None:
            if not text.startswith(_STARTS):
                return out if tagged or out else None
            block = self._blocks[key] = _Block(start=line)
        self._read(block, text)
        action = _ACTION.fullmatch(text)
        if action:
            block.signal = action["sig"] or action["sig2"]
            block.comm = action["comm"] or block.comm
            block.sent = line
            result = action["result"]
            if result is not None and any(f in result for f in _FAILS):
                del self._blocks[key]
                return out
            if result is None:
                return out  # wait: the next line says whether the signal went out
        if block.sent is not None and block.pid is not None:
            out += self._finish(key, warn=False)
        return out

    def close_block(self, line: LogLine) -> list[UserspaceKill]:
        """A boot boundary: whatever was open in this input ends here."""
        out: list[UserspaceKill] = []
        for key in [k for k in self._blocks if k[0] == line.source]:
            out += self._finish(key, warn=True)
        return out

    def close(self) -> list[UserspaceKill]:
        out: list[UserspaceKill] = []
        for key in list(self._blocks):
            out += self._finish(key, warn=True)
        return out

    def _finish(
        self, key: tuple[str, str | None, int | None], *, warn: bool
    ) -> list[UserspaceKill]:
        """End the block: its kill if the signal went out, else a warning when ``warn``."""
        block = self._blocks.pop(key, None)
        if block is None or block.pid is None:
            return []
        if block.sent is None:
            if not warn:
                return []
            where = Where(block.start.source, block.start.lineno)
            name = f" ({block.comm})" if block.comm else ""
            message = f"nohang named victim pid {block.pid}{name} but no signal followed"
            self.warnings.append(Warning_(where, "nohang-block-incomplete", message))
            return []
        kill = make_kill(
            block.sent,
            "nohang",
            pid=block.pid,
            comm=block.comm,
            cgroup=block.cgroup,
            uid=block.uid,
            signal=block.signal,
            rss_kb=block.rss_kb,
            score=block.score,
            reason=block.reason,
        )
        return [kill]

    @staticmethod
    def _read(block: _Block, text: str) -> None:
        """Take whatever victim fields this line of the block carries."""
        if text.startswith(_SKIP):
            return  # free text (command lines, paths) that may hold anything
        if text.startswith(_REASON) and block.reason is None:
            block.reason = text
        match = _PID.match(text)
        if match:
            block.pid = to_int(match["pid"])
            named = _PID_NAME.fullmatch(match["rest"])
            if named:
                block.comm = named["comm"]
                block.uid = to_int(named["uid"]) if named["uid"] else block.uid
        elif match := (
            _VICTIM_IS.fullmatch(text) or _CACHED.fullmatch(text) or _ANYWHERE.search(text)
        ):
            block.pid, block.comm = to_int(match["pid"]), match["comm"]
        elif match := _NAME.match(text):
            block.comm = match["comm"]
        elif match := _UID.match(text):
            block.uid = to_int(match["uid"] or match["uid2"])
        elif match := _CGROUP.match(text):
            block.cgroup = match["cg"]
        if match := _BADNESS.search(text):
            block.score = to_int(match["score"])
        if match := _RSS.search(text):
            block.rss_kb = mib_to_kb(match["rss"] or match["rss2"])
