"""``oomsleuth.fleet(paths, output, ...)``: every OOM kill of many hosts, on Dask (the optional
``fleet`` extra: ``pip install 'oomsleuth[fleet]'``).

This package is also the public function: ``oomsleuth.fleet(...)`` calls
:func:`oomsleuth.fleet.run.fleet`, whether or not the package has been imported (Python binds a
package's submodules as attributes of its parent, so the package itself is made callable).
Importing it loads neither Dask nor pyarrow: :mod:`~oomsleuth.fleet.run` does, when called.

- :mod:`~oomsleuth.fleet.hosts`: the unit of work, one host, from folders, globs, archives,
  fsspec URLs, and central logs split by their host field
- :mod:`~oomsleuth.fleet.task`: one host on a worker -> :func:`oomsleuth.analyze` -> rows
- :mod:`~oomsleuth.fleet.rows`: the flat kill rows and their schema (docs/fleet.md)
- :mod:`~oomsleuth.fleet.run`: the Dask job; :mod:`~oomsleuth.fleet.write`: JSONL / Parquet
- :mod:`~oomsleuth.fleet.overview` and :mod:`~oomsleuth.fleet.html`: the fleet overview page
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _Callable(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from oomsleuth.fleet.run import fleet

        return fleet(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable
