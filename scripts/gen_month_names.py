#!/usr/bin/env python3
"""Generate a table of month and weekday names exactly as glibc prints them, for every locale.

    python3 scripts/gen_month_names.py --out fixtures/evidence/locale/month-names.json

Stdlib only. Needs the locales to be installed (Debian: ``apt-get install locales-all``); it
uses every locale ``locale -a`` lists. Per locale it sets ``LC_ALL`` with
``locale.setlocale`` and formats twelve dates with ``time.strftime`` (which hands the format to
glibc): ``%b`` and ``%a`` (what ``journalctl -o short`` and ``dmesg -T`` print), ``%B`` and
``%A``, and glibc's alternative (nominative, stand-alone) forms ``%Ob`` and ``%OB``. In locales
with a genitive, ``%b``/``%B`` are the genitive forms (Russian ``мая``, Polish ``grudnia``) and
``%Ob``/``%OB`` the nominative ones (``май``, ``grudzień``). Each name is then checked against
what ``date`` prints for the same date and format under ``LC_ALL=<locale>`` (``--verify``; all
locales by default), so the table holds what real programs print.

Output (JSON, one entry per line):

``months`` / ``weekdays``
    ``key -> {"v": value, "fmt": [directives], "forms": [exact strings], "loc": [locales]}``.
    Months are 1-12, weekdays 0-6 with 0 = Sunday (``struct tm``'s ``tm_wday``, ``date +%w``).
    ``key`` is the name with surrounding blanks removed (``ja_JP`` pads ``" 1月"``), NFC and
    ``str.casefold()``; ``forms`` are the exact strings (blanks kept). Keys whose case folding
    is lossy (``ß``, Turkic dotted/dotless i) are marked ``"casefold_unsafe": true``.
``ambiguous``
    keys that mean different values in different locales (or within one), with the locales per
    value; such a key is NOT in ``months``/``weekdays``.
``month_and_weekday``
    keys that are a month name in some locales and a weekday name in others (``mar``); those
    stay in both tables.

Locales that differ only in their codeset (``ru_RU``, ``ru_RU.koi8r``, ``ru_RU.utf8``) are
listed once, without the codeset, when they print the same names (they do, in glibc 2.36).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import locale
import os
import platform
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

MONTH_FMTS = ("%b", "%B", "%Ob", "%OB")
DAY_FMTS = ("%a", "%A")
YEAR = 2026
# one date per month; the day is chosen so that the 12 dates cover all 7 weekdays
DATES = []
for _m in range(1, 13):
    _d = next(d for d in range(1, 8) if dt.date(YEAR, _m, d).isoweekday() % 7 == (_m - 1) % 7)
    DATES.append(dt.date(YEAR, _m, _d))
TURKIC_I = set("Iıİi")
TURKIC_LANGS = {"tr", "az", "crh", "tt", "ku"}


def installed_locales() -> list[str]:
    out = subprocess.run(["locale", "-a"], capture_output=True, check=True).stdout
    names = out.decode("ascii", "replace").split()
    return sorted(n for n in names if n not in ("POSIX",))


def base_name(loc: str) -> str:
    """ru_RU.koi8r -> ru_RU; de_DE.utf8@euro -> de_DE@euro; C.utf8 -> C."""
    name, _, mod = loc.partition("@")
    name = name.split(".", 1)[0]
    return name + ("@" + mod if mod else "")


def codeset_of(loc: str) -> str | None:
    try:
        locale.setlocale(locale.LC_ALL, loc)
        return locale.nl_langinfo(locale.CODESET)
    except locale.Error:
        return None
    finally:
        locale.setlocale(locale.LC_ALL, "C")


def is_utf8(codeset: str | None) -> bool:
    return (codeset or "").upper().replace("-", "") == "UTF8"


def names_for(loc: str) -> dict[str, list[str]] | None:
    try:
        locale.setlocale(locale.LC_ALL, loc)
    except locale.Error:
        return None
    try:
        res: dict[str, list[str]] = {}
        for f in MONTH_FMTS + DAY_FMTS:
            res[f] = [time.strftime(f, d.timetuple()) for d in DATES]
        return res
    finally:
        locale.setlocale(locale.LC_ALL, "C")


def date_names(loc: str) -> dict[str, list[str]] | None:
    """The same names as printed by `date` (coreutils) under LC_ALL=loc; None when Python has
    no codec for the locale's codeset (ARMSCII-8, ...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANG"}
    env.update(LC_ALL=loc, TZ="UTC")
    fmts = MONTH_FMTS + DAY_FMTS
    spec = "+" + "\x1f".join(fmts)
    res: dict[str, list[str]] = {f: [] for f in fmts}
    codeset = codeset_of(loc)
    try:
        "".encode(codeset or "utf-8")
    except LookupError:
        return None
    for d in DATES:
        out = subprocess.run(
            ["date", "-d", f"{d.isoformat()} 12:00:00", spec], env=env, capture_output=True
        ).stdout
        parts = out.decode(codeset or "utf-8").rstrip("\n").split("\x1f")
        for f, p in zip(fmts, parts, strict=True):
            res[f].append(p)
    return res


