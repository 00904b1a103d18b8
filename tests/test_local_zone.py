"""The default zone, loaded on first use, is dateutil's ``tzlocal()`` in every answer it gives:
offsets, names and folds across DST changes, conversions both ways, pickling; and a run that
reads no wall clock never imports dateutil."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dateutil import tz

from oomsleuth.clock.local_zone import LocalZone

ROOT = Path(__file__).resolve().parent.parent


ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]
ZONES += ["America/Sao_Paulo", "Europe/Moscow", "Pacific/Chatham", "EST5EDT"]


@pytest.fixture(params=ZONES)
def zone_env(request: pytest.FixtureRequest) -> Iterator[str]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def _instants() -> list[datetime]:
    """Every 20 minutes around both 2024 DST changes of the zones above, and a few others."""
    out = []
    for start in ("2024-03-09", "2024-03-30", "2024-04-06", "2024-10-05", "2024-10-26"):
        first = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
        out += [first + timedelta(minutes=20 * i) for i in range(3 * 72)]
    for year in (1975, 2011, 2014, 2019, 2038):  # other rules, then (tzlocal keeps today's two)
        first = datetime(year, 1, 1, tzinfo=timezone.utc)
        out += [first + timedelta(hours=7 * i, seconds=13) for i in range(1252)]
    return out


def test_local_zone_is_tzlocal(zone_env: str) -> None:
    ours, theirs = LocalZone(), tz.tzlocal()
    for utc in _instants():
        a, b = utc.astimezone(ours), utc.astimezone(theirs)
        assert (a.replace(tzinfo=None), a.fold) == (b.replace(tzinfo=None), b.fold)
        assert (a.utcoffset(), a.dst(), a.tzname()) == (b.utcoffset(), b.dst(), b.tzname())
        naive = a.replace(tzinfo=None)
        for fold in (0, 1):  # a wall clock read back, both sides of a repeated hour
            x, y = naive.replace(tzinfo=ours, fold=fold), naive.replace(tzinfo=theirs, fold=fold)
            assert x.astimezone(timezone.utc) == y.astimezone(timezone.utc)
        stamp = utc.timestamp()
        assert datetime.fromtimestamp(stamp, ours).utcoffset() == b.utcoffset()
    for ask in ("utcoffset", "dst"):  # of no datetime at all
        assert getattr(ours, ask)(None) == getattr(theirs, ask)(None)
    assert ours == theirs and repr(ours) == repr(theirs)
    assert pickle.loads(pickle.dumps(ours)) == theirs


@pytest.mark.parametrize("name", ["memcg-single.dmesg-T.txt", "k5.14-el9-memcg-v2.rsyslog.log"])
def test_local_walls_are_resolved_as_tzlocal_without_dateutil(zone_env: str, name: str) -> None:
    """Logs of naive local walls (dmesg -T, syslog) in the machine's zone: the JSON is the one
    dateutil's ``tzlocal()`` gives, and the default zone never imports dateutil."""
    log = next(ROOT.glob(f"fixtures/*/{name}"))
    code = (
        "import io, sys, oomsleuth\n"
        "def doc(**kw):\n"
        f"    report = oomsleuth.analyze([{str(log)!r}], **kw)\n"
        "    out = io.StringIO(); oomsleuth.render(report, 'json', out); return out.getvalue()\n"
        "ours = doc()\n"
        "print('dateutil' in sys.modules)\n"
        "from dateutil import tz\n"
        "print(ours == doc(tz=tz.tzlocal()), '+00:00' in ours or 'Z\"' in ours)\n"
    )
    env = dict(os.environ, TZ=zone_env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["False", "True"]


def test_a_run_without_wall_clock_loads_no_zone_nor_unused_modules() -> None:
    """A plain dmesg log (kernel stamps only) to JSON: no dateutil, and nothing of what only
    other inputs or outputs need (gzip, tempfile, statistics, rich, jinja2, archives)."""
    log = ROOT / "fixtures" / "real" / "memcg-single.dmesg.txt"
    code = (
        "import io, sys, oomsleuth\n"
        f"report = oomsleuth.analyze([{str(log)!r}])\n"
        "oomsleuth.render(report, 'json', io.StringIO())\n"
        "assert report.reports, 'no report'\n"
        "heavy = ('dateutil', 'gzip', 'lzma', 'bz2', 'tempfile', 'statistics', 'calendar',\n"
        "         'rich', 'jinja2', 'tarfile', 'zipfile', 'logging', 'pickle', 'multiprocessing',\n"
        "         'concurrent.futures', 'oomsleuth.load.search_ahead',\n"
        "         'oomsleuth.load.sources_forked')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
