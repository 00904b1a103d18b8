"""Live end-to-end test: a real memcg OOM kill on this host, read back by `oomsleuth analyze`.

It needs root and a memory cgroup it may create a child in (cgroup v1 ``memory`` hierarchy, or
cgroup v2 with the memory controller enabled for our cgroup's children); otherwise it skips and
says why. The child cgroup is created under the cgroup this test already runs in, gets a 32 MiB
limit with swap disabled, and is always removed. A global OOM is never triggered.

Run only this test with ``pytest -m live``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.live, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 32 * 1024 * 1024
COMM = "oomsleuth-live"  # 14 bytes: fits TASK_COMM_LEN, distinctive in the log

# Sets its comm, then touches 1 MiB at a time until the memcg OOM killer SIGKILLs it.
LEAKER = f"""
import ctypes, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p({COMM.encode()!r}), 0, 0, 0)
held = []
for _ in range(4096):
    held.append(b"\\x01" * (1 << 20))
time.sleep(5)  # never reached while the limit holds
"""


# ----------------------------------------------------------------------------------------------
# helpers (self-contained on purpose: they mirror fixtures/capture_real.py)


@dataclass
class Memcg:
    version: str  # "v1" | "v2"
    mount: Path
    own_rel: str

    @property
    def own_dir(self) -> Path:
        return self.mount / self.own_rel.lstrip("/")


def _strip_root(path: str, root: str) -> str:
    if root != "/" and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def _find_memcg() -> Memcg | str:
    """Our memory cgroup, or a reason why there is none we may use."""
    cgroup_lines = Path("/proc/self/cgroup").read_text().splitlines()
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        f, p = pre.split(), post.split()
        mounts.append((f[3], f[4], p[0], p[2] if len(p) > 2 else ""))
    for line in cgroup_lines:
        hid, ctrls, path = line.split(":", 2)
        if hid != "0" and "memory" in ctrls.split(","):
            for root, mpoint, fstype, sopts in mounts:
                if fstype == "cgroup" and "memory" in sopts.split(","):
                    return Memcg("v1", Path(mpoint), _strip_root(path, root))
            return "cgroup v1 memory controller is listed in /proc/self/cgroup but not mounted"
    for line in cgroup_lines:
        hid, ctrls, path = line.split(":", 2)
        if hid == "0" and ctrls == "":
            for root, mpoint, fstype, _ in mounts:
                if fstype != "cgroup2":
                    continue
                mc = Memcg("v2", Path(mpoint), _strip_root(path, root))
                if "memory" not in (mc.own_dir / "cgroup.controllers").read_text().split():
                    return f"cgroup v2: the memory controller is not available in {mc.own_rel}"
                sub = mc.own_dir / "cgroup.subtree_control"
                if "memory" not in sub.read_text().split():
                    try:
                        sub.write_text("+memory")
                    except OSError as e:
                        why = (
                            "it has member processes (no-internal-process rule)"
                            if e.errno == errno.EBUSY
                            else str(e)
                        )
                        return (
                            f"cgroup v2: cannot enable memory for children of {mc.own_rel}: {why}"
                        )
                return mc
    return "no memory cgroup (neither a cgroup v1 'memory' hierarchy nor cgroup v2)"


def _kmsg_next_seq() -> int:
    return _read_kmsg(0)[1]


def _read_kmsg(start_seq: int) -> tuple[list[bytes], int]:
    """Raw /dev/kmsg records with seq >= start_seq (non-blocking), and the next seq."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    records: list[bytes] = []
    next_seq = start_seq
    try:
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                break
            except BrokenPipeError:  # overrun: the next read continues with the oldest record
                continue
            if not data:
                break
            seq = int(data.split(b";", 1)[0].split(b",")[1])
            next_seq = max(next_seq, seq + 1)
            if seq >= start_seq:
                records.append(data)
    finally:
        os.close(fd)
    return records, next_seq


def _dmesg_since(usec: int) -> bytes:
    """`dmesg` output from the first line stamped at or after `usec` (boot-relative)."""
    out = subprocess.run(
        ["dmesg"], check=True, stdout=subprocess.PIPE, env={**os.environ, "LC_ALL": "C.UTF-8"}
    ).stdout
    keep: list[bytes] = []
    on = False
    for line in out.splitlines(keepends=True):
        m = re.match(rb"^\[\s*(\d+)\.(\d{6})\]", line)
        if m:
            on = int(m.group(1)) * 1_000_000 + int(m.group(2)) >= usec
        if on:
            keep.append(line)
    return b"".join(keep)


def _join(procs_file: Path) -> Callable[[], None]:
    def pre() -> None:
        with open(procs_file, "w") as f:
            f.write(str(os.getpid()))

    return pre


# ----------------------------------------------------------------------------------------------
# fixture


@dataclass
class LiveCgroup:
    memcg: Memcg
    name: str
    dir: Path

    @property
    def rel(self) -> str:
        return "/" + str(self.dir.relative_to(self.memcg.mount))


