//! The capability view's numbers in a plan's assumptions ledger, with their sources.

use catalog::Catalog;

use super::CapabilityOptions;
use crate::{Assumption, PlanResult, SourceRef};

/// Source of Chinchilla's tokens per parameter.
pub const CHINCHILLA: &str = "capability-chinchilla";
/// Source of the batch cap.
pub const DEEPSEEK_BATCH: &str = "capability-deepseek-llm-batch";
/// Source of the spare fraction (the reliability data's).
pub const SPARES: &str = "capability-uiuc-delta-spares";
/// A value gigawatt states rather than measures.
pub const STATED: &str = "capability-stated-default";

fn sources() -> Vec<SourceRef> {
    vec![
        SourceRef {
            id: CHINCHILLA.into(),
            title: "Training Compute-Optimal Large Language Models (Hoffmann et al., DeepMind), compute-optimal ~20 tokens per parameter".into(),
            url: "https://arxiv.org/abs/2203.15556".into(),
            date: "2022-03-29".into(),
            kind: "paper".into(),
        },
        SourceRef {
            id: DEEPSEEK_BATCH.into(),
            title: "DeepSeek LLM: Scaling Open-Source Language Models with Longtermism (DeepSeek-AI), section 3.1: B_opt = 0.2920 C^0.3271 tokens".into(),
            url: "https://arxiv.org/abs/2401.02954".into(),
            date: "2024-01-05".into(),
            kind: "paper".into(),
        },
        SourceRef {
            id: SPARES.into(),
            title: "UIUC Delta reliability study: ~5% over-provisioning (the reliability data's spare fraction, catalog/reliability.toml)".into(),
            url: "https://arxiv.org/abs/2503.11901".into(),
            date: "2025".into(),
            kind: "secondary".into(),
        },
        SourceRef {
            id: STATED.into(),
            title: "gigawatt's stated default for the capability view: an assumption, not a measurement; set it in the scenario's [capability] table".into(),
            url: String::new(),
            date: String::new(),
            kind: "user-input".into(),
        },
    ]
}

/// The ledger rows of the options.
pub fn assumptions(options: &CapabilityOptions) -> Vec<Assumption> {
    let row = |name: &str, value: f64, unit: &str, source: &str, note: &str| Assumption {
        name: format!("capability.{name}"),
        value,
        unit: unit.into(),
        source: source.into(),
        note: (!note.is_empty()).then(|| note.to_string()),
        low: None,
        high: None,
        range_from: None,
    };
    let mut rows = vec![
        row("training_days", options.training_days, "days", STATED, "default 90"),
        row(
            "tokens_per_parameter",
            options.tokens_per_parameter,
            "tokens",
            CHINCHILLA,
            "per active parameter for the MoE (an assumption: Chinchilla fitted dense models)",
        ),
        row(
            "serving_share",
            options.serving_share,
            "fraction",
            STATED,
            "default 0.5, a judgement: the one published split, OpenAI's 2024 compute, was ~0.3 inference (Epoch AI, catalog source fac-epoch-openai-compute-2024)",
        ),
        row(
            "spare_fraction",
            options.spare_fraction,
            "fraction",
            SPARES,
            "hot spares beside the run",
        ),
        row(
            "service_life_years",
            options.service_life_years,
            "years",
            STATED,
            "default 6: Microsoft and Alphabet depreciate servers over six years, Meta 5.5, Amazon 5 for a subset from 2025 (catalog sources fac-msft-10q-server-life, fac-alphabet-10k-server-life, fac-meta-10k-server-life, fac-amazon-10k-server-life)",
        ),
        row(
            "burn_in_months",
            f64::from(options.burn_in_months),
            "months",
            STATED,
            "capacity younger than this trains at half and stays out of the largest run; default 3, a judgement (no operator publishes the ramp of a new GW cluster)",
        ),
        row(
            "moe_experts",
            f64::from(options.moe_experts),
            "experts",
            STATED,
            "routed experts of the reference MoE",
        ),
        row(
            "moe_top_k",
            f64::from(options.moe_top_k),
            "experts",
            STATED,
            "experts a token passes through",
        ),
        row(
            "batch_law_coefficient",
            0.2920,
            "tokens",
            DEEPSEEK_BATCH,
            "B = 0.2920 C^0.3271, the cap on the global batch; fitted up to ~3e20 FLOPs and extrapolated",
        ),
        row("batch_law_exponent", 0.3271, "exponent", DEEPSEEK_BATCH, ""),
        row(
            "mean_to_peak",
            options.mean_to_peak,
            "fraction",
            STATED,
            "a serving day runs at this share of the peak the targets are met at",
        ),
    ];
    for (model, share) in &options.serving_mix {
        rows.push(row(
            &format!("serving_mix.{model}"),
            *share,
            "share of output tokens",
            STATED,
            super::serving::REFERENCE_TARGETS,
        ));
    }
    if let Some(gbit) = options.inter_site_gbit_per_s {
        rows.push(row(
            "inter_site_gbit_per_s",
            gbit,
            "Gbit/s",
            STATED,
            "set in the scenario",
        ));
    }
    rows
}

/// Computes the capability section of `plan` and adds its ledger rows and sources.
pub fn add_to_plan(
    plan: &mut PlanResult,
    catalog: &Catalog,
    tranche_sites: &[Option<String>],
    options: &CapabilityOptions,
) {
    plan.capability = Some(super::capability_for_plan(
        catalog,
        plan,
        tranche_sites,
        options,
    ));
    plan.assumptions.extend(assumptions(options));
    for source in sources() {
        if !plan.sources.iter().any(|s| s.id == source.id) {
            plan.sources.push(source);
        }
    }
}
