"""Tests of oomsleuth.frame: one per framing, the wrap/continuation rules, and the prefilter."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.frame import Framer, frame_lines
from oomsleuth.model import LogLine, has_placeholder_year

DATA = Path(__file__).parent / "data" / "framing"
CORPUS = Path("/work/shared/corpus")
UTC = timezone.utc


def physical(text: str) -> list[str]:
    """Split like a file read: on "\\n" only, keeping the newline."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def frame(text: str) -> list[LogLine]:
    return list(frame_lines(physical(text), source="t"))


def data(name: str) -> list[LogLine]:
    with open(DATA / name, encoding="utf-8") as fh:
        return list(frame_lines(fh, source=name))


def corpus(name: str) -> list[LogLine]:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not available")
    with open(path, encoding="utf-8", errors="replace") as fh:
        return list(frame_lines(fh, source=name))


def by_lineno(lines: list[LogLine]) -> dict[int, LogLine]:
    return {line.lineno: line for line in lines}


# --- one test per framing ---------------------------------------------------------------------


def test_dmesg_capture() -> None:
    lines = data("dmesg-6.18-memcg.txt")
    assert len(lines) == 79
    assert {line.framing for line in lines} == {"dmesg"}
    assert [line.lineno for line in lines] == list(range(1, 80))
    first = lines[0]
    assert first.uptime_s == pytest.approx(70.63381)
    assert first.text.startswith("python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)")
    assert lines[3].text == " <TASK>"  # the kernel's own leading space is kept
    assert lines[-1].text.startswith("Memory cgroup out of memory: Killed process 1671 (python3)")
    assert first.wall is None and first.host is None and first.caller is None


def test_dmesg_caller_id_and_large_uptime() -> None:
    lines = frame(
        "[   49.921978][ T6736] leaker invoked oom-killer: gfp_mask=0x100cca, order=0\n"
        "[  115.887000][    C1] Killed process 1 (x)\n"
        "[38469674.211820] node /opt/www/p cpuset=/ mems_allowed=0-1\n"
    )
    assert [(x.caller, x.text[:6]) for x in lines] == [
        ("T6736", "leaker"),
        ("C1", "Killed"),
        (None, "node /"),
    ]
    assert lines[2].uptime_s == pytest.approx(38469674.21182)


def test_dmesg_caller_id_corpus() -> None:
    lines = corpus("lkml-memcg-v1-5.3-printk-callerid.log")
    assert lines[0].caller == "T6736"
    assert lines[0].text.startswith("leaker invoked oom-killer:")
    assert {x.framing for x in lines} == {"dmesg"}


def test_dmesg_t_capture() -> None:
    lines = data("dmesg-T-6.18-memcg.txt")
    assert {x.framing for x in lines} == {"dmesg-T"}
    assert lines[0].wall == datetime(2026, 11, 25, 22, 28, 8)
    assert lines[0].uptime_s is None
    assert lines[0].text.startswith("python3 invoked oom-killer:")


def test_dmesg_t_other_locale_still_stripped() -> None:
    (line,) = frame("[dim. 19 avril 18:03:30 2026] java invoked oom-killer: gfp_mask=0x201da\n")
    assert line.framing == "dmesg-T"
    assert line.wall is None
    assert line.text == "java invoked oom-killer: gfp_mask=0x201da"


def test_dmesg_iso_capture() -> None:
    lines = data("dmesg-iso-6.18-memcg.txt")
    assert {x.framing for x in lines} == {"dmesg-iso"}
    assert lines[0].wall == datetime(2026, 11, 25, 22, 28, 8, 633810, tzinfo=UTC)
    assert lines[0].text.startswith("python3 invoked oom-killer:")


def test_dmesg_x_facility_level() -> None:
    (line,) = frame("kern  :warn  : [   70.633810] python3 invoked oom-killer: order=0\n")
    assert (line.framing, line.text) == ("dmesg", "python3 invoked oom-killer: order=0")
    assert line.uptime_s == pytest.approx(70.63381)


