"""One-line wordings of earlyoom and systemd's unit notes, and shared helpers.

Each ``parse_*`` function takes a :class:`LogLine` and its cleaned message text and returns
``None`` when the line is not its wording, ``[]`` when it is but records nothing (a status line,
a dry run), or the kills it records. Wordings were read from each project's source history;
see ``fixtures/userspace/README.md``.
"""

from __future__ import annotations

from oomsleuth.model import LogLine, Stamp, UserspaceKill, Where
from oomsleuth.model.patterns import lazy_compile

_SIGNALS = {"9": "SIGKILL", "15": "SIGTERM"}
_ANSI = lazy_compile(r"(?:\x1b|#033)\[[0-9;]*m")
_MAX_DIGITS = 18


def clean(text: str) -> str:
    """Strip terminal colour codes (raw or as rsyslog's ``#033``) and outer whitespace."""
    if "\x1b" in text or "#033[" in text:
        text = _ANSI.sub("", text)
    return text.strip()


def to_int(digits: str | None) -> int | None:
    """An int from a regex group, or None when absent or absurdly long (never raises)."""
    if not digits or len(digits.lstrip("-")) > _MAX_DIGITS:
        return None
    try:
        return int(digits)
    except ValueError:
        return None


def mib_to_kb(number: str | None) -> int | None:
    """``"4962"`` or ``"1200.5"`` MiB -> kB."""
    if not number or len(number) > _MAX_DIGITS:
        return None
    try:
        return round(float(number) * 1024)
    except ValueError:
        return None


def signal_name(sig: str | None) -> str | None:
    if not sig or sig == "?":
        return None
    return _SIGNALS.get(sig, sig if sig.startswith("SIG") else f"signal {sig}")


def make_kill(
    line: LogLine,
    killer: str,
    *,
    kind: str = "kill",
    pid: int | None = None,
    comm: str | None = None,
    cgroup: str | None = None,
    uid: int | None = None,
    signal: str | None = None,
    rss_kb: int | None = None,
    score: int | None = None,
    reason: str | None = None,
) -> UserspaceKill:
    stamp = Stamp(uptime_s=line.uptime_s, wall=line.wall, host=line.host, boot_id=line.boot_id)
    return UserspaceKill(
        killer=killer,
        where=Where(line.source, line.lineno),
        stamp=stamp,
        pid=pid,
        comm=comm,
        cgroup=cgroup,
        uid=uid,
        signal=signal,
        rss_kb=rss_kb,
        score=score,
        reason=reason,
        kind=kind,
        raw=line.text,
        killer_pid=line.ident_pid,
    )


# --- earlyoom (rfjakob/earlyoom kill.c) ----------------------------------------------------
_EO_SENDING = lazy_compile(  # v1.3+; uid since v1.4; cmdline v1.8; oom_score v1.8; adj v1.9
    r"sending (?P<sig>SIG[A-Z0-9]+|\d+|\?|0 \(no-op signal\)) to process (?P<pid>\d+)"
    r'(?: uid (?P<uid>\d+))? "(?P<comm>.*?)": (?:oom_score|badness) (?P<score>-?\d+), '
    r'(?:oom_score_adj -?\d+, )?VmRSS (?P<rss>\d+) MiB(?:, cmdline "(?P<cmdline>.*)")?'
)
_EO_OLD = (  # v1.2, v1.1, v1.3-rc1
    lazy_compile(
        r"Killing process '(?P<comm>.*)' with signal (?P<sig>\d+), pid: (?P<pid>\d+), "
        r"badness: (?P<score>-?\d+), VmRSS: (?P<rss>\d+) MiB"
    ),
    lazy_compile(
        r"Killing process: (?P<comm>.*), pid: (?P<pid>\d+), badness: (?P<score>-?\d+), "
        r"VmRSS: (?P<rss>\d+) MiB"
    ),
    lazy_compile(
        r'killing process (?P<pid>\d+) "(?P<comm>.*)" with signal (?P<sig>\d+): '
        r"badness (?P<score>-?\d+), VmRSS (?P<rss>\d+) MiB"
    ),
)
_EO_ANCIENT = lazy_compile(r"Killing process (?P<pid>\d+) (?P<comm>\S.*)")  # v0.x: tag needed
_EO_REASON = lazy_compile(r"(?:[Ll]ow [Mm]emory|Out of memory)! .*")
# earlyoom --kernel-oom (v1.9+) and -k (v0.x-v1.1): it writes "f" to /proc/sysrq-trigger and the
# kernel's OOM killer picks the victim; the report that follows has order=-1
_EO_KERNEL = lazy_compile(
    r"(?:trigger_kernel_oom: )?successfully triggered kernel OOM killer|Invoking oom killer: done"
)


