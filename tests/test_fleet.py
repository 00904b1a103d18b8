"""``oomsleuth fleet`` on a real Dask cluster (distributed.LocalCluster, 2 worker processes): a tree
of hosts made from the fixtures gives, host by host, exactly the events ``oomsleuth.analyze``
finds in that host's files, with the host's name; a broken host gives an error row and the job
goes on; a central syslog is split by its host field with its own line numbers; file:// URLs
are read by the workers; Parquet and JSON Lines agree (and DuckDB reads them); the overview
page passes the browser checks of the incident report. Skipped without the fleet extra."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import oomsleuth

distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")
pytest.importorskip("fsspec")

from oomsleuth.fleet.rows import NAMES  # noqa: E402
from oomsleuth.fleet.write import read_rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
ROW_KINDS = ("alloc_failure", "userspace_notice")  # document events that are not rows

# host -> the fixture files it holds (several framings of one capture: one host's copies)
HW, LEAK = "handwritten", "incidents/sidecar-leak-kills-db"
EVIL = "<img src=x onerror=alert(1)>\u202e\x1b[2J"  # a host folder's name: hostile text
HOSTS = {
    "web-1": ["real/memcg-bystander.dmesg-iso.txt", "real/memcg-bystander.kmsg.txt"],
    "web-2": ["real/memcg-names.dmesg-iso.txt", "real/memcg-names.dmesg-T.txt"],
    "db-1": [f"{HW}/k5.14-el9-memcg-v2.rsyslog.log"],
    "batch-1": [f"{HW}/k6.1-memcg-v2.journal.json", f"{HW}/k6.18-global-alloc-profiling.dmesg.txt"],
    "edge-1": [
        "userspace/earlyoom-current-syslog.log",
        f"{HW}/k5.15-arm64-no-killable-panic.console.txt",
    ],
    "leak-1": [f"{LEAK}/{n}" for n in ("kern-dmesg-iso.txt", "pidstat-r.txt", "psi-cgroup.txt")],
    EVIL: ["real/memcg-single.dmesg-iso.txt"],
}
ARCHIVED = "restarts-1"  # a tarball of fixtures/evidence/coarse-10s-restarts
BROKEN = "broken-1"  # a corrupt .gz beside a good log
CENTRAL = ("idp01", "idp02")  # the host fields of the central syslog


def _central(folder: Path) -> Path:
    """A central syslog holding two hosts' lines, interleaved in blocks of five."""
    one = (FIX / "handwritten/k5.14-el9-memcg-v2.rsyslog.log").read_text().splitlines(True)
    two = [line.replace(" idp01 ", " idp02 ", 1) for line in one]
    out: list[str] = []
    for i in range(0, len(one), 5):
        out += one[i : i + 5] + two[i : i + 5]
    path = folder / "central" / "messages"
    path.parent.mkdir()
    path.write_text("".join(out))
    return path


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    hosts = root / "hosts"
    for host, files in HOSTS.items():
        (hosts / host).mkdir(parents=True)
        for name in files:
            shutil.copy2(FIX / name, hosts / host / Path(name).name)
    with tarfile.open(hosts / f"{ARCHIVED}.tar.gz", "w:gz") as tar:
        for name in ("kern-dmesg-iso.txt", "pidstat-r.txt"):
            tar.add(FIX / "evidence/coarse-10s-restarts" / name, arcname=f"log/{name}")
    (hosts / BROKEN).mkdir()
    good = gzip.compress((FIX / "real/memcg-single.dmesg-iso.txt").read_bytes())
    (hosts / BROKEN / "kern.log.1.gz").write_bytes(good[:40] + b"\0" * 60 + good[100:])
    shutil.copy2(FIX / "real/memcg-adj.dmesg-iso.txt", hosts / BROKEN / "kern.log")
    _central(root)
    return root


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def run(tree: Path, scheduler: str) -> Any:
    """One fleet run over the hosts and the central log: Parquet and the overview page."""
    paths = [str(tree / "hosts"), str(tree / "central" / "messages")]
    return oomsleuth.fleet(
        paths, tree / "kills.parquet", html=tree / "fleet.html", scheduler=scheduler, tz="UTC"
    )


def _expected(paths: list[Path]) -> list[tuple[str, str, int]]:
    doc = oomsleuth.analyze(paths, tz="UTC").to_dict()
    return sorted(
        (e["kind"], e["source"], e["line"]) for e in doc["events"] if e["kind"] not in ROW_KINDS
    )


def _got(rows: list[dict[str, Any]], host: str) -> list[tuple[str, str, int]]:
    return sorted((r["kind"], r["source"], r["line"]) for r in rows if r["host"] == host)


