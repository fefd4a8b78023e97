//! `gigawatt infer`: a spec, the layout search, the fleet view and bad input (validation: `infer_validate.rs`).

mod common;

use common::{bad_input, ok, refuses, tempdir};
use serde_json::Value;

const SPEC: &str = r#"model = "llama3-70b"
[cluster]
system = "dgx-h100"
gpus = 64
[serving]
tp = 4
precision = "fp8"
input_tokens = 2000
output_tokens = 500
ttft_slo_s = 2.0
tpot_slo_s = 0.05
mode = "server"
"#;

/// `gigawatt infer search` for `model` on a DGX H100 with these request lengths, then `extra`.
fn search_args<'a>(
    model: &'a str,
    input: &'a str,
    output: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "infer",
        "search",
        "--model",
        model,
        "--system",
        "dgx-h100",
        "--input-tokens",
        input,
        "--output-tokens",
        output,
    ];
    args.extend_from_slice(extra);
    args
}

fn spec_file(text: &str) -> String {
    let path = tempdir().join("serve.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_spec_reports_the_documented_fields_within_its_targets() {
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(SPEC), "-f", "json"])).unwrap();
    for field in [
        "output_tokens_per_s",
        "output_tokens_per_s_per_gpu",
        "ttft_s",
        "tpot_s",
        "batch",
        "kv_cache_gib",
        "feasible",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["feasible"], true);
    assert!(v["tpot_s"].as_f64().unwrap() <= 0.05);
    assert!(v["ttft_s"].as_f64().unwrap() <= 2.0);
    // The cluster figure is the per-GPU figure times the 64 GPUs.
    let per_gpu = v["output_tokens_per_s_per_gpu"].as_f64().unwrap();
    assert!(
        (v["output_tokens_per_s"].as_f64().unwrap() - 64.0 * per_gpu).abs()
            < 1e-6 * per_gpu.max(1.0)
    );
}

#[test]
fn an_unmeetable_target_says_what_is_achievable() {
    let spec = SPEC.replace("tpot_slo_s = 0.05", "tpot_slo_s = 0.0001");
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["feasible"], false);
    assert!(
        v["reason"].as_str().unwrap().contains("best achievable"),
        "{}",
        v["reason"]
    );
}

#[test]
fn weights_that_do_not_fit_are_reported() {
    let spec = SPEC
        .replace("tp = 4", "tp = 1")
        .replace("precision = \"fp8\"", "precision = \"bf16\"")
        .replace("gpus = 64", "gpus = 8");
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["feasible"], false);
    assert!(v["reason"].as_str().unwrap().contains("weights do not fit"));
}

#[test]
fn bad_specs_name_the_field() {
    for (from, to, expected) in [
        ("tp = 4", "tp = 3", "does not divide the 64 attention heads"),
        (
            "model = \"llama3-70b\"",
            "model = \"llama3-7b\"",
            "did you mean `llama3-70b`",
        ),
        (
            "input_tokens = 2000",
            "input_tokens = 0",
            "`serving.input_tokens` is 0",
        ),
        (
            "mode = \"server\"",
            "mode = \"batch\"",
            "unknown mode `batch`",
        ),
        (
            "gpus = 64",
            "gpus = 63",
            "not a whole number of 4-GPU units",
        ),
        (
            "tpot_slo_s = 0.05",
            "tpot_slo_s = -1.0",
            "`serving.tpot_slo_s` is -1",
        ),
    ] {
        let err = bad_input(&["infer", "--spec", &spec_file(&SPEC.replace(from, to))]);
        assert!(err.contains(expected), "{to}: {err}");
    }
}

