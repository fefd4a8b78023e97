//! `gigawatt train` on MoE models: precision per component and expert routing read from the
//! spec, token drop, the MoE error the answer carries, and GPT-OSS's layer facts (sliding
//! window, unfused ops) each costing time and stated.

mod common;
mod train_spec;

use common::{ok, refuses};
use serde_json::Value;
use train_spec::{assert_ledger_states, assert_same_step, spec_file, train_json, MOE_SPEC};

#[test]
fn precision_per_component_and_moe_routing_are_read() {
    let text = MOE_SPEC.replace(
        "precision = \"fp8\"",
        "precision = \"fp8-blockwise\"\nattention_precision = \"bf16\"\nmoe_imbalance = 1.1\nmoe_node_limit = 4",
    );
    let out = ok(&["train", "--spec", &spec_file(&text), "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["workload"]["components"]["attention"], "bf16");
    assert_eq!(v["workload"]["components"]["experts"], "fp8_blockwise");
    assert_eq!(v["workload"]["moe"]["node_limit"], 4);
    // A more imbalanced run is slower, all else equal.
    let slower = MOE_SPEC.replace("precision = \"fp8\"", "moe_imbalance = 1.5");
    let base = MOE_SPEC.replace("precision = \"fp8\"", "moe_imbalance = 1.0");
    let t = |spec: &str| -> f64 {
        let out = ok(&["train", "--spec", &spec_file(spec), "--format", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["step_time_s"].as_f64().unwrap()
    };
    assert!(t(&slower) > t(&base));
    // A per-node dispatcher sends fewer copies over InfiniBand; quantising before the dispatch
    // sends smaller ones.
    let per_node = MOE_SPEC.replace(
        "precision = \"fp8\"",
        "precision = \"fp8\"\nmoe_dispatcher = \"deepep\"",
    );
    let fp8 = MOE_SPEC.replace(
        "precision = \"fp8\"",
        "precision = \"fp8\"\nmoe_dispatcher = \"deepep-fp8\"",
    );
    assert!(t(&per_node) < t(MOE_SPEC));
    assert!(t(&fp8) < t(&per_node));
    // DeepEP holds Megatron-Core's 20 SMs: the workload carries them, and the ledger says what
    // a hidden all-to-all costs; NCCL's all-to-all carries none.
    let json = |spec: &str| -> Value {
        serde_json::from_str(&ok(&[
            "train",
            "--spec",
            &spec_file(spec),
            "--format",
            "json",
        ]))
        .unwrap()
    };
    let deepep = json(&per_node);
    assert_eq!(deepep["workload"]["moe"]["dispatcher_sms"], 20.0);
    assert!(
        deepep["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("its dispatcher's 20 SMs")),
        "{}",
        deepep["assumptions"]
    );
    assert!(json(MOE_SPEC)["workload"]["moe"]["dispatcher_sms"].is_null());
    // CUDA graphs take launches off the host: never slower, and a whole-iteration graph no
    // slower than per-layer capture.
    let graphs = |scope: &str| {
        MOE_SPEC.replace(
            "precision = \"fp8\"",
            &format!("precision = \"fp8\"\ncuda_graphs = \"{scope}\""),
        )
    };
    let layer = t(&graphs("attn+moe_router+moe_preprocess"));
    assert!(layer <= t(MOE_SPEC));
    assert!(t(&graphs("full_iteration")) <= layer);
}

#[test]
fn token_drop_padded_to_capacity_is_read_and_never_waits_on_the_host_more_than_dropless() {
    // Padded to 1.25x the mean, every expert processes its capacity: the same load as a
    // dropless run whose busiest rank carries 1.25x the mean, minus the dispatcher's host sync.
    let with = |line: &str| {
        train_json(&MOE_SPEC.replace("seq_len = 4096", &format!("seq_len = 4096\n{line}")))
    };
    let (p, d) = (
        with("moe_capacity_factor = 1.25\nmoe_pad_to_capacity = true"),
        with("moe_imbalance = 1.25"),
    );
    assert_ledger_states(
        &p,
        &["token drop padded to 1.25x", "never syncs with the host"],
    );
    assert_ledger_states(&d, &["dropless", "1.25x the mean", "waits for them"]);
    assert_eq!(p["workload"]["moe"]["capacity_factor"], 1.25, "{p}");
    assert!(d["workload"]["moe"]["capacity_factor"].is_null(), "{d}");
    let stall = |v: &Value| v["breakdown"]["host_stall_s"].as_f64().unwrap();
    let step = |v: &Value| v["step_time_s"].as_f64().unwrap();
    assert!(stall(&p) <= stall(&d), "{} > {}", stall(&p), stall(&d));
    assert!(step(&p) <= step(&d), "{} > {}", step(&p), step(&d));
    // The GPU's work and the traffic are the same; only the host's wait can differ.
    for part in [
        "matmul_s",
        "attention_s",
        "elementwise_s",
        "ep_comm_s",
        "dp_comm_s",
    ] {
        assert_eq!(p["breakdown"][part], d["breakdown"][part], "{part}");
    }
    // Token drop without padding caps the busiest rank at the capacity and keeps the sync: a
    // 1.5 imbalance under a 1.1 capacity runs exactly as a dropless 1.1 imbalance.
    let capped = with("moe_capacity_factor = 1.1\nmoe_imbalance = 1.5");
    assert_ledger_states(&capped, &["token drop at 1.1x", "first permutation"]);
    assert_eq!(
        step(&capped),
        step(&with("moe_imbalance = 1.1")),
        "{capped}"
    );
}

#[test]
fn an_moe_model_takes_the_wider_error_of_the_published_moe_runs() {
    // The model predicts MoE runs less well than dense ones (11.1% over the 35 MoE rows, each
    // source left out, against 6.0% on A100/H100 and 9.2% leaving Blackwell out): a search
    // for an MoE model says so, on Hopper and Blackwell alike.
    for system in ["dgx-h100", "dgx-b200"] {
        let search = ok(&[
            "train",
            "search",
            "--model",
            "mixtral-8x22b",
            "--system",
            system,
            "--gpus",
            "64",
            "--global-batch",
            "256",
            "--seq-len",
            "4096",
            "--top",
            "1",
        ]);
        assert!(
            search.contains("Step times are typically within ±11.1%")
                && search.contains("published MoE runs"),
            "{system}: {search}"
        );
    }
}

#[test]
fn a_sliding_window_model_trains_its_band_not_full_attention() {
    // GPT-OSS's attention shape (dense here) at 32k tokens on DGX B200: with half its layers on
    // a 128-token band, the step is shorter and MFU counts only the band on those layers.
    let spec = |band: &str| {
        format!(
            "[model]\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\nkv_heads = 8\n\
             head_dim = 64\nvocab = 201088\ngated_mlp = true\n{band}\n[cluster]\n\
             system = \"dgx-b200\"\ngpus = 8\n[parallelism]\ntp = 1\npp = 1\nmicrobatch = 1\n\
             recompute = \"selective\"\n[training]\nglobal_batch = 8\nseq_len = 32768\n"
        )
    };
    let run = |band: &str| train_json(&spec(band));
    let full = run("");
    let banded = run("sliding_window = 128\nsliding_window_layers = 18");
    let step = |v: &Value| v["step_time_s"].as_f64().unwrap();
    // Model FLOPs per GPU and step: the rate times the step.
    let flops = |v: &Value| v["tflops_per_gpu"].as_f64().unwrap() * step(v);
    assert!(
        step(&banded) < 0.8 * step(&full),
        "{} {}",
        step(&banded),
        step(&full)
    );
    assert!(flops(&banded) < flops(&full));
    assert!(banded["mfu"].as_f64().unwrap() <= 1.0);
    // The ledger says so. Keys a query at 32k: (128 x 129 / 2 + 32,640 x 128) / 32,768 =
    // 127.75, shown as 128, against 32,768 / 2 = 16,384 on the full layers.
    let ledger = banded["assumptions"].to_string();
    assert!(
        ledger.contains(
            "18 of 36 layers attend over a 128-token band (128 keys a query against 16384"
        ),
        "{ledger}"
    );
    assert!(!full["assumptions"].to_string().contains("band"));
}

#[test]
fn gpt_oss_unfused_ops_cost_time_and_are_stated() {
    // GPT-OSS-120B as a [model] table on 8 DGX B200 GPUs (EP 8): its expert biases, YaRN rotary
    // embedding and clamped gated activation run unfused in Megatron-Core, so naming them makes
    // the step longer, and the ledger says what is charged.
    let spec = |facts: &str| {
        format!(
            "[model]\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\nkv_heads = 8\n\
             head_dim = 64\nvocab = 201088\ngated_mlp = true\nexperts = 128\ntop_k = 4\n\
             moe_ffn_hidden = 2880\n{facts}\n[cluster]\nsystem = \"dgx-b200\"\ngpus = 8\n\
             [parallelism]\ntp = 1\npp = 1\nep = 8\nmicrobatch = 1\n[training]\n\
             global_batch = 8\nseq_len = 4096\n"
        )
    };
    let run = |facts: &str| train_json(&spec(facts));
    let plain = run("");
    let unfused = run("expert_bias = true\nyarn_scaling_factor = 32.0\nglu_clamp = true");
    let step = |v: &Value| v["step_time_s"].as_f64().unwrap();
    assert!(
        step(&unfused) > step(&plain),
        "{} {}",
        step(&unfused),
        step(&plain)
    );
    assert_ledger_states(
        &unfused,
        &[
            "unfused in Megatron-Core",
            "the experts' output biases",
            "YaRN's rotary embedding",
            "the clamp of the experts' gated activation",
        ],
    );
    assert!(!plain["assumptions"].to_string().contains("unfused"));
    // A clamp on a model without experts is refused, naming the field.
    let dense =
        spec("glu_clamp = true").replace("experts = 128\ntop_k = 4\nmoe_ffn_hidden = 2880\n", "");
    refuses(
        &["train", "--spec", &spec_file(&dense)],
        &["model.glu_clamp", "model.experts"],
    );
}

#[test]
fn the_catalogs_gpt_oss_carries_its_layer_facts() {
    // `model = "gpt-oss-120b"` from the catalog times the same step as the [model] table with
    // every fact written out (band, biases, YaRN, clamp), and states the same costs.
    let cluster = "[cluster]\nsystem = \"dgx-b200\"\ngpus = 8\n[parallelism]\ntp = 1\npp = 1\n\
                   ep = 8\nmicrobatch = 1\n[training]\nglobal_batch = 8\nseq_len = 4096\n";
    let table = "[model]\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\n\
                 kv_heads = 8\nhead_dim = 64\nvocab = 201088\ngated_mlp = true\nexperts = 128\n\
                 top_k = 4\nmoe_ffn_hidden = 2880\nsliding_window = 128\n\
                 sliding_window_layers = 18\nexpert_bias = true\nyarn_scaling_factor = 32.0\n\
                 glu_clamp = true\n";
    let catalog = train_json(&format!("model = \"gpt-oss-120b\"\n{cluster}"));
    let written = train_json(&format!("{table}{cluster}"));
    assert_same_step(&catalog, &written);
    assert_ledger_states(
        &catalog,
        &[
            "18 of 36 layers attend over a 128-token band",
            "unfused in Megatron-Core",
            "the clamp of the experts' gated activation",
        ],
    );
    assert!(!catalog["assumptions"]
        .to_string()
        .contains("query and key norms"));
    // Qwen3's QK-norm comes from its catalog entry too (`facts_source`: its modelling code).
    let qwen = train_json(
        "model = \"qwen3-235b-a22b\"\n[cluster]\nsystem = \"gb200-nvl72\"\ngpus = 64\n\
         [parallelism]\ntp = 1\npp = 4\nep = 16\nmicrobatch = 1\n[training]\n\
         global_batch = 64\nseq_len = 4096\n",
    );
    assert_ledger_states(&qwen, &["query and key norms (Qwen3)"]);
    assert!(!qwen["assumptions"]
        .to_string()
        .contains("unfused in Megatron-Core"));
}