def key_of(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip()).casefold()


def casefold_unsafe(name: str, langs: set[str]) -> bool:
    if any(len(c.casefold()) != 1 for c in name):
        return True
    return bool(langs & TURKIC_LANGS) and bool(TURKIC_I & set(name))


def build(locales: list[str], verify: bool) -> dict[str, Any]:
    """Names per locale. UTF-8 locales: Python's strftime (glibc), checked against `date` when
    verify is set. Other codesets: what `date` prints, decoded: in a legacy codeset glibc's
    multibyte strftime transliterates what the codeset lacks (ast_ES `d'abril` where
    ast_ES.utf8 has `d’abril`), which Python's wide-character strftime does not show."""
    per_loc: dict[str, dict[str, list[str]]] = {}
    failed: list[str] = []
    mismatches: list[dict[str, Any]] = []
    unverified: list[str] = []
    legacy_from_date: list[str] = []
    transliterated: list[str] = []
    verified = 0
    for loc in locales:
        py = names_for(loc)
        if py is None:
            failed.append(loc)
            continue
        if is_utf8(codeset_of(loc)):
            per_loc[loc] = py
            if verify:
                got = date_names(loc)
                assert got is not None
                verified += 1
                for f, vals in got.items():
                    if vals != py[f]:
                        mismatches.append(
                            {"locale": loc, "format": f, "date": vals, "python": py[f]}
                        )
            continue
        got = date_names(loc)
        if got is None:  # no Python codec for the codeset: keep the wide-character names
            per_loc[loc] = py
            unverified.append(loc)
            continue
        per_loc[loc] = got
        legacy_from_date.append(loc)
        if got != py:
            transliterated.append(loc)
    if mismatches:
        raise SystemExit(
            f"python and date disagree: {json.dumps(mismatches[:5], ensure_ascii=False)}"
        )
    # fold codeset variants into their base name when they print the same names
    groups: dict[str, list[str]] = defaultdict(list)
    for loc in per_loc:
        groups[base_name(loc)].append(loc)
    reported: dict[str, dict[str, list[str]]] = {}
    for base, locs in groups.items():
        first = per_loc[locs[0]]
        if all(per_loc[x] == first for x in locs):
            reported[base] = first
        else:
            for x in locs:
                reported[x] = per_loc[x]
    tables: dict[str, dict[str, dict[str, Any]]] = {"months": {}, "weekdays": {}}
    for loc, r in sorted(reported.items()):
        lang = loc.split("_", 1)[0].split(".", 1)[0].split("@", 1)[0]
        for kind, fmts in (("months", MONTH_FMTS), ("weekdays", DAY_FMTS)):
            for f in fmts:
                for i, name in enumerate(r[f]):
                    if not name.strip():
                        continue
                    v = i + 1 if kind == "months" else DATES[i].isoweekday() % 7
                    e = tables[kind].setdefault(
                        key_of(name),
                        {"vals": defaultdict(set), "fmt": set(), "forms": set(), "langs": set()},
                    )
                    e["vals"][v].add(loc)
                    e["fmt"].add(f)
                    e["forms"].add(name)
                    e["langs"].add(lang)
    out: dict[str, Any] = {"months": {}, "weekdays": {}}
    amb: dict[str, Any] = {"months": {}, "weekdays": {}}
    for kind in ("months", "weekdays"):
        for k in sorted(tables[kind]):
            e = tables[kind][k]
            if len(e["vals"]) > 1:
                amb[kind][k] = {
                    "values": {str(v): sorted(ls) for v, ls in sorted(e["vals"].items())},
                    "fmt": sorted(e["fmt"]),
                    "forms": sorted(e["forms"]),
                }
                continue
            ((v, ls),) = e["vals"].items()
            entry: dict[str, Any] = {
                "v": v,
                "fmt": sorted(e["fmt"]),
                "forms": sorted(e["forms"]),
                "loc": sorted(ls),
            }
            if any(casefold_unsafe(n, e["langs"]) for n in e["forms"]):
                entry["casefold_unsafe"] = True
            out[kind][k] = entry
    both = sorted(set(tables["months"]) & set(tables["weekdays"]))
    mw = {}
    for k in both:
        mw[k] = {
            "month": sorted(tables["months"][k]["vals"]),
            "weekday": sorted(tables["weekdays"][k]["vals"]),
        }
    return {
        "generated_by": "scripts/gen_month_names.py",
        "generated_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "glibc": " ".join(platform.libc_ver()),
        "python": platform.python_version(),
        "locale_count": len(per_loc),
        "reported_locales": len(reported),
        "failed_locales": failed,
        "utf8_locales_verified_with_date": verified,
        "legacy_codeset_locales_taken_from_date": len(legacy_from_date),
        "legacy_codeset_locales_transliterated": transliterated,
        "legacy_codeset_locales_without_python_codec": unverified,
        "conventions": {
            "month": "1-12",
            "weekday": "0-6, 0 = Sunday (struct tm tm_wday, date +%w)",
            "key": "name without surrounding blanks, NFC, str.casefold()",
            "forms": "exact strings as printed (blanks kept: ja_JP %b is ' 1月')",
            "fmt": {
                "%b": "abbreviated month (genitive where the locale has one); journalctl "
                "-o short, dmesg -T, date",
                "%B": "full month (genitive where the locale has one)",
                "%Ob": "abbreviated month, alternative (nominative/stand-alone) form",
                "%OB": "full month, alternative (nominative/stand-alone) form",
                "%a": "abbreviated weekday; dmesg -T",
                "%A": "full weekday",
            },
            "loc": "locale names without codeset when every codeset variant prints the same",
            "dates": [d.isoformat() for d in DATES],
        },
        "months": out["months"],
        "weekdays": out["weekdays"],
        "ambiguous": amb,
        "month_and_weekday": mw,
    }