@pytest.mark.parametrize(
    ("raw", "host", "ident", "pid", "uptime", "text"),
    [
        (
            "Jan  5 15:19:27 kernel: [ 5864.708440] memorymonster invoked oom-killer: order=0",
            None,
            "kernel",
            None,
            5864.70844,
            "memorymonster invoked oom-killer: order=0",
        ),
        (
            "Feb 03 19:57:08 ** kernel: Tasks state (memory values in pages):",
            "**",
            "kernel",
            None,
            None,
            "Tasks state (memory values in pages):",
        ),
        (
            "Mar 27 01:15:36 ip-10-0-1-103.us-west-2.compute.internal kernel: [16846]     0 16846",
            "ip-10-0-1-103.us-west-2.compute.internal",
            "kernel",
            None,
            None,
            "[16846]     0 16846",
        ),
        (
            "Sep  4 00:05:58 other-server kernel[0]: [38469674.211820][ T12] Killed process 9",
            "other-server",
            "kernel",
            0,
            38469674.21182,
            "Killed process 9",
        ),
        (
            "Feb 20 10:59:34 debian earlyoom[10231]: sending SIGTERM to process 7378",
            "debian",
            "earlyoom",
            10231,
            None,
            "sending SIGTERM to process 7378",
        ),
        (
            "Jan  5 15:19:01 CRON[14500]: (root) CMD (touch /var/run/crond.sittercheck)",
            None,
            "CRON",
            14500,
            None,
            "(root) CMD (touch /var/run/crond.sittercheck)",
        ),
        (
            "Nov 30 02:53:56 server01 kernel: Mem-Info:",
            "server01",
            "kernel",
            None,
            None,
            "Mem-Info:",
        ),
    ],
)
def test_syslog(
    raw: str, host: str | None, ident: str, pid: int | None, uptime: float | None, text: str
) -> None:
    (line,) = frame(raw + "\n")
    assert line.framing == "syslog"
    assert (line.host, line.ident, line.ident_pid, line.text) == (host, ident, pid, text)
    assert line.uptime_s == (pytest.approx(uptime) if uptime is not None else None)
    assert line.wall is not None and line.wall.year == 1900 and line.wall.tzinfo is None
    assert has_placeholder_year(line.wall)


def test_syslog_placeholder_year_and_leap_day() -> None:
    lines = frame(
        "Feb 03 19:57:08 ** kernel: a\nFeb 29 00:00:01 h kernel: b\nFeb 31 00:00:01 h x: c\n"
    )
    assert lines[0].wall == datetime(1900, 2, 3, 19, 57, 8)
    assert lines[1].wall == datetime(1904, 2, 29, 0, 0, 1)  # 1900 has no 29 February
    assert has_placeholder_year(lines[1].wall)
    assert lines[2].wall is None and lines[2].text == "c"


def test_syslog_corpus_fields() -> None:
    lines = corpus("oomexporter-rhel7-3.10-syslog-multi.log")
    header = next(x for x in lines if "invoked oom-killer" in x.text)
    assert (header.framing, header.host, header.ident) == ("syslog", "other-server", "kernel")
    assert header.uptime_s == pytest.approx(38469674.21182)
    assert header.text.startswith("node /opt/www/p invoked oom-killer:")


def test_rfc3339_and_rfc5424() -> None:
    lines = frame(
        "2026-11-25T22:30:01.123456+01:00 web-7 kernel: [  115.887000] Out of memory: Killed x\n"
        "<4>1 2026-11-25T22:30:01.123Z web-7 kernel - - - python3 invoked oom-killer: order=0\n"
        '<30>1 2026-11-25T22:30:02Z web-7 earlyoom 10231 - [meta x="1"] low memory\n'
    )
    assert [x.framing for x in lines] == ["rfc3339"] * 3
    first, second, third = lines
    assert first.wall == datetime(2026, 11, 25, 22, 30, 1, 123456, timezone(timedelta(hours=1)))
    assert (first.host, first.ident, first.uptime_s) == ("web-7", "kernel", 115.887)
    assert first.text == "Out of memory: Killed x"
    assert second.wall == datetime(2026, 11, 25, 22, 30, 1, 123000, UTC)
    assert (second.ident, second.text) == ("kernel", "python3 invoked oom-killer: order=0")
    assert (third.ident, third.ident_pid, third.text) == ("earlyoom", 10231, "low memory")


