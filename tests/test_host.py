"""The host as evidence, on a host tree made in a temporary folder (the live host itself is
tests/test_live_host.py): which logs are read and in what order, which history files are dated
into the window, what the facts say, what the findings make of them, and what cannot be read.
"""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.correlate import correlate
from oomsleuth.errors import InputError, UsageError
from oomsleuth.load.host import host_evidence, parse_since
from oomsleuth.load.host_facts import read_cgroups, read_facts
from oomsleuth.load.host_history import discover, meets

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real" / "memcg-adj.dmesg.txt"
UTC = timezone.utc


def _tree(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp


def _quiet(_: str) -> None:
    pass


def test_no_kernel_log_on_a_host_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run as root, or give a log file"):
        host_evidence(tz=UTC, warn=_quiet, root=tmp_path)


def test_syslog_files_oldest_first_then_this_boots_ring_buffer(tmp_path: Path) -> None:
    log = tmp_path / "var" / "log"
    log.mkdir(parents=True)
    line = REAL.read_text()
    (log / "syslog").write_text(line)
    (log / "syslog.1").write_text(line)
    with gzip.open(log / "syslog.2.gz", "wt") as f:
        f.write(line)
    (log / "kern.log").write_text(line)  # the kernel's part of syslog: not read twice
    (log / "syslog-ng.conf.bak").write_text("not a log")
    warned: list[str] = []
    evidence = host_evidence(tz=UTC, warn=warned.append, root=tmp_path)
    names = [Path(i.name).name for i in evidence.logs]
    assert names == ["syslog.2.gz", "syslog.1", "syslog"]  # no /dev/kmsg in this tree
    assert warned == []  # a missing ring buffer beside syslog files is not a problem


def test_daily_history_is_dated_and_only_the_window_is_read(tmp_path: Path) -> None:
    sa = tmp_path / "var" / "log" / "sysstat"
    atop = tmp_path / "var" / "log" / "atop"
    sa.mkdir(parents=True)
    atop.mkdir(parents=True)
    day = datetime(2026, 12, 5, 23, 59, tzinfo=UTC)
    for n, when in (("sa04", day - timedelta(days=1)), ("sa05", day)):
        (sa / n).write_bytes(b"x")
        os.utime(sa / n, (when.timestamp(), when.timestamp()))
    (atop / "atop_20261205").write_bytes(b"x")
    (atop / "atop_20261203").write_bytes(b"x")
    (tmp_path / "var" / "log" / "oomsleuth.samples").write_text("x")
    dated = discover(tmp_path, UTC)
    kill = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    window = [(kill - timedelta(minutes=30), kill + timedelta(minutes=5))]
    chosen = sorted(Path(d[0].name).name for d in dated if meets(d, window))
    assert chosen == ["atop_20261205", "oomsleuth.samples", "sa05"]


def test_since_reads_like_journalctl() -> None:
    now = datetime.now(UTC)
    assert abs((now - parse_since("-2h", UTC)) - timedelta(hours=2)) < timedelta(seconds=5)
    assert abs((now - parse_since("3d ago", UTC)) - timedelta(days=3)) < timedelta(seconds=5)
    assert parse_since("2026-12-01", UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since("@1796523093", UTC).year == 2026
    assert parse_since("today", UTC).hour == 0
    with pytest.raises(UsageError, match="--since"):
        parse_since("last tuesday", UTC)


def test_since_and_boot_need_the_host() -> None:
    with pytest.raises(UsageError, match="give no path"):
        oomsleuth.analyze([REAL], since="-2h")


def _host_tree(tmp: Path, **sysctls: str) -> Path:
    """A host tree whose /proc and /sys files are this machine's, with sysctls overridden."""
    files = {f"proc/sys/vm/{k}": f"{v}\n" for k, v in sysctls.items()}
    files["proc/stat"] = "cpu  1 2 3\nbtime 1796523093\n"
    files["proc/swaps"] = "Filename\tType\tSize\tUsed\tPriority\n"
    tree = _tree(tmp, files)
    for name in ("meminfo",):
        shutil.copy(f"/proc/{name}", tree / "proc" / name)
    return tree


def test_facts_and_what_the_sysctls_did(tmp_path: Path) -> None:
    tree = _host_tree(tmp_path, overcommit_memory="1", oom_dump_tasks="1", panic_on_oom="0")
    facts = read_facts(tree, _quiet)
    assert facts.sysctl("vm.overcommit_memory") == "1"
    assert facts.boot_time == datetime.fromtimestamp(1796523093, UTC)
    assert facts.swaps == () and facts.meminfo_kb
    report = oomsleuth.analyze([REAL], tz="UTC", on_warning=_quiet)
    found = correlate(report, facts=(facts,))
    for incident in found.incidents:
        settings = {f.setting: f for f in incident.findings}
        assert "always" in settings["vm.overcommit_memory"].text
        assert settings["swap"].value == "off"
        assert "vm.panic_on_oom" not in settings  # the default explains nothing
        assert str(tree) in settings["swap"].read_from
    assert found.to_dict()["host_facts"][0]["sysctls"]["vm.overcommit_memory"] == "1"


def test_cgroup_v2_settings_of_the_cgroup_that_hit_its_limit(tmp_path: Path) -> None:
    report = oomsleuth.analyze([REAL], tz="UTC", on_warning=_quiet)
    path = report.reports[0].oom_memcg
    assert path is not None
    cg = f"sys/fs/cgroup{path}"
    tree = _tree(
        tmp_path,
        {
            "sys/fs/cgroup/cgroup.controllers": "cpu io memory pids\n",
            f"{cg}/memory.max": "67108864\n",
            f"{cg}/memory.high": "max\n",
            f"{cg}/memory.oom.group": "1\n",
            f"{cg}/memory.events": "low 0\nhigh 0\nmax 312\noom 4\noom_kill 4\n",
        },
    )
    facts = read_facts(tree, _quiet)
    assert facts.cgroup_version == 2
    [state] = read_cgroups(tree, [path, "/gone"])
    assert state.get("memory.max") == "67108864"
    facts = type(facts)(**{**_fields(facts), "cgroups": (state,)})
    [first, *_] = correlate(report, facts=(facts,)).incidents
    said = {f.setting: f.text for f in first.findings}
    assert said["memory.high"].startswith("memory.high is unset on the cgroup that hit")
    assert "kills all of its processes" in said["memory.oom.group"]
    assert (
        "hit 312 times" in said["memory.events"]
        and "OOM killer ran 4 times" in said["memory.events"]
    )


def _fields(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}  # type: ignore[attr-defined]
