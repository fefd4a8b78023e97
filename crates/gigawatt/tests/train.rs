//! `gigawatt train`: a spec evaluated, the search, validation against published runs, and bad
//! specs refused with the field named.

mod common;
mod train_spec;

use common::{bad_input, gigawatt, ok, refuses};
use serde_json::Value;
use train_spec::{assert_ledger_states, spec_file, train_json, MOE_SPEC};
const SPEC: &str = r#"model = "gpt3-175b"
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
"#;

#[test]
fn a_spec_reports_the_documented_fields() {
    let out = ok(&["train", "--spec", &spec_file(SPEC), "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    for field in [
        "step_time_s",
        "tokens_per_s",
        "tflops_per_gpu",
        "mfu",
        "hfu",
        "memory_gib_per_gpu",
        "feasible",
        "breakdown",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["strategy"]["dp"], 1);
    assert_eq!(v["feasible"], true);
    // Throughput never exceeds peak.
    let mfu = v["mfu"].as_f64().unwrap();
    assert!(mfu > 0.2 && mfu < 1.0, "{mfu}");
    assert!(v["hfu"].as_f64().unwrap() >= mfu);
    // The table says what the compute runs, and its parts add up to the compute.
    let table = ok(&["train", "--spec", &spec_file(SPEC)]);
    let parts: Vec<f64> = table
        .split("what the compute runs (s, share of compute)\n")
        .nth(1)
        .expect("the compute by kind")
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().rev().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(parts.len(), 7, "{table}");
    let compute = v["breakdown"]["compute_s"].as_f64().unwrap();
    assert!(
        (parts.iter().sum::<f64>() / compute - 1.0).abs() < 1e-3,
        "{table}"
    );
}

#[test]
fn an_inline_model_table_works() {
    let spec = SPEC.replace(
        "model = \"gpt3-175b\"",
        "[model]\nlayers = 24\nhidden = 2048\nffn_hidden = 8192\nheads = 16\nvocab = 51200",
    );
    let spec = spec.replace(
        "tp = 8\npp = 8\nvirtual_pp = 3",
        "tp = 8\npp = 2\nvirtual_pp = 3",
    );
    let v: Value = train_json(&spec);
    assert_eq!(v["model"]["id"], "custom");
}

#[test]
fn a_layout_that_does_not_fit_is_a_result_not_an_error() {
    let spec = SPEC
        .replace(
            "tp = 8\npp = 8\nvirtual_pp = 3",
            "tp = 8\npp = 1\nvirtual_pp = 1",
        )
        .replace("gpus = 64", "gpus = 8")
        .replace("global_batch = 64", "global_batch = 8");
    let v: Value = train_json(&spec);
    assert_eq!(v["feasible"], false);
    assert!(
        v["reason"].as_str().unwrap().contains("does not fit"),
        "{}",
        v["reason"]
    );
}

#[test]
fn inconsistent_specs_name_the_problem() {
    let cases = [
        (
            "tp = 8\npp = 8\nvirtual_pp = 3",
            "tp = 64\npp = 1\nvirtual_pp = 1",
            "does not divide the 96 attention heads",
        ),
        ("gpus = 64", "gpus = 60", "does not divide the 60 GPUs"),
        (
            "system = \"dgx-a100-80gb\"",
            "system = \"dgx-a100-80g\"",
            "did you mean `dgx-a100-80gb`",
        ),
        (
            "model = \"gpt3-175b\"",
            "model = \"gpt3-175\"",
            "did you mean `gpt3-175b`",
        ),
        (
            "microbatch = 1\nsequence",
            "microbatch = 5\nsequence",
            "is not a multiple of dp x microbatch",
        ),
        ("seq_len = 2048", "seq_len = 0", "`training.seq_len` is 0"),
        (
            "recompute = \"selective\"",
            "recompute = \"some\"",
            "unknown recompute `some`",
        ),
        (
            "virtual_pp = 3",
            "virtual_pp = 13",
            "chunks is more than the 96 layers",
        ),
        (
            "microbatch = 1",
            "microbatch = 1\nzero = 4",
            "ZeRO stages are 0 to 3",
        ),
        (
            "seq_len = 2048",
            "seq_len = 2048\nprecision = \"fp16\"",
            "unknown precision `fp16`",
        ),
        ("[training]", "[trainng]", "unknown field `trainng`"),
    ];
    for (from, to, expected) in cases {
        assert!(SPEC.contains(from), "{from}");
        let err = bad_input(&["train", "--spec", &spec_file(&SPEC.replace(from, to))]);
        assert!(err.contains(expected), "{to}: {err}");
        assert!(err.contains("spec.toml"), "{err}");
    }
    let zero_layers = SPEC.replace(
        "model = \"gpt3-175b\"",
        "[model]\nlayers = 0\nhidden = 2048\nffn_hidden = 8192\nheads = 16\nvocab = 51200",
    );
    refuses(
        &["train", "--spec", &spec_file(&zero_layers)],
        &["`model.layers` is 0"],
    );
}

#[test]
fn search_finds_feasible_layouts_fastest_first() {
    let out = ok(&[
        "train",
        "search",
        "--model",
        "llama3-70b",
        "--system",
        "dgx-h100",
        "--gpus",
        "512",
        "--global-batch",
        "512",
        "--seq-len",
        "4096",
        "--top",
        "3",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["evaluated"].as_u64().unwrap() > 1000);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let times: Vec<f64> = top
        .iter()
        .map(|r| r["step_time_s"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(top.iter().all(|r| r["feasible"] == true));
    assert!(v["elapsed_s"].as_f64().is_some());
}

#[test]
fn search_refuses_bad_flags() {
    let err = bad_input(&[
        "train",
        "search",
        "--model",
        "llama3-70b",
        "--system",
        "dgx-h100",
        "--gpus",
        "0",
        "--global-batch",
        "8",
        "--seq-len",
        "8",
    ]);
    assert!(err.contains("--gpus is 0"), "{err}");
    let err = bad_input(&[
        "train",
        "search",
        "--model",
        "llama9",
        "--system",
        "dgx-h100",
        "--gpus",
        "8",
        "--global-batch",
        "8",
        "--seq-len",
        "8",
    ]);
    assert!(err.contains("unknown model `llama9`"), "{err}");
    // A recipe the chip lacks is an error naming the flag, not "nothing fits".
    let err = bad_input(&[
        "train",
        "search",
        "--model",
        "llama3-70b",
        "--system",
        "dgx-h100",
        "--gpus",
        "64",
        "--global-batch",
        "128",
        "--seq-len",
        "8192",
        "--precision",
        "mxfp8",
    ]);
    assert!(
        err.contains("--precision") && err.contains("has no mxfp8"),
        "{err}"
    );
}

// Validation against published runs: tests/train_validate.rs.

#[test]
fn train_without_a_spec_explains_itself() {
    let output = gigawatt().args(["train"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--spec"));
}

#[test]
fn a_search_with_no_possible_layout_says_why() {
    let err = bad_input(&[
        "train",
        "search",
        "--model",
        "llama3-70b",
        "--system",
        "dgx-h100",
        "--gpus",
        "997",
        "--global-batch",
        "512",
        "--seq-len",
        "4096",
    ]);
    assert!(err.contains("no parallel layout splits 997 GPUs"), "{err}");
}

#[test]
fn an_absurd_custom_model_is_refused() {
    let spec = SPEC.replace(
        "model = \"gpt3-175b\"",
        "[model]\nlayers = 1000000000\nhidden = 2048\nffn_hidden = 8192\nheads = 16\nvocab = 51200",
    );
    refuses(
        &["train", "--spec", &spec_file(&spec)],
        &["`model.layers` is 1000000000"],
    );
}

#[test]
fn framework_stage_and_recompute_bad_input_names_the_field() {
    let cases = [
        // An unknown framework: did-you-mean, naming the field.
        (
            "model = \"gpt3-175b\"",
            "model = \"gpt3-175b\"\nframework = \"megatron-core-2042\"",
            "did you mean `megatron-core-2024`",
            "framework",
        ),
        // Stage layer counts that do not add up (pp = 2: they must make the 96 layers).
        (
            "pp = 8\nvirtual_pp = 3",
            "pp = 2\nvirtual_pp = 1\nfirst_stage_layers = 40\nlast_stage_layers = 40",
            "must add up to the 96 layers",
            "parallelism.",
        ),
        (
            "virtual_pp = 3",
            "virtual_pp = 3\nfirst_stage_layers = 97",
            "is more than the 96 layers",
            "parallelism.first_stage_layers",
        ),
        // `auto` with nothing that fits says what would.
        (
            "recompute = \"selective\"",
            "recompute = \"auto\"\nzero = 0",
            "what would fit",
            "parallelism.recompute",
        ),
        (
            "recompute = \"selective\"",
            "recompute = \"selective\"\nrecompute_modules = [\"core_atn\"]",
            "did you mean `core_attn`",
            "parallelism.recompute_modules",
        ),
        (
            "recompute = \"selective\"",
            "recompute = \"none\"\nrecompute_layers = 2",
            "set `recompute = \"full\"`",
            "parallelism.recompute_layers",
        ),
    ];
    for (from, to, expected, field) in cases {
        assert!(SPEC.contains(from), "{from}");
        let text = SPEC.replace(from, to);
        // The `auto` case needs a layout nothing fits: 175B on 8 GPUs without sharding.
        let text = if to.contains("auto") {
            text.replace("gpus = 64", "gpus = 8")
                .replace("pp = 8\nvirtual_pp = 3", "pp = 1\nvirtual_pp = 1")
                .replace("global_batch = 64", "global_batch = 8")
        } else {
            text
        };
        let err = bad_input(&["train", "--spec", &spec_file(&text)]);
        assert!(err.contains(expected), "{to}: {err}");
        assert!(err.contains(field), "{to}: {err}");
        assert!(err.contains("spec.toml"), "{err}");
    }
    // An unknown framework on the search names the flag.
    let err = bad_input(&[
        "train",
        "search",
        "--model",
        "llama3-8b",
        "--system",
        "dgx-h100",
        "--gpus",
        "8",
        "--global-batch",
        "8",
        "--seq-len",
        "2048",
        "--framework",
        "torchtitan",
    ]);
    assert!(
        err.contains("--framework") && err.contains("did you mean `torchtitan-2025`"),
        "{err}"
    );
}

#[test]
fn a_layout_the_framework_cannot_run_is_evaluated_and_flagged() {
    // Megatron has no ZeRO-2; the layout exists, so it is evaluated and reported illegal.
    let spec = SPEC.replace("microbatch = 1", "microbatch = 1\nzero = 2");
    let v: Value = serde_json::from_str(&ok(&[
        "train",
        "--spec",
        &spec_file(&spec),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["framework_legal"], false);
    assert!(
        v["framework_reason"].as_str().unwrap().contains("ZeRO-2"),
        "{}",
        v["framework_reason"]
    );
    assert!(v["step_time_s"].as_f64().unwrap() > 0.0);
    // Uneven stages: 96 layers on pp 8 as 10 + 6 x 11 + ... must add up; 10 + 10 leave 76
    // for 6 middle stages (13 at most).
    let uneven = SPEC.replace(
        "virtual_pp = 3",
        "virtual_pp = 1\nfirst_stage_layers = 10\nlast_stage_layers = 10",
    );
    let v: Value = serde_json::from_str(&ok(&[
        "train",
        "--spec",
        &spec_file(&uneven),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["stages"]["first"], 10);
    assert_eq!(v["stages"]["middle"], 13);
    assert_eq!(v["framework_legal"], true);
}

#[test]
fn activation_offload_is_read_and_a_negative_count_names_the_field() {
    let offload = MOE_SPEC.replace("recompute = \"full\"", "activation_offload_layers = 4");
    let out = ok(&["train", "--spec", &spec_file(&offload), "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["strategy"]["activation_offload_layers"], 4, "{out}");
    let bad = MOE_SPEC.replace("recompute = \"full\"", "activation_offload_layers = -1");
    refuses(
        &["train", "--spec", &spec_file(&bad)],
        &[
            "parallelism.activation_offload_layers",
            "`activation_offload_layers` is -1",
        ],
    );
}

#[test]
fn weights_gathered_in_their_recipe_are_read_and_a_recipe_that_lacks_them_is_refused() {
    // Per-tensor FP8 (the plain `fp8` of MOE_SPEC is the framework's current scaling) keeps its
    // weights in FP8:
    // the sharded optimizer gathers a byte a weight, never slower than 16 bits.
    let step = |text: &str| -> (f64, Value) {
        let out = ok(&["train", "--spec", &spec_file(text), "--format", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        (v["step_time_s"].as_f64().unwrap(), v["strategy"].clone())
    };
    let gathered = MOE_SPEC.replace(
        "recompute = \"full\"",
        "recompute = \"full\"\nfp8_param_gather = true",
    );
    let (t_gathered, strategy) = step(&gathered);
    assert_eq!(strategy["fp8_param_gather"], true, "{strategy}");
    assert!(t_gathered <= step(MOE_SPEC).0);
    // NVFP4's setting on an FP8 run, and FP8's on a BF16 run, name the field and the recipes.
    let fp4_on_fp8 = MOE_SPEC.replace(
        "recompute = \"full\"",
        "recompute = \"full\"\nfp4_param_gather = true",
    );
    refuses(
        &["train", "--spec", &spec_file(&fp4_on_fp8)],
        &[
            "parallelism.fp4_param_gather",
            "nvfp4",
            "trains in fp8-current",
        ],
    );
    let fp8_on_bf16 = SPEC.replace(
        "recompute = \"selective\"",
        "recompute = \"selective\"\nfp8_param_gather = true",
    );
    refuses(
        &["train", "--spec", &spec_file(&fp8_on_bf16)],
        &["parallelism.fp8_param_gather", "bf16"],
    );
}

#[test]
fn bad_recipes_and_routing_name_the_field() {
    let cases = [
        // Imbalance below 1.
        (
            "moe_imbalance = 0.8",
            "training.moe_imbalance",
            "`moe_imbalance` is 0.8",
        ),
        // A capacity below the mean drops tokens from every expert.
        (
            "moe_capacity_factor = 0.8",
            "training.moe_capacity_factor",
            "`moe_capacity_factor` is 0.8",
        ),
        // Padded to capacity, the imbalance no longer sets the load: one or the other.
        (
            "moe_capacity_factor = 1.2\nmoe_pad_to_capacity = true\nmoe_imbalance = 1.1",
            "training.moe_pad_to_capacity",
            "both given",
        ),
        // Megatron-Core refuses token drop without padding under a moe_preprocess graph.
        (
            "moe_capacity_factor = 1.2\ncuda_graphs = \"attn+moe_router+moe_preprocess\"",
            "training.moe_capacity_factor",
            "`moe_preprocess` CUDA graph",
        ),
        // Padding needs a capacity to pad to.
        (
            "moe_pad_to_capacity = true",
            "training.moe_pad_to_capacity",
            "without `moe_capacity_factor`",
        ),
        // A dispatcher nobody ships.
        (
            "moe_dispatcher = \"allgather\"",
            "training.moe_dispatcher",
            "`moe_dispatcher` is `allgather`",
        ),
        // A CUDA graph scope Megatron does not have.
        (
            "cuda_graphs = \"attn+mlpp\"",
            "training.cuda_graphs",
            "`cuda_graphs` is `attn+mlpp`",
        ),
        // A node limit wider than the EP group (64 GPUs = 8 nodes of 8).
        (
            "moe_node_limit = 9",
            "training.moe_node_limit",
            "spans 8 node(s)",
        ),
        // A recipe the chip lacks: Hopper has no MXFP8.
        (
            "expert_precision = \"mxfp8\"",
            "training.expert_precision",
            "has no mxfp8",
        ),
        // An unknown recipe: did-you-mean.
        (
            "dense_precision = \"nvfp5\"",
            "training.dense_precision",
            "did you mean `nvfp4`",
        ),
    ];
    for (line, field, expected) in cases {
        let text = MOE_SPEC.replace(
            "precision = \"fp8\"",
            &format!("precision = \"fp8\"\n{line}"),
        );
        let err = bad_input(&["train", "--spec", &spec_file(&text)]);
        assert!(err.contains(field), "{line}: {err}");
        assert!(err.contains(expected), "{line}: {err}");
    }
    // Routing facts on a dense model.
    // (Padding alone is refused for want of a capacity, above, on any model.)
    for line in ["moe_capacity_factor = 1.25", "moe_node_limit = 2"] {
        let field = format!("training.{}", line.split(' ').next().unwrap());
        let text = SPEC.replace("seq_len = 2048", &format!("seq_len = 2048\n{line}"));
        refuses(
            &["train", "--spec", &spec_file(&text)],
            &[&field, "applies to MoE models only"],
        );
    }
    // A recipe the framework lacks: Megatron-LM 2021 has no FP8.
    let text = SPEC
        .replace(
            "seq_len = 2048",
            "seq_len = 2048\ndense_precision = \"fp8-delayed\"",
        )
        .replace(
            "model = \"gpt3-175b\"",
            "model = \"gpt3-175b\"\nframework = \"megatron-lm-2021\"",
        )
        .replace("system = \"dgx-a100-80gb\"", "system = \"dgx-h100\"");
    refuses(
        &["train", "--spec", &spec_file(&text)],
        &[
            "training.dense_precision",
            "has no fp8-delayed training recipe",
        ],
    );
}

#[test]
fn the_step_time_says_how_far_off_the_model_runs_on_published_runs() {
    // A100 is a generation the fit rests on: the leave-one-source-out figure (6.0%).
    let a100: Value = train_json(SPEC);
    assert_eq!(a100["step_time_error"]["mean_absolute"], 0.060);
    assert!(a100["assumptions"][0]
        .as_str()
        .unwrap()
        .starts_with("step time typically within ±6.0%"));
    let table = ok(&["train", "--spec", &spec_file(SPEC)]);
    assert!(
        table.contains("(typically within ±6.0%, see assumptions)"),
        "{table}"
    );

    // Blackwell, and anything newer, takes the figure fitted without Blackwell (9.2%).
    let b200 = SPEC.replace("dgx-a100-80gb", "dgx-b200");
    let v: Value = train_json(&b200);
    assert_eq!(v["step_time_error"]["mean_absolute"], 0.092);
    // The search says how close two layouts must be to be a tie.
    let search = ok(&[
        "train",
        "search",
        "--model",
        "llama3-70b",
        "--system",
        "dgx-b200",
        "--gpus",
        "64",
        "--global-batch",
        "64",
        "--seq-len",
        "8192",
        "--top",
        "2",
    ]);
    assert!(
        search.contains("Step times are typically within ±9.2%") && search.contains("a tie"),
        "{search}"
    );
    assert!(v["step_time_error"]["basis"]
        .as_str()
        .unwrap()
        .contains("Blackwell"));
}

#[test]
fn a_named_userbuffers_config_is_read_and_an_unknown_one_names_the_field() {
    // GPT-3 175B at TP 8 on H100 in FP8 with the TP overlap: Megatron-Bridge's H100 FP8 config
    // runs the projection's and FC2's forward as ring exchanges, which TE's defaults pipeline.
    // Microbatches of 4 sequences: the overlap pays, so the step runs it.
    let base = SPEC
        .replace("dgx-a100-80gb", "dgx-h100")
        .replace("microbatch = 1", "microbatch = 4")
        .replace("recompute = \"selective\"", "tp_comm_overlap = true")
        .replace("seq_len = 2048", "seq_len = 2048\nprecision = \"fp8\"");
    let named = base.replace(
        "tp_comm_overlap = true",
        "tp_comm_overlap = true\nuserbuffers = \"megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192\"",
    );
    let defaults = train_json(&base);
    let bridge = train_json(&named);
    assert_eq!(
        bridge["strategy"]["userbuffers"],
        "megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192"
    );
    // TE's defaults are not echoed.
    assert!(defaults["strategy"].get("userbuffers").is_none());
    let paid = |v: &Value| v["breakdown"]["userbuffers_s"].as_f64().unwrap();
    assert!(
        paid(&bridge) > 0.0 && paid(&bridge) < paid(&defaults),
        "{defaults} {bridge}"
    );
    assert!(bridge["step_time_s"].as_f64() < defaults["step_time_s"].as_f64());
    let ledger = |v: &Value| v["assumptions"].to_string();
    assert!(!ledger(&bridge).contains("not read"), "{bridge}");
    // At one sequence a microbatch the collectives run in line (cheaper there): the ledger says
    // the named config was not read.
    let in_line = train_json(&named.replace("microbatch = 4", "microbatch = 1"));
    assert_eq!(in_line["breakdown"]["userbuffers_s"], 0.0);
    assert!(
        ledger(&in_line).contains(
            "userbuffers config `megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192` not read"
        ),
        "{in_line}"
    );
    let bad = base.replace(
        "tp_comm_overlap = true",
        "tp_comm_overlap = true\nuserbuffers = \"userbuffers_fp8_h100\"",
    );
    refuses(
        &["train", "--spec", &spec_file(&bad)],
        &[
            "parallelism.userbuffers",
            "unknown userbuffers config `userbuffers_fp8_h100`",
            "nemo-2.2.0:userbuffers_fp8_h100_h12288_tp4_mbs1_seqlen2048",
        ],
    );
}

#[test]
fn the_ledger_says_how_all_reduces_run_on_the_system() {
    // DGX H100's third-generation NVSwitch reduces in the network: the ledger names the
    // measured rate and its source. DGX A100's does not: rings.
    let h100 = train_json(
        &SPEC
            .replace("dgx-a100-80gb", "dgx-h100")
            .replace("sequence_parallel = true", "sequence_parallel = false"),
    );
    assert_ledger_states(
        &h100,
        &[
            "NVLink SHARP's measured 275 GB/s",
            "src-nccl-tests-h100-nvls",
            "InfiniBand SHARP",
        ],
    );
    let a100 = train_json(SPEC);
    assert_ledger_states(
        &a100,
        &[
            "no in-switch reduction known for `dgx-a100-80gb`",
            "run as rings",
        ],
    );
}