def test_priority_prefix_stripped_everywhere() -> None:
    lines = frame("<6>[  1.500000] usb 1-1: new device\n<4>Killed process 3 (a)\n")
    assert (lines[0].framing, lines[0].uptime_s, lines[0].text) == (
        "dmesg",
        1.5,
        "usb 1-1: new device",
    )
    assert (lines[1].framing, lines[1].text) == ("bare", "Killed process 3 (a)")


def test_rsyslog_escaped_newlines() -> None:
    lines = frame(
        "Nov 25 22:30:01 web-7 kernel: Memory cgroup stats for /x:#012anon 1234#012file 0#012\n"
    )
    assert [x.text for x in lines] == ["Memory cgroup stats for /x:", "anon 1234", "file 0"]
    assert {(x.lineno, x.wall, x.host) for x in lines} == {
        (1, datetime(1900, 11, 25, 22, 30, 1), "web-7")
    }


def test_journal_short_variants() -> None:
    lines = frame(
        "2026-11-25T22:30:01+0000 web-7 kernel: a\n"
        "Nov 25 22:30:01.123456 web-7 kernel: b\n"
        "[  818.234082] web-7 kernel: c\n"
        "[  818.300000] web-7 systemd[1]: d\n"
        "Wed 2026-11-25 22:30:01 UTC web-7 kernel: e\n"
        "Wed 2026-11-25 22:30:01 CET web-7 kernel: f\n"
    )
    assert [x.framing for x in lines] == ["journal-short"] * 6
    assert [x.text for x in lines] == list("abcdef")
    assert {x.host for x in lines} == {"web-7"}
    assert lines[0].wall == datetime(2026, 11, 25, 22, 30, 1, tzinfo=UTC)
    assert lines[1].wall == datetime(1900, 11, 25, 22, 30, 1, 123456)
    assert (lines[2].uptime_s, lines[2].ident) == (818.234082, "kernel")
    assert (lines[3].ident, lines[3].ident_pid) == ("systemd", 1)
    assert lines[4].wall == datetime(2026, 11, 25, 22, 30, 1, tzinfo=UTC)
    assert lines[5].wall == datetime(2026, 11, 25, 22, 30, 1)  # unknown zone name: naive


def test_journal_short_indented_continuations() -> None:
    prefix = "Wed 2026-11-25 22:30:01 UTC web-7 kernel: "
    pad = " " * len(prefix)
    lines = frame(f"{prefix}Memory cgroup stats for /test:\n{pad}anon 1234\n{pad}file 0\n")
    assert [(x.lineno, x.text) for x in lines] == [
        (1, "Memory cgroup stats for /test:"),
        (2, "anon 1234"),
        (3, "file 0"),
    ]
    assert len({(x.wall, x.host, x.ident, x.framing) for x in lines}) == 1


def test_journal_json() -> None:
    lines = data("journal-json-kernel.jsonl")
    assert {x.framing for x in lines} == {"journal-json"}
    first = lines[0]
    assert first.text.startswith("python3 invoked oom-killer:")
    assert first.wall == datetime(2026, 11, 25, 22, 28, 8, 633810, tzinfo=UTC)
    assert first.uptime_s == pytest.approx(70.63381)  # _SOURCE_MONOTONIC_TIMESTAMP preferred
    assert (first.host, first.ident, first.ident_pid) == ("web-7", "kernel", None)
    assert first.boot_id == "6c7c6013a8494b2d8d4fda6be2f6d1d5"
    stats = [x for x in lines if x.lineno == 4]  # one MESSAGE with newlines -> several lines
    assert [x.text for x in stats] == [
        "Memory cgroup stats for /system.slice/oomtest.service:",
        "anon 50397184",
        "file 6811648",
        "kernel 1204224",
    ]
    killed = by_lineno(lines)[5]  # byte-array MESSAGE with an invalid byte
    assert killed.text.startswith("Memory cgroup out of memory: Killed process 1671 (pyth\udcffn3)")
    systemd = by_lineno(lines)[6]
    assert (systemd.ident, systemd.ident_pid) == ("systemd", 1)
    assert systemd.uptime_s == pytest.approx(70.715932)  # __MONOTONIC_TIMESTAMP fallback
    markers = [x for x in lines if x.boot_marker]
    assert [(m.lineno, m.text, m.boot_id) for m in markers] == [
        (7, "", "0d3e2f1a9b8c47d6a5e4f3b2c1d0e9f8")
    ]
    after = lines[lines.index(markers[0]) + 1]
    assert after.text.startswith("Linux version") and after.boot_id == markers[0].boot_id
    assert (by_lineno(lines)[8].ident, by_lineno(lines)[8].ident_pid) == ("earlyoom", 10231)


def export_text(*records: list[tuple[str, str | bytes]]) -> list[str]:
    """Build ``journalctl -o export`` output and split it the way a loader would."""
    out = b""
    for record in records:
        for key, value in record:
            if isinstance(value, bytes):
                out += key.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
            else:
                out += f"{key}={value}\n".encode()
        out += b"\n"
    return physical(out.decode("utf-8", errors="surrogateescape"))


def test_journal_export() -> None:
    common: list[tuple[str, str | bytes]] = [
        ("__CURSOR", "s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7"),
        ("__REALTIME_TIMESTAMP", "1795645688633810"),
        ("__MONOTONIC_TIMESTAMP", "70634990"),
        ("_BOOT_ID", "6c7c6013a8494b2d8d4fda6be2f6d1d5"),
        ("_TRANSPORT", "kernel"),
        ("SYSLOG_IDENTIFIER", "kernel"),
        ("_SOURCE_MONOTONIC_TIMESTAMP", "70633810"),
        ("_HOSTNAME", "web-7"),
    ]
    text = [*common, ("MESSAGE", "python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0")]
    multi = [*common, ("MESSAGE", b"Memory cgroup stats for /x:\nanon 1\nfile 2")]
    # a binary field with newlines inside, and a length whose first byte is "\n" (10)
    tricky = [*common, ("X_BLOB", b"\x00\xff\n\n" * 3), ("MESSAGE", b"a" * 10)]
    lines = list(frame_lines([*export_text(text, multi, tricky), "[  1.000000] after\n"]))
    exported = [x for x in lines if x.framing == "journal-export"]
    assert [x.text for x in exported] == [
        "python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0",
        "Memory cgroup stats for /x:",
        "anon 1",
        "file 2",
        "a" * 10,
    ]
    first = exported[0]
    assert (first.lineno, first.ident, first.host) == (1, "kernel", "web-7")
    assert first.uptime_s == pytest.approx(70.63381)
    assert first.wall == datetime(2026, 11, 25, 22, 28, 8, 633810, tzinfo=UTC)
    assert first.boot_id == "6c7c6013a8494b2d8d4fda6be2f6d1d5"
    assert (lines[-1].framing, lines[-1].text) == ("dmesg", "after")


def test_journal_export_garbage_does_not_crash() -> None:
    raw = ["__CURSOR=s=1\n", "MESSAGE\n", "\uffff\uffff short\n", "MESSAGE=x\n", "\n", "EXTRA\n"]
    lines = list(frame_lines(raw))
    assert all(isinstance(x, LogLine) for x in lines)


def test_kmsg_capture() -> None:
    lines = data("kmsg-6.18-memcg.txt")
    assert {x.framing for x in lines} == {"kmsg"}
    assert lines[0].uptime_s == pytest.approx(70.63381)
    assert lines[0].text.startswith("python3 invoked oom-killer:")
    assert lines[3].text == " <TASK>"


