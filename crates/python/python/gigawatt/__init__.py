"""gigawatt from Python: what a multi-gigawatt compute commitment delivers.

The same engine as the ``gigawatt`` command (a Rust extension, ``gigawatt._native``), with the
same validation and messages. Every call returns a :class:`Result` with ``.to_dict()`` (the
CLI's JSON), ``.to_pandas()`` and ``.to_arrow()`` for its tables and an HTML view for notebooks;
:func:`sweep` returns a :class:`SweepResult` table, locally or over a Dask cluster.

Bad input raises :class:`InputError` (a ``ValueError``) with ``file``, ``line``, ``field`` and
``fix`` attributes; wrong argument types raise ``TypeError``. The engine releases the GIL while
it computes, so calls from several threads run in parallel.
"""

from __future__ import annotations

import html as _html
import io as _io
import json as _json
import os as _os
import pathlib as _pathlib
from typing import Any, Iterable, Mapping, Optional, Union

from . import _native
from ._native import ENGINE_VERSION, InputError, InternalError

__all__ = [
    "ENGINE_VERSION",
    "InputError",
    "InternalError",
    "Result",
    "SweepResult",
    "catalog",
    "infer",
    "infer_search",
    "plan",
    "reliability",
    "risk",
    "scenarios",
    "sweep",
    "train",
    "train_search",
    "train_validate",
]

__version__ = ENGINE_VERSION

Source = Union[_pathlib.Path, Mapping[str, Any], str]

_MAX_FILE_BYTES = 16 * 1024 * 1024


def _input_error(message: str, fix: str) -> InputError:
    err = InputError(f"{message}\n  fix: {fix}")
    err.file, err.line, err.field, err.fix = None, None, None, fix
    err.diagnostics = [{"file": None, "line": None, "field": None, "message": message, "fix": fix}]
    return err


def _read(path: _pathlib.Path, what: str) -> str:
    if not path.exists():
        raise _input_error(f"no {what} at {path}", "give the path of an existing file")
    if not path.is_file():
        raise _input_error(f"{what} {path} is not a regular file", "give a file")
    if path.stat().st_size > _MAX_FILE_BYTES:
        raise _input_error(f"{what} {path} is over 16 MiB", "give the TOML input itself")
    return path.read_text(encoding="utf-8")


def _source(source: Any, what: str, shipped: bool) -> tuple[str, str, Optional[str]]:
    """(origin, TOML text, folder) of a source: a Path, a dict, or a str (a shipped name, a
    file path, or TOML text)."""
    if isinstance(source, _os.PathLike):
        path = _pathlib.Path(source)
        return str(path), _read(path, what), str(path.parent)
    if isinstance(source, Mapping):
        try:
            text = _json.dumps(source)
        except (TypeError, ValueError) as e:
            raise _input_error(f"the dict cannot be TOML: {e}", "use str, int, float, bool, lists and dicts") from None
        return "<dict>", _native.toml_from_json(text), None
    if isinstance(source, str):
        if "\n" in source or "=" in source:
            return "<string>", source, None
        if shipped:
            found = _native.shipped_scenario(source)
            if found is not None:
                name, text = found
                return f"<shipped>/scenarios/{name}.toml", text, None
        path = _pathlib.Path(source)
        if path.exists():
            return str(path), _read(path, what), str(path.parent)
        names = [n for n, _ in _native.scenarios()]
        near = _nearest(source, names) if shipped else None
        fix = (
            f"did you mean the shipped scenario `{near}`?"
            if near
            else (
                "give a pathlib.Path, a dict, TOML text, or a shipped name from gigawatt.scenarios()"
                if shipped
                else "give a pathlib.Path, a dict, or TOML text"
            )
        )
        raise _input_error(f"no {what} or shipped scenario named `{source}`" if shipped else f"no {what} at `{source}`", fix)
    raise TypeError(
        f"{what} must be a pathlib.Path, a dict, or a str"
        f"{' (a shipped scenario name, a path, or TOML text)' if shipped else ' (a path or TOML text)'}, "
        f"not {type(source).__name__}"
    )


def _nearest(wanted: str, names: Iterable[str]) -> Optional[str]:
    import difflib

    found = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.75)
    return found[0] if found else None


