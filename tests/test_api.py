"""The public API: ``oomsleuth.analyze`` is exactly what ``oomsleuth analyze`` prints, on every
fixture and every shared-corpus log, with and without history; ``render`` writes the four
formats; errors are one hierarchy; ``import oomsleuth`` costs nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pipeline import inside
from typer.testing import CliRunner

import oomsleuth
from oomsleuth import cli
from oomsleuth.errors import InputError, OomsleuthError, UsageError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
INCIDENTS = FIXTURES / "incidents"


def _logs() -> list[Path]:
    found = [
        p
        for folder in ("real", "handwritten", "userspace")
        for p in sorted((FIXTURES / folder).iterdir())
        if p.suffix in (".txt", ".log", ".json")
        and not p.name.endswith(("facts.json", "expect.json", "meta.json"))
    ]
    found += sorted(INCIDENTS.glob("*/kern-*.txt"))
    return found + (sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else [])


def _with_history() -> list[tuple[Path, list[Path]]]:
    cases = []
    for folder in sorted(p for p in INCIDENTS.iterdir() if p.is_dir()):
        history = [
            folder / n for n in ("atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt", "sar-A.txt")
        ]
        cases.append((folder / "kern-dmesg-iso.txt", history))
    return cases


def cli_json(args: list[str]) -> dict[str, Any]:
    """``oomsleuth analyze ARGS --format json``, in process, through the real typer app."""
    result = CliRunner().invoke(cli.app, ["analyze", *args, "--format", "json", "--tz", "UTC"])
    assert result.exit_code in (0, 1), result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _rel(p: Path) -> str:
    return (
        str(p.relative_to(ROOT))
        if p.is_relative_to(ROOT)
        else str(Path("..") / p.relative_to(ROOT.parent))
    )


@pytest.mark.parametrize("log", _logs(), ids=lambda p: p.name)
def test_analyze_is_the_cli_json(log: Path) -> None:
    with inside(ROOT):
        got = oomsleuth.analyze([_rel(log)], tz="UTC", on_warning=lambda _: None).to_dict()
        assert got == cli_json([_rel(log)])


@pytest.mark.parametrize(("log", "history"), _with_history(), ids=lambda c: getattr(c, "parent", c))
def test_analyze_with_history_is_the_cli_json(log: Path, history: list[Path]) -> None:
    with inside(ROOT):
        args = [_rel(log)]
        for h in history:
            args += ["--history", _rel(h)]
        report = oomsleuth.analyze([_rel(log)], history=[_rel(h) for h in history], tz="UTC")
        doc = report.to_dict()
        assert doc["incidents"] and doc["history"]["sources"]
        assert doc == cli_json(args)


def test_render_writes_every_format_from_one_report() -> None:
    report = oomsleuth.analyze([INCIDENTS / "sidecar-leak-kills-db" / "kern-dmesg-iso.txt"])
    texts = {}
    for fmt in ("terminal", "json", "html", "md"):
        out = io.StringIO()
        oomsleuth.render(report, fmt, out, width=100, color=False)
        texts[fmt] = out.getvalue()
    assert json.loads(texts["json"]) == report.to_dict()
    assert texts["html"].startswith("<!DOCTYPE html>")
    assert "steady-db" in texts["terminal"] and "steady-db" in texts["md"]
    with pytest.raises(UsageError, match="unknown format 'pdf'"):
        oomsleuth.render(report, "pdf", io.StringIO())


def test_errors_are_one_hierarchy(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        oomsleuth.analyze([tmp_path / "missing.log"])
    log = FIXTURES / "real" / "memcg-single.dmesg.txt"
    with pytest.raises(UsageError, match="unknown time zone"):
        oomsleuth.analyze([log], tz="Mars/Olympus")
    with pytest.raises(UsageError, match="bad duration"):
        oomsleuth.analyze([log], window="soon")
    with pytest.raises(UsageError, match="--boot-time"):
        oomsleuth.analyze([log], boot_time="yesterday-ish")
    assert issubclass(UsageError, OomsleuthError) and issubclass(InputError, OomsleuthError)


def test_analyze_takes_one_path_or_many_and_a_boot_time() -> None:
    log = INCIDENTS / "sidecar-leak-kills-db" / "kern-dmesg.txt"
    facts = json.loads((log.parent / "facts.json").read_text())["truth"]["kills"][0]
    from datetime import datetime, timedelta

    boot = datetime.fromisoformat(facts["kernel_time_utc"]) - timedelta(
        seconds=facts["kernel_uptime_s"]
    )
    one = oomsleuth.analyze(log, boot_time=boot)
    (kill,) = one.reports[0].kills
    assert kill.stamp.time_source == "boot-time option"
    assert kill.stamp.wall is not None  # the facts' stamp is the report's header, < 1 ms earlier
    assert (
        abs((kill.stamp.wall - datetime.fromisoformat(facts["kernel_time_utc"])).total_seconds())
        < 1e-3
    )
    assert oomsleuth.analyze([str(log)], boot_time=boot.isoformat()).to_dict() == one.to_dict()


def test_import_is_light() -> None:
    """``import oomsleuth`` loads no renderer, no rich, no jinja2, no history reader."""
    code = (
        "import sys, oomsleuth; "
        "heavy = [m for m in ('rich', 'jinja2', 'typer', 'dateutil', 'oomsleuth.api', "
        "'oomsleuth.history.registry') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_window_defaults_agree() -> None:
    """correlate (which imports only the model) keeps its own copy of the --window default."""
    from oomsleuth.correlate import DEFAULT_BEFORE
    from oomsleuth.history.windows import DEFAULT_BEFORE as WINDOW_BEFORE

    assert DEFAULT_BEFORE == WINDOW_BEFORE
