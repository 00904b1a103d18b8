"""``redact``: no original name survives anywhere in the JSON document, nor in the HTML report
(which shows each report's own log lines), Markdown and the terminal; the same original always
gets the same pseudonym, and every number and kernel fact is unchanged.

Runs on every fixture with a kernel or userspace OOM event, the recorded incidents with their
history, the shared corpus (skipped when ../shared is absent) and the model factory's results.
"""

from __future__ import annotations

import functools
import html
import io
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import modelfactory as mf
import pytest
from pipeline import analyze_files

import oomsleuth
from oomsleuth.correlate.cgroups import decode_cgroup
from oomsleuth.model import (
    History,
    HostFacts,
    Incident,
    OomReport,
    Report,
    Sample,
    Suspect,
    UserspaceKill,
    Warning_,
    Where,
)
from oomsleuth.redact import redact
from oomsleuth.renderers.json import JsonRenderer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
INCIDENTS = ROOT / "fixtures" / "incidents"
LOGS = sorted(
    [*(ROOT / "fixtures" / "real").glob("*.txt"), *(ROOT / "fixtures" / "userspace").glob("*.log")]
    + [*(ROOT / "fixtures" / "handwritten").glob("k*.*[!n]")]  # not the facts .json
    + (sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else [])
)
PATH_FIELDS = frozenset(("oom_memcg", "task_memcg", "stats_path", "cgroup", "cpuset", "oom_group"))
KEPT_PARTS = re.compile(
    r"|\d+|kubepods(-burstable|-besteffort|-guaranteed)?(\.slice)?|burstable|besteffort|guaranteed"
    r"|(system|user|machine|-)\.slice|init\.scope|(user-|user@|session-)\d+\.(slice|service|scope)"
    r"|docker|lxc|cri-containerd|crio"
)
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w])")
UUID_SEP = re.compile(r"[-_]")


def result_of(path: Path) -> Report:
    return analyze_files([path])


def incident_result(name: str) -> Report:
    folder = INCIDENTS / name
    history = ("atop-P.txt", "pidstat-r.txt", "psi-cgroup.txt")
    return analyze_files([folder / "kern-dmesg-iso.txt"], history=[folder / h for h in history])


def synthetic() -> Report:
    """IPs, home directories, Prometheus labels and entities, systemd and docker paths."""
    base = mf.everything_result()
    t = datetime(2026, 6, 2, 12, 0, tzinfo=timezone.utc)
    report = replace(
        base.reports[1],
        oom_memcg="/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
        task_memcg="/user.slice/user-1000.slice/user@1000.service/app.slice/billing\\x2dapi.service",
    )  # fmt: skip
    samples = (
        Sample(t, "container_working_set_kb", 1.0, "container:shop/cart-7d9f8-x2bq/cart-api",
               (("instance", "10.1.2.3:8080"), ("namespace", "shop"), ("pod", "cart-7d9f8-x2bq"),
                ("container", "cart-api"), ("image", "registry.acme.io/cart:1.2"))),
        Sample(t, "proc_rss_kb", 2.0, "pid:4242",
               (("comm", "stress"), ("cmdline", "/home/alice/bin/stress --vm 1"),
                ("cgroup", "/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd/abc"))),
        Sample(t, "cg_mem_current_kb", 3.0, "cgroup:/system.slice/billing\\x2dapi.service"),
    )  # fmt: skip
    warn = Warning_(Where("node1/syslog", 3), "odd", "from 10.1.2.3 and fe80::1ff:fe23:4567:890a")
    userspace = UserspaceKill(
        "earlyoom", Where("node1/syslog", 9), base.reports[1].stamp, 7, "x",
        cgroup="/system.slice/billing\\x2dapi.service",
        raw="app01 earlyoom: sent by alice@10.9.8.7 from /home/alice/x, via 2001:470::5",
    )  # fmt: skip
    incident = Incident(
        0, 1, None, None, 4242, "stress", (), Suspect(
            "cgroup", 0.8, ("container:shop/cart-7d9f8-x2bq/cart-api grew on app01 (10.1.2.3)",),
            cgroup=report.oom_memcg),
        cgroup_label="billing-api.service",
    )  # fmt: skip
    return replace(
        base,
        reports=(base.reports[0], report, *base.reports[2:]),
        userspace=(*base.userspace, userspace),
        warnings=(*base.warnings, warn),
        incidents=(incident,),
        history=History(samples, (("/srv/hist/prom.json", "prometheus"),)),
    )


def _cases() -> dict[str, Callable[[], Report]]:
    found: dict[str, Callable[[], Report]] = {}
    for log in LOGS:
        found[log.name] = lambda log=log: result_of(log)  # type: ignore[misc]
    for folder in sorted(p.name for p in INCIDENTS.iterdir() if p.is_dir()):
        found[f"incident-{folder}"] = lambda f=folder: incident_result(f)  # type: ignore[misc]
    for name, result in mf.all_results().items():
        found[f"factory-{name}"] = lambda r=result: r  # type: ignore[misc]
    found["synthetic"] = synthetic
    return found


MAKERS = _cases()
CASES = sorted(MAKERS)


@functools.cache
def original(case: str) -> Report:
    return MAKERS[case]()


def render(result: Report) -> str:
    out = io.StringIO()
    JsonRenderer().render(result, out)
    return out.getvalue()


# -- what must disappear ----------------------------------------------------------------------


def strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(field name, string) for every string in the model, label values under their key."""
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from strings(getattr(value, f.name), f.name)
    elif isinstance(value, str):
        yield name, value
    elif isinstance(value, tuple):
        if name == "labels" and len(value) == 2 and all(isinstance(v, str) for v in value):
            yield value[0], value[1]
        elif name == "sources" and len(value) == 2 and all(isinstance(v, str) for v in value):
            yield name, value[0]  # History.sources: (name, format)
        else:
            for v in value:
                yield from strings(v, name)


def secrets(result: Report) -> set[str]:
    """Every original that must not survive: hosts, sources, boot ids, cgroup path components
    (and the pod UIDs and container ids they hold), IP addresses, pod and namespace names."""
    found: set[str] = set()
    for name, value in strings(result):
        if name in ("host", "boot_id", "pod", "image", "sources", "history_used", "source") or (
            name == "namespace" and value not in ("default", "kube-system")
        ):
            found |= set() if value in ("-", "<stdin>") else {value}
        elif name in PATH_FIELDS or (name == "entity" and value.startswith("cgroup:")):
            path = value.removeprefix("cgroup:")
            for part in re.split(r"[/:]", path):
                found |= set() if KEPT_PARTS.fullmatch(part) else {part}
            info = decode_cgroup(path)
            if info is not None:
                found |= {x for x in (info.pod_uid, info.container_id) if x}
                found |= {UUID_SEP.sub("_", info.pod_uid)} if info.pod_uid else set()
        found |= {ip for ip in IPV4.findall(value) if _is_ip(ip)}
        found |= set(re.findall(r"/home/([^/\s,]+)", value))
    return {s for s in found if len(s) > 1}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def comms(result: Report) -> set[str]:
    names = ("comm", "trigger_comm", "task", "groupname")
    return {value for name, value in strings(result) if name in names}


@pytest.mark.parametrize("case", CASES)
def test_no_original_survives(case: str) -> None:
    result = original(case)
    text = render(redact(result))
    kept = comms(result)  # a string equal to a process name stays where the process is named
    leaks = [
        s
        for s in sorted(secrets(result) - kept)
        if re.search(rf"(?<![\w.-]){re.escape(json.dumps(s)[1:-1])}(?![\w-])", text)
    ]
    assert leaks == []


@pytest.mark.parametrize("case", CASES)
def test_no_original_survives_in_the_other_formats(case: str) -> None:
    """Their text as a reader sees it: HTML unescaped, without its style sheet and script;
    Markdown without its backslash escapes."""
    result = original(case)
    redacted, kept = redact(result), comms(result)
    for fmt in ("html", "md", "terminal"):
        out = io.StringIO()
        oomsleuth.render(redacted, fmt, out)
        text = out.getvalue()
        if fmt == "html":
            text = html.unescape(re.sub(r"(?s)<(style|script)\b.*?</\1>", "", text))
        elif fmt == "md":
            text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
        leaks = [
            s
            for s in sorted(secrets(result) - kept)
            if re.search(r"\w", s)  # (a host masked as "**" is no name, and Markdown's bold)
            and re.search(rf"(?<![\w.-]){re.escape(s)}(?![\w-])", text)
        ]
        assert leaks == [], fmt


def test_protected_processes_of_the_host_facts_are_renamed_with_the_comms() -> None:
    facts = HostFacts("this host", hostname="db01", protected=((1, "systemd"), (640, "sshd")))
    result = Report(host_facts=(facts,))
    assert redact(result).host_facts[0].protected == facts.protected  # comms are kept...
    hidden = redact(result, comms=True).host_facts[0]  # ...unless asked
    assert hidden.hostname == "host-1"
    assert [pid for pid, _ in hidden.protected] == [1, 640]
    assert {comm for _, comm in hidden.protected} == {"comm-1", "comm-2"}


@pytest.mark.parametrize("case", CASES)
def test_numbers_and_kernel_facts_are_unchanged(case: str) -> None:
    result = original(case)
    before, after = json.loads(render(result)), json.loads(render(redact(result)))
    for path, old, new in pairs(before, after):
        if not isinstance(old, str) or path[-1] in FACTS:
            assert old == new, path
    for inc_old, inc_new in zip(before["incidents"], after["incidents"], strict=True):
        assert inc_old["culprit"]["kind"] == inc_new["culprit"]["kind"]
        assert inc_old["culprit"]["confidence"] == inc_new["culprit"]["confidence"]


FACTS = frozenset(
    str.split(
        "kind comm gfp_mask gfp_flags kernel hardware outcome code constraint order metric framing"
        " killer signal time time_confidence time_source page_size_source scope call_trace"
    )
)


def pairs(old: Any, new: Any, path: tuple[str, ...] = ("",)) -> Iterator[tuple[Any, Any, Any]]:
    """Walk two JSON documents of the same shape; yield (path, old leaf, new leaf)."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and len(old) == len(new), path
        keys = list(old) if list(old) == list(new) else None
        for (k_old, v_old), (_, v_new) in zip(old.items(), new.items(), strict=True):
            assert keys is not None or k_old not in FACTS, path
            yield from pairs(v_old, v_new, (*path, k_old))
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), path
        for a, b in zip(old, new, strict=True):
            yield from pairs(a, b, path)
    else:
        yield path, old, new


@pytest.mark.parametrize("case", CASES)
def test_the_same_original_gets_the_same_pseudonym(case: str) -> None:
    result = original(case)
    mapping: dict[tuple[str, str], str] = {}
    old_all, new_all = list(strings(result)), list(strings(redact(result)))
    assert len(old_all) == len(new_all)
    for (name, old), (_, new) in zip(old_all, new_all, strict=True):
        role = "path" if name in PATH_FIELDS else name
        if role in ("host", "path", "source", "boot_id", "pod", "namespace", "container"):
            assert mapping.setdefault((role, old), new) == new, (role, old)
    for role in ("host", "source", "boot_id"):  # and different originals stay apart
        values = [new for (r, _), new in mapping.items() if r == role]
        assert len(values) == len(set(values)), role


def test_pseudonyms_keep_the_structure() -> None:
    r = redact(synthetic())
    report = r.reports[1]
    assert re.fullmatch(r"/system\.slice/docker-ctr-\d+\.scope", report.oom_memcg or "")
    want = r"/user\.slice/user-1000\.slice/user@1000\.service/unit-\d+\.slice/unit-\d+\.service"
    assert re.fullmatch(want, report.task_memcg or "")
    samples = r.history.samples if r.history else ()
    assert samples[0].entity is not None and re.fullmatch(
        r"container:ns-1/pod-\d+/ctr-\d+", samples[0].entity
    )
    labels = dict(samples[0].labels)
    assert re.fullmatch(r"192\.0\.2\.\d+:8080", labels["instance"])
    assert labels["namespace"] == "ns-1" and labels["image"] == "image-1"
    cgroup = dict(samples[1].labels)["cgroup"]
    assert re.fullmatch(r"/kubepods/burstable/pod-\d+/ctr-\d+", cgroup)
    assert dict(samples[1].labels)["comm"] == "stress"
    raw = r.userspace[-1].raw
    assert "/home/user-1/x" in raw and "alice" not in raw and "10.9.8.7" not in raw
    assert "192.0.2." in raw and "2001:db8::" in raw
    # the unit named in a path, in a label decoded from it and in evidence: one pseudonym
    unit = (samples[2].entity or "").rsplit("/", 1)[1]
    assert r.incidents[0].cgroup_label == unit and r.userspace[-1].cgroup == f"/system.slice/{unit}"
    ip = labels["instance"].split(":")[0]
    assert r.warnings[-1].message.startswith(f"from {ip} and 2001:db8::")
    assert f"({ip})" in r.incidents[0].culprit.evidence[0]
    assert r.history is not None and r.history.sources[0][1] == "prometheus"
    assert re.fullmatch(r"source-\d+\.json", r.history.sources[0][0])


