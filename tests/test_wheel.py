"""The wheel ships the report templates: build it, install it into a fresh venv, and render an
HTML report from the INSTALLED copy (run from a directory outside the checkout, so nothing of
the checkout can be imported), with its templates read from site-packages.

The wheel is installed with ``--no-deps --no-index``; its dependencies (jinja2, typer, rich...)
come from this test's own environment through a path entry, so the test works offline except
for the build backend, which ``pip wheel`` fetches when it is not cached (the build is skipped,
not failed, when that is impossible).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "incidents" / "sidecar-leak-kills-db" / "kern-dmesg-iso.txt"
HISTORY = LOG.parent / "atop-P.txt"

PROBE = r"""
import json, sys
import oomsleuth
from oomsleuth.renderers.templating import templates_origin

log, history, out = sys.argv[1:4]
report = oomsleuth.analyze([log], history=[history], tz="UTC", on_warning=print)
with open(out, "w", encoding="utf-8") as f:
    oomsleuth.render(report, "html", f)
print(json.dumps({"package": oomsleuth.__file__, "templates": templates_origin()}))
"""


def _run(argv: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_installed_wheel_renders_html_from_its_own_templates(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        cwd=tmp_path,
    )
    if built.returncode != 0 and "hatchling" in built.stderr and "No matching" in built.stderr:
        pytest.skip("the build backend (hatchling) cannot be fetched: offline")
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("oomsleuth-*.whl")

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    installed = _run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).stdout.strip()
    )
    # the dependencies, from this environment (after the venv's own site-packages on sys.path)
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    out = tmp_path / "incident.html"
    probe = _run([str(python), "-c", PROBE, str(LOG), str(HISTORY), str(out)], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(site), found
    assert Path(found["templates"]) == site / "oomsleuth" / "templates", found
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html
    assert 'class="verdict' in html and 'class="chart"' in html
    assert "leaky-sidecar (14998)" in html
    for name in ("report.css", "report.js"):
        assert (site / "oomsleuth" / "templates" / "assets" / name).is_file()

    # once the CLI offers --format html, the installed command must write the same kind of page
    cli = target / "bin" / "oomsleuth"
    helped = _run([str(cli), "analyze", "--help"], cwd=tmp_path)
    if "html" in helped.stdout:
        page = tmp_path / "cli.html"
        argv = [str(cli), "analyze", str(LOG), "--history", str(HISTORY), "--tz", "UTC"]
        ran = _run([*argv, "--format", "html", "-o", str(page)], cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert "leaky-sidecar (14998)" in page.read_text(encoding="utf-8")