def _check(name: str, value: Any, types: tuple, words: str) -> None:
    if isinstance(value, bool) and bool not in types:
        raise TypeError(f"{name} must be {words}, not bool")
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {words}, not {type(value).__name__}")


# Which table each kind of result has, as (name, path into the dict); the first is the default.
_TABLES: dict[str, list[tuple[str, tuple]]] = {
    "plan": [("timeline", ("timeline",)), ("tranches", ("tranches",)), ("assumptions", ("assumptions",)), ("sources", ("sources",))],
    "train": [("summary", ())],
    "infer": [("summary", ())],
    "train_search": [("top", ("top",))],
    "infer_search": [("top", ("top",))],
    "reliability": [("summary", ())],
    # Risk's timeline is its percentiles (p5..p95) by month; "percentiles" names the same table.
    "risk": [("timeline", ("timeline",)), ("percentiles", ("timeline",)), ("deals", ("deals",)), ("tornado", ("tornado", "bars"))],
    # Every row with where its predicted step goes (breakdown.* columns), the source families,
    # and issue 12's targets.
    "train_validate": [
        ("rows", ("rows",)),
        ("families", ("families",)),
        ("targets", ("targets", "checks")),
        ("by_system", ("groups", "by_system")),
        ("by_precision", ("groups", "by_precision")),
        ("by_system_and_precision", ("groups", "by_system_and_precision")),
    ],
}


class Result:
    """The result of one call. ``to_dict()`` is the CLI's JSON (``-f json``) as a dict;
    ``to_pandas(table)`` / ``to_arrow(table)`` give its tables (``tables`` names them, the first
    is the default); in a notebook it shows as a summary table."""

    def __init__(self, native: "_native.NativeResult") -> None:
        self._native = native
        self._dict: Optional[dict] = None

    @property
    def kind(self) -> str:
        """plan, train, infer, train_search, infer_search, reliability, risk or train_validate."""
        return self._native.kind

    @property
    def tables(self) -> list[str]:
        """The names ``to_pandas`` and ``to_arrow`` accept."""
        return [name for name, _ in _TABLES[self.kind]]

    def to_json(self) -> str:
        """The CLI's JSON text."""
        return self._native.json()

    def to_dict(self) -> dict:
        """The CLI's JSON as a dict (a fresh copy each call)."""
        return _json.loads(self._native.json())

    def to_html(self) -> Optional[str]:
        """The CLI's self-contained HTML report (plans, risk and train_validate), else None."""
        return self._native.html()

    def _records(self, table: Optional[str]) -> list[dict]:
        tables = dict(_TABLES[self.kind])
        name = table or self.tables[0]
        if name not in tables:
            raise _input_error(f"a {self.kind} result has no table `{name}`", f"use one of {', '.join(self.tables)}")
        if self._dict is None:
            self._dict = _json.loads(self._native.json())
        value: Any = self._dict
        for key in tables[name]:
            value = value.get(key, []) if isinstance(value, dict) else []
        if isinstance(value, dict):
            return [value]
        return list(value)

    def to_pandas(self, table: Optional[str] = None):
        """A table as a pandas DataFrame: nested objects flattened to dotted columns, lists of
        objects left out (they are in ``to_dict()``)."""
        import pandas as pd

        frame = pd.json_normalize(self._records(table))
        listy = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, list)).any()]
        return frame.drop(columns=listy)

    def to_arrow(self, table: Optional[str] = None):
        """A table as a pyarrow Table (the same columns as ``to_pandas``)."""
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(table), preserve_index=False)

    def _repr_html_(self) -> str:
        d = self.to_dict()
        rows = _summary(self.kind, d)
        body = "".join(
            f"<tr><th style='text-align:left'>{_html.escape(str(k))}</th><td>{_html.escape(_fmt(v))}</td></tr>"
            for k, v in rows
        )
        return (
            f"<div><strong>gigawatt {_html.escape(self.kind)}</strong>"
            f"<table>{body}</table>"
            f"<small>tables: {_html.escape(', '.join(self.tables))} (to_pandas(name)); to_dict() has everything</small></div>"
        )

    def __repr__(self) -> str:
        return f"<gigawatt.Result {self.kind}: {', '.join(f'{k}={_fmt(v)}' for k, v in _summary(self.kind, self.to_dict())[:3])}>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


