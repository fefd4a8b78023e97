"""Sweeps from Python: the CLI's table, shards, Dask, and bad input."""

import pathlib
import subprocess

import pyarrow.parquet as pq
import pytest

import gigawatt

EXAMPLE = "sweeps/plan-pue-power-price.toml"


def test_a_local_sweep_is_the_clis_table(repo, tmp_path):
    result = gigawatt.sweep(repo / EXAMPLE)
    table = result.to_arrow()
    assert table.num_rows == 120 == result.points
    assert table.column_names[:4] == ["point", "defaults.pue", "tranche[1].facility_gw", "defaults.electricity_usd_per_kwh"]
    binary = repo / "target" / "debug" / "gigawatt"
    if binary.exists():
        out = tmp_path / "cli.parquet"
        subprocess.run([binary, "sweep", repo / EXAMPLE, "--out", out], check=True, capture_output=True)
        assert pq.read_table(out).equals(table)
    frame = result.to_pandas()
    assert frame["error"].isna().all()
    assert (frame["capex_usd"] > 0).all()


def test_sharded_equals_unsharded(repo):
    whole = gigawatt.sweep(repo / EXAMPLE).to_pandas()
    import pandas as pd

    parts = [gigawatt.sweep(repo / EXAMPLE, shard=(k, 7)).to_pandas() for k in range(1, 8)]
    union = pd.concat(parts).sort_values("point").reset_index(drop=True)
    pd.testing.assert_frame_equal(union, whole)


def test_a_dask_cluster_of_two_workers_gives_the_local_table(repo):
    distributed = pytest.importorskip("distributed")
    local = gigawatt.sweep(repo / EXAMPLE).to_arrow()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = gigawatt.sweep(repo / EXAMPLE, client=client)
    assert remote.to_arrow().equals(local)


def test_bad_sweeps_raise_the_clis_messages(tmp_path):
    def sweep_text(text):
        path = tmp_path / "s.toml"
        path.write_text(text)
        return path

    with pytest.raises(gigawatt.InputError, match=r"did you mean `defaults.pue`\?") as e:
        gigawatt.sweep(sweep_text('[[axis]]\nfield = "defaults.peu"\nvalues = [1.2]\n'))
    assert e.value.line == 2 and e.value.field == "axis[1].field"
    with pytest.raises(gigawatt.InputError, match="the axis has no values"):
        gigawatt.sweep(sweep_text('[[axis]]\nfield = "defaults.pue"\nvalues = []\n'))
    big = sweep_text('max_points = 3\n[[axis]]\nfield = "defaults.pue"\nrange = { start = 1.1, stop = 1.5, count = 5 }\n')
    with pytest.raises(gigawatt.InputError, match="5 points, over its limit of 3"):
        gigawatt.sweep(big)
    assert len(gigawatt.sweep(big, force=True)) == 5
    for shard in [(0, 0), (5, 4), (0, 3)]:
        with pytest.raises(gigawatt.InputError, match="shard"):
            gigawatt.sweep(big, force=True, shard=shard)


def test_a_sweep_result_writes_parquet_and_shows_in_a_notebook(repo, tmp_path):
    result = gigawatt.sweep(repo / EXAMPLE, shard=(1, 12))
    assert len(result) == 10 and result.points == 120
    out = tmp_path / "part.parquet"
    result.to_parquet(out)
    assert pq.read_table(out).equals(result.to_arrow())
    assert "<table" in result._repr_html_() and "10 of 120 points" in result._repr_html_()
    assert result.to_dict()["point"] == list(range(0, 120, 12))
