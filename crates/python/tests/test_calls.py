"""Each call from Python: the same numbers and messages as the CLI, results as dicts, tables
and HTML; bad input and wrong types raise clear exceptions, never a crash."""

import json
import pathlib
import subprocess
import threading

import pytest

import gigawatt

SPEC = """model = "gpt3-175b"
[cluster]
system = "dgx-a100-80gb"
gpus = 64
[parallelism]
tp = 8
pp = 8
virtual_pp = 3
microbatch = 1
sequence_parallel = true
recompute = "selective"
[training]
global_batch = 64
seq_len = 2048
"""

SERVE = """model = "llama3-70b"
[cluster]
system = "dgx-h100"
[serving]
tp = 4
precision = "fp8"
input_tokens = 2000
output_tokens = 500
ttft_slo_s = 2.0
tpot_slo_s = 0.05
"""


def test_plan_of_the_default_is_the_clis_json(repo):
    r = gigawatt.plan()
    d = r.to_dict()
    assert d["scenario"]["name"].startswith("OpenAI-NVIDIA 10 GW")
    binary = repo / "target" / "debug" / "gigawatt"
    if binary.exists():
        cli = json.loads(subprocess.run([binary, "plan", "-f", "json"], capture_output=True, check=True).stdout)
        assert cli == d


def test_a_source_can_be_a_path_a_dict_a_name_or_toml_text(repo):
    path = repo / "scenarios" / "openai-portfolio.toml"
    by_path = gigawatt.plan(path).to_dict()
    by_name = gigawatt.plan("openai-portfolio").to_dict()
    assert by_path["totals"] == by_name["totals"]
    text = path.read_text()
    assert gigawatt.plan(text).to_dict()["totals"] == by_name["totals"]
    import tomllib

    as_dict = tomllib.loads(text)
    assert gigawatt.plan(as_dict).to_dict()["totals"] == by_name["totals"]


def test_tables_and_html():
    r = gigawatt.plan("openai-portfolio")
    frame = r.to_pandas()
    assert len(frame) == len(r.to_dict()["timeline"])
    assert {"month", "facility_gw", "capex_usd"} <= set(frame.columns)
    assert r.to_arrow().num_rows == len(frame)
    assert len(r.to_pandas("assumptions")) == len(r.to_dict()["assumptions"])
    assert "<table>" in r._repr_html_()
    assert r.to_html().lstrip().lower().startswith("<!doctype html>")


def test_train_infer_and_searches():
    t = gigawatt.train(SPEC).to_dict()
    assert 0 < t["mfu"] < 1 and t["feasible"]
    i = gigawatt.infer(SERVE).to_dict()
    assert i["output_tokens_per_s"] > 0
    s = gigawatt.train_search("llama3-8b", "dgx-h100", 64, 512, 8192, top=3)
    assert 1 <= len(s.to_pandas()) <= 3
    q = gigawatt.infer_search("llama3-70b", "dgx-h100", 2000, 500, ttft_slo_s=2.0, tpot_slo_s=0.05, precision="fp8", top=2)
    assert len(q.to_dict()["top"]) >= 1
    assert len(q.to_arrow()) >= 1


def test_reliability_and_risk():
    r = gigawatt.reliability(4096, days=5, runs=2, no_search=True).to_dict()
    assert 0 < r["ettr"] <= 1
    k = gigawatt.risk(samples=500, seed=3)
    assert k.to_dict()["samples"] == 500
    timeline = k.to_pandas()
    assert len(timeline) == len(k.to_dict()["timeline"]) and "facility_gw.p50" in timeline.columns
    assert len(k.to_pandas("tornado")) > 0
    assert k.to_pandas("percentiles").equals(timeline)
    with pytest.raises(gigawatt.InputError, match="has no table `nope`"):
        k.to_pandas("nope")
    assert k.to_dict() == gigawatt.risk(samples=500, seed=3).to_dict()


def test_scenarios_and_catalog():
    names = [s["name"] for s in gigawatt.scenarios()]
    assert names[0] == "openai-nvidia-10gw" and "openai-portfolio-risk" in names
    c = gigawatt.catalog()
    assert any(s["id"] == "gb200-nvl72" for s in c["systems"])


def test_bad_input_raises_input_error_with_file_line_field_and_fix():
    text = '[defaults]\npue = 0.5\n[[tranche]]\nsystem = "gb200-nvl72"\nfacility_gw = 1\nstart = "2026-01"\n'
    with pytest.raises(gigawatt.InputError) as e:
        gigawatt.plan(text)
    assert (e.value.file, e.value.line, e.value.field) == ("<string>", 2, "defaults.pue")
    assert "between 1 and 3" in e.value.fix
    assert isinstance(e.value, ValueError)
    with pytest.raises(gigawatt.InputError, match="did you mean the shipped scenario `openai-nvidia-10gw`"):
        gigawatt.plan("openai-nvidia-10gv")
    with pytest.raises(gigawatt.InputError, match="gpus is 0"):
        gigawatt.train_search("llama3-8b", "dgx-h100", 0, 512, 8192)
    with pytest.raises(gigawatt.InputError, match="unknown field"):
        gigawatt.reliability(1024, dayz=3)
    with pytest.raises(gigawatt.InputError) as e:
        gigawatt.plan(pathlib.Path("/nonexistent/scenario.toml"))
    assert e.value.fix


