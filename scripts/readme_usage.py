#!/usr/bin/env python3
"""Print, check or rewrite the usage blocks of README.md from the CLI's own --help.

    python scripts/readme_usage.py           # print the generated blocks
    python scripts/readme_usage.py --write   # rewrite them in README.md

A block is the fenced text after a line ``<!-- usage: ARGS -->``; it holds the output of
``oomsleuth ARGS --help`` at 100 columns without colour. tests/test_readme.py checks them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- usage: (?P<args>[^>]*?) -->\n```text\n)(?P<body>.*?)(```)", re.S)


def help_text(args: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "oomsleuth", *args.split(), "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return "\n".join(line.rstrip() for line in proc.stdout.strip("\n").splitlines()) + "\n"


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m[1] + help_text(m["args"]) + m[4], text)


def main() -> int:
    text = README.read_text()
    new = render(text)
    if "--write" in sys.argv:
        README.write_text(new)
    else:
        sys.stdout.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
