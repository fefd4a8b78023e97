"""Sweeps from Python: locally (the engine's threads) or as shards over a Dask cluster."""

from __future__ import annotations

import io as _io
import os as _os
import pathlib as _pathlib
from typing import Any, Optional, Union

from . import _native
from . import _read, _input_error

__all__ = ["SweepResult", "sweep"]


class SweepResult:
    """One row per point: ``point``, each axis's value, the key outputs and ``error``. The
    table is a pyarrow Table (``to_arrow``), sorted by ``point``."""

    def __init__(self, table: Any, points: int) -> None:
        self._table = table
        self.points = points

    def to_arrow(self):
        """The table as a pyarrow Table."""
        return self._table

    def to_pandas(self):
        """The table as a pandas DataFrame."""
        return self._table.to_pandas()

    def to_dict(self) -> dict:
        """``{column: [values...]}``."""
        return self._table.to_pydict()

    def to_parquet(self, path: Union[str, _os.PathLike]) -> None:
        """Writes the table as Parquet."""
        import pyarrow.parquet as pq

        pq.write_table(self._table, str(path))

    def __len__(self) -> int:
        return self._table.num_rows

    def _repr_html_(self) -> str:
        head = self._table.slice(0, 10).to_pandas()
        return f"<div><strong>gigawatt sweep</strong>: {self._table.num_rows} of {self.points} points{head.to_html(index=False)}</div>"

    def __repr__(self) -> str:
        return f"<gigawatt.SweepResult {self._table.num_rows} rows x {self._table.num_columns} columns>"


def _spec(file: Any) -> tuple[str, str, Optional[str]]:
    if isinstance(file, _os.PathLike) or (isinstance(file, str) and "\n" not in file and "=" not in file):
        path = _pathlib.Path(file)
        return str(path), _read(path, "sweep file"), str(path.parent)
    if isinstance(file, str):
        return "<string>", file, None
    raise TypeError(f"file must be a pathlib.Path or a str (a path or the sweep file's TOML), not {type(file).__name__}")


def _run_shard(origin: str, text: str, base_origin: str, base_text: str, index: int, count: int, force: bool) -> bytes:
    # Runs on a Dask worker: everything it needs travels in the arguments (no shared files).
    from gigawatt import _native as native

    return native.sweep(origin, text, base_origin, base_text, index, count, force)


def _table(parquet: bytes):
    import pyarrow.parquet as pq

    return pq.read_table(_io.BytesIO(parquet))


def sweep(
    file: Union[str, _os.PathLike],
    client: Any = None,
    shards: Optional[int] = None,
    force: bool = False,
    shard: Optional[tuple[int, int]] = None,
) -> SweepResult:
    """Run a sweep file (the format of ``gigawatt sweep``). With ``client`` (a
    ``distributed.Client``) the points are split into ``shards`` shards (default: 4 per worker)
    mapped over the cluster and concatenated, sorted by ``point``: the same table as a local
    run. ``shard=(K, N)`` runs only shard K of N (as ``--shard K/N``). ``force`` runs a sweep
    over its ``max_points``."""
    if not isinstance(force, bool):
        raise TypeError(f"force must be a bool, not {type(force).__name__}")
    if shards is not None and (not isinstance(shards, int) or isinstance(shards, bool)):
        raise TypeError(f"shards must be an int or None, not {type(shards).__name__}")
    if shard is not None and not (isinstance(shard, tuple) and len(shard) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in shard)):
        raise TypeError("shard must be a (K, N) tuple of ints, e.g. (1, 4)")
    origin, text, folder = _spec(file)
    base_origin, base_text = _native.sweep_base(origin, text, folder)
    points = _native.sweep_points(origin, text, base_origin, base_text, force)
    if client is None:
        k, n = shard if shard is not None else (1, 1)
        return SweepResult(_table(_native.sweep(origin, text, base_origin, base_text, k, n, force)), points)
    if shard is not None:
        raise _input_error("shard and client together", "give a client to split the whole sweep, or shard=(K, N) to run one shard here")
    if not hasattr(client, "map") or not hasattr(client, "gather"):
        raise TypeError(f"client must be a distributed.Client, not {type(client).__name__}")
    if shards is None:
        workers = len(client.scheduler_info().get("workers", {})) or 1
        shards = min(max(points, 1), 4 * workers)
    if shards < 1:
        raise _input_error(f"shards is {shards}", "give at least 1")
    import pyarrow as pa

    futures = client.map(
        _run_shard,
        [origin] * shards, [text] * shards, [base_origin] * shards, [base_text] * shards,
        list(range(1, shards + 1)), [shards] * shards, [force] * shards,
        pure=False,
    )
    parts = [_table(b) for b in client.gather(futures)]
    table = pa.concat_tables(parts).sort_by("point")
    return SweepResult(table, points)