def test_kmsg_escapes_and_dictionary() -> None:
    lines = frame(
        "6,1300,52040146,-,caller=T1671;Memory cgroup stats for /x:\\x0aanon 1234\\x0afile 0\\x0a\n"
        " SUBSYSTEM=memory\n"
        " DEVICE=+memory:x\n"
        "6,1301,52040150,c;rcu: \\x09RCU caf\\xc3\\xa9 \\x5c done\n"
    )
    assert [(x.lineno, x.text) for x in lines] == [
        (1, "Memory cgroup stats for /x:"),
        (1, "anon 1234"),
        (1, "file 0"),
        (4, "rcu: \tRCU café \\ done"),
    ]
    assert lines[0].caller == "T1671" and lines[0].uptime_s == pytest.approx(52.040146)


def test_bare_corpus() -> None:
    lines = corpus("npd-memcg-kill-only-4.x-bare.log")
    assert [(x.framing, x.text[:14]) for x in lines] == [
        ("bare", "Memory cgroup "),
        ("bare", "Killed process"),
    ]


def test_bare_lines_are_never_joined() -> None:
    lines = frame("Killed process 1 (a) total-vm:1kB, anon-\nrss:2kB\n  indented\n")
    assert [x.text for x in lines] == [
        "Killed process 1 (a) total-vm:1kB, anon-",
        "rss:2kB",
        "  indented",
    ]


# --- quoting, indentation, blank lines, banners ----------------------------------------------


def test_mail_quoted_text() -> None:
    lines = frame(
        "> [115879.769795] Killed process 1917 (php-cgi) vsz:467184kB, anon-\n"
        "> rss:101196kB, file-rss:204kB\n"
        ">\n"
        "> > [   33.932281] active_anon:7174 inactive_anon:484737 isolated_anon:0\n"
        "> >                 active_file:0 inactive_file:84 isolated_file:0\n"
        ">> Feb 03 19:57:08 ** kernel: oom_reaper: reaped process 70870 (qemu)\n"
    )
    assert [(x.lineno, x.framing, x.text) for x in lines] == [
        (
            1,
            "dmesg",
            "Killed process 1917 (php-cgi) vsz:467184kB, anon-rss:101196kB, file-rss:204kB",
        ),
        (4, "dmesg", "active_anon:7174 inactive_anon:484737 isolated_anon:0"),
        (5, "dmesg", "active_file:0 inactive_file:84 isolated_file:0"),
        (6, "syslog", "oom_reaper: reaped process 70870 (qemu)"),
    ]
    assert lines[2].uptime_s == pytest.approx(33.932281)


def test_uniformly_indented_paste() -> None:
    lines = frame(
        "  [   33.932272] Mem-Info:\n"
        "  [   33.932281] active_anon:7174 inactive_anon:484737 isolated_anon:0\n"
        "                  active_file:0 inactive_file:84 isolated_file:0\n"
        "  [   33.932289] Killed process 1 (a) total-vm:1kB, \n"
        "  anon-rss:2kB\n"
    )
    assert [(x.lineno, x.text) for x in lines] == [
        (1, "Mem-Info:"),
        (2, "active_anon:7174 inactive_anon:484737 isolated_anon:0"),
        (3, "active_file:0 inactive_file:84 isolated_file:0"),
        (4, "Killed process 1 (a) total-vm:1kB, anon-rss:2kB"),
    ]


def test_uniformly_indented_corpus() -> None:
    lines = corpus("lkml-memcg-v2-6.12-ppc64le-64k-indented.log")
    assert lines[0].framing == "dmesg" and lines[0].uptime_s == pytest.approx(271641.879153)
    assert lines[0].text.startswith("test_zswap invoked oom-killer:")
    assert [x.text for x in lines if x.framing == "bare"] == ["..."]  # elision mark, not a wrap


def test_blank_lines_skipped() -> None:
    lines = corpus("dcosdocs-memcg-mesos-4.x-journalctl-blanklines.log")
    assert [x.lineno for x in lines] == [1, 3, 5, 7, 9, 11, 13, 15]
    assert all(x.text.strip() for x in lines)
    assert frame("\n\n   \n\t\n") == []