def test_every_host_gives_what_analyze_finds(run: Any, tree: Path) -> None:
    rows = read_rows(tree / "kills.parquet")
    assert {h.name for h in run.hosts} == {*HOSTS, ARCHIVED, BROKEN, *CENTRAL}
    for host in HOSTS:
        expected = _expected([tree / "hosts" / host])
        assert expected, host
        assert _got(rows, host) == expected, host
    archived = _expected([tree / "hosts" / f"{ARCHIVED}.tar.gz"])
    assert len(archived) >= 2 and _got(rows, ARCHIVED) == archived
    assert all(set(r) == set(NAMES) for r in rows)
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["oom_kill"] >= 10 and kinds["userspace_kill"] >= 1 and kinds["oom_deadlock"] >= 1


def test_rows_carry_the_facts(run: Any) -> None:
    leak = [r for r in run.rows if r["host"] == "leak-1"]
    assert [r["victim_comm"] for r in leak] == ["steady-db"]
    assert leak[0]["culprit"] == "leaky-sidecar" and leak[0]["culprit_confidence"] > 0.5
    assert leak[0]["scope"] == "memcg" and leak[0]["time_confidence"] == "derived"
    assert leak[0]["time"].startswith("2026-") and leak[0]["epoch_s"] > 1.7e9
    unit = [r for r in run.rows if r["host"] == "batch-1" and r["unit"]]
    assert ("report-worker.service", "systemd-service") in [
        (r["unit"], r["cgroup_kind"]) for r in unit
    ]
    db = next(r for r in run.rows if r["host"] == "db-1")
    assert db["log_host"] == "idp01" and db["container_runtime"] == "podman"


def test_a_broken_host_is_an_error_row_not_a_failed_job(run: Any, tree: Path) -> None:
    broken = [r for r in run.rows if r["host"] == BROKEN]
    errors = [r for r in broken if r["kind"] == "error"]
    assert len(errors) == 1
    assert errors[0]["source"] == str(tree / "hosts" / BROKEN / "kern.log.1.gz")
    assert "decompress" in errors[0]["error"]
    # the host's other file is still analysed
    good = _expected([tree / "hosts" / BROKEN / "kern.log"])
    assert good and [r for r in _got(broken, BROKEN) if r[0] != "error"] == good


def test_a_central_syslog_is_split_by_host(run: Any, tree: Path) -> None:
    central = tree / "central" / "messages"
    text = central.read_text().splitlines(True)
    for host in CENTRAL:
        rows = [r for r in run.rows if r["host"] == host]
        alone = tree / f"alone-{host}" / "messages"
        alone.parent.mkdir(exist_ok=True)
        numbers = [i for i, line in enumerate(text, 1) if f" {host} " in line]
        alone.write_text("".join(text[i - 1] for i in numbers))
        shutil.copystat(central, alone)
        expected = _expected([alone])
        assert expected and len(rows) == len(expected), host
        assert [r["line"] for r in rows] == [numbers[line - 1] for _, _, line in expected]
        assert all(r["source"] == str(central) and r["log_host"] == host for r in rows)
        assert all(f" {host} " in text[r["line"] - 1] for r in rows)


