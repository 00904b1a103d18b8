"""The forked workers: results in order, a job's error raised, and a worker that dies (killed
by the OOM killer, say) never leaves the run waiting: it raises ChildLost, and the readers that
fork read in one process instead, with the same result."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import oomsleuth
from oomsleuth.load import forking
from oomsleuth.load import sources_forked as sources

ROOT = Path(__file__).resolve().parent.parent
LOGS = [
    ROOT / "fixtures" / "real" / "memcg-adj.dmesg-T.txt",
    ROOT / "fixtures" / "real" / "memcg-bystander.kmsg.txt",
    ROOT / "fixtures" / "real" / "memcg-names.dmesg-iso.txt",
]


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """A hang is the failure this file looks for: give up after 60 s instead."""
    old = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("timed out: a worker hung"))
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _killed() -> object:
    os.kill(os.getpid(), signal.SIGKILL)
    return None


def _fails() -> object:
    raise ValueError("in the job")


def test_results_in_order_and_told_as_they_come() -> None:
    heard: list[tuple[int, object]] = []
    jobs = [lambda i=i: i * i for i in range(7)]
    assert forking.read_forked(jobs, lambda i, r: heard.append((i, r))) == [i * i for i in range(7)]
    assert heard == [(i, i * i) for i in range(7)]


def test_a_job_error_is_raised_here() -> None:
    with pytest.raises(ValueError, match="in the job"):
        forking.read_forked([lambda: 1, _fails, lambda: 3])


def test_a_killed_worker_raises_at_once() -> None:
    with pytest.raises(forking.ChildLost):
        forking.read_forked([lambda: 1, _killed, lambda: 3, lambda: 4])


def test_a_result_that_does_not_pickle_is_a_lost_child() -> None:
    with pytest.raises(forking.ChildLost):
        forking.read_forked([lambda: 1, lambda: lambda: "a function does not pickle"])


def test_sources_read_here_when_a_worker_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """One source's worker killed: the sources are parsed in one process, same report."""
    monkeypatch.setenv(forking.NO_FORK, "1")
    alone = oomsleuth.analyze(LOGS, tz="UTC").to_dict()
    monkeypatch.setenv(forking.NO_FORK, "0")
    monkeypatch.setattr(sources, "FORK_BYTES", 0)
    monkeypatch.setattr(sources, "cores", lambda: 2)
    monkeypatch.setattr(sources, "safe_to_fork", lambda: True)  # other tests' idle threads
    real_job = sources._job
    lost: list[bool] = []

    def job(scan, source):  # type: ignore[no-untyped-def]
        if source.name == str(LOGS[1]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_job(scan, source)

    real_read = sources.read_forked

    def read(jobs, done=None):  # type: ignore[no-untyped-def]
        try:
            return real_read(jobs, done)
        except forking.ChildLost:
            lost.append(True)
            raise

    monkeypatch.setattr(sources, "_job", job)
    monkeypatch.setattr(sources, "read_forked", read)
    assert oomsleuth.analyze(LOGS, tz="UTC").to_dict() == alone
    assert lost == [True]


def test_history_read_here_when_a_worker_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A history reader's worker killed: the files are read one by one, same report."""
    from oomsleuth.load import history_forked

    folder = next(p for p in sorted((ROOT / "fixtures" / "incidents").iterdir()) if p.is_dir())
    history = [p for p in sorted(folder.iterdir()) if p.name.startswith(("atop", "sar", "psi"))]
    log = folder / "kern-dmesg-iso.txt"
    monkeypatch.setenv(forking.NO_FORK, "1")
    alone = oomsleuth.analyze([log], history=history, tz="UTC").to_dict()
    monkeypatch.setenv(forking.NO_FORK, "0")
    monkeypatch.setattr(history_forked, "FORK_BYTES", 0)
    monkeypatch.setattr(history_forked, "_cores", lambda: 2)
    monkeypatch.setattr(history_forked, "_safe_to_fork", lambda: True)
    real_read = history_forked.read_forked
    lost: list[bool] = []

    def read(jobs, done=None):  # type: ignore[no-untyped-def]
        try:
            return real_read([*jobs[:-1], _killed], done)
        except forking.ChildLost:
            lost.append(True)
            raise

    monkeypatch.setattr(history_forked, "read_forked", read)
    assert len(history) >= 2
    assert oomsleuth.analyze([log], history=history, tz="UTC").to_dict() == alone
    assert lost == [True]
