"""Userspace OOM killers: earlyoom, systemd-oomd, nohang, oomd, and systemd's unit notes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from expect import expect_path
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.model import LogLine, UserspaceKill
from oomsleuth.parsers.userspace import KEYWORDS, UserspaceParser

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "userspace"
FIELDS = ("killer", "kind", "pid", "comm", "cgroup", "uid", "signal", "rss_kb", "score", "reason")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_SYSLOG = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d+) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<host>\S+) "
    r"(?P<ident>[^\s\[\]:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)"
)
_KERNEL_TS = re.compile(r"\[\s*(?P<up>\d+\.\d+)\] ")


def frame(name: str, raw_lines: list[str]) -> Iterator[LogLine]:
    """A small stand-in for the framing layer: RFC 3164 syslog lines, anything else bare."""
    for lineno, raw in enumerate(raw_lines, 1):
        match = _SYSLOG.fullmatch(raw)
        if match is None:
            yield LogLine(source=name, lineno=lineno, text=raw, framing="bare")
            continue
        text, uptime = match["msg"], None
        if match["ident"] == "kernel" and (ts := _KERNEL_TS.match(text)):
            text, uptime = text[ts.end() :], float(ts["up"])
        hour, minute, second = (int(match[k]) for k in "hms")
        wall = datetime(2025, _MONTHS[match["mon"]], int(match["day"]), hour, minute, second)
        yield LogLine(
            source=name,
            lineno=lineno,
            text=text,
            framing="syslog",
            uptime_s=uptime,
            wall=wall,
            host=match["host"],
            ident=match["ident"],
            ident_pid=int(match["pid"]) if match["pid"] else None,
        )


def run(lines: list[LogLine]) -> tuple[list[UserspaceKill], UserspaceParser]:
    parser = UserspaceParser()
    kills: list[UserspaceKill] = []
    for line in lines:
        kills += parser.feed(line)
    kills += parser.close()
    return kills, parser


def one(text: str, ident: str | None = None, **extra: Any) -> list[UserspaceKill]:
    line = LogLine(
        source="t.log",
        lineno=7,
        text=text,
        framing="syslog" if ident else "bare",
        ident=ident,
        ident_pid=extra.pop("ident_pid", 4242 if ident else None),
        **extra,
    )
    kills, parser = run([line])
    assert parser.warnings == []
    return kills


def as_dict(kill: UserspaceKill) -> dict[str, Any]:
    return {"line": kill.where.line, **{f: getattr(kill, f) for f in FIELDS}}


# --- fixtures: hand-written samples with their expected parse ------------------------------


@pytest.mark.parametrize("log", sorted(FIXTURES.glob("*.log")), ids=lambda p: p.stem)
def test_fixture(log: Path) -> None:
    expect = json.loads(expect_path(log).read_text(encoding="utf-8"))
    kills, parser = run(list(frame(log.name, log.read_text(encoding="utf-8").splitlines())))
    assert [as_dict(k) for k in kills] == expect["userspace_kills"]
    assert [{"line": w.where.line, "code": w.code} for w in parser.warnings] == expect["warnings"]
    for kill in kills:
        assert kill.where.source == log.name
        assert kill.raw  # the message text it came from


_TAG = re.compile(r".*? \S+\[\d+\]: ?")


@pytest.mark.parametrize("bare", [False, True], ids=["tagged", "bare"])
@pytest.mark.parametrize("log", sorted(FIXTURES.glob("*.log")), ids=lambda p: p.stem)
def test_keywords_prefilter_loses_nothing(log: Path, bare: bool) -> None:
    """Feeding only the raw lines KEYWORDS matches gives the same result as feeding all.

    ``bare`` strips the syslog prefix first, as ``journalctl -o cat`` would.
    """
    raw = log.read_text(encoding="utf-8").splitlines()
    if bare:
        raw = [_TAG.sub("", text, count=1) for text in raw]
    keywords = re.compile(KEYWORDS)
    lines = list(frame(log.name, raw))
    kept = [line for line, text in zip(lines, raw, strict=True) if keywords.search(text)]
    everything, all_parser = run(lines)
    filtered, filtered_parser = run(kept)
    assert filtered == everything
    assert filtered_parser.warnings == all_parser.warnings


def test_fixtures_have_their_expectations_and_readme() -> None:
    logs = sorted(FIXTURES.glob("*.log"))
    assert len(logs) >= 8
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for log in logs:
        assert expect_path(log).exists()
        assert log.stem in readme


# --- the corpus earlyoom cases (README examples), framed by hand ---------------------------


def test_corpus_earlyoom_current_wording() -> None:
    line = LogLine(
        source="earlyoom-readme-current-sending-sigterm-journal.log",
        lineno=1,
        text='sending SIGTERM to process 7378 uid 1000 "tail": oom_score 156, VmRSS 4962 MiB',
        framing="syslog",
        wall=datetime(2025, 2, 20, 10, 59, 34),
        host="debian",
        ident="earlyoom",
        ident_pid=10231,
    )
    (kill,) = run([line])[0]
    assert (kill.killer, kill.kind, kill.pid, kill.comm, kill.uid) == (
        "earlyoom",
        "kill",
        7378,
        "tail",
        1000,
    )
    assert (kill.signal, kill.score, kill.rss_kb) == ("SIGTERM", 156, 4962 * 1024)
    assert kill.stamp.host == "debian" and kill.stamp.wall == datetime(2025, 2, 20, 10, 59, 34)
    assert kill.where.source == line.source and kill.where.line == 1


def test_corpus_earlyoom_old_wording() -> None:
    line = LogLine(
        source="earlyoom-readme-old-killing-format-journal.log",
        lineno=1,
        text="Killing process 'tail' with signal 15, pid: 24833, badness: 972, VmRSS: 3963 MiB",
        framing="syslog",
        host="hostnamehere",
        ident="earlyoom",
        ident_pid=15368,
    )
    (kill,) = run([line])[0]
    assert (kill.killer, kill.pid, kill.comm, kill.uid, kill.signal) == (
        "earlyoom",
        24833,
        "tail",
        None,
        "SIGTERM",
    )
    assert (kill.score, kill.rss_kb) == (972, 3963 * 1024)


# --- each wording, one line at a time ------------------------------------------------------

WORDINGS: list[tuple[str | None, str, dict[str, Any]]] = [
    (
        "earlyoom",
        'sending SIGKILL to process 51022 uid 0 "python3": oom_score 1333, oom_score_adj 1000, '
        'VmRSS 12011 MiB, cmdline "python3 train.py"',
        {"pid": 51022, "comm": "python3", "uid": 0, "signal": "SIGKILL", "score": 1333},
    ),
    (
        None,
        'sending SIGTERM to process 3307 uid 1000 "java": oom_score 700, VmRSS 5120 MiB, '
        'cmdline "java -jar x.jar"',
        {"killer": "earlyoom", "pid": 3307, "rss_kb": 5120 * 1024},
    ),
    (
        "earlyoom",
        'sending SIGTERM to process 7001 uid 1000 "make": badness 512, VmRSS 802 MiB',
        {"pid": 7001, "score": 512},
    ),
    (
        "earlyoom",
        'sending SIGTERM to process 6012 "gnome-shell": badness 640, VmRSS 1450 MiB',
        {"pid": 6012, "uid": None, "comm": "gnome-shell"},
    ),
    (
        "earlyoom",
        'killing process 4410 "node" with signal 9: badness 902, VmRSS 2987 MiB',
        {"pid": 4410, "signal": "SIGKILL"},
    ),
    (
        "earlyoom",
        "Killing process: mysqld, pid: 2231, badness: 941, VmRSS: 6123 MiB",
        {"pid": 2231, "comm": "mysqld", "signal": None},
    ),
    ("earlyoom", "Killing process 17433 chrome", {"pid": 17433, "comm": "chrome"}),
    (
        "systemd-oomd",
        "Killed /system.slice/foo.service due to memory pressure for /system.slice being "
        "71.00% > 50.00% for > 20s with reclaim activity",
        {"killer": "systemd-oomd", "pid": None, "cgroup": "/system.slice/foo.service"},
    ),
    (
        "systemd-oomd",
        "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/x.scope due to memory "
        "used (16100216832) / total (16597827584) and swap used (3916251136) / total "
        "(4294963200) being more than 90.00%",
        {"cgroup": "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope"},
    ),
    (
        "systemd-oomd",
        "Killed /system.slice/b.service due to swap used (3905384448) / total (4294963200) "
        "being more than 90.00%",
        {"cgroup": "/system.slice/b.service", "signal": "SIGKILL"},
    ),
    (
        None,
        "Marked /user.slice/app.slice/y.scope for killing due to memory pressure for "
        "/user.slice being 80.10% > 50.00% for > 20s with reclaim activity",
        {"killer": "systemd-oomd", "kind": "kill", "cgroup": "/user.slice/app.slice/y.scope"},
    ),
    (
        "systemd-oomd",
        "oomd attempting to kill 4411 with SIGKILL",
        {"kind": "notice", "pid": 4411, "signal": "SIGKILL"},
    ),
    (
        "systemd",
        "foo.service: A process of this unit has been killed by the OOM killer.",
        {"killer": "systemd", "kind": "notice", "cgroup": "foo.service", "pid": None},
    ),
    (
        "systemd",
        "foo.service: The kernel OOM killer killed some processes in this unit.",
        {"killer": "systemd", "kind": "notice", "cgroup": "foo.service"},
    ),
    (
        "systemd",
        "foo.service: Failed with result 'oom-kill'.",
        {"killer": "systemd", "kind": "notice", "cgroup": "foo.service"},
    ),
    (
        "systemd",
        "app-x.scope: systemd-oomd killed 12 process(es) in this unit.",
        {"killer": "systemd-oomd", "kind": "notice", "cgroup": "app-x.scope"},
    ),
    (
        "kernel",
        "oomd kill: 61.22 38.40 12.07 system.slice/etl.service 9663676416 ruleset:[r] "
        "detectorgroup:[d] killer:kill_by_memory_size_or_growth v2",
        {"killer": "oomd", "kind": "kill", "cgroup": "/system.slice/etl.service"},
    ),
    (
        None,
        "oomd kill: 44.00 30.00 9.00 /workload.slice/web.service 3221225472 "
        "detector:pressure,44.00 killer:kill_by_memory_size_or_growth",
        {"killer": "oomd", "cgroup": "/workload.slice/web.service"},
    ),
    (
        "oomd",
        "0914 03:12:07 [BaseKillPlugin.cpp:665] Killed 1: 20114(etl worker)",
        {"killer": "oomd", "kind": "notice", "pid": 20114, "comm": "etl worker"},
    ),
]


@pytest.mark.parametrize(("ident", "text", "want"), WORDINGS)
def test_wording(ident: str | None, text: str, want: dict[str, Any]) -> None:
    (kill,) = one(text, ident)
    for field, value in want.items():
        assert getattr(kill, field) == value, field
    assert kill.raw == text
    assert kill.where.line == 7


def test_earlyoom_reason_from_low_memory_line() -> None:
    low = "low memory! at or below SIGTERM limits: mem  9.71%, swap  9.98%"
    kill_text = 'sending SIGTERM to process 5 uid 1 "x": oom_score 9, VmRSS 1 MiB'
    lines = [
        LogLine("t", 1, low, "syslog", ident="earlyoom", ident_pid=9),
        LogLine("t", 2, kill_text, "syslog", ident="earlyoom", ident_pid=9),
        LogLine("t", 3, kill_text, "syslog", ident="earlyoom", ident_pid=9),
    ]
    first, second = run(lines)[0]
    assert first.reason == low
    assert second.reason is None  # used once


def test_stamp_and_where_come_from_the_line() -> None:
    wall = datetime(2025, 1, 2, 3, 4, 5)
    (kill,) = one(
        "oomd kill: 1.00 2.00 3.00 a.slice 1 ruleset:[r] detectorgroup:[d] killer:k v2",
        "kernel",
        uptime_s=12.5,
        wall=wall,
        host="h1",
        boot_id="b00t",
    )
    assert (kill.stamp.uptime_s, kill.stamp.wall, kill.stamp.host, kill.stamp.boot_id) == (
        12.5,
        wall,
        "h1",
        "b00t",
    )
    assert (kill.where.source, kill.where.line) == ("t.log", 7)


# --- nohang blocks --------------------------------------------------------------------------


def nohang(texts: list[str], ident: str | None = "nohang") -> list[LogLine]:
    return [
        LogLine("n.log", i, t, "syslog", host="h", ident=ident, ident_pid=1)
        for i, t in enumerate(texts, 1)
    ]


def test_nohang_signal_sent_at_end_of_input_still_counts() -> None:
    kills, parser = run(
        nohang(
            [
                "Victim status (found in 1ms):",
                "  PID: 5, name: a, state: R, EUID: 0",
                "  Sending SIGKILL to the victim",
            ]
        )
    )
    assert [(k.pid, k.signal, k.where.line) for k in kills] == [(5, "SIGKILL", 3)]
    assert parser.warnings == []


def test_nohang_block_cut_by_a_boot_is_a_warning() -> None:
    lines = nohang(["Victim status (found in 1ms):", "  PID: 5, name: a, state: R, EUID: 0"])
    lines.append(
        LogLine("n.log", 3, "-- Boot 1234 --", "journal-short", host="h", boot_marker=True)
    )
    kills, parser = run(lines)
    assert kills == []
    assert [(w.code, w.where.line) for w in parser.warnings] == [("nohang-block-incomplete", 1)]


def test_nohang_soft_action_is_not_a_kill() -> None:
    kills, parser = run(
        nohang(
            [
                "Victim status (found in 1ms):",
                "  PID: 5, name: a, state: R, EUID: 0",
                "Implementing a corrective action:",
                "  Executing the command: systemctl restart foo",
                "Total response time: 3ms",
            ]
        )
    )
    assert kills == [] and parser.warnings == []


def test_nohang_lines_of_two_hosts_do_not_mix() -> None:
    a = LogLine("m", 1, "Victim status (found in 1ms):", "syslog", host="a", ident="nohang")
    b = LogLine("m", 2, "  PID: 9, name: b, state: R, EUID: 0", "syslog", host="b", ident="nohang")
    c = LogLine("m", 3, "  Sending SIGTERM to the victim; OK", "syslog", host="a", ident="nohang")
    kills, parser = run([a, b, c])
    assert kills == []  # host a never named its victim's pid
    assert parser.warnings == []


def test_nohang_separate_log_file() -> None:
    """/var/log/nohang/nohang.log: "%(asctime)s: " before each message, none on its lines."""
    lines = nohang(
        [
            "2025-10-05 21:17:02,114: Victim status (found in 1ms):",
            "  PID:       12345, name: tail, state: R (running), EUID: 1000, SID: 1 (x)",
            "2025-10-05 21:17:02,130: Implementing a corrective action:",
            "  Sending SIGTERM to the victim",
            "2025-10-05 21:17:02,141: OK; total response time: 28ms",
        ],
        ident=None,
    )
    kills, parser = run(lines)
    assert [(k.pid, k.comm, k.uid, k.signal, k.where.line) for k in kills] == [
        (12345, "tail", 1000, "SIGTERM", 4)
    ]
    assert parser.warnings == []


def test_two_nohang_daemons_on_one_host_keep_their_own_blocks() -> None:
    def line(n: int, pid: int, text: str) -> LogLine:
        return LogLine("n.log", n, text, "syslog", host="h", ident="nohang", ident_pid=pid)

    kills, parser = run(
        [
            line(1, 10, "Victim status (found in 1ms):"),
            line(2, 20, "Victim status (found in 1ms):"),
            line(3, 10, "  PID: 111, name: a, state: R, EUID: 0"),
            line(4, 20, "  PID: 222, name: b, state: R, EUID: 0"),
            line(5, 20, "  Sending SIGKILL to the victim; OK; response time: 1 ms"),
            line(6, 10, "  Sending SIGTERM to the victim; OK; response time: 1 ms"),
        ]
    )
    assert [(k.pid, k.comm, k.signal, k.where.line) for k in kills] == [
        (222, "b", "SIGKILL", 5),
        (111, "a", "SIGTERM", 6),
    ]
    assert parser.warnings == []


def test_oomd_summary_echo_counts_once_in_either_order() -> None:
    payload = (
        "61.22 38.40 12.07 system.slice/x.service 96 ruleset:[r] detectorgroup:[d] killer:k v2"
    )
    echo = LogLine("j", 1, f"0914 03:12:07 [Log.cpp:116] {payload}", "syslog", ident="oomd")
    kmsg = LogLine("k", 2, f"oomd kill: {payload}", "syslog", ident="kernel")
    for order in ([echo, kmsg], [kmsg, echo]):
        kills = [k for k in run(order)[0] if k.kind == "kill"]
        assert [(k.cgroup, k.where.source) for k in kills] == [
            ("/system.slice/x.service", order[0].source)
        ]


# --- not kills ------------------------------------------------------------------------------

NOT_KILLS: list[tuple[str | None, str]] = [
    (
        "node-problem-detector-startup.sh",
        "I1012 19:00:20.702118    3311 log_monitor.go:159] New status generated: "
        "&{Source:kernel-monitor Events:[{Severity:warn Reason:OOMKilling Message:Memory "
        "cgroup out of memory: Killed process 55120 (java) total-vm:6291456kB}]}",
    ),
    (
        "containerd",
        'time="2025-10-12T19:00:20Z" level=info msg="TaskOOM event container_id:\\"9f3c0e71\\""',
    ),
    (
        "kubelet",
        'I1012 19:00:21.004312 2563 event.go:307] "Event occurred" kind="Node" '
        'reason="SystemOOM" message="System OOM encountered, victim process: java, pid: 55120"',
    ),
    (None, "Memory cgroup out of memory: Killed process 55120 (java) total-vm:6291456kB"),
    ("kernel", "Out of memory: Killed process 55120 (java) total-vm:6291456kB, anon-rss:1kB"),
    ("kernel", "CPU: 3 PID: 55120 Comm: java Not tainted 6.8.0-45-generic #45-Ubuntu"),
    ("earlyoom", "mem avail:  1234 of  7875 MiB (15.67%), swap free:  123 of 1024 MiB (12.00%)"),
    ("earlyoom", "sending SIGTERM when mem avail <= 10.00% and swap free <= 10.00%,"),
    ("earlyoom", "process 51022 did not exit"),
    ("earlyoom", "escalating to SIGKILL after 0.802 seconds"),
    ("earlyoom", 'sending 0 (no-op signal) to process 1 uid 0 "init": oom_score 0, VmRSS 9 MiB'),
    (None, "Killing process 17433 chrome"),  # v0.x earlyoom wording: too plain without the tag
    ("systemd", "nginx.service: Killing process 8812 (nginx) with signal SIGKILL."),
    ("monitor", 'sending SIGTERM to process 8 uid 1 "yes": oom_score 4, VmRSS 2 MiB'),
    ("logger", "Killed /system.slice/foo.service due to memory pressure for / being 9%"),
    ("systemd-oomd", "Considered 3 cgroups for killing, top candidates were:"),
    ("systemd-oomd", "oomd dry-run: Would have tried to kill /sys/fs/cgroup/a and all its kids"),
    ("kernel", "oomd kill: restarted systemd service=chef.service"),
    (
        "kernel",
        "oomd kill: 1.00 2.00 3.00 a.slice 1 ruleset:[r] detectorgroup:[d] killer:(dry)k v2",
    ),
    ("nohang", "kmsg: Out of memory: Killed process 13002 (stress) total-vm:8391628kB"),
    ("nohang", "  [ OK ] Sending SIGTERM to tail: 1"),
    (None, "  PID: 5, name: a, state: R, EUID: 0"),  # a nohang field outside any block
]


@pytest.mark.parametrize(("ident", "text"), NOT_KILLS)
def test_not_a_kill(ident: str | None, text: str) -> None:
    assert one(text, ident) == []


# --- hostile text never raises --------------------------------------------------------------

HOSTILE = [
    'sending SIGTERM to process 1 uid 1 "a": oom_score 1, VmRSS 1 MiB": oom_score 2, VmRSS 3 MiB',
    'sending SIGTERM to process 2 uid 0 "(sd-pam) [x] \\"q\\"": oom_score 1, VmRSS 1 MiB',
    'sending SIGTERM to process 3 uid 0 "\u202eevil\u0000": oom_score 1, VmRSS 1 MiB',
    "Killed / due to memory pressure for / being 1",
    "Killed 3: 1(a) 2(b)) 3((c)[E1] 4",
    "  PID: 99999999999999999999999999999999, Name: x, badness: -99999999999999999999999",
    "Vm, MiB: Size: 1e999, RSS: 99999999999999999999999999.9, Swap: nan",
    "Sending SIGTERM to the victim; " + "x" * 10000,
    "oomd kill: " + "1.00 " * 2000,
    "\x1b[31m\x1b[0m",
    "",
    ": : :",
]


@pytest.mark.parametrize("ident", [None, "earlyoom", "nohang", "oomd", "systemd-oomd", "systemd"])
def test_hostile_lines(ident: str | None) -> None:
    parser = UserspaceParser()
    lines = nohang(["Victim status (found in 1ms):", *HOSTILE], ident=ident)
    for line in lines:
        for kill in parser.feed(line):
            assert kill.killer in {"earlyoom", "systemd-oomd", "nohang", "oomd", "systemd"}
    parser.close()
    assert not [w for w in parser.warnings if w.code == "userspace-parse-error"]


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(max_size=120), max_size=12),
    ident=st.sampled_from(
        [None, "earlyoom", "nohang", "oomd", "systemd-oomd", "systemd", "kernel"]
    ),
)
def test_fuzz_never_raises(texts: list[str], ident: str | None) -> None:
    prefixes = ["", "sending SIGTERM to process 1 ", "Victim status ", "Killed /", "oomd kill: "]
    parser = UserspaceParser()
    for i, text in enumerate(texts):
        line = LogLine("f", i + 1, prefixes[i % len(prefixes)] + text, "syslog", ident=ident)
        parser.feed(line)
    parser.close()
    assert not [w for w in parser.warnings if w.code == "userspace-parse-error"]


OOMD_V253 = [  # systemd v253+ (src/oom/oomd-manager.c, oomd-util.c): the kill, then its dump
    "Dec  6 02:29:59 vm systemd-oomd[944]: Marked /user.slice/u.slice/app.slice/a.scope for "
    "killing due to memory pressure for /user.slice/u.slice being 82.63% > 50.00% for > 20s "
    "with reclaim activity",
    "Dec  6 02:29:59 vm systemd-oomd[944]: Considered 61 cgroups for killing, top candidates were:",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \tPath: /user.slice/u.slice/app.slice/a.scope",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tMemory Pressure Limit: 0.00%",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tPressure: Avg10: 84.56 Avg60: 33.68 Avg300: 8.29 "
    "Total: 32s",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tCurrent Memory Usage: 24.8G",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tMemory Min: 0B",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tMemory Low: 0B",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tPgscan: 1766013",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tLast Pgscan: 419892",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \tPath: /user.slice/u.slice/app.slice/b.scope",
    "Dec  6 02:29:59 vm systemd-oomd[944]: \t\tCurrent Memory Usage: 705.0M",
    "Dec  6 02:29:59 vm systemd[1398]: a.scope: systemd-oomd killed some process(es) in this unit.",
]


def test_systemd_oomd_candidates_after_the_kill_are_its_evidence() -> None:
    import oomsleuth

    events = list(oomsleuth.scan(OOMD_V253, tz="UTC", year=2026))
    (kill,) = [e for e in events if isinstance(e, UserspaceKill) and e.kind == "kill"]
    assert kill.cgroup == "/user.slice/u.slice/app.slice/a.scope"
    first, second = kill.candidates
    assert (first.cgroup, first.memory_kb, first.pressure_avg10) == (kill.cgroup, 26004685, 84.56)
    assert (first.pressure_limit_pct, first.pgscan) == (0.0, 1766013)
    assert (second.cgroup.endswith("b.scope"), second.memory_kb) == (True, 721920)
    assert [e.kind for e in events if isinstance(e, UserspaceKill)] == ["kill", "notice"]


def test_systemd_oomd_candidates_before_the_kill_belong_to_the_next_kill() -> None:
    """Before v253 the dump came first: it belongs to the kill right after it, not the one
    logged weeks before."""
    path = FIXTURES / "systemd-oomd-syslog.log"
    (seventh,) = [
        k
        for k in run(list(frame(path.name, path.read_text().splitlines())))[0]
        if k.where.line == 7
    ]
    assert [c.cgroup for c in _candidates(path, 7)] == [seventh.cgroup]
    assert _candidates(path, 3) == ()


def _candidates(path: Path, line: int) -> tuple[object, ...]:
    import oomsleuth

    report = oomsleuth.analyze([path], tz="UTC", year=2026, on_warning=lambda _: None)
    (kill,) = [u for u in report.userspace if u.where.line == line]
    return kill.candidates
