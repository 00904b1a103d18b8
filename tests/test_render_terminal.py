"""The terminal report: content at a fixed width with colour off, and hostile log text defused."""

from __future__ import annotations

import io
import re

import modelfactory as mf
import pytest

from oomsleuth.model import Report
from oomsleuth.model.units import human_kb, short_kb
from oomsleuth.renderers.base import Renderer, safe_text
from oomsleuth.renderers.terminal import TerminalRenderer

ESC = "\x1b"
COLOR_SGR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|9[0-7]|38;[0-9;]+)m")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def render(result: Report, width: int = 100, color: bool | None = False) -> str:
    out = io.StringIO()
    TerminalRenderer(width=width, color=color).render(result, out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


# -- safe_text and sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("stress", "stress"),
        ("kworker/u8:2", "kworker/u8:2"),
        ("a b(c),d", "a b(c),d"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("cr\rlf\ntab\t", "cr\\x0dlf\\x0atab\\x09"),
        ("nul\x00bel\x07", "nul\\x00bel\\x07"),
        ("del\x7f c1\x9b\x85", "del\\x7f c1\\x9b\\x85"),
        ("bidi\u202eexe.txt\u2066", "bidi\\u202eexe.txt\\u2066"),
        ("line\u2028sep", "line\\u2028sep"),
        ("raw byte\udcff", "raw byte\\xff"),
        ("[bold red]markup[/]", "[bold red]markup[/]"),  # markup is harmless as plain text
        ("пример-🙂 ü", "пример-🙂 ü"),
        ("dev-disk-by\\x2duuid", "dev-disk-by\\x2duuid"),  # systemd escapes stay as they are
    ],
)
def test_safe_text(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_safe_text_leaves_no_control_character() -> None:
    every = "".join(chr(c) for c in range(0x00, 0xA0))
    assert all(ch.isprintable() for ch in safe_text(every))


@pytest.mark.parametrize(
    ("kb", "human", "short"),
    [
        (None, "?", "?"),  # one symbol for unknown, in every column and format
        (0, "0 KiB", "0K"),
        (420, "420 KiB", "420K"),
        (1024, "1.0 MiB", "1.0M"),
        (536_668, "524.1 MiB", "524M"),
        (13_613_372, "13.0 GiB", "13.0G"),
        (1_048_575, "1.0 GiB", "1.0G"),  # not "1024.0 MiB": the unit follows the rounding
        (9_007_199_254_740_988, "unlimited", "unlim."),  # cgroup v1 "no limit"
    ],
)
def test_sizes(kb: int | None, human: str, short: str) -> None:
    assert (human_kb(kb), short_kb(kb)) == (human, short)


# -- content ----------------------------------------------------------------------------------


def test_terminal_renderer_is_a_renderer() -> None:
    renderer: Renderer = TerminalRenderer(width=100, color=False)
    out = io.StringIO()
    renderer.render(mf.empty_result(), out)
    assert out.getvalue() == "oomsleuth: no OOM event found · sources: empty.log (0 lines)\n"


def test_global_oom_panel() -> None:
    text = render(mf.global_oom_result())
    assert ESC not in text
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.startswith("oomsleuth: 1 kill in 1 OOM report, 0 userspace kills · sources: kern")
    assert "OOM kill: stress (4242)" in text
    assert "21:40:42+00:00 (uptime 115.887 s) · host web1 · kernel 6.12.0-1-amd64" in text
    assert "Trigger stress pid 4242 uid 1000  gfp 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)" in text
    assert "Victim  stress (4242) uid 1000  oom_score_adj 200" in text
    assert "rss 13.0 GiB (anon 12.9 GiB, file 56.1 MiB, shmem 2.4 MiB)" in text
    assert "global (CONSTRAINT_NONE)" in text
    assert "victim in /user.slice/user-1000.slice/session-2.scope" in text
    assert "Swap    swap off" in text
    assert "RAM 16.0 GiB · free 67.9 MiB" in text
    # top 8 of 12 by rss; the victim (also the trigger) first and marked
    rows = [line for line in text.splitlines() if re.match(r"│ +(VT|V|T)? +\d+ ", line)]
    assert len(rows) == 8
    assert re.match(r"│ +VT +4242 +1000 +13\.0G .* stress +│", rows[0])
    assert "systemd-journal" in rows[-1] and "cron" not in text and "sshd" not in text
    assert "8 of 12 tasks by rss; V victim, T trigger" in text
    assert "incident 1 · kern.log:100-161" in text


def test_memcg_v1_usage_against_limit() -> None:
    text = render(mf.memcg_v1_result())
    assert "memcg OOM kill: java (3120)" in text
    assert "2026-03-04 02:53:56 (uptime 13 min 38 s) · host docker-host" in text
    assert "limit hit in /docker/34186d9e" in text and "victim in /docker/34186d9e" in text
    assert "memory 512.0 MiB of 512.0 MiB limit (100%) · failcnt 1234" in text
    assert "mem+swap 512.0 MiB · no limit · failcnt 0" in text
    assert "kmem 8.5 MiB · no limit" in text
    assert "9007199254740988" not in text
    assert re.search(r"│ +VT +3120 .* java", text)


def test_memcg_v2_trigger_and_victim_marked_apart() -> None:
    text = render(mf.memcg_v2_result())
    assert "memcg (CONSTRAINT_MEMCG)" in text
    assert "limit hit in /system.slice/app.service" in text
    assert "memory 1.0 GiB of 1.0 GiB limit (100%) · failcnt 87" in text
    assert "swap 0 KiB of 0 KiB limit" in text
    assert re.search(r"│ +V +7001 .* python3", text)
    assert re.search(r"│ +T +7002 .* python3", text)


def test_oom_group_victims_share_one_panel() -> None:
    text = render(mf.oom_group_result())
    assert text.count("╭") == 1
    assert "memcg OOM kill, memory.oom.group: 3 victims" in text
    for pid, comm in ((9101, "gunicorn"), (9102, "gunicorn"), (9100, "tini")):
        assert f"Victim  {comm} ({pid}) uid 0  oom_score_adj 999  [oom.group member]" in text
    assert "3 kills in 1 OOM report" in text


def test_unfinished_report_title_and_warning() -> None:
    text = render(mf.unfinished_result())
    assert "OOM report never reached a kill: cut off in the task table at line 340" in text
    assert "0 kills in 1 OOM report (1 never reached a kill)" in text
    assert "Swap    free 1.0 MiB of 2.0 GiB" in text
    assert "the table is incomplete" in text
    assert "! kern.log:340: report-truncated: report cut off in the task table" in text
    assert "time unknown" not in text and "uptime 33 min 20 s (2000.000 s)" in text


def test_panic_report() -> None:
    text = render(mf.panic_result())
    assert "never reached a kill: Out of memory: system-wide panic_on_oom is enabled" in text
    assert "order -1 (manual, SysRq-f)" in text
    assert "no task table in the report" in text


def test_userspace_lines() -> None:
    text = render(mf.userspace_result())
    assert "0 kills in 0 OOM reports, 2 userspace kills, 1 allocation failure" in text
    assert "\n2026-06-02 11:59:56+00:00  page allocation failure: kswapd0 order 4 gfp" in text
    assert "earlyoom killed 31337 (chrome)  uid 1000  rss 2.4 GiB  signal SIGTERM" in text
    assert "systemd-oomd killed cgroup" in text and "app-firefox.scope" in text
    assert "systemd notice: app.service  reason: A process of this unit" in text
    order = [text.index(s) for s in ("page allocation", "earlyoom", "systemd-oomd", "notice")]
    assert order == sorted(order)


def test_everything_in_log_order_with_warnings_placed() -> None:
    text = render(mf.everything_result())
    assert "5 kills in 4 OOM reports (1 never reached a kill), 2 userspace kills" in text
    assert "sources: node2/kern.log, node1/syslog (1500 lines)" in text
    titles = re.findall(r"╭─ (.*?) ─", text)
    assert titles == [
        "OOM report never reached a kill: cut off in the task table at line 340",
        "OOM kill: stress (4242)",
        "memcg OOM kill: python3 (7001)",
        "memcg OOM kill, memory.oom.group: 3 victims",
    ]
    # a warning inside a report's lines goes into its panel; others are listed at the end
    assert "Warning line 55: reaper-orphan: oom_reaper line without a kill" in text
    assert text.rstrip().endswith("! node2/kern.log:340: report-truncated: cut off")


# -- hostile text -----------------------------------------------------------------------------


def test_hostile_text_is_escaped_not_interpreted() -> None:
    text = render(mf.hostile_result())
    assert ESC not in text and "\r" not in text and "\x07" not in text
    assert not any(0x7F <= ord(c) <= 0x9F for c in text) and "\u202e" not in text
    assert 'memcg OOM kill: \\x1b[31m[bold red]x"y\\x0a\\u202e (666)' in text
    assert "limit hit in /evil/[link=http://x]\\x1b]0;pwn\\x07\\x0d\\x7f\\x9b/ü💥" in text
    assert "host h\\x1b[2Jost · kernel 6.9.0 [red]\\x1b[5m" in text
    assert "Trigger пример-🙂 [b]x pid 667" in text
    assert "Warning line 5: odd[bold]: saw \\x1b[31m in [i]text[/i]" in text
    assert "earlyoom killed 1 (\\x1b]8;;http://x\\x07ok)  reason: [blink]boom\\x0d\\x0a" in text
    assert "sources: h\\x1bstile.log" in text


def test_hostile_text_with_colour_on() -> None:
    text = render(mf.hostile_result(), color=True)
    assert ESC in text  # rich's own styling
    for raw in ("\x1b]0;pwn", "\x1b[2J", "\x1b[5m", "\x1b]8;;", "\x07", "\r", "\x9b", "\u202e"):
        assert raw not in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert '\\x1b[31m[bold red]x"y\\x0a\\u202e (666)' in plain and "[link=http://x]" in plain


# -- colour -----------------------------------------------------------------------------------


def test_colour_follows_the_terminal_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    def on_tty(color: bool | None) -> str:
        out = FakeTTY()
        TerminalRenderer(width=100, color=color).render(mf.memcg_v1_result(), out)
        return out.getvalue()

    assert COLOR_SGR.search(on_tty(None))
    assert ESC not in on_tty(False)
    assert ESC not in render(mf.memcg_v1_result(), color=None)  # not a terminal: plain text
    monkeypatch.setenv("NO_COLOR", "1")
    assert not COLOR_SGR.search(on_tty(None))
    assert COLOR_SGR.search(on_tty(True))  # an explicit --color wins over the environment


def test_width_is_respected() -> None:
    for width in (60, 100, 140):
        text = render(mf.everything_result(), width=width)
        assert max(len(line) for line in text.splitlines()) <= width


def test_narrow_terminal_keeps_the_name_column() -> None:
    text = render(mf.memcg_v2_result(), width=60)
    header = next(line for line in text.splitlines() if " pid " in line and "name" in line)
    assert header.split() == ["│", "pid", "uid", "rss", "swap", "adj", "name", "│"]
    assert re.search(r"│ +V +7001 +998 +1022M +0K +0 +python3 +│", text)