def test_parquet_and_jsonl_agree(run: Any, tree: Path, scheduler: str) -> None:
    from oomsleuth.cli import app

    out = tree / "kills.jsonl"
    argv = ["fleet", str(tree / "hosts"), str(tree / "central" / "messages"), "-o", str(out)]
    result = CliRunner().invoke(app, [*argv, "--scheduler", scheduler, "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    jsonl, parquet = read_rows(out), read_rows(tree / "kills.parquet")
    assert jsonl == parquet == run.rows
    first = json.loads(out.read_text().splitlines()[0])
    assert list(first) == list(NAMES)
    duckdb = pytest.importorskip("duckdb")
    query = "SELECT victim_comm, count(*) FROM '{}' WHERE kind <> 'error' GROUP BY 1"
    for path in (tree / "kills.parquet", out):
        got = dict(duckdb.sql(query.format(path)).fetchall())
        assert got == Counter(r["victim_comm"] for r in run.kills)


def test_urls_are_read_by_the_workers(tree: Path, scheduler: str) -> None:
    url = (tree / "hosts").as_uri() + "/web-*"
    result = oomsleuth.fleet([url], scheduler=scheduler, tz="UTC")
    assert {h.name for h in result.hosts} == {"web-1", "web-2"}
    for host in ("web-1", "web-2"):
        expected = _expected([tree / "hosts" / host])
        base = f"{url[:-1]}{host[-1]}/"  # file:///.../hosts/web-N/
        as_url = [(k, s.replace(str(tree / "hosts" / host) + "/", base), n) for k, s, n in expected]
        assert _got(result.rows, host) == sorted(as_url)


def test_without_the_extra_one_line_and_exit_2(tmp_path: Path) -> None:
    code = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['distributed'] = None; "
         "from oomsleuth.cli import main; "
         "sys.argv = ['oomsleuth', 'fleet', '.', '-o', 'k.jsonl']; main()"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert code.returncode == 2
    assert code.stderr.count("\n") == 1 and "oomsleuth[fleet]" in code.stderr, code.stderr
    assert not (tmp_path / "k.jsonl").exists()


def test_import_oomsleuth_stays_light() -> None:
    code = (
        "import sys, oomsleuth, oomsleuth.cli; oomsleuth.fleet; "
        "heavy = {'dask', 'distributed', 'pyarrow', 'fsspec'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_overview_page_in_a_browser(run: Any, tree: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from browser import Browser, find_chromium, page
    from test_browser import DESKTOP, PHONE, assert_clean, check_colours, load

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    html = tree / "fleet.html"
    text = html.read_text()
    for needle in ("leaky-sidecar", "steady-db", BROKEN, "idp02", "decompress"):
        assert needle in text, needle
    with Browser() as browser, page(browser) as tab:
        for size in (DESKTOP, PHONE):
            load(tab, html, size)
            assert_clean(tab)
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= size[0], f"{width} px wide in a {size[0]} px window"
            bars = tab.evaluate(
                "[...document.querySelectorAll('svg.bars')]"
                ".map((s) => s.getBoundingClientRect().width)"
            )
            assert bars and min(bars) > 100, bars
        load(tab, html, DESKTOP, dark=True)
        check_colours(tab, dark=True)
        assert_clean(tab)


def test_the_documented_schema_is_the_written_one() -> None:
    """docs/fleet.md lists every column, in order, with its type (it cannot go stale)."""
    from oomsleuth.fleet.rows import COLUMNS

    text = (ROOT / "docs" / "fleet.md").read_text()
    documented = [(name, kind) for name, kind in re.findall(r"^\| `(\w+)` \| (\w+) \|", text, re.M)]
    assert documented == [(name, kind) for name, (kind, _) in COLUMNS.items()]


@pytest.mark.slow
def test_the_command_on_its_own_local_cluster(tree: Path, tmp_path: Path) -> None:
    """No --scheduler: the command starts its own cluster of worker processes, says what it did
    in one line on stderr, exits 0 with kills and 1 without."""
    out = tmp_path / "kills.jsonl"
    cmd = [sys.executable, "-m", "oomsleuth", "fleet", "-o"]
    web = str(tree / "hosts" / "web-1")
    done = subprocess.run([*cmd, str(out), web, "--workers", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"oomsleuth: 1 OOM event on 1 host in {done.stderr.split(' in ')[1].split(' s ')[0]} s "
        f"-> {out}"
    ]
    assert [r["victim_comm"] for r in read_rows(out)] == ["steady-db"]
    empty = tmp_path / "none"
    empty.mkdir()
    (empty / "kern.log").write_text("Dec  6 10:00:00 h1 kernel: nothing to see\n")
    done = subprocess.run([*cmd, str(tmp_path / "k.jsonl"), "--workers", "1", str(empty)])
    assert done.returncode == 1


def test_the_overview_counts_every_host(run: Any) -> None:
    """The real rows copied onto 50 hosts: the table shows the 40 busiest, every count and the
    per-day bars still cover all 50; the copies are one moment on many hosts."""
    from oomsleuth.fleet.overview import KILL_KINDS, MAX_HOSTS, build_overview

    rows = [{**r, "host": f"copy-{i:02d}"} for i in range(50) for r in run.kills]
    ov = build_overview(rows, 50)
    kills = [r for r in rows if r["kind"] in KILL_KINDS]
    untimed = sum(1 for r in kills if r["epoch_s"] is None)
    assert len(ov.by_host_day) == MAX_HOSTS and ov.more_hosts == 10
    assert ov.kills == len(kills) and ov.no_kill == len(rows) - len(kills)
    assert ov.earlier > 0  # the fixtures span years: the page shows the last days
    assert sum(ov.per_day) + ov.earlier == len(kills)
    assert sum(ov.hours) == len(kills) - untimed
    assert ov.moments and max(len(m.hosts) for m in ov.moments) == 50
    assert ov.victims[0].hosts == 50


def test_hostile_host_names_are_shown_not_obeyed(run: Any, tree: Path, tmp_path: Path) -> None:
    """A host folder named with markup, a bidi override and a terminal escape: escaped in the
    page, \\u-escaped in the JSON Lines (read back as the true name), printable on stderr."""
    html = (tree / "fleet.html").read_text()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\u202e" not in html and "\x1b" not in html
    assert "\\u202e\\x1b[2J" in html  # shown as escapes
    from oomsleuth.fleet.write import write_rows

    write_rows(run.rows, tmp_path / "kills.jsonl")
    text = (tmp_path / "kills.jsonl").read_text()
    assert "\u202e" not in text and "\x1b" not in text and "\\u202e\\u001b[2J" in text
    assert any(r["host"] == EVIL for r in read_rows(tmp_path / "kills.jsonl"))
