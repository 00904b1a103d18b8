"""Live: a real memcg OOM kill on this host, found by `oomsleuth analyze` with no path, kept by
`oomsleuth collect` and found again in the bundle, with the cgroup's real settings as findings.

Needs root and a memory cgroup we may create a child in (see tests/test_live.py, whose helpers
and fixture this uses); otherwise it skips. The child cgroup is removed after; the only global
setting touched is vm.oom_dump_tasks, for one kill, restored after.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tarfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_live import LIMIT_BYTES, REPO, LiveCgroup, live_cgroup, oom_kill

pytestmark = [pytest.mark.live, pytest.mark.slow]
__all__ = ["live_cgroup"]  # the fixture, shared with test_live.py
DUMP_TASKS = Path("/proc/sys/vm/oom_dump_tasks")


def _oom(cgroup: LiveCgroup) -> tuple[int, float, float]:
    """Run the leaker in the cgroup until the OOM killer kills it: (pid, start, end) epoch."""
    start = time.time()
    pid = oom_kill(cgroup)
    return pid, start, time.time()


def _run(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "oomsleuth", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"oomsleuth {' '.join(args)} -> {proc.returncode}\n{proc.stderr}"
    doc: dict[str, Any] = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    return doc


def _mine(doc: dict[str, Any], pid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one oom_kill event of ``pid`` and its incident."""
    kills = [e for e in doc["events"] if e["kind"] == "oom_kill" and e["victim"]["pid"] == pid]
    assert len(kills) == 1, f"{len(kills)} kill events for pid {pid}"
    [incident] = [i for i in doc["incidents"] if i["report_id"] == kills[0]["report_id"]]
    return kills[0], incident


def _check_kill(event: dict[str, Any], cgroup: LiveCgroup, start: float, end: float) -> None:
    assert event["memcg"]["limit_kb"] == LIMIT_BYTES // 1024
    assert event["oom_memcg"].endswith(cgroup.rel)
    assert event["time"] is not None and event["time_source"] in ("boot-time", "journal", "log")
    when = datetime.fromisoformat(event["time"]).timestamp()
    slack = (event["time_uncertainty_s"] or 0.0) + 0.1
    assert start - slack <= when <= end + slack, (event["time"], start, end)


def test_the_host_with_no_path_finds_the_kill_and_its_settings(live_cgroup: LiveCgroup) -> None:
    pid, start, end = _oom(live_cgroup)
    doc = _run("analyze", "--since", "-15m", "--format", "json")
    event, incident = _mine(doc, pid)
    _check_kill(event, live_cgroup, start, end)
    [facts] = doc["host_facts"]
    assert facts["origin"] == "this host" and facts["boot_time"] is not None
    assert event["host"] == facts["hostname"]  # kmsg/journal kernel records name no host
    state = [c for c in facts["cgroups"] if c["path"] == live_cgroup.rel]
    assert state, "the cgroup of the kill was not read"
    said = {f["setting"]: f for f in incident["findings"]}
    if live_cgroup.memcg.version == "v1":
        assert int(state[0]["files"]["memory.limit_in_bytes"]) == LIMIT_BYTES
        if "memory.memsw.limit_in_bytes" in state[0]["files"]:
            assert "cannot swap" in said["memory.memsw.limit_in_bytes"]["text"]
    else:
        assert state[0]["files"]["memory.max"] == str(LIMIT_BYTES)
        assert "memory.high is unset" in said["memory.high"]["text"]
    assert all(
        live_cgroup.rel in f["read_from"] or "this host" in f["read_from"] for f in said.values()
    )


def test_no_task_table_is_explained_by_the_sysctl(live_cgroup: LiveCgroup) -> None:
    before = DUMP_TASKS.read_text().strip()
    DUMP_TASKS.write_text("0")
    try:
        pid, _, _ = _oom(live_cgroup)
    finally:
        DUMP_TASKS.write_text(before)
        with contextlib.suppress(OSError):
            assert DUMP_TASKS.read_text().strip() == before
    DUMP_TASKS.write_text("0")  # the finding reads the setting as it is when analysed
    try:
        doc = _run("analyze", "--since", "-15m", "--format", "json")
    finally:
        DUMP_TASKS.write_text(before)
    event, incident = _mine(doc, pid)
    assert event["tasks"] is None
    assert any(f["setting"] == "vm.oom_dump_tasks" for f in incident["findings"])


def test_collect_then_analyze_the_bundle(live_cgroup: LiveCgroup, tmp_path: Path) -> None:
    pid, start, end = _oom(live_cgroup)
    live = _run("analyze", "--since", "-15m", "--format", "json")
    bundle = tmp_path / "host.tar.gz"
    _run("collect", "-o", str(bundle), "--since", "-15m")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        [manifest_name] = [n for n in names if n.endswith("/manifest.json")]
        extracted = tar.extractfile(manifest_name)
        assert extracted is not None
        manifest = json.load(extracted)
    assert manifest["format"] == "oomsleuth-bundle" and manifest["files"]
    assert any("/cgroups/" in n for n in names), "the cgroup of the kill is not in the bundle"
    doc = _run("analyze", str(bundle), "--format", "json")
    event, incident = _mine(doc, pid)
    _check_kill(event, live_cgroup, start, end)
    _, live_incident = _mine(live, pid)
    assert incident["culprit"]["kind"] == live_incident["culprit"]["kind"]
    assert incident["culprit"]["pid"] == live_incident["culprit"]["pid"]
    assert {f["setting"] for f in incident["findings"]} == {
        f["setting"] for f in live_incident["findings"]
    }


def test_a_redacted_bundle_names_no_cgroup_and_no_host(
    live_cgroup: LiveCgroup, tmp_path: Path
) -> None:
    pid, _, _ = _oom(live_cgroup)
    bundle = tmp_path / "redacted.tar.gz"
    _run("collect", "-o", str(bundle), "--since", "-15m", "--redact")
    with tarfile.open(bundle) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        names = " ".join(m.name for m in members)
        texts = []
        for m in members:
            f = tar.extractfile(m)
            assert f is not None
            texts.append(f.read().decode("utf-8", "replace"))
    assert f"({pid})" in "".join(texts) or f"process {pid} " in "".join(texts)  # the kill is in
    assert live_cgroup.name not in names
    assert not [m.name for m, t in zip(members, texts, strict=True) if live_cgroup.name in t]
    assert "/host/hostname" not in names


def test_a_cgroup_killed_twice_says_its_limit_is_too_low(live_cgroup: LiveCgroup) -> None:
    first, _, _ = _oom(live_cgroup)
    second, _, _ = _oom(live_cgroup)
    doc = _run("analyze", "--since", "-15m", "--format", "json")
    _, incident = _mine(doc, second)
    _mine(doc, first)
    hits = [f for f in incident["findings"] if "oom_kill" in f["value"]]
    assert hits, incident["findings"]
    assert "the OOM killer ran 2 times" in hits[0]["text"]
    assert live_cgroup.rel in hits[0]["read_from"]
