"""oomsleuth: post-mortem forensics for Linux OOM kills.

The public API (documented in the README and docs/api.md)::

    report = oomsleuth.analyze(["kern.log"], history=["/var/log/sysstat"])
    report.to_dict()                                  # the JSON document
    oomsleuth.render(report, "html", open("x.html", "w"))
    for event in oomsleuth.scan(open("dmesg.txt")):   # streaming, no correlation
        ...
    oomsleuth.analyze()                               # this host, now
    oomsleuth.collect("bundle.tar.gz")                # this host's evidence, kept
    oomsleuth.fleet(["logs/"], "kills.parquet")       # many hosts, on Dask (the fleet extra)

Imports are lazy: ``import oomsleuth`` loads nothing but this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oomsleuth._version import __version__

if TYPE_CHECKING:
    from oomsleuth.api import analyze, collect, render, scan
    from oomsleuth.fleet.run import fleet
    from oomsleuth.model import Event, Report

__all__ = ["Event", "Report", "__version__", "analyze", "collect", "fleet", "render", "scan"]


def __getattr__(name: str) -> Any:
    if name in ("analyze", "scan", "render", "collect"):
        from oomsleuth import api

        return getattr(api, name)
    if name == "fleet":  # the package is callable: oomsleuth.fleet(...) runs the job
        import oomsleuth.fleet as package

        return package
    if name in ("Report", "Event"):
        from oomsleuth import model

        return getattr(model, name)
    raise AttributeError(f"module 'oomsleuth' has no attribute {name!r}")
