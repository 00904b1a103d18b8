#!/usr/bin/env python3
"""Render oomsleuth's terminal output (in colour, at a fixed width) to an SVG picture.

    python scripts/terminal_screenshot.py OUT.svg -- analyze LOG [--history H ...]

The SVG uses rich's web font; docs/screenshots/terminal.png was taken from it with
`python -m tests.browser.shot OUT.svg terminal.png --viewport-only --height 900`.
"""

from __future__ import annotations

import os
import subprocess
import sys

from rich.console import Console
from rich.text import Text


def main() -> int:
    out, args = sys.argv[1], sys.argv[sys.argv.index("--") + 1 :]
    env = {**os.environ, "COLUMNS": "100", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from oomsleuth.cli import app; app(prog_name='oomsleuth')",
            *args,
            "--width",
            "100",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    console = Console(record=True, width=100, force_terminal=True, color_system="truecolor")
    console.print(Text.from_ansi(proc.stdout))
    console.save_svg(out, title="oomsleuth analyze")
    return 0


if __name__ == "__main__":
    sys.exit(main())