def _summary(kind: str, d: dict) -> list[tuple[str, Any]]:
    if kind == "plan":
        t = d.get("totals", {})
        keys = ["month", "facility_gw", "it_gw", "accelerators", "h100e", "capex_usd", "opex_usd", "energy_twh"]
        return [("scenario", d.get("scenario", {}).get("name"))] + [(k, t.get(k)) for k in keys if k in t]
    if kind in ("train", "infer", "reliability"):
        return [(k, v) for k, v in d.items() if isinstance(v, (int, float, str, bool)) and k not in ("schema_version", "engine_version", "catalog_version", "input_hash")][:14]
    if kind == "train_validate":
        targets = d.get("targets", {})
        return [
            ("left out (leave one source out) MAE", d.get("loso", {}).get("mae")),
            ("in-sample MAE", d.get("in_sample", {}).get("mae")),
            ("leave-Blackwell-out MAE", d.get("leave_blackwell_out", {}).get("stats", {}).get("mae")),
            ("rows compared", d.get("in_sample", {}).get("n")),
            ("targets met", f"{targets.get('met')} of {len(targets.get('checks', []))}"),
        ]
    if kind in ("train_search", "infer_search"):
        top = d.get("top", [])
        first = top[0] if top else {}
        return [("evaluated", d.get("evaluated"))] + [(f"best {k}", v) for k, v in first.items() if isinstance(v, (int, float, str, bool))][:10]
    return [(k, v) for k, v in d.items() if isinstance(v, (int, float, str, bool))][:14]


def plan(
    source: Source = "openai-nvidia-10gw", *, ranges: bool = True, draws: int = 1000, seed: int = 0
) -> Result:
    """Plan a buildout (``gigawatt plan``): a monthly timeline of power, systems, accelerators,
    FLOP/s, money and energy, with ranges (p10/p50/p90 from ``draws`` seeded draws of the
    catalog's ranged figures; ``ranges=False`` is ``--no-ranges``) and capability, as the CLI.
    ``source``: a pathlib.Path, a dict (the scenario format), or a str that is a shipped
    scenario name (``scenarios()``), a path, or TOML text."""
    origin, text, _ = _source(source, "scenario file", shipped=True)
    return Result(_native.plan(origin, text, ranges, draws, seed))


def train(spec: Source) -> Result:
    """Evaluate one training layout (``gigawatt train --spec``): step time, MFU, memory."""
    origin, text, _ = _source(spec, "training spec", shipped=False)
    return Result(_native.train(origin, text))


def train_validate(*files: Source, sources: Iterable[Source] = ()) -> Result:
    """The training model against published runs (``gigawatt train validate``): leave one
    source out, in sample, leave Blackwell out, each family and every row with where its
    predicted step goes; ``to_pandas("rows")`` is the per-row table, ``to_html()`` the CLI's
    page. ``files``: calibration CSVs (pathlib.Path, a path or CSV text) in the columns of
    calibration/training.csv; none validates the shipped files. ``sources``: your own source
    families, model facts and recipes (``--sources``: pathlib.Path, a path or TOML text in
    calibration/sources.toml's schema), read ahead of the shipped ones."""
    def read(items, what):
        named = []
        for f in items:
            if isinstance(f, Mapping):
                raise TypeError(f"a {what} must be a pathlib.Path or a str (a path or text), not dict")
            origin, text, _ = _source(f, what, shipped=False)
            named.append((origin, text))
        return named

    if isinstance(sources, (str, _os.PathLike)):
        sources = (sources,)
    named = read(files, "calibration file")
    named_sources = read(sources, "sources file")
    return Result(_native.train_validate(named or None, named_sources or None))


def infer(spec: Source) -> Result:
    """Evaluate one serving layout (``gigawatt infer --spec``): tokens/s at a latency target."""
    origin, text, _ = _source(spec, "serving spec", shipped=False)
    return Result(_native.infer(origin, text))