def test_kubernetes_paths_keep_their_shape() -> None:
    uid, cid = "5931aa75_4603_4e65_b552_7c71cf55cfb5", "25a38b5b8d556d7983d975577f5ac75e" * 2
    pod = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice"
    task = f"{pod}/cri-containerd-{cid}.scope"
    report = replace(mf.memcg_v2_report(), oom_memcg=pod, task_memcg=task)
    inc = Incident(0, 0, None, None, None, None, (), Suspect("unknown", 0.0),
                   cgroup_label="pod 5931aa75… (burstable) container 25a38b5b8d55…")  # fmt: skip
    r = redact(Report(reports=(report,), incidents=(inc,), sources=("journal.txt",)))
    new_pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod-1.slice"
    assert r.reports[0].oom_memcg == new_pod
    assert r.reports[0].task_memcg == f"{new_pod}/cri-containerd-ctr-1.scope"
    assert r.incidents[0].cgroup_label == "pod-1 (burstable) container ctr-1"


def test_comms_option_replaces_process_names_too() -> None:
    result = mf.everything_result()
    plain, hidden = redact(result), redact(result, comms=True)
    assert plain.reports[1].kills[0].victim.comm == "stress"
    victim = hidden.reports[1].kills[0].victim
    assert re.fullmatch(r"comm-\d+", victim.comm) and victim.pid == 4242
    assert not comms(hidden) & comms(result)
    tasks = hidden.reports[1].tasks or ()
    assert [t.comm for t in tasks if t.pid == 4242] == [victim.comm]  # the same pseudonym


def test_redact_is_pure_and_deterministic() -> None:
    result = synthetic()
    before = render(result)
    assert render(redact(result)) == render(redact(result))
    assert render(result) == before
    assert redact(Report()) == Report()


def test_reports_without_names_are_unchanged() -> None:
    report: OomReport = replace(
        mf.global_oom_report(), stamp=replace(mf.global_oom_report().stamp, host=None)
    )
    result = Report(reports=(report,), sources=("-",))
    assert redact(result).reports[0].tasks == report.tasks
    assert redact(result).sources == ("-",)


def test_comms_option_reaches_free_text() -> None:
    result = original("incident-sidecar-leak-kills-db")
    text = render(redact(result, comms=True))
    assert "leaky-sidecar" not in text and "steady-db" not in text
    assert "comm-1 (14998) lives on" in text