#[test]
fn search_returns_the_best_layouts_first() {
    let v: Value = serde_json::from_str(&ok(&search_args(
        "llama3-70b",
        "2000",
        "500",
        &["--tpot-slo-s", "0.05", "--precision", "fp8", "-f", "json"],
    )))
    .unwrap();
    let top = v["top"].as_array().unwrap();
    assert!(!top.is_empty());
    let rates: Vec<f64> = top
        .iter()
        .map(|r| r["output_tokens_per_s_per_gpu"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
}

#[test]
fn search_with_an_impossible_target_explains() {
    let err = bad_input(&search_args(
        "llama3-405b",
        "2000",
        "500",
        &["--tpot-slo-s", "0.0001"],
    ));
    assert!(err.contains("no batch meets the latency targets"), "{err}");
    assert!(err.contains("relax the TPOT / TTFT targets"), "{err}");
}

#[test]
fn a_huge_request_length_is_quoted_back_readably() {
    // 1e300 tokens is refused, and the message says 1e300, not 301 digits.
    refuses(
        &search_args("llama3-70b", "1e300", "500", &[]),
        &["--input-tokens is 1e300", "from 1 to 10,000,000"],
    );
}

#[test]
fn the_fleet_view_serves_a_planned_buildout() {
    let v: Value = serde_json::from_str(&ok(&[
        "infer",
        "fleet",
        "openai-nvidia-2026",
        "--model",
        "llama3-70b",
        "--input-tokens",
        "2000",
        "--output-tokens",
        "500",
        "--tpot-slo-s",
        "0.05",
        "-f",
        "json",
    ]))
    .unwrap();
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert!(last["output_tokens_per_s"].as_f64().unwrap() > 0.0);
    assert!(last["usd_per_million_output_tokens"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_precision_the_chip_lacks_is_an_input_error() {
    let err = bad_input(&[
        "infer",
        "search",
        "--model",
        "llama3-8b",
        "--system",
        "dgx-a100-40gb",
        "--input-tokens",
        "100",
        "--output-tokens",
        "100",
        "--precision",
        "fp8",
    ]);
    assert!(err.contains("has no fp8 matmul units"), "{err}");
    let err = bad_input(&[
        "infer",
        "--spec",
        &spec_file(&SPEC.replace("precision = \"fp8\"", "precision = \"fp4\"")),
    ]);
    assert!(err.contains("has no fp4 matmul units"), "{err}");
}

#[test]
fn component_precisions_are_checked_per_field_and_change_the_weights() {
    // FP8 experts with BF16 attention and dense layers, on an MoE.
    let moe = |extra: &str| {
        format!(
            "model = \"qwen3-235b-a22b\"\n[cluster]\nsystem = \"dgx-h100\"\n[serving]\ntp = 8\nprecision = \"bf16\"\ninput_tokens = 1000\noutput_tokens = 1000\nmode = \"offline\"\n{extra}"
        )
    };
    let plain: Value = serde_json::from_str(&ok(&[
        "infer",
        "--spec",
        &spec_file(&moe("")),
        "-f",
        "json",
    ]))
    .unwrap();
    let mixed: Value = serde_json::from_str(&ok(&[
        "infer",
        "--spec",
        &spec_file(&moe("expert_precision = \"fp8\"\n")),
        "-f",
        "json",
    ]))
    .unwrap();
    assert!(plain.get("components").is_none());
    assert_eq!(mixed["components"]["experts"], "fp8");
    assert_eq!(mixed["components"]["attention"], "bf16");
    assert!(mixed["weights_gib"].as_f64().unwrap() < 0.6 * plain["weights_gib"].as_f64().unwrap());
    // A precision the chip lacks, named by its field.
    let err = bad_input(&[
        "infer",
        "--spec",
        &spec_file(&moe("attention_precision = \"fp4\"\n")),
    ]);
    assert!(err.contains("serving.attention_precision"), "{err}");
    assert!(err.contains("has no fp4 matmul units"), "{err}");
    let err = bad_input(&[
        "infer",
        "--spec",
        &spec_file(&moe("dense_precision = \"int3\"\n")),
    ]);
    assert!(err.contains("serving.dense_precision"), "{err}");
    assert!(err.contains("unknown precision `int3`"), "{err}");
}

#[test]
fn pipeline_stages_do_not_shorten_one_prompt() {
    // The same tp with more stages cannot have a shorter time to first token. Judged at the
    // median of sequences in flight, so both layouts' best TTFT is at one sequence per
    // microbatch (at p99 the percentile batch differs with the number of microbatches).
    let ttft = |pp: &str| -> f64 {
        let spec = SPEC
            .replace("tp = 4", &format!("tp = 2\npp = {pp}"))
            .replace(
                "mode = \"server\"",
                "mode = \"server\"\nslo_percentile = 50",
            );
        let v: Value =
            serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"]))
                .unwrap();
        v["detail"]["best_ttft_s"].as_f64().unwrap()
    };
    assert!(ttft("4") >= ttft("1"));
}

#[test]
fn an_engine_batch_limit_and_a_latency_percentile_are_checked_and_used() {
    let search = |extra: &[&'static str]| {
        let mut args = search_args(
            "llama3-70b",
            "1000",
            "300",
            &["--precision", "fp8", "--top", "1", "-f", "json"],
        );
        args.extend_from_slice(extra);
        args
    };
    let run =
        |extra: &[&'static str]| -> Value { serde_json::from_str(&ok(&search(extra))).unwrap() };
    let limited = run(&["--max-batch", "16"]);
    assert!(
        limited["top"][0]["batch"].as_u64().unwrap() <= 16,
        "{limited}"
    );
    // The median judges the targets at the mean batch; p99 at the tail, so it serves less.
    let median = run(&["--tpot-slo-s", "0.03", "--slo-percentile", "50"]);
    let tail = run(&["--tpot-slo-s", "0.03", "--slo-percentile", "99"]);
    let rate = |v: &Value| v["top"][0]["output_tokens_per_s_per_gpu"].as_f64().unwrap();
    assert!(
        rate(&tail) < rate(&median),
        "{} vs {}",
        rate(&tail),
        rate(&median)
    );

    for (flag, value, fix) in [
        ("--max-batch", "0", "a whole number from 1 to 65,536"),
        ("--max-batch", "1.5", "a whole number from 1 to 65,536"),
        (
            "--slo-percentile",
            "100",
            "a percentile from 50 (the median) to below 100",
        ),
        (
            "--slo-percentile",
            "-5",
            "a percentile from 50 (the median) to below 100",
        ),
    ] {
        let err = bad_input(&search(&[flag, value]));
        assert!(err.contains(&format!("{flag} is")), "{err}");
        assert!(err.contains(fix), "{err}");
    }
}

#[test]
fn a_spec_with_a_bad_batch_limit_names_the_field_and_line() {
    let spec = SPEC.replace("mode = \"server\"", "mode = \"server\"\nmax_batch = -3");
    refuses(
        &["infer", "--spec", &spec_file(&spec)],
        &[
            "serving.max_batch",
            ":13:",
            "a whole number from 1 to 65,536",
        ],
    );
    let spec = SPEC.replace("mode = \"server\"", "mode = \"server\"\nslo_percentile = 0");
    refuses(
        &["infer", "--spec", &spec_file(&spec)],
        &["serving.slo_percentile"],
    );
}

#[test]
fn speculative_decoding_is_checked_and_raises_a_small_batch_rate() {
    let spec = SPEC.replace(
        "mode = \"server\"",
        "mode = \"offline\"\nmax_batch = 1\ndraft_tokens = 1\nacceptance_rate = 0.85",
    );
    let plain = SPEC.replace("mode = \"server\"", "mode = \"offline\"\nmax_batch = 1");
    let rate = |text: &str| -> f64 {
        let v: Value =
            serde_json::from_str(&ok(&["infer", "--spec", &spec_file(text), "-f", "json"]))
                .unwrap();
        v["output_tokens_per_s_per_gpu"].as_f64().unwrap()
    };
    let gain = rate(&spec) / rate(&plain);
    assert!(gain > 1.5 && gain <= 1.85, "{gain}");

    for (text, field, fix) in [
        (
            "draft_tokens = 2.5\nacceptance_rate = 0.8",
            "serving.draft_tokens",
            "a whole number from 0 to 16",
        ),
        (
            "draft_tokens = 1",
            "serving.acceptance_rate",
            "needs the acceptance rate",
        ),
        (
            "draft_tokens = 1\nacceptance_rate = 1.5",
            "serving.acceptance_rate",
            "a probability from 0 to 1",
        ),
        (
            "acceptance_rate = 0.9",
            "serving.acceptance_rate",
            "speculative decoding only",
        ),
        (
            "draft_tokens = 1\nacceptance_rate = 0.9\ndraft_cost_fraction = 0",
            "serving.draft_cost_fraction",
            "above 0 and at most 1",
        ),
    ] {
        let bad = SPEC.replace("mode = \"server\"", &format!("mode = \"server\"\n{text}"));
        let err = bad_input(&["infer", "--spec", &spec_file(&bad)]);
        assert!(err.contains(field), "{text}: {err}");
        assert!(err.contains(fix), "{text}: {err}");
        assert!(err.contains("serve.toml:1"), "{text}: {err}");
    }
    let err = bad_input(&search_args(
        "llama3-8b",
        "100",
        "100",
        &["--draft-tokens", "-1", "--acceptance-rate", "0.8"],
    ));
    assert!(err.contains("--draft-tokens is -1"), "{err}");
}

#[test]
fn a_batch_limit_too_small_for_random_arrivals_says_so() {
    let spec = SPEC.replace("mode = \"server\"", "mode = \"server\"\nmax_batch = 2");
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["feasible"], false);
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("sequences in flight"), "{reason}");
}

#[test]
fn the_spec_summary_says_where_the_step_goes_and_what_it_assumes() {
    let text = ok(&["infer", "--spec", &spec_file(SPEC)]);
    assert!(text.contains("decode step"), "{text}");
    assert!(
        text.contains("dense GEMMs") && text.contains("KV-cache reads"),
        "{text}"
    );
    assert!(text.contains("at p99 of the sequences in flight"), "{text}");
    assert!(text.contains("matmul ceiling 70.9%"), "{text}");
}

#[test]
fn the_search_takes_a_kv_precision() {
    let run = |kv: &str| -> Value {
        serde_json::from_str(&ok(&search_args(
            "llama3-70b",
            "4000",
            "500",
            &[
                "--precision",
                "fp8",
                "--mode",
                "offline",
                "--kv-precision",
                kv,
                "--top",
                "1",
                "-f",
                "json",
            ],
        )))
        .unwrap()
    };
    let rate = |v: &Value| v["top"][0]["output_tokens_per_s_per_gpu"].as_f64().unwrap();
    // Half the bytes per KV element: more sequences fit beside the weights, and each step
    // reads half the bytes, so the best layout serves more.
    assert!(rate(&run("fp8")) > rate(&run("bf16")));
    let err = bad_input(&search_args(
        "llama3-70b",
        "10",
        "10",
        &["--kv-precision", "int4"],
    ));
    assert!(err.contains("--kv-precision `int4` is unknown"), "{err}");
}

#[test]
fn expert_settings_on_the_wrong_model_name_the_field() {
    let dense_overlap = SPEC.replace("mode = \"server\"", "mode = \"server\"\noverlap_ep = true");
    refuses(
        &["infer", "--spec", &spec_file(&dense_overlap)],
        &["serving.overlap_ep", "only an MoE model with ep > 1"],
    );

    let moe = SPEC
        .replace("llama3-70b", "deepseek-v3")
        .replace("tp = 4", "tp = 1\nep = 3");
    refuses(
        &["infer", "--spec", &spec_file(&moe)],
        &[
            "ep = 3 does not divide the 256 experts",
            "choose an ep that divides the experts",
        ],
    );

    let dense_ep = SPEC.replace("tp = 4", "tp = 4\nep = 2");
    refuses(
        &["infer", "--spec", &spec_file(&dense_ep)],
        &["needs an MoE model"],
    );
}

#[test]
fn a_system_missing_a_figure_is_the_systems_fault_not_the_models() {
    // Vera Rubin's dense BF16 rate is not public: the spec's system line is named.
    let spec = SPEC.replace("dgx-h100", "vera-rubin-nvl144");
    refuses(
        &["infer", "--spec", &spec_file(&spec)],
        &["cluster.system", "serve.toml:3:"],
    );
}

#[test]
fn pipeline_layouts_pay_their_hand_offs_and_fit_their_kv_cache() {
    let spec = SPEC
        .replace("tp = 4", "tp = 2\npp = 4")
        .replace("gpus = 64", "gpus = 8");
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["feasible"], true);
    assert!(v["detail"]["decode_step"]["pp_comm_s"].as_f64().unwrap() > 0.0);
    // Weights and the KV cache of all four microbatches in flight fit the 80 GiB.
    let used = v["kv_cache_gib"].as_f64().unwrap() + v["weights_gib"].as_f64().unwrap();
    assert!(used <= 80.0, "{used}");
}

#[test]
fn a_value_of_the_wrong_type_names_its_field_in_words() {
    let spec = SPEC.replace("tp = 4", "tp = \"four\"");
    refuses(
        &["infer", "--spec", &spec_file(&spec)],
        &["serve.toml:6:6: `serving.tp`", "expected a whole number"],
    );
}

const GPT_OSS_120B: &str = "[model]\nname = \"gpt-oss-120b\"\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\nkv_heads = 8\nhead_dim = 64\nvocab = 201088\ngated_mlp = true\nexperts = 128\ntop_k = 4\nmoe_ffn_hidden = 2880\nsliding_window = 128\nsliding_window_layers = 18\n";

#[test]
fn a_model_table_serves_in_a_spec_and_from_a_model_file() {
    // The spec's model as a [model] table with train's keys (MoE with sliding-window layers).
    let spec = format!(
        "{GPT_OSS_120B}[cluster]\nsystem = \"dgx-b200\"\n[serving]\ntp = 2\nep = 2\nprecision = \"fp8\"\ninput_tokens = 1024\noutput_tokens = 1024\nmode = \"offline\"\n"
    );
    let v: Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["model"], "gpt-oss-120b");
    assert!(
        v["output_tokens_per_s_per_gpu"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    // The same table as a --model-file for search and fleet.
    let path = tempdir().join("gpt-oss.toml");
    std::fs::write(&path, GPT_OSS_120B).unwrap();
    let file = path.to_str().unwrap();
    let out = ok(&[
        "infer",
        "search",
        "--model-file",
        file,
        "--system",
        "dgx-b200",
        "--input-tokens",
        "1024",
        "--output-tokens",
        "1024",
        "--mode",
        "offline",
        "--precision",
        "fp8",
    ]);
    assert!(out.contains("layouts evaluated"), "{out}");
    let fleet: Value = serde_json::from_str(&ok(&[
        "infer",
        "fleet",
        "openai-nvidia-2026",
        "--model-file",
        file,
        "--input-tokens",
        "1024",
        "--output-tokens",
        "1024",
        "--tpot-slo-s",
        "0.05",
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(fleet["model"], "gpt-oss-120b");
}

#[test]
fn a_model_table_with_inconsistent_shapes_names_the_field() {
    let spec = |model: &str| {
        format!("{model}[cluster]\nsystem = \"dgx-h100\"\n[serving]\ninput_tokens = 100\noutput_tokens = 100\n")
    };
    let base = "[model]\nlayers = 2\nhidden = 100\nffn_hidden = 400\nvocab = 1000\n";
    let err = bad_input(&[
        "infer",
        "--spec",
        &spec_file(&spec(&format!("{base}heads = 3\n"))),
    ]);
    assert!(
        err.contains("`model.heads`") && err.contains("`model`"),
        "{err}"
    );
    let err = bad_input(&[
        "infer",
        "--spec",
        &spec_file(&spec(&format!(
            "{base}heads = 4\nexperts = 8\ntop_k = 9\nmoe_ffn_hidden = 64\n"
        ))),
    ]);
    assert!(err.contains("`model.top_k`"), "{err}");
    let path = tempdir().join("bad.toml");
    std::fs::write(&path, format!("{base}heads = 3\n")).unwrap();
    let err = bad_input(
        &search_args("x", "10", "10", &[])
            .iter()
            .map(|a| {
                if *a == "--model" {
                    "--model-file"
                } else if *a == "x" {
                    path.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect::<Vec<_>>(),
    );
    assert!(
        err.contains("`model.heads`") && err.contains("bad.toml"),
        "{err}"
    );
}

#[test]
fn fp4_on_hopper_is_refused_for_one_system_and_served_at_fp8_in_a_fleet() {
    let err = bad_input(&search_args(
        "llama3-70b",
        "100",
        "100",
        &["--precision", "fp4"],
    ));
    assert!(
        err.contains("has no fp4") && err.contains("it has bf16, fp8"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&ok(&[
        "infer",
        "fleet",
        "openai-nvidia-2026",
        "--model",
        "llama3-70b",
        "--input-tokens",
        "2000",
        "--output-tokens",
        "500",
        "--tpot-slo-s",
        "0.05",
        "--precision",
        "fp4",
        "-f",
        "json",
    ]))
    .unwrap();
    for s in v["systems"].as_array().unwrap() {
        assert_eq!(s["precision_requested"], "fp4");
        if s["system"] == "dgx-h100" || s["system"] == "dgx-h200" {
            assert_eq!(s["precision_served"], "fp8", "{s}");
        }
        if s["system"] == "gb200-nvl72" || s["system"] == "dgx-b200" {
            assert_eq!(s["precision_served"], "fp4", "{s}");
        }
    }
    // Tokens per day: capacity x 24 h x mean/peak (default 0.6).
    let last = v["timeline"].as_array().unwrap().last().unwrap();
    let per_day = last["output_tokens_per_day"].as_f64().unwrap();
    let per_s = last["output_tokens_per_s"].as_f64().unwrap();
    assert!((per_day / (per_s * 86_400.0 * 0.6) - 1.0).abs() < 1e-12);
}

#[test]
fn an_engine_is_named_checked_and_suggested() {
    let with = |engine: &str| format!("engine = \"{engine}\"\n{SPEC}");
    let v: Value = serde_json::from_str(&ok(&[
        "infer",
        "--spec",
        &spec_file(&with("tensorrt-llm")),
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["engine"], "tensorrt-llm");
    refuses(
        &["infer", "--spec", &spec_file(&with("vlm"))],
        &["did you mean `vllm`", "`engine`"],
    );
    // vLLM on ROCm serves bf16 and fp8 only (cited table): fp4 is refused naming the field.
    let spec = with("vllm-rocm").replace("precision = \"fp8\"", "precision = \"fp4\"");
    refuses(
        &["infer", "--spec", &spec_file(&spec)],
        &["serving.precision"],
    );
}