def test_journal_banners() -> None:
    lines = frame(
        "-- Logs begin at Mon 2026-11-23 10:00:01 UTC, end at Wed 2026-11-25 22:30:01 UTC. --\n"
        "Nov 25 22:28:08 web-7 kernel: a\n"
        "-- Reboot --\n"
        "-- Boot 3f2a5e8c1b5a4d8d8ed1b7a0b1c2d3e4 --\n"
        "Nov 25 22:31:00 web-7 kernel: b\n"
        "-- No entries --\n"
    )
    assert [(x.lineno, x.text, x.boot_marker, x.boot_id) for x in lines] == [
        (2, "a", False, None),
        (3, "", True, None),
        (4, "", True, "3f2a5e8c1b5a4d8d8ed1b7a0b1c2d3e4"),
        (5, "b", False, None),
    ]


# --- hard wraps and continuation lines ---------------------------------------------------------


def test_email_wraps_corpus() -> None:
    lines = by_lineno(corpus("lkml-memcg-v2-6.18-arm64-emailwrapped-debugnoise.log"))
    assert 2 not in lines and 17 not in lines
    assert lines[1].text == (
        "Dipendra mm/oom_kill.c:384:select_bad_process(): calling mem_cgroup_scan_tasks"
    )
    assert lines[16].text == (
        "stress invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, "
        "oom_score_adj=0"
    )
    assert lines[119].text.endswith("rss_shmem pgtables_bytes swapents oom_score_adj name")
    assert lines[123].text == (
        "[   1121]     0  1121      734      366        0      366         0    45056        0"
        "             0 stress"
    )
    assert lines[129].text == (
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
        "oom_memcg=/test512mb,task_memcg=/test512mb,task=stress,pid=1122,uid=0"
    )
    assert lines[129].uptime_s == pytest.approx(56.419654)
    assert lines[134].text == (
        "Memory cgroup out of memory: Killed process 1122 (stress) total-vm:719740kB, "
        "anon-rss:522880kB, file-rss:536kB, shmem-rss:0kB, UID:0 pgtables:1072kB oom_score_adj:0"
    )
    assert lines[146].text == " pid=1122 comm=stress nr_retries=16 gfp=0x100cca"


def test_doc_wraps_corpus() -> None:
    lines = corpus("awsdocs-ec2-wrapped-2.6-vsz-child-sacrifice.log")
    assert [x.lineno for x in lines] == [1, 3]
    assert lines[0].text == "Out of memory: kill process 20273 (httpd) score 1285879or a child "
    assert lines[1].text == (
        "Killed process 1917 (php-cgi) vsz:467184kB, anon-rss:101196kB, file-rss:204kB"
    )


def test_continuation_lines_corpus() -> None:
    bpf = corpus("lkml-memcg-v2-6.16-bpf-constraint-patched.log")
    assert [(x.lineno, x.text) for x in bpf[:2]] == [
        (1, "kworker/u17:0 invoked oom-killer: gfp_mask=0x0(), order=0, oom_score_adj=0"),
        (2, "oom_policy=default"),
    ]
    assert bpf[1].uptime_s == bpf[0].uptime_s == pytest.approx(315.224875)
    mem = by_lineno(corpus("lmmnotes-global-5.10-raw-dmesg.log"))
    assert [mem[n].text for n in range(28, 34)] == [
        "active_anon:7174 inactive_anon:484737 isolated_anon:0",
        "active_file:0 inactive_file:84 isolated_file:0",
        "unevictable:6 dirty:0 writeback:0",
        "slab_reclaimable:2894 slab_unreclaimable:2892",
        "mapped:8 shmem:304 pagetables:4146 bounce:0",
        "free:3275 free_pcp:356 free_cma:0",
    ]
    assert all(mem[n].uptime_s == pytest.approx(33.932281) for n in range(28, 34))


