"""The README stays true: its usage blocks are the CLI's own --help, its commands run."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("readme_usage", ROOT / "scripts/readme_usage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_usage_blocks_match_help() -> None:
    text = README.read_text()
    tool = _tool()
    assert tool.BLOCK.search(text), "README has no usage block"
    assert tool.render(text) == text, (
        "README usage is stale: python scripts/readme_usage.py --write"
    )


def test_first_lines_are_the_two_setup_commands() -> None:
    head = README.read_text().split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", head, re.S)
    assert len(commands) == 2
    example, tests = commands
    assert "oomsleuth analyze fixtures/" in example
    assert "pytest" in tests
    path = re.search(r"oomsleuth analyze (fixtures/\S+)", example)
    assert path and (ROOT / path.group(1)).is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/pytest" in tests and ".venv/bin/pytest" in ci


def test_documented_exit_codes_are_the_real_ones() -> None:
    from oomsleuth import errors

    text = README.read_text()
    for code in (errors.EXIT_FOUND, errors.EXIT_NONE, errors.EXIT_USAGE):
        assert f"| {code} |" in text


def _setup_commands() -> list[str]:
    head = README.read_text().split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", head, re.S)


def test_setup_commands_work_as_root_without_sudo(tmp_path: Path) -> None:
    """Containers run as root and have no sudo: the set-up commands use it only when it exists
    (a bare ``sudo`` fails with "command not found" there)."""
    found = "SUDO=$(command -v sudo || true); "
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "sudo"
    fake.write_text('#!/bin/sh\nexec "$@"\n')
    fake.chmod(0o755)
    for command in _setup_commands():
        assert command.startswith(found)
        rest = command[len(found) :]
        assert not re.search(r"(?<![$\w])sudo\b", rest), "a bare sudo in a set-up command"
        assert rest.startswith("$SUDO apt-get update && $SUDO apt-get install")
        for path, want in ((tmp_path, ""), (tmp_path / "bin", str(fake))):
            said = subprocess.run(
                [shutil.which("bash") or "/bin/bash", "-ec", found + 'echo "[$SUDO]"'],
                env={"PATH": str(path)},
                capture_output=True,
                text=True,
                check=True,
            )
            assert said.stdout.strip() == f"[{want}]"
