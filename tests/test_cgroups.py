"""decode_cgroup: every cgroup layout a kernel OOM report names, and hostile strings.

Kubernetes paths marked "corpus" are copied from the shared corpus of real reports; the rest
follow the layouts kubelet, containerd, CRI-O, docker, podman, LXC and systemd create.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomsleuth.correlate.cgroups import CgroupInfo, decode_cgroup, same_pod

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

CID = "178ec18073cc6ac7be2de8d9869daf162a6349dd056b6535849112c53ec3102a"
DOCKER_ID = "34186d2f5a1b8e0c3d76b4f2a9e15c07d8b3e6f1a2c4d5e6f7a8b9c0d1e2f3a4"
POD_SD = "kubepods-burstable-pod10d16a28_60ff_475f_a631_510d9792219f.slice"
POD_UID = "10d16a28-60ff-475f-a631-510d9792219f"
KINDS = {
    "kubernetes-pod",
    "kubernetes-container",
    "kubernetes-node",
    "systemd-service",
    "systemd-scope",
    "systemd-slice",
    "docker",
    "podman",
    "lxc",
    "user-session",
    "root",
    "other",
}

# path -> (expected fields, expected short())
CASES: list[tuple[str, dict[str, Any], str]] = [
    # --- Kubernetes, cgroupfs driver (corpus: oomexporter, aksnotes) ---
    (
        "/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd",
        {
            "kind": "kubernetes-pod",
            "qos": "burstable",
            "pod_uid": "62015ce8-a46f-4b0e-a5a1-3082235c62dd",
        },
        "pod 62015ce8… (burstable)",
    ),
    (
        "/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd/"
        "2cc85334e5030168b240f87215d26ecb97dd99c09237bd0a03d8957dafb33187",
        {
            "kind": "kubernetes-container",
            "qos": "burstable",
            "runtime": None,
            "pod_uid": "62015ce8-a46f-4b0e-a5a1-3082235c62dd",
            "container_id": "2cc85334e5030168b240f87215d26ecb97dd99c09237bd0a03d8957dafb33187",
        },
        "pod 62015ce8… (burstable) container 2cc85334e503…",
    ),
    (  # corpus: an id mangled by whoever posted it; still a container of that pod
        "/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd/"
        "1fsdg854e50fsdgdbd30168b240f215d26ecb97dd99c09237bd0a03d8957dafb33ddd",
        {"kind": "kubernetes-container", "qos": "burstable", "container_id": None},
        "pod 62015ce8… (burstable) container 1fsdg854e50f…",
    ),
    (
        f"/kubepods/pod{POD_UID}/{CID}",
        {
            "kind": "kubernetes-container",
            "qos": "guaranteed",
            "pod_uid": POD_UID,
            "container_id": CID,
        },
        "pod 10d16a28… (guaranteed) container 178ec18073cc…",
    ),
    (
        "/kubepods/besteffort/poda5d8fdd1-1369-469e-8a7d-2c1047529435",
        {
            "kind": "kubernetes-pod",
            "qos": "besteffort",
            "pod_uid": "a5d8fdd1-1369-469e-8a7d-2c1047529435",
        },
        "pod a5d8fdd1… (besteffort)",
    ),
    (
        f"/kubepods/burstable/pod{POD_UID}/crio-{CID}",
        {"kind": "kubernetes-container", "runtime": "cri-o", "container_id": CID},
        "pod 10d16a28… (burstable) container 178ec18073cc…",
    ),
    ("/kubepods", {"kind": "kubernetes-node", "qos": None}, "kubepods (all pods)"),
    (
        "/kubepods/besteffort",
        {"kind": "kubernetes-node", "qos": "besteffort"},
        "kubepods (besteffort)",
    ),
    # --- Kubernetes, systemd driver (corpus: harvester, lkml, aksnotes) ---
    (
        f"/kubepods.slice/kubepods-burstable.slice/{POD_SD}/cri-containerd-{CID}.scope",
        {
            "kind": "kubernetes-container",
            "runtime": "containerd",
            "qos": "burstable",
            "pod_uid": POD_UID,
            "container_id": CID,
            "unit": f"cri-containerd-{CID}.scope",
            "slice": POD_SD,
            "user_uid": None,
        },
        "pod 10d16a28… (burstable) container 178ec18073cc…",
    ),
    (
        "/kubepods.slice/kubepods-burstable.slice/"
        "kubepods-burstable-pod968a06fb_9ab9_4819_8caf_0392ddff3d9b.slice",
        {
            "kind": "kubernetes-pod",
            "runtime": None,
            "pod_uid": "968a06fb-9ab9-4819-8caf-0392ddff3d9b",
            "container_id": None,
            "unit": None,
        },
        "pod 968a06fb… (burstable)",
    ),
    (
        "/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/"
        "cri-containerd-9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987.scope",
        {"kind": "kubernetes-container", "qos": "besteffort", "runtime": "containerd"},
        "pod a5d8fdd1… (besteffort) container 9192cb33411f…",
    ),
    (  # corpus (harvester): "urstable" is a typo in the real log; the pod slice says burstable
        "/kubepods.slice/kubepods-urstable.slice/"
        "kubepods-burstable-podef91e487_dec5_4613_800b_eb23e1a1617d.slice/"
        "cri-containerd-100093783c22a3ae1a42e21dd887b7c26eef52d56ba44c7273ef54507b6efe7c.scope",
        {
            "kind": "kubernetes-container",
            "qos": "burstable",
            "pod_uid": "ef91e487-dec5-4613-800b-eb23e1a1617d",
            "runtime": "containerd",
        },
        "pod ef91e487… (burstable) container 100093783c22…",
    ),
    (
        "/kubepods.slice/kubepods-urstable.slice/kubepods-urstable-podef91e487_dec5_4613_800b_eb23e1a1617d.slice",
        {"kind": "kubernetes-pod", "qos": None, "pod_uid": "ef91e487-dec5-4613-800b-eb23e1a1617d"},
        "pod ef91e487…",
    ),
    (
        "/kubepods.slice/kubepods-urstable.slice",
        {"kind": "kubernetes-node", "qos": None},
        "kubepods (kubepods-urstable.slice)",
    ),
    (
        f"/kubepods.slice/kubepods-pod{POD_UID.replace('-', '_')}.slice/crio-{CID}.scope",
        {
            "kind": "kubernetes-container",
            "qos": "guaranteed",
            "runtime": "cri-o",
            "pod_uid": POD_UID,
        },
        "pod 10d16a28… (guaranteed) container 178ec18073cc…",
    ),
    (
        f"/kubepods.slice/kubepods-burstable.slice/{POD_SD}/crio-conmon-{CID}.scope",
        {"kind": "kubernetes-container", "runtime": "cri-o", "container_id": CID},
        "pod 10d16a28… (burstable) container 178ec18073cc… (conmon)",
    ),
    (
        f"/kubepods.slice/kubepods-burstable.slice/{POD_SD}/docker-{CID}.scope",
        {"kind": "kubernetes-container", "runtime": "docker", "container_id": CID},
        "pod 10d16a28… (burstable) container 178ec18073cc…",
    ),
    (  # a static pod: its uid is the manifest hash, 32 hex without dashes
        "/kubepods.slice/kubepods-burstable.slice/"
        "kubepods-burstable-pod8f3c0e2b7d9a41e6b5c2d1f0a9e8b7c6.slice",
        {"kind": "kubernetes-pod", "pod_uid": "8f3c0e2b7d9a41e6b5c2d1f0a9e8b7c6"},
        "pod 8f3c0e2b… (burstable)",
    ),
    (  # corpus: the node-allocatable cgroup was the one that hit its limit
        "/kubepods.slice",
        {"kind": "kubernetes-node", "qos": None, "slice": "kubepods.slice", "pod_uid": None},
        "kubepods (all pods)",
    ),
    (
        "/kubepods.slice/kubepods-besteffort.slice",
        {"kind": "kubernetes-node", "qos": "besteffort", "slice": "kubepods-besteffort.slice"},
        "kubepods (besteffort)",
    ),
    (  # kind (kubelet in docker, --cgroup-root=/kubelet), seen from the host
        f"/system.slice/docker-{DOCKER_ID}.scope/kubelet.slice/kubelet-kubepods.slice/"
        "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-"
        f"pod{POD_UID.replace('-', '_')}.slice/cri-containerd-{CID}.scope",
        {
            "kind": "kubernetes-container",
            "qos": "besteffort",
            "container_id": CID,
            "runtime": "containerd",
        },
        "pod 10d16a28… (besteffort) container 178ec18073cc…",
    ),
    (  # containerd's systemd cgroupsPath used verbatim as a directory (cgroup v1)
        f"/system.slice/containerd.service/{POD_SD}:cri-containerd:{CID}",
        {
            "kind": "kubernetes-container",
            "qos": "burstable",
            "pod_uid": POD_UID,
            "container_id": CID,
        },
        "pod 10d16a28… (burstable) container 178ec18073cc…",
    ),
    # --- docker, podman, LXC ---
    (
        f"/docker/{DOCKER_ID}",
        {"kind": "docker", "runtime": "docker", "container_id": DOCKER_ID, "unit": None},
        "docker 34186d2f5a1b…",
    ),
    (
        f"/system.slice/docker-{DOCKER_ID}.scope",
        {
            "kind": "docker",
            "runtime": "docker",
            "container_id": DOCKER_ID,
            "unit": f"docker-{DOCKER_ID}.scope",
            "slice": "system.slice",
        },
        "docker 34186d2f5a1b…",
    ),
    ("/docker", {"kind": "docker", "container_id": None}, "docker"),
    (
        f"/machine.slice/libpod-{DOCKER_ID}.scope",
        {
            "kind": "podman",
            "runtime": "podman",
            "container_id": DOCKER_ID,
            "slice": "machine.slice",
        },
        "podman 34186d2f5a1b…",
    ),
    (
        f"/machine.slice/libpod-{DOCKER_ID}.scope/container",
        {"kind": "podman", "container_id": DOCKER_ID},
        "podman 34186d2f5a1b…",
    ),
    (
        f"/machine.slice/libpod-conmon-{DOCKER_ID}.scope",
        {"kind": "podman", "container_id": DOCKER_ID},
        "podman 34186d2f5a1b… (conmon)",
    ),
    (
        f"/libpod_parent/libpod-{DOCKER_ID}",
        {"kind": "podman", "container_id": DOCKER_ID},
        "podman 34186d2f5a1b…",
    ),
    (  # rootless podman
        f"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{DOCKER_ID}.scope",
        {"kind": "podman", "user_uid": 1000, "slice": "user.slice", "container_id": DOCKER_ID},
        "podman 34186d2f5a1b… (uid 1000)",
    ),
    ("/lxc/web01", {"kind": "lxc", "runtime": "lxc", "container_id": None}, "lxc web01"),
    ("/lxc.payload.web01", {"kind": "lxc", "runtime": "lxc"}, "lxc web01"),
    ("/lxc.payload/web01", {"kind": "lxc"}, "lxc web01"),
    ("/lxc.monitor.web01", {"kind": "lxc"}, "lxc web01"),
    (  # containerd without Kubernetes: a scope with a container in it
        f"/system.slice/cri-containerd-{CID}.scope",
        {"kind": "systemd-scope", "runtime": "containerd", "container_id": CID},
        "containerd 178ec18073cc…",
    ),
    # --- systemd ---
    (  # corpus (v1 "Task in ... killed as a result of limit of ...")
        "/system.slice/node-app.service",
        {
            "kind": "systemd-service",
            "unit": "node-app.service",
            "slice": "system.slice",
            "runtime": None,
        },
        "node-app.service",
    ),
    (
        "/system.slice/nginx.service",
        {"kind": "systemd-service", "unit": "nginx.service"},
        "nginx.service",
    ),
    (
        "/system.slice/nginx.service/worker",
        {"kind": "systemd-service", "unit": "nginx.service"},
        "nginx.service/worker",
    ),
    (
        "/system.slice",
        {"kind": "systemd-slice", "slice": "system.slice", "unit": None},
        "system.slice",
    ),
    ("/init.scope", {"kind": "systemd-scope", "unit": "init.scope"}, "init.scope"),
    (
        "/user.slice/user-1000.slice/session-3.scope",
        {
            "kind": "user-session",
            "unit": "session-3.scope",
            "slice": "user-1000.slice",
            "user_uid": 1000,
        },
        "session-3.scope (uid 1000)",
    ),
    (
        "/user.slice/user-1000.slice",
        {"kind": "systemd-slice", "slice": "user-1000.slice", "user_uid": 1000},
        "user-1000.slice",
    ),
    (
        "/user.slice/user-1000.slice/user@1000.service",
        {"kind": "systemd-service", "unit": "user@1000.service", "user_uid": 1000},
        "user@1000.service",
    ),
    (
        "/user.slice/user-1000.slice/user@1000.service/app.slice/"
        "app-gnome-org.gnome.Terminal-4321.scope",
        {
            "kind": "systemd-scope",
            "unit": "app-gnome-org.gnome.Terminal-4321.scope",
            "slice": "app.slice",
            "user_uid": 1000,
        },
        "app-gnome-org.gnome.Terminal-4321.scope (uid 1000)",
    ),
    (  # systemd escapes: the unit keeps them (for systemctl), short() decodes them
        r"/machine.slice/machine-qemu\x2d1\x2dubuntu.scope",
        {"kind": "systemd-scope", "unit": r"machine-qemu\x2d1\x2dubuntu.scope"},
        "machine-qemu-1-ubuntu.scope",
    ),
    (
        r"/system.slice/system-systemd\x2dfsck.slice/systemd-fsck@dev-disk-by\x2duuid-1a2b.service",
        {"kind": "systemd-service", "slice": r"system-systemd\x2dfsck.slice"},
        "systemd-fsck@dev-disk-by-uuid-1a2b.service",
    ),
    (r"/system.slice/caf\xc3\xa9.service", {"kind": "systemd-service"}, "café.service"),
    (r"/system.slice/bad\xff.service", {"kind": "systemd-service"}, r"bad\xff.service"),
    (r"/system.slice/nl\x0a.service", {"kind": "systemd-service"}, r"nl\x0a.service"),
    (
        "/system.slice/boot.mount",
        {"kind": "other", "unit": "boot.mount"},
        "/system.slice/boot.mount",
    ),
    # --- root and plain cgroups (corpus) ---
    ("/", {"kind": "root", "unit": None, "slice": None}, "/"),
    ("/mem2", {"kind": "other"}, "/mem2"),
    ("/leaker", {"kind": "other"}, "/leaker"),
    ("test512mb", {"kind": "other"}, "test512mb"),
    (
        "/cgroup-test-work-dir673/oom_test/cg2",
        {"kind": "other"},
        "/cgroup-test-work-dir673/oom_test/cg2",
    ),
    ("/system.slice/foo/bar", {"kind": "other"}, "/system.slice/foo/bar"),
    ("/docker-registry", {"kind": "other", "runtime": None}, "/docker-registry"),
    # --- hostile: whitespace or control characters from a badly split log line ---
    (
        "/system.slice/nginx.service\n",
        {"kind": "other", "unit": None},
        r"/system.slice/nginx.service\n",
    ),
    ("/kubepods.slice ", {"kind": "other", "qos": None}, "/kubepods.slice "),
    (
        f"/kubepods/pod{POD_UID} /{CID}",
        {"kind": "other", "pod_uid": None},
        f"/kubepods/pod{POD_UID} /{CID}",
    ),
    ("/a\x00b", {"kind": "other"}, r"/a\x00b"),
]


@pytest.mark.parametrize(("path", "fields", "label"), CASES, ids=[c[0][-60:] for c in CASES])
def test_decode(path: str, fields: dict[str, Any], label: str) -> None:
    info = decode_cgroup(path)
    assert info is not None
    assert info.path == path
    assert {name: getattr(info, name) for name in fields} == fields
    assert info.short() == label


def test_nothing_to_decode() -> None:
    assert decode_cgroup(None) is None
    assert decode_cgroup("") is None
    assert decode_cgroup(" \n") is None


def test_trailing_and_doubled_slashes_do_not_change_the_meaning() -> None:
    a = decode_cgroup("/system.slice/nginx.service")
    b = decode_cgroup("//system.slice//nginx.service/")
    assert a is not None and b is not None
    assert (a.kind, a.unit, a.short()) == (b.kind, b.unit, b.short())
    root = decode_cgroup("//")
    assert root is not None and root.kind == "root"


def test_huge_uid_is_not_a_uid() -> None:
    info = decode_cgroup("/user.slice/user-" + "9" * 5000 + ".slice")
    assert info is not None and info.user_uid is None


def test_same_pod() -> None:
    pod = decode_cgroup("/kubepods.slice/kubepods-burstable.slice/" + POD_SD)
    container = decode_cgroup(
        f"/kubepods.slice/kubepods-burstable.slice/{POD_SD}/cri-containerd-{CID}.scope"
    )
    cgroupfs = decode_cgroup(f"/kubepods/burstable/pod{POD_UID}/{CID}")
    other = decode_cgroup("/kubepods/burstable/pod62015ce8-a46f-4b0e-a5a1-3082235c62dd")
    node = decode_cgroup("/kubepods.slice")
    service = decode_cgroup("/system.slice/nginx.service")
    assert pod and container and cgroupfs and other and node and service
    assert same_pod(pod, container) and same_pod(container, pod) and same_pod(pod, cgroupfs)
    assert not same_pod(pod, other)
    assert not same_pod(node, node)  # no pod at all is not "the same pod"
    assert not same_pod(service, service)


def test_info_is_frozen_and_comparable() -> None:
    info = decode_cgroup("/system.slice/nginx.service")
    assert info == CgroupInfo(
        "/system.slice/nginx.service", "systemd-service", unit="nginx.service", slice="system.slice"
    )
    with pytest.raises(AttributeError):
        info.kind = "other"  # type: ignore[misc]


def _corpus_paths() -> set[str]:
    paths: set[str] = set()
    pattern = re.compile(
        r"memcg=([^,\s]+)|Task in (\S+) killed as a result of limit of (\S+)"
        r"|Memory cgroup stats for ([^:\s]+)"
    )
    for log in sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []:
        for match in pattern.finditer(log.read_text(errors="replace")):
            paths.update(g for g in match.groups() if g)
    return paths


def test_every_corpus_path_decodes() -> None:
    paths = _corpus_paths()
    if not paths:
        pytest.skip("shared corpus not present")
    for path in paths:
        info = decode_cgroup(path)
        assert info is not None and info.kind in KINDS
        if "kubepods" in path:
            assert info.kind.startswith("kubernetes-"), path
        if "/pod" in path or "-pod" in path:
            assert info.pod_uid is not None and re.fullmatch(r"[0-9a-f-]{36}", info.pod_uid), path
        if path.endswith(".service"):
            assert info.kind == "systemd-service", path


_PIECES = st.sampled_from(
    [
        "kubepods",
        "kubepods.slice",
        "kubepods-burstable.slice",
        "kubepods-urstable.slice",
        "burstable",
        "besteffort",
        f"pod{POD_UID}",
        POD_SD,
        "kubepods-pod.slice",
        "kubepods--pod.slice",
        f"cri-containerd-{CID}.scope",
        f"crio-conmon-{CID}.scope",
        "docker",
        DOCKER_ID,
        "lxc",
        "lxc.payload.",
        "user-1000.slice",
        "user@.service",
        "session-3.scope",
        "x.slice",
        ".scope",
        r"\x2d\xff\x0a",
        "a:b:c.slice",
        ":",
        "",
        ".",
    ]
)


@settings(max_examples=300)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=8))
def test_never_raises_on_path_like_junk(pieces: list[str]) -> None:
    _check("/".join(pieces))


@settings(max_examples=300)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    _check(text)


@given(
    st.builds(
        CgroupInfo,
        path=st.text(max_size=40),
        kind=st.sampled_from(sorted(KINDS)),
        runtime=st.none() | st.text(max_size=8),
        qos=st.none() | st.sampled_from(["burstable", "besteffort", "guaranteed"]),
        pod_uid=st.none() | st.text(max_size=40),
        container_id=st.none() | st.text(max_size=70),
        unit=st.none() | st.text(max_size=20),
        slice=st.none() | st.text(max_size=20),
        user_uid=st.none() | st.integers(min_value=0),
    )
)
def test_short_never_raises_on_any_info(info: CgroupInfo) -> None:
    assert isinstance(info.short(), str)


def _check(path: str) -> None:
    info = decode_cgroup(path)
    if info is None:
        assert not path.strip()
        return
    assert info.path == path and info.kind in KINDS
    label = info.short()
    assert label and label.isprintable()
    if info.pod_uid is not None:
        assert info.kind.startswith("kubernetes-") and "_" not in info.pod_uid
    if info.container_id is not None:
        assert re.fullmatch(r"[0-9a-f]{12,64}", info.container_id)