def train_search(
    model: str,
    system: str,
    gpus: int,
    global_batch: int,
    seq_len: int,
    precision: str = "bf16",
    framework: Optional[str] = None,
    top: int = 5,
) -> Result:
    """The fastest training layouts that fit (``gigawatt train search``); table ``top``."""
    for name, value in (("model", model), ("system", system), ("precision", precision)):
        _check(name, value, (str,), "a str")
    for name, value in (("gpus", gpus), ("global_batch", global_batch), ("seq_len", seq_len), ("top", top)):
        _check(name, value, (int,), "an int")
    if framework is not None:
        _check("framework", framework, (str,), "a str or None")
    return Result(_native.train_search(model, system, gpus, global_batch, seq_len, precision, framework, top))


def infer_search(
    model: str,
    system: str,
    input_tokens: float,
    output_tokens: float,
    ttft_slo_s: Optional[float] = None,
    tpot_slo_s: Optional[float] = None,
    precision: str = "bf16",
    kv_precision: str = "bf16",
    mode: str = "server",
    disaggregated: bool = False,
    max_batch: Optional[int] = None,
    slo_percentile: Optional[float] = None,
    top: int = 5,
) -> Result:
    """The best serving layouts at a latency target (``gigawatt infer search``); table ``top``."""
    for name, value in (("model", model), ("system", system), ("precision", precision), ("kv_precision", kv_precision), ("mode", mode)):
        _check(name, value, (str,), "a str")
    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
        _check(name, value, (int, float), "a number")
    for name, value in (("ttft_slo_s", ttft_slo_s), ("tpot_slo_s", tpot_slo_s), ("max_batch", max_batch), ("slo_percentile", slo_percentile)):
        if value is not None:
            _check(name, value, (int, float), "a number or None")
    _check("disaggregated", disaggregated, (bool,), "a bool")
    _check("top", top, (int,), "an int")
    return Result(
        _native.infer_search(
            model, system, float(input_tokens), float(output_tokens),
            None if ttft_slo_s is None else float(ttft_slo_s),
            None if tpot_slo_s is None else float(tpot_slo_s),
            precision, kv_precision, mode, disaggregated,
            None if max_batch is None else float(max_batch),
            None if slo_percentile is None else float(slo_percentile),
            top,
        )
    )


def reliability(gpus: float, **options: Any) -> Result:
    """Simulate failures, checkpoints and restarts (``gigawatt reliability``). Keyword
    arguments are the CLI's flags with underscores: ``days``, ``work_hours``, ``system``,
    ``checkpoint_interval_min``, ``checkpoint_write_s``, ``async_checkpoint``, ``restart_min``,
    ``detection_min``, ``repair_hours``, ``spares``, ``node_failures_per_1000_days``,
    ``planned_per_day``, ``weibull_shape``, ``runs``, ``seed``, ``no_search``."""
    _check("gpus", gpus, (int, float), "a number")
    request = {"gpus": gpus, **options}
    request.setdefault("runs", 20)
    request.setdefault("seed", 1)
    request.setdefault("no_search", False)
    try:
        text = _json.dumps(request)
    except (TypeError, ValueError) as e:
        raise TypeError(f"reliability options must be numbers, str or bool: {e}") from None
    return Result(_native.reliability(text))


def risk(portfolio: Source = "openai-portfolio-risk", samples: Optional[int] = None, seed: Optional[int] = None) -> Result:
    """Monte Carlo over a portfolio of deals (``gigawatt risk``): capacity and its odds over
    time. ``portfolio``: a Path, dict, TOML text, or the shipped ``openai-portfolio-risk``."""
    if samples is not None:
        _check("samples", samples, (int,), "an int or None")
    if seed is not None:
        _check("seed", seed, (int,), "an int or None")
    origin, text, folder = _source(portfolio, "portfolio file", shipped=True)
    return Result(_native.risk(origin, text, folder, samples, seed))


def scenarios() -> list[dict]:
    """The shipped scenarios (and the shipped risk portfolio): name and title."""
    return [{"name": n, "title": t} for n, t in _native.scenarios()]


def catalog() -> dict:
    """The embedded catalog: accelerators, systems, deals, models, sources, sites, facility
    defaults, every number with its source."""
    return _json.loads(_native.catalog_json())


from ._sweep import SweepResult, sweep  # noqa: E402  (needs the names above)
