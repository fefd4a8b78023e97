//! The published layouts of three large runs are legal for a framework that ran them and fit
//! in memory. Their predicted throughput sits beside the published figures in the README as a
//! sanity check; nothing is fitted on them, and the bounds here only catch a model that has
//! gone badly wrong (a factor of two), not a target.

use catalog::Catalog;
use engine::train::{search_layouts, train_text, TrainResult};
use perf::SearchOptions;

fn evaluate(spec: &str) -> TrainResult {
    let catalog = Catalog::embedded().unwrap();
    train_text(&catalog, "spec.toml", spec).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Meta, "The Llama 3 Herd of Models" section 3.3: 405B on 16,384 H100 at TP 8, PP 16,
/// DP 128, 8,192-token sequences, 2,048 sequences per step, 38-43% MFU (BF16).
pub const LLAMA3_405B: &str = r#"model = "llama3-405b"
[cluster]
system = "dgx-h100"
gpus = 16384
[parallelism]
tp = 8
pp = 16
virtual_pp = 2
sequence_parallel = true
[training]
global_batch = 2048
seq_len = 8192
"#;

/// DeepSeek-V3 technical report section 3: PP 16, EP 64 over 8 nodes, ZeRO-1, no TP, on 2,048
/// H800 in FP8; 4,096-token sequences, 15,360 sequences per step (after the ramp); 2.664M
/// GPU-hours for 14.8T tokens (~1,540 tokens/s per GPU). The recipe is the report's
/// fine-grained (blockwise) FP8 (section 3.3) and each token reaches at most 4 nodes
/// (section 2.1.2, node-limited routing M = 4); the all-to-all sends a token over InfiniBand
/// once per node and forwards it over NVLink (section 3.2.2) with the activations quantised to
/// FP8 before the dispatch (section 3.3.4).
pub const DEEPSEEK_V3: &str = r#"model = "deepseek-v3"
framework = "hai-llm-2024"
[cluster]
system = "hgx-h800"
gpus = 2048
[parallelism]
pp = 16
ep = 64
zero = 1
[training]
global_batch = 15360
seq_len = 4096
precision = "fp8-blockwise"
moe_node_limit = 4
moe_dispatcher = "deepep-fp8"
"#;

/// Narayanan et al. 2021 section 5.1: GPT-3 175B on 1,024 A100 with a batch of 1,536, about
/// 140 TFLOP/s per GPU counting the recompute forward pass; TP 8, PP 8.
pub const GPT3_175B: &str = r#"model = "gpt3-175b"
framework = "megatron-lm-2021"
[cluster]
system = "dgx-a100-80gb"
gpus = 1024
[parallelism]
tp = 8
pp = 8
recompute = "full"
[training]
global_batch = 1536
seq_len = 2048
"#;

fn legal_and_feasible(r: &TrainResult) {
    assert!(r.framework_legal, "{:?}", r.framework_reason);
    assert!(r.feasible, "{:?}", r.reason);
}

#[test]
fn llama3_405b_at_pp16_is_legal_and_fits() {
    let r = evaluate(LLAMA3_405B);
    legal_and_feasible(&r);
    assert_eq!(r.framework, "megatron-bridge-2026", "the default framework");
    // 126 layers on 16 stages, the ends one layer short as Meta describes.
    assert_eq!((r.stages.first, r.stages.middle, r.stages.last), (7, 8, 7));
    assert!(r.mfu > 0.2 && r.mfu < 0.8, "MFU {}", r.mfu);
}

#[test]
fn deepseek_v3_at_pp16_ep64_is_legal_and_fits_in_fp8() {
    let r = evaluate(DEEPSEEK_V3);
    legal_and_feasible(&r);
    assert_eq!(r.stages.max_layers(), 4);
    // Published: 14.8e12 tokens / (2.664e6 GPU-h x 3600) = 1,543 tokens/s per GPU.
    let per_gpu = r.tokens_per_s / 2048.0;
    assert!(
        per_gpu > 770.0 && per_gpu < 3100.0,
        "{per_gpu} tokens/s/GPU"
    );
    // The default Megatron runs it too.
    let megatron = evaluate(&DEEPSEEK_V3.replace("framework = \"hai-llm-2024\"\n", ""));
    legal_and_feasible(&megatron);
}

#[test]
fn gpt3_175b_at_tp8_pp8_is_legal_and_fits() {
    let r = evaluate(GPT3_175B);
    legal_and_feasible(&r);
    // Narayanan count the recompute forward pass: compare hardware FLOPs per GPU.
    let hardware_tflops = r.tflops_per_gpu * r.hfu / r.mfu;
    assert!(
        hardware_tflops > 70.0 && hardware_tflops < 280.0,
        "{hardware_tflops}"
    );
}

#[test]
fn zero_2_with_pipelines_is_evaluated_but_not_legal() {
    let spec = GPT3_175B.replace("recompute = \"full\"", "recompute = \"full\"\nzero = 2");
    let r = evaluate(&spec.replace("megatron-lm-2021", "deepspeed-zero3"));
    assert!(!r.framework_legal);
    let why = r.framework_reason.unwrap();
    assert!(
        why.contains("deepspeed-zero3") && why.contains("ZeRO-2"),
        "{why}"
    );
    assert!(r.step_time_s.is_finite(), "the layout is still evaluated");
}

#[test]
fn search_returns_only_layouts_the_framework_runs() {
    let catalog = Catalog::embedded().unwrap();
    let workload = perf::Workload {
        global_batch: 512.0,
        seq_len: 4096.0,
        precision: perf::Precision::Bf16,
        components: None,
        moe: perf::MoeRouting::default(),
    };
    let options = SearchOptions {
        gpus: 512,
        top: 200,
        max_microbatch: 2,
    };
    for framework in ["deepspeed-zero3", "megatron-core-2024", "llm-foundry-2023"] {
        let inputs =
            engine::train::resolve_train_inputs(&catalog, "llama3-70b", "dgx-h100", 512, workload)
                .unwrap()
                .with_framework(&catalog, Some(framework))
                .unwrap();
        let found = search_layouts(&inputs, &options);
        assert!(!found.top.is_empty(), "{framework}");
        assert!(found.illegal > 0, "{framework} refuses some layouts");
        for r in &found.top {
            assert!(
                inputs
                    .framework
                    .check(&inputs.arch, &r.strategy, &workload)
                    .is_ok(),
                "{framework}: {:?}",
                r.strategy
            );
            assert!(!(r.strategy.pp > 1 && r.strategy.zero >= 2), "{framework}");
        }
    }
}

#[test]
fn search_considers_pipeline_depths_that_do_not_divide_the_layers() {
    // Llama 3 405B has 126 layers: PP 16 is among the layouts that fit.
    let catalog = Catalog::embedded().unwrap();
    let workload = perf::Workload {
        global_batch: 2048.0,
        seq_len: 8192.0,
        precision: perf::Precision::Bf16,
        components: None,
        moe: perf::MoeRouting::default(),
    };
    let inputs =
        engine::train::resolve_train_inputs(&catalog, "llama3-405b", "dgx-h100", 16384, workload)
            .unwrap();
    let found = search_layouts(
        &inputs,
        &SearchOptions {
            gpus: 16384,
            top: 1000,
            max_microbatch: 1,
        },
    );
    assert!(
        found.top.iter().any(|r| 126 % r.strategy.pp != 0),
        "no uneven pipeline among {} layouts",
        found.top.len()
    );
}

/// The README's row for the run whose first cell starts with `run` (its "Sanity checks" table).
fn readme_row(run: &str) -> &'static str {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("### Sanity checks: published layouts")
        .expect("the README's sanity checks");
    readme[start..]
        .lines()
        .find(|line| line.starts_with(&format!("| {run}")))
        .unwrap_or_else(|| panic!("no README row for {run}"))
}

