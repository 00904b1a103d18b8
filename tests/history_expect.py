"""Helpers shared by the history reader tests: run a parser, compare with NAME.expect.json.

Set ``OOMSLEUTH_REGEN=1`` to rewrite the expectations from the parser (then read the diff line
by line).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from expect import REGEN

from oomsleuth.model import Sample, Warning_


def run(
    parse: Callable[..., Iterable[Sample]],
    lines: Iterable[str],
    *,
    source: str = "t",
    tz: Any = timezone.utc,
    **kw: Any,
) -> tuple[list[Sample], list[Warning_]]:
    """All the samples and warnings of ``parse`` (a reader's ``parse``) over ``lines``."""
    warnings: list[Warning_] = []
    samples = list(parse(lines, source=source, tz=tz, warn=warnings.append, **kw))
    return samples, warnings


def as_json(samples: list[Sample], warnings: list[Warning_]) -> dict[str, Any]:
    return {
        "warnings": [{"line": w.where.line, "code": w.code} for w in warnings],
        "samples": [
            {
                "time": s.time.isoformat(),
                "metric": s.metric,
                "value": s.value,
                "entity": s.entity,
                "labels": dict(s.labels),
            }
            for s in samples
        ],
    }


def dump(doc: dict[str, Any]) -> str:
    """One warning or sample a line, so a diff reads like the input."""
    head = json.dumps({k: v for k, v in doc.items() if k not in ("warnings", "samples")}, indent=2)
    lists = [
        f'  "{key}": [' + ",".join("\n    " + json.dumps(x) for x in doc[key]) + "\n  ]"
        for key in ("warnings", "samples")
    ]
    return head[:-2] + ",\n" + ",\n".join(lists) + "\n}\n"


def check_expect(expect: Path, want: dict[str, Any], got: dict[str, Any]) -> None:
    """``got`` (from :func:`as_json`) against ``want`` (read from ``expect``), or rewrite it."""
    if REGEN:
        expect.write_text(dump({**want, **got}))
        pytest.skip("regenerated")
    assert got["warnings"] == want["warnings"]
    assert len(got["samples"]) == len(want["samples"])
    for i, (g, w) in enumerate(zip(got["samples"], want["samples"], strict=True)):
        assert g == {**w, "value": pytest.approx(w["value"], rel=1e-9)}, f"sample {i}"
