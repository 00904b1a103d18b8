"""Bundles through the public API: a real sosreport (fixtures/evidence/sosreport, made by
fixtures/capture_evidence.py) as its tarball and as its folder, an ``oomsleuth collect`` bundle
built here from real captures, tarballs and zips of log folders, folders whose logs are found by
content, damaged archives and hostile member names. Nothing is ever extracted to disk."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import tracemalloc
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import oomsleuth
from oomsleuth.errors import InputError
from oomsleuth.model import Kill, Report

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SOS_DIR = FIXTURES / "evidence" / "sosreport"
SOS_FACTS: dict[str, Any] = json.loads((SOS_DIR / "facts.json").read_text())
SOS_NAME = SOS_FACTS["sos_tarball"]["name"].removesuffix(".tar.xz")
SOS_FORMS = {"tarball": SOS_DIR / f"{SOS_NAME}.tar.xz", "folder": SOS_DIR / SOS_NAME}
SOS_KILL = SOS_FACTS["kill"]
INCIDENT = FIXTURES / "incidents" / "sidecar-leak-kills-db"
REAL = FIXTURES / "real"


def analyze(*paths: Path | str, **kw: Any) -> Report:
    kw.setdefault("tz", "UTC")
    kw.setdefault("on_warning", lambda _: None)
    return oomsleuth.analyze([str(p) for p in paths], **kw)


def kills(report: Report) -> list[Kill]:
    return [k for r in report.reports for k in r.kills]


def victims(report: Report) -> list[tuple[int, str]]:
    return sorted((k.victim.pid, k.victim.comm) for k in kills(report))


def sos_kill(report: Report) -> Kill:
    (kill,) = [k for k in kills(report) if k.victim.pid == SOS_KILL["pid"]]
    return kill


# -- a real sosreport ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", sorted(SOS_FORMS))
def test_the_sosreport_gives_its_kill_once_with_its_true_time(form: str) -> None:
    """The kill is in the ring buffer, kern.log, syslog and two journal outputs: one event."""
    report = analyze(SOS_FORMS[form])
    kill = sos_kill(report)
    assert kill.victim.comm == SOS_KILL["comm"]
    stamp = kill.stamp
    assert stamp.wall is not None and stamp.time_uncertainty_s is not None
    truth = datetime.fromisoformat(SOS_KILL["true_kill_time_utc"])
    error = abs((stamp.wall - truth).total_seconds())
    # a log's own time (the kernel's [uptime] under rsyslog's stamp) or btime + uptime
    assert stamp.time_source in ("log", "boot-time"), stamp
    assert error <= stamp.time_uncertainty_s + 1e-3, (error, stamp)  # as test_evidence_time


@pytest.mark.parametrize("form", sorted(SOS_FORMS))
def test_every_event_of_the_sosreport_is_named_after_its_host(form: str) -> None:
    """Ring-buffer and journal lines carry no host name: the report's hostname is theirs."""
    report = analyze(SOS_FORMS[form])
    [facts] = report.host_facts
    assert facts.hostname == "vm"
    stamps = [r.stamp for r in report.reports] + [k.stamp for r in report.reports for k in r.kills]
    assert stamps and {s.host for s in stamps} == {"vm"}


def test_a_log_beside_a_bundle_is_not_named_after_it() -> None:
    """Two inputs: the bundle's host name is not lent to the other one's events."""
    dmesg = FIXTURES / "real" / "memcg-bystander.dmesg.txt"
    report = analyze(SOS_FORMS["tarball"], dmesg)
    mine = [r for r in report.reports if "memcg-bystander" in r.where.source]
    assert mine and all(r.stamp.host is None for r in mine)


def test_btime_of_the_sosreport_places_its_dmesg_alone() -> None:
    """proc/stat's btime (whole seconds) puts the ring buffer's plain stamps on the clock."""
    report = analyze(SOS_FORMS["folder"])
    (facts,) = report.host_facts
    boot = datetime.fromisoformat(SOS_FACTS["boot"]["btime_utc"])
    assert facts.boot_time == boot
    uptime = SOS_KILL["kernel_time_of_killed_line"]["uptime_s"]
    truth = datetime.fromisoformat(SOS_KILL["true_kill_time_utc"])
    assert abs((boot + timedelta(seconds=uptime) - truth).total_seconds()) <= 1.0


