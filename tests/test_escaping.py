"""Foreign text that reaches a person is escaped by one rule everywhere (issue 11): stderr
(errors, "skipped" warnings), terminal, Markdown and HTML show controls (OSC 52, CSI 2J),
zero-width, bidi and other invisible characters as ``\\u200b``-style escapes; JSON keeps the
true value (``\\u``-escaped in the text); Markdown makes no link, image or raw HTML of it.

The hostile inputs are a real capture (fixtures/real/memcg-names) with its victim's comm, its
cgroup and its file name replaced, analysed and rendered through the public API. The Markdown
is rendered by cmark-gfm, GitHub's own parser (the Debian package ``cmark-gfm``, which .ci/run
installs; the tests that need it skip without it), with GitHub's extensions (autolink, table,
strikethrough, tagfilter, tasklist) and ``--unsafe``, so raw HTML would show.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.errors import UNSAFE, printable

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "real" / "memcg-names.dmesg-iso.txt"
COMM, CGROUP = b"my (leaky) app", b"oomsleuth-memcg-names-621bee85"
OSC52, CSI2J = "\x1b]52;c;aGkK\x07", "\x1b[2J"
HOSTILE = (
    "sshd\u200b",
    f"x{OSC52}y",
    f"a{CSI2J}b",
    "\u202egnp.exe",
    "x\u2066y\u2069\ufeff\u061c\u2060\u200d\u200c\xad",
    "e\U000e0041\U000e0042",
    "http://evil.io/x",
    "www.evil.io",
    "[x](http://e.io)",
    "<http://e.io>",
    "a@evil.io",
    "user@1000.service",
    "<img src=x onerror=alert(1)>",
    "*a* _b_ ~~c~~ $x$",
    "``a`b",
    "a|b|c",
    "@admin #123",
)
# what a person must never get raw (line breaks of the report's own layout aside)
RAW = re.compile(f"(?!\n){UNSAFE.pattern}")
CMARK = shutil.which("cmark-gfm")
WANT_CMARK = CMARK is not None or bool(os.environ.get("CI"))  # CI installs it: never skip there
needs_cmark = pytest.mark.skipif(not WANT_CMARK, reason="cmark-gfm is not installed")


# -- the rule ---------------------------------------------------------------------------------


def test_every_control_format_and_invisible_character_is_shown_escaped() -> None:
    """Every Cc, Cf, Cs, Zl and Zp character of this Python's Unicode, and the invisible
    default-ignorable ones (Hangul fillers, variation selectors, tags)."""
    invisible = [0x34F, 0x115F, 0x1160, 0x17B4, 0x3164, 0xFE0F, 0xFFA0, 0xE0100, 0xE0FFF]
    every = [c for c in map(chr, range(0x110000)) if unicodedata.category(c) in CATEGORIES]
    every += map(chr, invisible)
    assert [c for c in every if not UNSAFE.fullmatch(c)] == []
    assert printable("".join(every)).isascii()
    assert printable("".join(every)).isprintable()


CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"a{OSC52}b", "a\\x1b]52;c;aGkK\\x07b"),
        (CSI2J, "\\x1b[2J"),
        ("sshd\u200b", "sshd\\u200b"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("e\U000e0041", "e\\U000e0041"),
        ("\x9b\x85\u2028", "\\x9b\\x85\\u2028"),
        ("caf\udcc3", "caf\\xc3"),  # an undecodable byte (surrogateescape)
        ("naïve λ 日本語 \\x1b ok", "naïve λ 日本語 \\x1b ok"),  # visible text is kept
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


# -- every report format ---------------------------------------------------------------------


def hostile_report(name: str, folder: Path) -> oomsleuth.Report:
    """The real capture with the victim's comm, the cgroup and the file name made ``name``."""
    raw = name.encode("utf-8", "surrogateescape")
    text = FIXTURE.read_bytes().replace(COMM, raw).replace(CGROUP, raw.replace(b"/", b"_"))
    log = folder / f"kern-{name.replace('/', '_')}.log"
    log.write_bytes(text)
    report = oomsleuth.analyze([str(log)], tz="UTC")
    assert [k.victim.comm for r in report.reports for k in r.kills] == [name]
    return report


def rendered(report: oomsleuth.Report, fmt: str, **kw: bool | int) -> str:
    out = io.StringIO()
    oomsleuth.render(report, fmt, out, **kw)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("name", HOSTILE)
def test_terminal(name: str, tmp_path: Path) -> None:
    text = rendered(hostile_report(name, tmp_path), "terminal", width=200, color=True)
    plain = re.sub("\x1b\\[[0-9;]*m", "", text)  # rich's own colours, and nothing else
    assert not RAW.search(plain)
    assert printable(name) in plain


@pytest.mark.parametrize("name", HOSTILE)
def test_json_keeps_the_true_value(name: str, tmp_path: Path) -> None:
    text = rendered(hostile_report(name, tmp_path), "json")
    assert not RAW.search(text)
    comms = [e["victim"]["comm"] for e in json.loads(text)["events"] if e.get("victim")]
    assert comms == [name]