fn assert_reports(row: &str, figures: &[String]) {
    for figure in figures {
        assert!(
            row.contains(figure.as_str()),
            "the README's row should say `{figure}` (what the model gives now): {row}"
        );
    }
}

#[test]
fn the_readme_reports_these_runs_as_the_model_evaluates_them() {
    // The README's "Sanity checks" table quotes each run's figures; a model change that moves
    // one fails here until the README follows.
    let llama = evaluate(LLAMA3_405B);
    assert_reports(
        readme_row("Llama 3 405B"),
        &[
            format!("**{:.1}% MFU**", llama.mfu * 100.0),
            format!("({:.0} TFLOP/s per GPU)", llama.tflops_per_gpu),
            format!("{:.1} GiB", llama.memory_gib_per_gpu),
        ],
    );

    // DeepSeek-V3 against its report's 14.8e12 tokens in 2.664e6 GPU-hours: 1,543 per GPU;
    // and the same run without the report's facts (per-tensor FP8, no node limit, a plain
    // all-to-all).
    let deepseek = evaluate(DEEPSEEK_V3);
    let per_gpu = deepseek.tokens_per_s / 2048.0;
    let plain = evaluate(
        &DEEPSEEK_V3
            .replace("\"fp8-blockwise\"", "\"fp8-delayed\"")
            .replace("moe_node_limit = 4\n", "")
            .replace("moe_dispatcher = \"deepep-fp8\"\n", ""),
    );
    assert_reports(
        readme_row("DeepSeek-V3"),
        &[
            format!("**{} tokens/s per GPU**", units::fmt_grouped(per_gpu, 0)),
            format!("({:+.0}%;", (per_gpu / 1543.0 - 1.0) * 100.0),
            format!("{:.1} GiB", deepseek.memory_gib_per_gpu),
            format!(
                "{} with per-tensor",
                units::fmt_grouped(plain.tokens_per_s / 2048.0, 0)
            ),
        ],
    );

    // GPT-3 175B in Narayanan's Eq. 3: 96 B s l h^2 (1 + s / 6h + V / 16lh) FLOPs a step
    // (full attention, the recompute forward counted), against their ~140 TFLOP/s per GPU.
    let gpt3 = evaluate(GPT3_175B);
    let (b, s, l, h, v) = (1536.0, 2048.0, 96.0, 12288.0, 51200.0);
    let eq3_flop = 96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
    let step_s = b * s / gpt3.tokens_per_s;
    let eq3_tflops = eq3_flop / step_s / 1024.0 / 1e12;
    assert_reports(
        readme_row("GPT-3 175B"),
        &[
            format!("**{eq3_tflops:.0} TFLOP/s per GPU**"),
            format!("{:+.0}%;", (eq3_tflops / 140.0 - 1.0) * 100.0),
            format!("{:.0} model TFLOP/s causal", gpt3.tflops_per_gpu),
            format!("{:.1}% MFU", gpt3.mfu * 100.0),
            format!("{:.1} GiB", gpt3.memory_gib_per_gpu),
        ],
    );
}