@pytest.mark.parametrize("form", sorted(SOS_FORMS))
def test_the_sosreport_history_is_used(form: str) -> None:
    report = analyze(SOS_FORMS[form])
    assert report.history is not None
    formats = {fmt for _, fmt in report.history.sources}
    assert "sar" in formats, report.history.sources
    (incident,) = [i for i in report.incidents if i.victims and i.victims[0].pid == SOS_KILL["pid"]]
    assert incident.history_used


@pytest.mark.parametrize("form", sorted(SOS_FORMS))
def test_the_sosreport_host_facts_are_read(form: str) -> None:
    (facts,) = analyze(SOS_FORMS[form]).host_facts
    folder = SOS_FORMS["folder"]
    sysctl = (folder / "sos_commands/kernel/sysctl_-a").read_text()
    assert f"vm.overcommit_memory = {facts.sysctl('vm.overcommit_memory')}" in sysctl
    assert facts.sysctl("vm.panic_on_oom") == "0"
    assert facts.origin == SOS_NAME
    assert facts.hostname == (folder / "sos_commands/host/hostname").read_text().strip()
    assert facts.boot_id == (folder / "proc/sys/kernel/random/boot_id").read_text().strip()
    assert facts.kernel == SOS_FACTS["host"]["kernel_release"]
    assert facts.collected is not None and facts.collected.utcoffset() == timedelta(0)
    assert dict(facts.meminfo_kb)["MemTotal"] > 0
    assert facts.cgroup_version == 1
    memcg = facts.cgroup(SOS_KILL["memcg"])
    assert memcg is not None and "oom_kill 1" in (memcg.get("memory.oom_control") or "")


def test_the_sosreport_folder_gives_what_its_tarball_gives() -> None:
    tarball, folder = (analyze(SOS_FORMS[f]) for f in ("tarball", "folder"))
    assert [(k.victim.pid, k.stamp.wall) for k in kills(tarball)] == [
        (k.victim.pid, k.stamp.wall) for k in kills(folder)
    ]
    assert tarball.host_facts == folder.host_facts
    assert tarball.history is not None and folder.history is not None
    assert [f for _, f in tarball.history.sources] == [f for _, f in folder.history.sources]


def test_the_sosreport_reads_only_its_table() -> None:
    infos: list[str] = []
    report = analyze(SOS_FORMS["tarball"], on_info=infos.append)
    names = [s.rpartition(f"{SOS_NAME}/")[2] for s in report.sources]
    assert names == [
        "sos_commands/kernel/dmesg",
        "var/log/kern.log",
        "var/log/syslog",
        "sos_commands/logs/journalctl_--no-pager",
        "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
    ]
    skipped = " ".join(i for i in infos if i.startswith("skipped"))
    for name in ("journalctl_--disk-usage", "ls_-alRh_.var.log", "version.txt"):
        assert name in skipped