def test_wrong_argument_types_raise_type_error():
    for call in [
        lambda: gigawatt.plan(42),
        lambda: gigawatt.plan(None),
        lambda: gigawatt.train(3.5),
        lambda: gigawatt.train_search("llama3-8b", "dgx-h100", "64", 512, 8192),
        lambda: gigawatt.train_search("llama3-8b", "dgx-h100", True, 512, 8192),
        lambda: gigawatt.infer_search("llama3-70b", "dgx-h100", "2000", 500),
        lambda: gigawatt.risk(samples=1.5),
        lambda: gigawatt.reliability("many"),
        lambda: gigawatt.sweep(12),
        lambda: gigawatt.sweep("x.toml", force="yes"),
    ]:
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError):
        gigawatt._native.plan(1, 2)


def test_a_panic_becomes_internal_error_not_a_crash():
    with pytest.raises(gigawatt.InternalError, match="deliberate panic"):
        gigawatt._native.panic_for_tests()
    # The interpreter and the module still work afterwards.
    assert gigawatt.plan().to_dict()["totals"]


def test_calls_from_threads_give_the_same_results():
    expected = gigawatt.plan("openai-portfolio").to_dict()["totals"]
    results = []

    def work():
        results.append(gigawatt.plan("openai-portfolio").to_dict()["totals"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_train_validate_is_the_clis_json_with_rows_as_a_table_and_the_page(repo):
    r = gigawatt.train_validate()
    assert r.kind == "train_validate"
    d = r.to_dict()
    binary = repo / "target" / "debug" / "gigawatt"
    if binary.exists():
        cli = json.loads(subprocess.run([binary, "train", "validate", "-f", "json"], capture_output=True, check=True).stdout)
        assert cli == d
    rows = r.to_pandas("rows")
    assert len(rows) == len(d["rows"]) == 285
    compared = rows[rows["status"] == "compared"]
    # Where each predicted step goes: compute and the exposed parts add up to the step.
    parts = ["compute_s", "tp_comm_s", "cp_comm_s", "ep_comm_s", "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s"]
    total = sum(compared[f"breakdown.{p}"] for p in parts)
    assert ((total / compared["predicted_step_time_s"] - 1).abs() < 1e-9).all()
    # And what the compute runs, by kind of kernel, adds up to the compute.
    kinds = ["matmul_s", "attention_s", "elementwise_s", "host_stall_s", "output_layer_s", "recompute_s", "overlap_slowdown_s"]
    compute = sum(compared[f"breakdown.{k}"] for k in kinds)
    assert ((compute / compared["breakdown.compute_s"] - 1).abs() < 1e-9).all()
    assert set(r.to_pandas("families")["id"]) >= {"narayanan2021", "mbridge2604"}
    targets = r.to_pandas("targets")
    assert targets["met"].sum() == d["targets"]["met"]
    # The rows grouped by system and recipe at once add up to the recipes' own groups.
    pairs = r.to_pandas("by_system_and_precision")
    recipes = r.to_pandas("by_precision").set_index("key")["in_sample.n"]
    summed = pairs.assign(recipe=pairs["key"].str.split(" / ").str[1]).groupby("recipe")["in_sample.n"].sum()
    assert (summed.sort_index() == recipes.sort_index()).all()
    # The headline's interval with the source families resampled brackets it.
    u = d["uncertainty"]
    assert u["loso"]["low"] <= d["loso"]["mae"] <= u["loso"]["high"]
    # Refitting the constants in every draw brackets it too.
    assert u["refitted"]["loso"]["low"] <= d["loso"]["mae"] <= u["refitted"]["loso"]["high"]
    html = r.to_html()
    assert html.startswith("<!doctype html>") and html.count("<circle ") == len(compared)
    assert "left out" in r._repr_html_()


def test_train_validate_reads_a_file_of_ones_own_and_refuses_a_bad_one(repo, tmp_path):
    shipped = (repo / "calibration" / "training.csv").read_text().splitlines()
    mine = tmp_path / "mine.csv"
    mine.write_text("\n".join([shipped[0]] + [l for l in shipped if l.startswith("korthikanti22_t5")]) + "\n")
    assert gigawatt.train_validate(mine).to_dict()["coverage"]["evaluated"] == 8
    with pytest.raises(gigawatt.InputError) as e:
        gigawatt.train_validate("id,source\nx,y\n")
    assert "no column `model_name`" in str(e.value) and "fix:" in str(e.value)
    with pytest.raises(TypeError):
        gigawatt.train_validate({"id": "x"})


def test_train_validate_reads_ones_own_sources_beside_the_shipped_ones(repo):
    experiments = repo / "calibration" / "experiments"
    r = gigawatt.train_validate(
        experiments / "gpt-oss-followups.csv", sources=experiments / "gpt-oss-followups.toml"
    )
    d = r.to_dict()
    assert d["coverage"]["evaluated"] == 8
    assert [f["id"] for f in d["families"]] == ["mbridge-card2606", "mbridge-pr3561", "mbridge2608", "mbridge2606"]
    assert gigawatt.train_validate(experiments / "gpt-oss-followups.csv").to_dict()["coverage"]["evaluated"] == 0
    with pytest.raises(gigawatt.InputError) as e:
        gigawatt.train_validate(
            experiments / "gpt-oss-followups.csv",
            sources=['[[recipe]]\nrows = ["no_such_row"]\nsource = "s"\n'],
        )
    assert "`no_such_row`" in str(e.value) and "fix:" in str(e.value)
