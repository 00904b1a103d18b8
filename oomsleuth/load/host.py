"""This machine as evidence: ``oomsleuth analyze`` with no path.

Kernel and killer logs: the journal (every boot it keeps, streamed from ``journalctl -o
export``), else the syslog files in /var/log (``syslog*``, else ``messages*``, else
``kern.log*``, rotations oldest first, compressed or not), else this boot's /dev/kmsg. The
history the tools keep where they keep it (sysstat, atop, the oomsleuth sampler), dated so that
only the files around the kills are read. The host's facts (:mod:`oomsleuth.load.host_facts`).
What cannot be read (not root, ``kernel.dmesg_restrict``) is a warning naming the fix.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO

from oomsleuth.errors import InputError, UsageError
from oomsleuth.load import host_history
from oomsleuth.load.evidence import Evidence
from oomsleuth.load.files import Input
from oomsleuth.load.host_facts import read_cgroups, read_facts
from oomsleuth.load.kmsg import open_kmsg
from oomsleuth.load.paths import age_key
from oomsleuth.model.patterns import lazy_compile

Say = Callable[[str], None]
# the journal's kernel records, and the userspace killers' and systemd's own lines
JOURNAL_MATCHES = (
    "_TRANSPORT=kernel",
    "+",
    "SYSLOG_IDENTIFIER=earlyoom",
    "SYSLOG_IDENTIFIER=systemd-oomd",
    "SYSLOG_IDENTIFIER=nohang",
    "SYSLOG_IDENTIFIER=oomd",
    "SYSLOG_IDENTIFIER=systemd",
)
_FAMILIES = ("syslog", "messages", "kern.log")
_ROTATION = lazy_compile(r"(?:\.\d+|-\d{8}(?:\d{2})?)?(?:\.(?:gz|xz|bz2|zst))?")
JOURNAL = "journal"  # the name of the journal's export stream among the inputs


def live_boot_time(proc_stat: Path = Path("/proc/stat")) -> datetime | None:
    """This machine's boot time (``btime`` in /proc/stat), for ``--boot-time now``; None when
    it cannot be read."""
    from oomsleuth.load.facts import btime

    try:
        return btime(proc_stat.read_text().splitlines())
    except OSError:
        return None


def host_evidence(
    *,
    since: str | datetime | None = None,
    boots: str | None = None,
    tz: tzinfo,
    warn: Say,
    info: Say | None = None,
    root: Path = Path("/"),
) -> Evidence:
    """This host's evidence. Raises InputError when no kernel log at all can be read."""
    tell = info or (lambda _: None)
    start = parse_since(since, tz) if since is not None else None
    evidence = Evidence(facts=[read_facts(root, warn)])
    journal = _journal(start, boots, warn) if root == Path("/") else None
    logs = None
    if journal is not None:
        logs, evidence.commands[JOURNAL] = journal
    else:
        if boots not in (None, "0", "all"):
            warn(f"--boot {boots}: only the journal keeps earlier boots; reading this boot")
        files = _log_files(root)  # with this boot's ring buffer: syslog may lag or miss it
        logs = files + _kmsg(root, warn if not files else lambda _: None)
    if not logs:
        raise InputError(
            "no kernel log could be read on this host (no journal, no syslog file in "
            "/var/log, /dev/kmsg unreadable): run as root, or give a log file"
        )
    evidence.logs = logs
    evidence.dated_history = host_history.discover(root, tz)
    evidence.since = start
    evidence.read_cgroups = lambda paths: read_cgroups(root, paths)
    for item in logs:
        tell(f"host log {item.name}")
    return evidence


def parse_since(text: str | datetime, tz: tzinfo) -> datetime:
    """``--since``: ISO 8601 (naive = ``tz``), ``today``, ``yesterday``, ``-2h``/``-30m``/
    ``-7d``, ``2h ago`` or ``@EPOCH``. Raises UsageError."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=tz)
    s = text.strip().lower()
    now = datetime.now(tz)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if s in ("today", "yesterday"):
        return midnight - timedelta(days=1 if s == "yesterday" else 0)
    relative = s.removesuffix(" ago").removeprefix("-").strip()
    unit = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
    for suffix, seconds in sorted(unit.items(), key=lambda kv: -len(kv[0])):
        number = relative.removesuffix(suffix).strip()
        if relative.endswith(suffix) and number.isdigit() and (s != relative):
            return now - timedelta(seconds=int(number) * seconds)
    try:
        if s.startswith("@"):
            return datetime.fromtimestamp(float(s[1:]), timezone.utc)
        when = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"--since: cannot read {text!r} (give 2026-12-01, '2026-12-01 10:00', today, "
            "yesterday, -2h, '3d ago' or @EPOCH)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def _journal(
    start: datetime | None, boots: str | None, warn: Say
) -> tuple[list[Input], str] | None:
    """The journal as one export stream and its command, or None when there is no journal."""
    journalctl = shutil.which("journalctl")
    if journalctl is None:
        return None
    argv = [journalctl, "--no-pager", "-q"]
    argv += ["-b", boots] if boots not in (None, "all") else []
    argv += ["--since", f"@{start.timestamp():.0f}"] if start else []
    probe = subprocess.run(
        [*argv, "-n", "1", "-o", "cat"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0 or not probe.stdout.strip():
        if "permission" in probe.stderr.lower() or "not seeing messages" in probe.stderr:
            warn(
                "cannot read the system journal: run as root, or add yourself to the "
                "systemd-journal group (usermod -aG systemd-journal USER)"
            )
        return None
    export = [*argv, "-o", "export", *JOURNAL_MATCHES]
    return [Input(JOURNAL, None, opener=lambda: _command(export))], " ".join(export)


@contextmanager
def _command(argv: list[str]) -> Iterator[IO[bytes]]:
    """A running command's standard output; the command is stopped when the reader is done."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def _log_files(root: Path) -> list[Input]:
    """The first syslog family /var/log has, rotations oldest first."""
    folder = root / "var" / "log"
    for family in _FAMILIES:
        names = [p.name for p in folder.glob(f"{family}*") if p.is_file()]
        names = [n for n in names if _ROTATION.fullmatch(n[len(family) :])]
        readable = [n for n in names if _readable(folder / n)]
        if readable:
            return [Input(str(folder / n), folder / n) for n in sorted(readable, key=age_key)]
    return []


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False


def _kmsg(root: Path, warn: Say) -> list[Input]:
    """This boot's /dev/kmsg, when it can be opened."""
    path = str(root / "dev" / "kmsg")
    try:
        with open_kmsg(path):
            pass
    except OSError as exc:
        fix = "run as root, or sysctl -w kernel.dmesg_restrict=0"
        warn(f"cannot read {path}: {exc.strerror or exc} ({fix})")
        return []
    return [Input(path, None, opener=lambda: open_kmsg(path))]