# -- an oomsleuth collect bundle ------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _bundle(path: Path) -> dict[str, Any]:
    """An oomsleuth bundle (docs/bundles.md, format 1) of the sidecar-leak-kills-db capture:
    its /dev/kmsg records, its binary sa file and its sampler output, the host's btime."""
    facts = json.loads((INCIDENT / "facts.json").read_text())
    boot = datetime.fromisoformat(facts["host"]["boot_time_utc"])
    memcg = facts["cgroup"]["memcg"]
    top = "oomsleuth-vm-20261125T233300Z"
    sysctl = (SOS_FORMS["folder"] / "sos_commands/kernel/sysctl_-a").read_text()
    manifest = {
        "format": "oomsleuth-bundle",
        "version": 1,
        "oomsleuth": "0.1.0",
        "host": "vm",
        "boot_id": "5b1c0ffe-0000-4000-8000-000000000000",
        "btime": boot.isoformat(),
        "uname": f"Linux vm {facts['host']['kernel_release']} #1 SMP x86_64",
        "timezone": "UTC",
        "collected": "2026-11-25T23:33:00+00:00",
        "since": "2026-11-18T23:33:00+00:00",
        "cgroup_version": 1,
        "redacted": False,
        "max_bytes": 268435456,
        "files": [],
        "left_out": [{"what": "history/atop/atop_20261125", "why": "atop was not running"}],
        "unreadable": [],
    }
    members = {
        "manifest.json": json.dumps(manifest).encode(),
        "logs/kmsg.txt": (INCIDENT / "kern-kmsg.txt").read_bytes(),
        "history/sysstat/sa25": (INCIDENT / "sa.bin").read_bytes(),
        "history/oomsleuth.samples": (INCIDENT / "psi-cgroup.txt").read_bytes(),
        "host/proc-stat-btime": f"btime {int(boot.timestamp())}\n".encode(),
        "host/hostname": b"vm\n",
        "host/uname-r": f"{facts['host']['kernel_release']}\n".encode(),
        "host/sysctl.txt": "".join(ln + "\n" for ln in sysctl.splitlines() if "vm." in ln).encode(),
        f"cgroups{memcg}/memory.limit_in_bytes": f"{facts['cgroup']['limit_bytes']}\n".encode(),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            _add(tar, f"{top}/{name}", data)
    return facts


def test_an_oomsleuth_bundle_gives_logs_history_and_facts(tmp_path: Path) -> None:
    path = tmp_path / "oomsleuth-vm-20261125T233300Z.tar.gz"
    facts = _bundle(path)
    report = analyze(path)
    want = facts["truth"]["kills"][0]
    (kill,) = kills(report)
    assert kill.victim.pid == want["victim"]["pid"]
    truth = datetime.fromisoformat(want["kernel_time_utc"])
    assert kill.stamp.wall is not None and kill.stamp.time_uncertainty_s is not None
    assert abs((kill.stamp.wall - truth).total_seconds()) <= kill.stamp.time_uncertainty_s
    assert report.history is not None
    assert {f for _, f in report.history.sources} >= {"psi"}
    (incident,) = report.incidents
    assert incident.history_used
    (host,) = report.host_facts
    assert host.origin == path.name and host.hostname == "vm"
    assert host.sysctl("vm.overcommit_memory") == "0"
    assert host.boot_time == datetime.fromisoformat(facts["host"]["boot_time_utc"])
    memcg = host.cgroup(facts["cgroup"]["memcg"])
    assert memcg is not None and memcg.version == 1
    assert any("atop" in u for u in host.unreadable)


# -- archives and folders of logs -----------------------------------------------------------

ODD = {  # oddly named copies of real captures
    "memcg.dmesg.txt": REAL / "memcg-single.dmesg-iso.txt",
    "node1-kern.out": REAL / "memcg-bystander.dmesg-iso.txt",
    "app.log.txt": REAL / "memcg-adj.kmsg.txt",
}


def _odd_folder(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    for name, source in ODD.items():
        (folder / ("sub" if name == "node1-kern.out" else "") / name).write_bytes(
            source.read_bytes()
        )
    ours = io.StringIO()
    oomsleuth.render(analyze(REAL / "memcg-names.dmesg-iso.txt"), "json", ours)
    (folder / "report.json").write_text(ours.getvalue())  # our own output: skipped
    (folder / "memcg.expect.json").write_text("{}\n")
    (folder / "notes.md").write_text("nothing to see\n")
    (folder / "kernel-monitor.conf").write_text("Killed process 1 (init) total-vm:1kB\n")
    return folder


def _alone() -> list[tuple[int, str]]:
    return victims(analyze(*ODD.values()))


def test_a_folder_finds_oddly_named_logs_by_content(tmp_path: Path) -> None:
    folder = _odd_folder(tmp_path / "logs")
    infos: list[str] = []
    report = analyze(folder, on_info=infos.append)
    assert victims(report) == _alone()
    assert sorted(Path(s).name for s in report.sources) == sorted(ODD)
    skipped = [i for i in infos if i.startswith("skipped")]
    assert any("report.json" in i and "our own output" in i for i in skipped)
    assert any("memcg.expect.json" in i for i in skipped)
    assert any("kernel-monitor.conf" in i and "configuration" in i for i in skipped)


@pytest.mark.parametrize("kind", ["tar.gz", "zip", "tar", "tar.bz2", "tar.xz"])
def test_an_archive_of_a_log_folder(tmp_path: Path, kind: str) -> None:
    folder = _odd_folder(tmp_path / "logs")
    path = tmp_path / f"logs.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(tmp_path).as_posix())
    else:
        mode = "w" if kind == "tar" else f"w:{kind.removeprefix('tar.')}"
        with tarfile.open(path, mode) as t:  # type: ignore[call-overload]
            t.add(folder, arcname="logs")
    report = analyze(path)
    assert victims(report) == _alone()
    assert sorted(s.rpartition("/")[2] for s in report.sources) == sorted(ODD)
    assert all(s.startswith(f"{path}:logs/") for s in report.sources)
    assert set(tmp_path.iterdir()) == {folder, path}  # nothing extracted


def test_a_zstd_tarball(tmp_path: Path) -> None:
    zstd = pytest.importorskip("zstandard")
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as t:
        _add(t, "x/memcg.dmesg.txt", ODD["memcg.dmesg.txt"].read_bytes())
    path = tmp_path / "logs.tar.zst"
    path.write_bytes(zstd.ZstdCompressor().compress(plain.getvalue()))
    assert victims(analyze(path)) == victims(analyze(ODD["memcg.dmesg.txt"]))


def test_a_zstd_tarball_without_zstandard_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "logs.tar.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes `import zstandard` fail
    with pytest.raises(InputError, match=r"pip install 'oomsleuth\[zstd\]'"):
        analyze(path)


def test_a_gzipped_single_log_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "kern.log.1.gz"
    path.write_bytes(gzip.compress(ODD["memcg.dmesg.txt"].read_bytes()))
    report = analyze(path)
    assert report.sources == (str(path),)
    assert victims(report) == victims(analyze(ODD["memcg.dmesg.txt"]))


def test_a_plain_folder_with_history_uses_it(tmp_path: Path) -> None:
    for name in ("kern-dmesg-iso.txt", "atop-P.txt", "pidstat-r.txt"):
        (tmp_path / name).write_bytes((INCIDENT / name).read_bytes())
    report = analyze(tmp_path)
    assert report.history is not None
    assert {f for _, f in report.history.sources} == {"atop", "pidstat"}
    (incident,) = report.incidents
    assert incident.history_used and incident.culprit.comm == "leaky-sidecar"


# -- damage and hostile names ---------------------------------------------------------------


def test_a_truncated_tar_xz_keeps_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "logs.tar.xz"
    with tarfile.open(path, "w:xz") as t:
        _add(t, "logs/memcg.dmesg.txt", ODD["memcg.dmesg.txt"].read_bytes())
        filler = b"".join(os.urandom(48).hex().encode() + b"\n" for _ in range(4000))
        _add(t, "logs/kern.log", filler)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    said: list[str] = []
    report = analyze(path, on_warning=said.append)
    assert victims(report) == victims(analyze(ODD["memcg.dmesg.txt"]))
    assert any("damaged" in s or "breaks after" in s for s in said), said


def test_a_hostile_member_name_is_never_a_path(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "evil.tar.gz"
    name = "../../escaped\x1b]52;c;aGk=\x07\x1b[2J/memcg.dmesg.txt"
    with tarfile.open(path, "w:gz") as t:
        _add(t, name, ODD["memcg.dmesg.txt"].read_bytes())
        _add(t, "/etc/\x1b[31mred.log", b"\x00\x01\x02" * 3000)  # binary, named like a log
    said: list[str] = []
    infos: list[str] = []
    report = analyze(path, on_warning=said.append, on_info=infos.append)
    assert victims(report) == victims(analyze(ODD["memcg.dmesg.txt"]))
    (source,) = report.sources
    assert "\x1b" not in source and "\\x1b" in source and "\x07" not in source
    assert all("\x1b" not in s for s in [*said, *infos])
    assert any("red.log" in s for s in said)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.tar.gz", "work"]


def test_an_archive_member_streams_in_flat_memory(tmp_path: Path) -> None:
    from oomsleuth.load.bundles import bundle_evidence

    line = b"[12345.678901] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/\n"
    path = tmp_path / "big.tar.gz"
    size = 40 * 1024 * 1024
    with tarfile.open(path, "w:gz", compresslevel=1) as t:
        info = tarfile.TarInfo("x/kern.log")
        info.size = size // len(line) * len(line)
        t.addfile(info, io.BytesIO(line * (size // len(line))))
    evidence = bundle_evidence(str(path), warn=lambda _: None, info=lambda _: None)
    assert evidence is not None
    (log,) = evidence.logs
    tracemalloc.start()
    count = sum(1 for _ in log.lines())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == size // len(line)
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes while reading a {size}-byte member"