@pytest.fixture
def live_cgroup() -> Iterator[LiveCgroup]:
    if sys.platform != "linux":
        pytest.skip("live OOM test: Linux only")
    if os.geteuid() != 0:
        pytest.skip("live OOM test: needs root (creates a memory cgroup, reads /dev/kmsg)")
    if not os.path.exists("/dev/kmsg"):
        pytest.skip("live OOM test: no /dev/kmsg")
    with contextlib.suppress(OSError):
        if Path("/proc/sys/vm/panic_on_oom").read_text().strip() == "2":
            pytest.skip("live OOM test: vm.panic_on_oom=2 would panic on a memcg OOM")
    found = _find_memcg()
    if isinstance(found, str):
        pytest.skip(f"live OOM test: {found}")
    name = f"oomsleuth-live-{uuid.uuid4().hex[:8]}"
    d = found.own_dir / name
    try:
        d.mkdir()
    except OSError as e:
        pytest.skip(f"live OOM test: cannot create a child cgroup in {found.own_dir}: {e}")
    try:
        if found.version == "v1":
            (d / "memory.limit_in_bytes").write_text(str(LIMIT_BYTES))
            if (d / "memory.memsw.limit_in_bytes").exists():
                (d / "memory.memsw.limit_in_bytes").write_text(str(LIMIT_BYTES))
        else:
            (d / "memory.max").write_text(str(LIMIT_BYTES))
            if (d / "memory.swap.max").exists():
                (d / "memory.swap.max").write_text("0")
        yield LiveCgroup(found, name, d)
    finally:
        deadline = time.monotonic() + 15
        while d.exists():
            if (d / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (d / "cgroup.kill").write_text("1")
            with contextlib.suppress(OSError):
                for pid in (d / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
            try:
                d.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


# ----------------------------------------------------------------------------------------------
# the test


def _analyze(path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "oomsleuth", "analyze", str(path), "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"oomsleuth analyze {path.name} -> {proc.returncode}\n{proc.stderr}"
    )
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


def oom_kill(cgroup: LiveCgroup) -> int:
    """Run the leaker in ``cgroup`` until the OOM killer SIGKILLs it; its pid."""
    leaker = subprocess.Popen(
        [sys.executable, "-c", LEAKER],
        preexec_fn=_join(cgroup.dir / "cgroup.procs"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rc = leaker.wait(timeout=120)
    finally:
        if leaker.poll() is None:
            leaker.kill()
            leaker.wait()
    assert rc == -signal.SIGKILL, f"leaker ended with {rc}, expected a SIGKILL from the OOM killer"
    time.sleep(0.5)  # let the last records (kill line, reaper) land
    return leaker.pid


def test_live_memcg_oom_kill_is_reported(live_cgroup: LiveCgroup, tmp_path: Path) -> None:
    seq_before = _kmsg_next_seq()
    leaker_pid = oom_kill(live_cgroup)
    records, _ = _read_kmsg(seq_before)
    killed = [r for r in records if f"Killed process {leaker_pid} (".encode() in r]
    assert killed, "the kernel log has no 'Killed process' line for our leaker"
    first_usec = int(records[0].split(b";", 1)[0].split(b",")[2])

    kmsg_file = tmp_path / "live.kmsg.txt"
    kmsg_file.write_bytes(b"".join(records))
    dmesg_file = tmp_path / "live.dmesg.txt"
    dmesg_file.write_bytes(_dmesg_since(first_usec))

    limit_kb = LIMIT_BYTES // 1024
    for path in (dmesg_file, kmsg_file):
        doc = _analyze(path)
        assert doc["schema_version"] == 1
        events = doc["events"]
        assert isinstance(events, list)
        mine = [
            e
            for e in events
            if e.get("kind") == "oom_kill" and (e.get("victim") or {}).get("pid") == leaker_pid
        ]
        assert len(mine) == 1, f"{path.name}: {len(mine)} oom_kill events for pid {leaker_pid}"
        ev = mine[0]
        where = f"{path.name}: {json.dumps(ev)[:2000]}"
        assert ev["victim"]["comm"] == COMM, where
        assert ev["memcg"] is not None and ev["memcg"]["limit_kb"] == limit_kb, where
        assert isinstance(ev["oom_memcg"], str), where
        assert ev["oom_memcg"].endswith("/" + live_cgroup.name), where
        assert ev["oom_memcg"].endswith(live_cgroup.rel), where
        # the leaker was alone in its cgroup: it invoked the OOM killer and is in the table
        assert ev["trigger"]["pid"] == leaker_pid, where
        assert ev["trigger"]["comm"] == COMM, where
        assert ev["uptime_s"] is not None and ev["uptime_s"] >= first_usec / 1e6, where
        if ev["tasks"] is not None:
            assert [t["pid"] for t in ev["tasks"]] == [leaker_pid], where


def test_no_fork_in_a_cgroup_short_of_memory(live_cgroup: LiveCgroup) -> None:
    """In a real memory cgroup limited to 32 MB, oomsleuth's headroom is at most the room left
    under the limit, so it forks no helper process (load.headroom, load.forking)."""
    code = (
        "from oomsleuth.load.forking import roomy\n"
        "from oomsleuth.load.headroom import headroom\n"
        "print(headroom(), roomy())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=_join(live_cgroup.dir / "cgroup.procs"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    room, roomy = proc.stdout.split()
    assert 0 <= int(room) < LIMIT_BYTES and roomy == "False"
