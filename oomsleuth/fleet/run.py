"""The Dask job behind ``oomsleuth fleet``: one task per host on a cluster, each calling
:func:`oomsleuth.analyze` in :func:`~oomsleuth.fleet.task.analyze_host` and returning flat
rows; the rows of every host in one table, and an overview page.

Without a scheduler address the job runs on a :class:`distributed.LocalCluster` of processes
(one single-threaded worker per core: the analysis is pure Python, threads would share one
GIL); with one (``tcp://host:8786``) it runs on that cluster, whose workers must have
``oomsleuth[fleet]`` installed and be able to read the paths (shared storage or URLs). A task
that dies with its worker (a host's logs too big for its memory) is retried by Dask, then
becomes an error row: the job itself never fails because of one host.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oomsleuth.errors import InputError, UsageError
from oomsleuth.fleet.hosts import Host, discover, is_url
from oomsleuth.fleet.rows import Row, error_row
from oomsleuth.fleet.task import Options, analyze_host
from oomsleuth.model.record import field, record
from oomsleuth.output import refuse_inputs

EXTRA = "pip install 'oomsleuth[fleet]'"
Progress = Callable[[int, int, str], None]  # (hosts done, hosts in all, the host just done)


@record()
class FleetResult:
    """What :func:`fleet` found: every row (kills and errors), sorted by host, source, line."""

    rows: list[Row] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0

    @property
    def kills(self) -> list[Row]:
        """Every row but the errors: the OOM events (kills, reports that ended without one)."""
        return [r for r in self.rows if r["kind"] != "error"]

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r["kind"] == "error"]

    @property
    def size_bytes(self) -> int:
        return sum(h.size_bytes for h in self.hosts)


def require_extra(*modules: str) -> None:
    """UsageError naming the extra when one of ``modules`` cannot be imported."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing = f"oomsleuth fleet needs the fleet extra ({name} is missing): {EXTRA}"
            raise UsageError(missing) from None


def fleet(
    paths: str | Iterable[str],
    output: str | os.PathLike[str] | None = None,
    *,
    html: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    tz: str | None = None,
    year: int | None = None,
    window: str = "30m:5m",
    on_progress: Progress | None = None,
) -> FleetResult:
    """Every OOM kill of many hosts: ``paths`` (folders, globs, archives, central logs, fsspec
    URLs; see :mod:`oomsleuth.fleet.hosts`) split into hosts, each analysed by
    :func:`oomsleuth.analyze` on a Dask cluster (``scheduler``'s, else a local one of
    ``workers`` processes, default one per core). Writes the rows to ``output`` (``.jsonl`` or
    ``.parquet``) and the overview to ``html`` when given; returns them. Raises
    :class:`~oomsleuth.errors.OomsleuthError` (UsageError when the fleet extra is missing)."""
    from oomsleuth.fleet.write import table_format, write_rows

    out = Path(output) if output is not None else None
    modules = ["distributed", "fsspec"]
    if out is not None and table_format(out) == "parquet":
        modules.append("pyarrow")
    require_extra(*modules)
    given = [paths] if isinstance(paths, str) else list(paths)
    if not given:
        raise UsageError("oomsleuth fleet needs at least one PATH")
    started = time.perf_counter()
    hosts = discover(given)
    local = [p.path for h in hosts for p in h.parts if not is_url(p.path)]
    for target in (out, Path(html) if html is not None else None):
        if target is not None:
            refuse_inputs(target, local)
    options = Options(tz=tz, year=year, window=window)
    with _client(scheduler, workers) as client:
        count = len(client.scheduler_info().get("workers", {}))
        rows = _run(client, hosts, options, on_progress)
    rows.sort(key=lambda r: (r["host"], r["source"] or "", r["line"] or 0, r["kind"]))
    result = FleetResult(rows, hosts, time.perf_counter() - started, count)
    if out is not None:
        write_rows(rows, out)
    if html is not None:
        from oomsleuth.fleet.html import write_html

        write_html(result, Path(html))
    return result


def _run(client: Any, hosts: list[Host], options: Options, tick: Progress | None) -> list[Row]:
    as_completed = importlib.import_module("distributed").as_completed
    futures = client.map(analyze_host, hosts, options=options, pure=False)
    owner = {f.key: h for f, h in zip(futures, hosts, strict=True)}
    rows: list[Row] = []
    for done, future in enumerate(as_completed(futures), 1):
        host = owner[future.key]
        try:
            rows += future.result()
        except Exception as exc:  # the worker died with it (KilledWorker) or could not run it
            rows.append(error_row(host.name, None, f"{type(exc).__name__}: {exc}"))
        future.release()
        if tick is not None:
            tick(done, len(hosts), host.name)
    return rows


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    dask: Any = importlib.import_module("distributed")
    if scheduler is not None:
        try:
            client = dask.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with local_cluster(workers) as client:
        yield client


@contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Any]:
    """A client of a new LocalCluster: ``workers`` single-threaded worker processes (default:
    one per core), no dashboard, any free port."""
    dask: Any = importlib.import_module("distributed")
    n = workers or os.cpu_count() or 1
    # the workers' statistical profiler samples every 10 ms: CPU taken from every task
    quiet = {"distributed.worker.profile.enabled": False}
    with (
        importlib.import_module("dask").config.set(quiet),
        dask.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # no fixed port: the scheduler's HTTP server too
            scheduler_port=0,
            silence_logs=logging.CRITICAL,  # shutdown races log ERRORs; failures are rows
        ) as cluster,
        dask.Client(cluster) as client,
    ):
        client.wait_for_workers(n)
        yield client