def test_continuation_can_itself_wrap() -> None:
    lines = frame(
        "[   33.932281] active_anon:7174 inactive_anon:484737 isolated_anon:0\n"
        "                active_file:0 inactive_file:84 isola\n"
        "ted_file:0\n"
    )
    assert [x.text for x in lines][1] == "active_file:0 inactive_file:84 isolated_file:0"


def test_trinity_lines_are_bare_and_not_wraps() -> None:
    lines = frame(
        "[  111.628064] rb_consumer: page allocation failure: order:0\n"
        "[child1:446] finit_module (313) returned ENOSYS, marking as inactive.\n"
        "[watchdog] Watchdog is alive. (pid:432)\n"
        "[main] Random reseed: 2530751814\n"
    )
    assert [(x.framing, x.text) for x in lines] == [
        ("dmesg", "rb_consumer: page allocation failure: order:0"),
        ("bare", "[child1:446] finit_module (313) returned ENOSYS, marking as inactive."),
        ("bare", "[watchdog] Watchdog is alive. (pid:432)"),
        ("bare", "[main] Random reseed: 2530751814"),
    ]
    trinity = corpus("lkp-fixture-4.8-interleaved-allocfail-trinity-noise.log")
    assert sum(x.framing == "bare" for x in trinity) == 6


def test_shell_prompt_and_elision_are_not_wraps() -> None:
    lines = frame(
        "[   14.366411] init: failsafe main process (491) killed by TERM signal\n"
        "kateknister@kateknister-test3:~$ tail -f /var/log/syslog\n"
        "[Thu May  9 14:52:38 2024] CPU: 60 PID: 70888 Comm: CPU 11/KVM\n"
        "...\n"
        "......[  656.241027] *****Start oom extend info.*****\n"
    )
    assert [(x.framing, x.text) for x in lines] == [
        ("dmesg", "init: failsafe main process (491) killed by TERM signal"),
        ("bare", "kateknister@kateknister-test3:~$ tail -f /var/log/syslog"),
        ("dmesg-T", "CPU: 60 PID: 70888 Comm: CPU 11/KVM"),
        ("bare", "..."),
        ("dmesg", "*****Start oom extend info.*****"),
    ]


def test_mixed_framings_in_one_file() -> None:
    lines = corpus("cadvisor-global-3.13-mixed-dmesg-syslog.log")
    framer_counts = {name: sum(x.framing == name for x in lines) for name in ("dmesg", "syslog")}
    assert framer_counts == {"dmesg": 270, "syslog": 91}
    assert by_lineno(lines)[268].framing == "bare"


# --- prefilter and laziness ----------------------------------------------------------------


def test_prefilter_skips_non_matching_lines() -> None:
    framer = Framer("t", prefilter=re.compile(r"oom|Killed"))
    with open(DATA / "dmesg-6.18-memcg.txt", encoding="utf-8") as fh:
        lines = list(framer.frame(fh))
    assert lines and all(re.search(r"oom|Killed", x.text) for x in lines)
    assert lines[0].text.startswith("python3 invoked oom-killer")
    assert framer.skipped > 50
    assert framer.lines_read == 79
    assert framer.stats == {"dmesg": len(lines)}


def test_prefilter_skips_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import oomsleuth.frame.framer as framing

    calls: list[str] = []
    real = framing._parse

    def spy(s: str, names: object) -> object:
        calls.append(s)
        return real(s, names)  # type: ignore[arg-type]

    monkeypatch.setattr(framing, "_parse", spy)
    framer = Framer("t", prefilter=re.compile("oom-killer"))
    raw = [f"[    1.000000] noise {i}\n" for i in range(100)]
    raw[50] = "[    2.000000] a invoked oom-killer: order=0\n"
    lines = list(framer.frame(raw))
    assert [x.text for x in lines] == ["a invoked oom-killer: order=0"]
    assert len(calls) == 2  # the match and the one line after it (open for a wrap)
    assert framer.skipped == 99


