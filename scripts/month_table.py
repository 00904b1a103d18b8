#!/usr/bin/env python3
"""Derive the package's month-name table from the full glibc table.

    python3 scripts/month_table.py              # writes oomsleuth/frame/month_names.json
    python3 scripts/month_table.py --check      # exit 1 when the package table is stale

The full table (``fixtures/evidence/locale/month-names.json``, written by
``scripts/gen_month_names.py`` from every locale Debian's ``locales-all`` installs) holds each
month name glibc prints (``%b``, ``%B``, ``%Ob``, ``%OB``) with its month and locales. The
package needs name -> month and the languages that print it; for each key that means different
months in different locales (``lis``: October in hr_HR, November in pl_PL and cs_CZ) every month
with how many locales mean it and their languages, so a reader can settle it from the other
month names of the same log.
Keys are NFC, case-folded, without surrounding blanks (``str.casefold`` of what is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "fixtures" / "evidence" / "locale" / "month-names.json"
PACKAGE = ROOT / "oomsleuth" / "frame" / "month_names.json"


def _language(locale_name: str) -> str:
    return locale_name.split("_")[0].split(".")[0].split("@")[0]


def derive(full: dict) -> dict:
    """name -> [month, [languages]]; ambiguous name -> {month: [how many locales, languages]}."""
    months = {
        key: [entry["v"], sorted({_language(loc) for loc in entry["loc"]})]
        for key, entry in full["months"].items()
    }
    ambiguous = {
        key: {
            value: [len(locales), sorted({_language(loc) for loc in locales})]
            for value, locales in sorted(entry["values"].items(), key=lambda kv: int(kv[0]))
        }
        for key, entry in full["ambiguous"]["months"].items()
    }
    return {
        "source": "scripts/month_table.py from " + str(FULL.relative_to(ROOT)),
        "glibc": full["glibc"],
        "months": dict(sorted(months.items())),
        "ambiguous": dict(sorted(ambiguous.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the package table")
    args = parser.parse_args()
    table = derive(json.loads(FULL.read_text()))
    text = json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n"
    if args.check:
        stale = not PACKAGE.is_file() or PACKAGE.read_text(encoding="utf-8") != text
        print(f"{PACKAGE.relative_to(ROOT)} is {'stale' if stale else 'up to date'}")
        return 1 if stale else 0
    PACKAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PACKAGE.relative_to(ROOT)}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