class Page(HTMLParser):
    """The elements and the text of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.code: list[str] = []  # the text of each code element
        self._in_code = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag, tuple(sorted(a for a, _ in attrs))] += 1
        self.hrefs += [v or "" for a, v in attrs if a in ("href", "src", "xlink:href")]
        if tag == "code":
            self.code.append("")
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        self._in_code = self._in_code and tag != "code"

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_code:
            self.code[-1] += data


@pytest.mark.parametrize("name", HOSTILE)
def test_html(name: str, tmp_path: Path) -> None:
    html = rendered(hostile_report(name, tmp_path), "html")
    (tmp_path / "plain").mkdir()
    plain = Page(rendered(hostile_report("plain", tmp_path / "plain"), "html"))
    page = Page(html)
    assert not RAW.search(html)
    assert page.tags == plain.tags  # no element or attribute of foreign text
    assert all(h.startswith("#") for h in page.hrefs)
    assert printable(name) in "".join(page.text)


def cmark(markdown: str) -> str:
    assert CMARK is not None, "cmark-gfm is not installed (apt-get install cmark-gfm)"
    extensions = ("autolink", "table", "strikethrough", "tagfilter", "tasklist")
    argv = [CMARK, "--unsafe", *(a for e in extensions for a in ("-e", e))]
    done = subprocess.run(argv, input=markdown, capture_output=True, text=True, check=True)
    return done.stdout


# the elements the Markdown report makes itself
OURS = {"h1", "h2", "h3", "p", "strong", "em", "code", "table", "thead", "tbody", "tr", "th",
        "td", "ul", "ol", "li", "br", "a"}  # fmt: skip


@needs_cmark
@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_on_github_makes_no_link_image_or_html(name: str, tmp_path: Path) -> None:
    markdown = rendered(hostile_report(name, tmp_path), "md")
    assert not RAW.search(markdown)
    html = cmark(markdown)
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= OURS
    assert [h for h in page.hrefs if not re.fullmatch("#incident-[0-9]+", h)] == []
    assert printable(name) in page.code  # the victim, the trigger, the task table


@needs_cmark
def test_markdown_prose_quoting_log_text_makes_no_link() -> None:
    """md(): autolinks (URLs, www., e-mail addresses), links, images, HTML and emphasis in
    prose, with the words that would link put in code spans."""
    from oomsleuth.renderers.markdown_text import md

    prose = "; ".join(HOSTILE)
    html = cmark(f"- {md(prose)}\n")
    page = Page(html)
    assert {tag for tag, _ in page.tags} == {"ul", "li", "code"}
    assert "".join(page.text).strip() == printable(prose)


INCIDENT = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db"


def incident_report(name: str, folder: Path) -> oomsleuth.Report:
    """A real incident with history (atop -P, PSI) whose culprit and cgroup are ``name``."""
    files = ("kern-dmesg-iso.txt", "atop-P.txt", "psi-cgroup.txt")
    cgroup = b"oomsleuth-sidecar-leak-kills-db-b376c14b"
    for file in files:
        text = (INCIDENT / file).read_bytes().replace(b"leaky-sidecar", name.encode())
        (folder / file).write_bytes(text.replace(cgroup, name.replace("/", "_").encode()))
    logs, history = [str(folder / files[0])], [str(folder / f) for f in files[1:]]
    report = oomsleuth.analyze(logs, history=history, tz="UTC")
    assert [i.culprit.comm for i in report.incidents] == [name]
    return report


@pytest.mark.parametrize("name", ["sshd\u200b", f"x{OSC52}y", "<svg/onload=alert(1)>"])
def test_charts_legends_and_verdicts_of_history(name: str, tmp_path: Path) -> None:
    report = incident_report(name, tmp_path)
    (tmp_path / "plain").mkdir()
    plain = incident_report("plain", tmp_path / "plain")
    html = rendered(report, "html")
    assert not RAW.search(html)
    assert Page(html).tags == Page(rendered(plain, "html")).tags
    assert printable(name) in "".join(Page(html).text)
    for text in (rendered(report, "terminal", width=160, color=False), rendered(report, "md")):
        assert not RAW.search(text) and printable(name) in text
    if WANT_CMARK:
        page = Page(cmark(rendered(report, "md")))
        assert {tag for tag, _ in page.tags} <= OURS and printable(name) in page.code


# -- stderr, through the command line --------------------------------------------------------


def oomsleuth_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "oomsleuth", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=120,
    )


NAME = f"evil{OSC52}{CSI2J}\u200b\u202e"


def test_an_error_naming_a_hostile_file_is_one_escaped_line(tmp_path: Path) -> None:
    done = oomsleuth_cli("analyze", f"{NAME}.log", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and not RAW.search(done.stderr)
    assert printable(NAME) in done.stderr and done.stderr.startswith("oomsleuth: error: ")


def test_skipped_files_with_hostile_names_are_escaped_in_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / f"{NAME}.log")
    os.mkfifo(folder / f"{NAME}.fifo")
    shutil.make_archive(str(folder / f"{NAME}"), "gztar", ROOT / "fixtures" / "real")
    done = oomsleuth_cli("analyze", "-v", "logs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stderr.splitlines() if "skipped" in line]
    assert len(skipped) >= 2, done.stderr
    assert all(printable(NAME) in line for line in skipped)
    assert not RAW.search(done.stderr) and not RAW.search(done.stdout)
    assert printable(NAME) in done.stdout  # the report names its source, escaped


def test_the_library_logs_warnings_escaped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``on_warning`` the ``oomsleuth`` logger hears the warning, escaped: a logger
    nobody configured writes to stderr."""
    shutil.copy(FIXTURE, tmp_path / "kern.log")
    os.mkfifo(tmp_path / f"{NAME}.fifo")
    with caplog.at_level("WARNING", logger="oomsleuth"):
        oomsleuth.analyze([str(tmp_path)], tz="UTC")
    said = [r.getMessage() for r in caplog.records if r.name == "oomsleuth"]
    assert any(printable(NAME) in line for line in said), said
    assert not any(RAW.search(line) for line in said)