def test_prefilter_keeps_wraps_of_a_kept_line() -> None:
    framer = Framer("t", prefilter=re.compile("Killed process"))
    lines = list(
        framer.frame(
            physical(
                "[115879.769795] noise\n"
                "[115879.769795] Killed process 1917 (php-cgi) vsz:467184kB, anon-\n"
                "rss:101196kB, file-rss:204kB\n"
                "[115879.869795] more noise\n"
            )
        )
    )
    assert [x.text for x in lines] == [
        "Killed process 1917 (php-cgi) vsz:467184kB, anon-rss:101196kB, file-rss:204kB"
    ]


def test_full_toggle_takes_effect_at_the_next_line() -> None:
    framer = Framer("t", prefilter=re.compile("invoked oom-killer"))

    def consume() -> Iterator[LogLine]:
        with open(DATA / "dmesg-6.18-memcg.txt", encoding="utf-8") as fh:
            for line in framer.frame(fh):
                if "invoked oom-killer" in line.text:
                    framer.full = True
                yield line

    lines = list(consume())
    assert [x.lineno for x in lines] == list(range(1, 80))


def test_prefilter_on_journal_json() -> None:
    framer = Framer("t", prefilter=re.compile("Killed process"))
    with open(DATA / "journal-json-kernel.jsonl", encoding="utf-8") as fh:
        lines = list(framer.frame(fh))
    assert [(x.lineno, x.boot_marker) for x in lines] == [(5, False), (7, True)]


def test_generator_is_lazy() -> None:
    def source() -> Iterator[str]:
        yield "[    1.000000] first\n"
        yield "[    2.000000] second\n"
        raise AssertionError("read too far")

    gen = frame_lines(source())
    assert next(gen).text == "first"


# --- robustness -------------------------------------------------------------------------------


def test_corpus_frames_without_surprises() -> None:
    if not CORPUS.exists():
        pytest.skip("corpus not available")
    for path in sorted(CORPUS.glob("*.log")):
        framer = Framer(path.name)
        framer.full = True
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = list(framer.frame(fh))
        assert sum(framer.stats.values()) == len(lines)
        assert all(x.source == path.name for x in lines)
        numbers = [x.lineno for x in lines]
        assert numbers == sorted(numbers) and all(1 <= n <= framer.lines_read for n in numbers)


ODD = [
    "{not json",
    "{}",
    '{"MESSAGE": [1, 2, 300]}',
    '{"MESSAGE": [], "__REALTIME_TIMESTAMP": "99999999999999999999"}',
    "[99999999999999999999.123456] x",
    "[] [ ] [:] [T1]",
    "2026-13-45T99:99:99,123+99:99 x",
    "<999>",
    "6,1,2,-;\\xzz \\x",
    "Feb 31 25:61:61 h k: x",
    "Wed 2026-02-31 22:30:01 UTC h kernel: x",
    "__CURSOR=x",
    "MESSAGE",
    "\x00\x01\x02\ufffd",
    "-- Boot --",
    ">>>",
    "\t\t[ 1.0] tabbed",
    "6,1," + "9" * 30 + ",-;huge usec",
    "[ " + "9" * 5000 + ".1] huge stamp",
    "Jan  1 00:00:00 h x[" + "9" * 5000 + "]: huge pid",
    '{"MESSAGE": "m", "__MONOTONIC_TIMESTAMP": "' + "9" * 39 + '", "_PID": "' + "9" * 5000 + '"}',
    "<1>1 - h app ²³ - - unicode digits",
]


def test_odd_input_never_raises() -> None:
    lines = list(frame_lines([x + "\n" for x in ODD]))
    assert all(isinstance(x, LogLine) for x in lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("[]<>{}:.,-; 0123456789TCx#\\a\n\t>")))))
def test_fuzz_never_raises(raw: list[str]) -> None:
    for framer_full in (True, False):
        framer = Framer("f", prefilter=re.compile("1"))
        framer.full = framer_full
        for line in framer.frame(raw):
            assert 1 <= line.lineno <= len(raw)