def dump(doc: dict[str, Any]) -> str:
    """JSON with one table entry per line (compact, and diffs stay readable)."""
    lines = ["{"]
    items = list(doc.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, dict) and k in ("months", "weekdays", "month_and_weekday"):
            lines.append(f" {json.dumps(k)}: {{")
            sub = list(v.items())
            for j, (sk, sv) in enumerate(sub):
                c = "," if j < len(sub) - 1 else ""
                lines.append(
                    f"  {json.dumps(sk, ensure_ascii=False)}: "
                    f"{json.dumps(sv, ensure_ascii=False, separators=(',', ':'))}{c}"
                )
            lines.append(f" }}{comma}")
        elif k == "ambiguous":
            lines.append(' "ambiguous": {')
            for j, kind in enumerate(("months", "weekdays")):
                lines.append(f"  {json.dumps(kind)}: {{")
                sub = list(v[kind].items())
                for jj, (sk, sv) in enumerate(sub):
                    c = "," if jj < len(sub) - 1 else ""
                    lines.append(
                        f"   {json.dumps(sk, ensure_ascii=False)}: "
                        f"{json.dumps(sv, ensure_ascii=False, separators=(',', ':'))}{c}"
                    )
                lines.append("  }" + ("," if j == 0 else ""))
            lines.append(f" }}{comma}")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("fixtures/evidence/locale/month-names.json"))
    ap.add_argument("--locales", nargs="+", help="only these locales (default: `locale -a`)")
    ap.add_argument(
        "--no-verify",
        action="store_true",
        help="do not compare the UTF-8 locales' names with what `date` prints",
    )
    args = ap.parse_args(argv)
    locs = args.locales or installed_locales()
    doc = build(locs, not args.no_verify)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(doc), encoding="utf-8")
    json.loads(args.out.read_text(encoding="utf-8"))  # well-formed
    print(
        f"{args.out}: {doc['locale_count']} locales ({doc['reported_locales']} reported), "
        f"{len(doc['months'])} month keys, {len(doc['weekdays'])} weekday keys, "
        f"{len(doc['ambiguous']['months'])}+{len(doc['ambiguous']['weekdays'])} ambiguous, "
        f"{len(doc['month_and_weekday'])} both; {doc['utf8_locales_verified_with_date']} UTF-8 "
        f"locales verified with date, {doc['legacy_codeset_locales_taken_from_date']} legacy "
        "ones taken from date",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
