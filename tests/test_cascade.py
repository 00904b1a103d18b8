"""The cascade tells the true story, in time order and in the OOM's scope.

On the recorded incidents (fixtures/incidents, real kernels and real collectors) each claimed
step is checked against the raw samples of the capture's own sampler (psi-cgroup.txt, read
here line by line, independently of oomsleuth's readers) and against facts.json. A global OOM
is checked on a real report with a history written for it (CSV): a cache that warms up is told
as rising and its start-up faults are not thrashing; a cache drained while faults climb is.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pipeline import ROOT, analyze_files

import oomsleuth
from oomsleuth.model import CascadeStep, Incident, Report
from oomsleuth.model.cascade import KINDS, step_text

INCIDENTS = ROOT / "fixtures" / "incidents"
HISTORY = ("psi-cgroup.txt", "pidstat-r.txt", "atop-P.txt", "sar-A.txt")


def analyze(scenario: str, *history: str) -> Report:
    folder = f"fixtures/incidents/{scenario}"
    return analyze_files(
        [f"{folder}/kern-dmesg-iso.txt"], history=[f"{folder}/{h}" for h in history or HISTORY]
    )


def facts(scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((INCIDENTS / scenario / "facts.json").read_text())
    return data


def sampled(scenario: str, key: str) -> dict[datetime, float]:
    """kB per sample time of one memory.stat key (or usage_in_bytes) of the scenario's cgroup,
    read straight from the sampler's lines."""
    out = {}
    pattern = re.compile(rf"^(\S+) \S+/oomsleuth-{scenario}-\w+/memory\.{key} (\d+)$")
    for line in (INCIDENTS / scenario / "psi-cgroup.txt").read_text().splitlines():
        m = pattern.match(line)
        if m:
            out[datetime.fromisoformat(m[1])] = int(m[2]) / 1024
    return out


def kinds(inc: Incident) -> list[str]:
    return [s.kind for s in inc.steps]


def in_time_order(inc: Incident) -> None:
    starts = [s.start for s in inc.steps]
    assert all(t is not None for t in starts)
    assert starts == sorted(starts), [(s.kind, s.start) for s in inc.steps]  # type: ignore[type-var]


def test_tmpfs_filling_the_cgroup_is_shmem_that_grew_never_a_drain() -> None:
    (inc,) = analyze("tmpfs-fills-memory").incidents
    in_time_order(inc)
    assert "cache_drained" not in kinds(inc) and "cache_grew" not in kinds(inc)
    assert "thrashing" not in kinds(inc)
    (shmem,) = [s for s in inc.steps if s.kind == "shmem_grew"]
    # the sampler's own numbers at the step's ends (v1 memory.stat shmem, bytes)
    raw = sampled("tmpfs-fills-memory", "stat shmem")
    assert (shmem.before, shmem.after) == (raw[shmem.start], raw[shmem.end])  # type: ignore[index]
    truth = facts("tmpfs-fills-memory")["truth"]["culprit"]["bytes"] / 1024
    assert shmem.after is not None and shmem.after >= 0.9 * truth
    assert shmem.scope == "cgroup" and shmem.confidence >= 0.9
    # from the last sample before the writer began to the first after it stopped, in its life
    procs = facts("tmpfs-fills-memory")["processes"]
    writer = next(p for p in procs if p["role"] == "tmpfs-writer")
    go, exited = (datetime.fromisoformat(writer[k]) for k in ("go_utc", "exit_seen_utc"))
    assert shmem.start <= go <= shmem.end <= exited < inc.end  # type: ignore[operator]
    # then the healthcheck's anon rose, then the limit was reached: the last step
    assert kinds(inc)[-2:] == ["anon_grew", "limit_reached"]
    limit = inc.steps[-1]
    assert limit.after == limit.reference == 204800 and limit.end == inc.end


def test_sidecar_cache_grew_then_was_drained_while_the_db_refaulted() -> None:
    (inc,) = analyze("sidecar-leak-kills-db").incidents
    in_time_order(inc)
    grew = next(s for s in inc.steps if s.kind == "cache_grew")
    drained = next(s for s in inc.steps if s.kind == "cache_drained")
    thrash = next(s for s in inc.steps if s.kind == "thrashing")
    assert grew.end <= drained.start <= thrash.start <= inc.end  # type: ignore[operator]
    # v1 cache minus shmem (0 here), as sampled, at the drain's ends: 48 MiB down to 5 MiB
    raw = sampled("sidecar-leak-kills-db", "stat cache")
    assert (drained.before, drained.after) == (raw[drained.start], raw[drained.end])  # type: ignore[index]
    assert drained.before is not None and drained.after is not None
    assert drained.before > 40 * 1024 and drained.after < 0.2 * drained.before
    # the leak: anon of the cgroup rose to nearly the limit, after the db's warm-up
    anon = [s for s in inc.steps if s.kind == "anon_grew"]
    assert len(anon) == 2 and anon[0].end <= anon[1].start  # type: ignore[operator]
    # the host's PSI of a v1 host is told, as host-wide and less sure
    psi = [s for s in inc.steps if s.kind.startswith("psi_")]
    assert psi and all(s.scope == "host" and s.confidence < 0.5 for s in psi)


def test_repeated_kills_each_tell_only_what_came_after_the_previous_kill() -> None:
    incidents = analyze("repeated-kills-restart").incidents
    assert len(incidents) == 4
    for before, inc in itertools.pairwise(incidents):
        in_time_order(inc)
        assert all(s.start >= before.end for s in inc.steps)  # type: ignore[operator]
        assert "anon_grew" in kinds(inc) and kinds(inc)[-1] == "limit_reached"


def test_without_history_only_the_report_speaks() -> None:
    (inc,) = analyze_files(["fixtures/incidents/tmpfs-fills-memory/kern-dmesg-iso.txt"]).incidents
    assert kinds(inc) == ["limit_reached"]
    assert inc.steps[0].source == "kernel report" and inc.steps[0].confidence == 1.0


# -- a global OOM, on a history written for it ------------------------------------------------

GLOBAL = "fixtures/handwritten/k5.15-global.journal-short-precise.txt"
KILL = datetime.fromisoformat("2024-03-02T14:11:07+00:00")


def _global(tmp_path: Path, cache: list[int], faults: list[int]) -> Incident:
    rows = ["time,series,value"]
    for i, (c, f) in enumerate(zip(cache, faults, strict=True)):
        t = (KILL - timedelta(seconds=10 * (len(cache) - i))).isoformat()
        rows += [f"{t},cached_kb,{c}", f"{t},majflt_s,{f}", f"{t},shmem_kb,1024"]
        rows.append(f"{t},mem_available_kb,{4_000_000 - 300_000 * i}")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    (inc,) = analyze_files([GLOBAL], history=[path]).incidents
    in_time_order(inc)
    return inc


def test_global_warm_up_is_a_cache_that_grew_not_thrashing(tmp_path: Path) -> None:
    mib = 1024
    inc = _global(tmp_path, [300 * mib, 400 * mib, 600 * mib, 700 * mib], [900, 800, 700, 600])
    assert "cache_grew" in kinds(inc)
    assert "cache_drained" not in kinds(inc) and "thrashing" not in kinds(inc)
    grew = next(s for s in inc.steps if s.kind == "cache_grew")
    assert (grew.before, grew.after) == (299 * mib, 699 * mib)  # Cached without Shmem
    assert grew.scope == "host" and "available_fell" in kinds(inc)


def test_global_drain_with_refaults_is_thrashing(tmp_path: Path) -> None:
    mib = 1024
    inc = _global(tmp_path, [2000 * mib, 2000 * mib, 600 * mib, 200 * mib], [0, 0, 40, 400])
    drained = next(s for s in inc.steps if s.kind == "cache_drained")
    thrash = next(s for s in inc.steps if s.kind == "thrashing")
    assert drained.before == 1999 * mib and drained.after == 199 * mib
    assert thrash.after == 400 and thrash.start <= thrash.end <= KILL  # type: ignore[operator]
    assert thrash.scope == "host" and thrash.confidence >= 0.9


# -- one sentence per step, the same in every format ------------------------------------------


@pytest.mark.parametrize("scenario", ["tmpfs-fills-memory", "sidecar-leak-kills-db"])
def test_every_format_says_each_step_in_the_same_words(scenario: str) -> None:
    result = analyze(scenario)
    (inc,) = result.incidents
    doc = result.to_dict()["incidents"][0]
    said = [step_text(s) for s in inc.steps]
    assert [s["text"] for s in doc["cascade_steps"]] == said == doc["cascade"][: len(said)]
    for fmt in ("md", "html", "terminal"):
        out = io.StringIO()
        oomsleuth.render(result, fmt, out, width=400) if fmt == "terminal" else oomsleuth.render(
            result, fmt, out
        )
        text = out.getvalue().replace("&#39;", "'").replace("\\'", "'")
        for sentence in said:
            assert sentence in " ".join(text.split()), (fmt, sentence)


def test_every_kind_has_a_sentence() -> None:
    for kind in KINDS:
        step = CascadeStep(kind, "cgroup", KILL, KILL, 1024.0, 2048.0, "kB", "x", 1.0, "b", 4096)
        text = step_text(step)
        assert "->" not in text and "?" not in text, text  # not the fallback, nothing unknown


# -- a cgroup with memory.high and its own PSI (cgroup v2 history), on a real memcg report ------

NAMES = "fixtures/real/memcg-names.dmesg-iso.txt"
CG = "cgroup:/process_api/1610641e2dc52109df692efe94027111/oomsleuth-memcg-names-621bee85"
NAMES_KILL = datetime.fromisoformat("2026-11-25T22:52:17+00:00")


def test_memory_high_and_the_cgroups_own_psi(tmp_path: Path) -> None:
    rows = ["time,metric,entity,value"]
    usage = [60_000, 80_000, 100_000, 115_000, 125_000, 130_000]
    psi = [0.0, 0.0, 0.0, 4.0, 12.0, 30.0]
    for i, (u, p) in enumerate(zip(usage, psi, strict=True)):
        t = (NAMES_KILL - timedelta(seconds=5 * (len(usage) - i))).isoformat()
        rows += [f"{t},cg_mem_current_kb,{CG},{u}", f"{t},cg_mem_high_kb,{CG},110000"]
        rows += [f"{t},cg_psi_some_avg10,{CG},{p}", f"{t},psi_mem_some_avg10,,{p / 10}"]
    path = tmp_path / "v2.csv"
    path.write_text("\n".join(rows) + "\n")
    result = analyze_files([NAMES], history=[path])
    (inc,) = result.incidents
    in_time_order(inc)
    high = next(s for s in inc.steps if s.kind == "high_throttled")
    assert (high.before, high.after, high.reference) == (100_000, 115_000, 110_000)
    (psi_step,) = [s for s in inc.steps if s.kind == "psi_some"]
    assert psi_step.scope == "cgroup" and psi_step.after == 30.0 and psi_step.confidence >= 0.9
    assert "the cgroup's PSI memory some rose from 0.0% to 30.0%" in " ".join(inc.cascade)
    out = io.StringIO()
    oomsleuth.render(result, "html", out)
    page = out.getvalue()
    assert "memory.high" in page and "of the cgroup (PSI)" in page  # drawn: the cgroup's own


@pytest.mark.parametrize("scenario", sorted(p.parent.name for p in INCIDENTS.glob("*/facts.json")))
def test_the_steps_in_the_json_follow_the_schema(scenario: str) -> None:
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("oomsleuth.schema").joinpath("oomsleuth.schema.json").read_text())
    doc = json.loads(json.dumps(analyze(scenario).to_dict()))
    jsonschema.Draft202012Validator(schema).validate(doc)
    for inc in doc["incidents"]:
        assert inc["cascade_steps"], inc["id"]
        starts = [s["start"] for s in inc["cascade_steps"]]
        assert starts == sorted(starts)


def test_cadvisor_names_of_a_cgroups_anon_and_cache_are_read(tmp_path: Path) -> None:
    """cAdvisor exports a container's rss and cache under its cgroup path: they are the
    cgroup's anon and page cache (with shmem: cAdvisor does not split it out)."""
    rows = ["time,metric,entity,value"]
    for i, (anon, cache) in enumerate([(20_000, 60_000), (50_000, 60_000), (90_000, 30_000)]):
        t = (NAMES_KILL - timedelta(seconds=15 * (3 - i))).isoformat()
        rows += [f"{t},cg_mem_current_kb,{CG},{anon + cache}"]
        rows += [f"{t},container_rss_kb,{CG},{anon}", f"{t},container_cache_kb,{CG},{cache}"]
    path = tmp_path / "cadvisor.csv"
    path.write_text("\n".join(rows) + "\n")
    result = analyze_files([NAMES], history=[path])
    (inc,) = result.incidents
    assert kinds(inc)[:2] == ["anon_grew", "cache_drained"]
    assert (inc.steps[1].before, inc.steps[1].after) == (60_000, 30_000)
    out = io.StringIO()
    oomsleuth.render(result, "html", out)
    assert "page cache (with shmem)" in out.getvalue()


def test_the_schema_and_the_docs_list_every_kind() -> None:
    from importlib.resources import files

    schema = json.loads(files("oomsleuth.schema").joinpath("oomsleuth.schema.json").read_text())
    step = schema["$defs"]["incident"]["properties"]["cascade_steps"]["items"]
    assert step["properties"]["kind"]["enum"] == list(KINDS)
    docs = (ROOT / "docs" / "json-schema.md").read_text()
    assert all(f"`{kind}`" in docs for kind in KINDS)


def test_host_wide_noise_is_not_a_step_of_a_cgroups_oom(tmp_path: Path) -> None:
    """kswapd busy all along on the host, and a stall long before the kill: neither moved near
    this cgroup's kill, so neither is told; a host stall that peaks at the kill is (less sure)."""
    rows = ["time,series,value"]
    for i in range(40):
        t = (NAMES_KILL - timedelta(seconds=30 * (40 - i))).isoformat()
        stall = 25.0 if i == 5 else 40.0 if i == 39 else 0.0
        rows += [f"{t},pgscank_s,{300 + 5 * (i % 3)}", f"{t},psi_mem_some_avg10,{stall}"]
    path = tmp_path / "host.csv"
    path.write_text("\n".join(rows) + "\n")
    (inc,) = analyze_files([NAMES], history=[path]).incidents
    assert "reclaim_kswapd" not in kinds(inc)
    (psi_step,) = [s for s in inc.steps if s.kind == "psi_some"]
    assert psi_step.after == 40.0 and psi_step.start == psi_step.end  # only the last rise
    assert psi_step.scope == "host" and psi_step.confidence < 0.5