class Earlyoom:
    """earlyoom's kill lines; the "low memory!" line before one becomes its reason."""

    def __init__(self) -> None:
        self._reason: dict[tuple[str, str | None, int | None], str] = {}
        self._dry: set[tuple[str, str | None, int | None]] = set()

    def parse(self, line: LogLine, text: str, tagged: bool) -> list[UserspaceKill] | None:
        key = (line.source, line.host, line.ident_pid)
        match = _EO_SENDING.fullmatch(text)
        if match is None:
            for pattern in _EO_OLD:
                match = pattern.fullmatch(text)
                if match:
                    break
        if match is None and tagged:
            match = _EO_ANCIENT.fullmatch(text)
            if match is None:
                return self._status(line, key, text)
        if match is None:
            return None
        groups = match.groupdict()
        reason = self._reason.pop(key, None)
        if groups.get("sig") == "0 (no-op signal)" or key in self._dry:
            return []  # startup self-test or --dryrun: nothing was killed
        return [
            make_kill(
                line,
                "earlyoom",
                pid=to_int(groups["pid"]),
                comm=groups["comm"],
                uid=to_int(groups.get("uid")),
                signal=signal_name(groups.get("sig")),
                rss_kb=mib_to_kb(groups.get("rss")),
                score=to_int(groups.get("score")),
                reason=reason,
            )
        ]

    def _status(
        self, line: LogLine, key: tuple[str, str | None, int | None], text: str
    ) -> list[UserspaceKill]:
        if _EO_REASON.fullmatch(text):
            self._reason[key] = text
        elif _EO_KERNEL.fullmatch(text) and key not in self._dry:
            reason = self._reason.pop(key, None)
            return [make_kill(line, "earlyoom", kind="trigger", reason=reason)]
        elif text.startswith("memory situation has recovered"):
            self._reason.pop(key, None)
        elif text.startswith("dryrun mode enabled"):
            self._dry.add(key)
        return []  # "mem avail: ...", "process N did not exit", "escalating to SIGKILL", ...


# --- systemd unit notes (systemd src/core/cgroup.c, service.c) -----------------------------
_SD_NOTE = lazy_compile(
    r"(?P<unit>\S+): (?:(?P<kernel>A process of this unit has been killed by the OOM killer"
    r"|The kernel OOM killer killed some processes in this unit)"
    r"|(?P<result>Failed with result 'oom-kill')"
    r"|systemd-oomd killed (?P<count>\d+|some) process\(es\) in this unit)\.?"
)


def parse_systemd_note(line: LogLine, text: str) -> list[UserspaceKill] | None:
    """A unit note about a kill: ``kind="notice"``, the unit name in ``cgroup``."""
    if not text.endswith(("killer.", "unit.", "'.", "killer", "unit", "'")):
        return None
    match = _SD_NOTE.fullmatch(text)
    if match is None:
        return None
    if match["kernel"]:
        killer, reason = "systemd", "kernel OOM killer killed a process of the unit"
    elif match["result"]:
        killer, reason = "systemd", "unit failed with result 'oom-kill'"
    else:
        killer, reason = "systemd-oomd", f"systemd-oomd killed {match['count']} process(es)"
    return [make_kill(line, killer, kind="notice", cgroup=match["unit"], reason=reason)]
