"""Screenshot (or print) an HTML file in headless Chromium, as the browser tests do.

    python -m tests.browser.shot report.html out.png [--width 390] [--dark]
    python -m tests.browser.shot report.html out.png --viewport-only --height 1400
    python -m tests.browser.shot report.html out.pdf          # print to PDF (A4)

The whole page is captured unless --viewport-only; below 600 px wide the page is shown as on a
phone (mobile emulation: the meta viewport is honoured). What the page did wrong (console errors,
exceptions, CSP violations, any request beyond the file itself) is printed on stderr, and the
exit code is then 3; the picture is written either way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cdp import Browser, CdpError, find_chromium, page


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.browser.shot", description=__doc__.split("\n")[0]
    )
    ap.add_argument("html", type=Path, help="the HTML file to load (as a file:// URL)")
    ap.add_argument("out", type=Path, help="where to write: .png for a screenshot, .pdf to print")
    ap.add_argument("--width", type=int, default=1280, help="viewport width in CSS px (1280)")
    ap.add_argument(
        "--height", type=int, help="viewport height in CSS px (800; 844 below 600 px wide)"
    )
    ap.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (1)")
    ap.add_argument("--dark", action="store_true", help="emulate prefers-color-scheme: dark")
    ap.add_argument("--print-media", action="store_true", help="emulate print media (PNG only)")
    ap.add_argument("--viewport-only", action="store_true", help="only the first screenful")
    args = ap.parse_args(argv)
    phone = args.width < 600  # emulated as a phone: touch, meta viewport honoured
    height = args.height or (844 if phone else 800)
    if not args.html.is_file():
        ap.error(f"{args.html}: no such file")
    if find_chromium() is None:
        print("chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        with Browser() as browser, page(browser) as tab:
            tab.viewport(args.width, height, scale=args.scale, mobile=phone)
            tab.media(dark=args.dark, print_=args.print_media)
            tab.open(args.html.resolve().as_uri())
            if args.out.suffix.lower() == ".pdf":
                data = tab.pdf()
            else:
                data = tab.screenshot(full_page=not args.viewport_only)
            problems = tab.problems()
    except CdpError as exc:
        print(f"browser: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    for problem in problems:
        print(f"page: {problem}", file=sys.stderr)
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
