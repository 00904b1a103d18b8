"""Memory to spare before forking (load.headroom): the least of the host's MemAvailable and each
memory cgroup's limit less usage, up the hierarchy, cgroup v1 and v2; a host or container
short of memory is read in one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomsleuth.load import forking, headroom
from oomsleuth.load.headroom import MIN_HEADROOM

MB = 1 << 20


def _host(root: Path, available_kb: int, cgroup: str) -> None:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/meminfo").write_text(
        f"MemTotal:       24000000 kB\nMemFree:   100 kB\nMemAvailable:   {available_kb} kB\n"
    )
    (root / "proc/self/cgroup").write_text(cgroup)


def _files(folder: Path, **values: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (folder / name.replace("_", ".", 1)).write_text(value + "\n")


def test_cgroup_v2_limits_up_the_tree(tmp_path: Path) -> None:
    _host(tmp_path, 8 << 20, "0::/system.slice/box.service\n")
    base = tmp_path / "sys/fs/cgroup"
    _files(base / "system.slice/box.service", memory_max="max", memory_current="1000")
    _files(base / "system.slice", memory_max=str(600 * MB), memory_current=str(500 * MB))
    assert headroom.headroom(tmp_path) == 100 * MB  # the parent slice is nearly full
    _files(base / "system.slice", memory_max="max", memory_current="1")
    assert headroom.headroom(tmp_path) == 8 << 30  # no limit: the host's MemAvailable


def test_cgroup_v1_memory_controller(tmp_path: Path) -> None:
    _host(tmp_path, 8 << 20, "4:memory:/box/job\n3:cpu,cpuacct:/box\n0::/\n")
    base = tmp_path / "sys/fs/cgroup/memory"
    limit = str(2**63 - 4096)  # v1 "no limit"
    _files(
        base / "box/job", memory_limit_in_bytes=str(300 * MB), memory_usage_in_bytes=str(299 * MB)
    )
    _files(base / "box", memory_limit_in_bytes=limit, memory_usage_in_bytes="5")
    assert headroom.headroom(tmp_path) == 1 * MB
    _files(base / "box/job", memory_usage_in_bytes=str(400 * MB))  # over: no room at all
    assert headroom.headroom(tmp_path) == 0


def test_nothing_readable_is_no_limit(tmp_path: Path) -> None:
    assert headroom.headroom(tmp_path) is None
    _host(tmp_path, 123, "garbage\n4:memory:/gone\n")
    assert headroom.headroom(tmp_path) == 123 * 1024


def test_this_host_has_a_headroom_within_its_memory() -> None:
    room = headroom.headroom()
    meminfo = Path("/proc/meminfo").read_text()
    available = int(meminfo.split("MemAvailable:")[1].split()[0]) * 1024
    assert room is not None and 0 <= room <= available * 1.1


def test_no_fork_without_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forking, "headroom", lambda: MIN_HEADROOM - 1)
    assert not forking.roomy() and not forking.safe_to_fork()
    monkeypatch.setattr(forking, "headroom", lambda: MIN_HEADROOM)
    assert forking.roomy()
    monkeypatch.setattr(forking, "headroom", lambda: None)  # nothing says: no limit
    assert forking.roomy()
