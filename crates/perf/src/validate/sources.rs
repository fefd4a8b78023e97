//! Source families, frameworks and model facts of the training calibration files, as read from
//! `calibration/sources.toml` (the caller parses the TOML; this crate does no I/O).

use serde::{Deserialize, Serialize};

/// Everything the validation knows about the calibration sources.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    /// Source families (one publication's table each).
    #[serde(default)]
    pub family: Vec<Family>,
    /// Defaults for fields a table leaves out that the framework catalog does not hold.
    #[serde(default)]
    pub defaults: Defaults,
    /// Model facts the tables leave out.
    #[serde(default)]
    pub model: Vec<ModelFacts>,
    /// What the publication's own recipes set that its table does not print (expert
    /// all-to-all overlap, token dispatcher, recompute, activation offload), per family or row.
    #[serde(default)]
    pub recipe: Vec<RecipeFacts>,
    /// Rows left out of coverage because their figures contradict themselves.
    #[serde(default)]
    pub exclude: Vec<Exclusion>,
}

/// One publication's table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// Short id (`narayanan2021`).
    pub id: String,
    /// The publication and table, in words.
    pub publication: String,
    /// Strings that start the `source` column of this family's rows.
    pub source_prefix: Vec<String>,
    /// The framework version the publication ran (an id of `catalog/frameworks.toml`).
    pub framework: String,
    /// Rows whose `zero_stage_fsdp` column contains `contains` ran `framework` instead.
    #[serde(default)]
    pub framework_by_zero: Vec<FrameworkByZero>,
    /// The publication ran Megatron sequence parallelism whenever TP > 1 (a row's
    /// `sequence_parallel` column overrides).
    #[serde(default)]
    pub sequence_parallel_with_tp: bool,
    /// The publication prints no microbatch and its framework has no default to fill it with
    /// (Megatron-LM refuses to start without `--micro-batch-size`): the fastest microbatch that
    /// fits is taken, chosen per set of constants like an unpublished TP/PP layout.
    #[serde(default)]
    pub microbatch_auto: bool,
    /// The publication ran the interleaved pipeline schedule without printing its chunk count:
    /// rows with PP > 1 and no `virtual_pp` take the fastest chunk count that fits (2 or more
    /// chunks per stage, dividing the stage's layers; the microbatches a multiple of PP, as
    /// Megatron-Core's interleaved schedule requires).
    #[serde(default)]
    pub interleaved_auto: bool,
    /// Why the framework id is what it is, where it is not the publication's exact version.
    #[serde(default)]
    pub framework_note: Option<String>,
    /// How the publication counts FLOPs.
    pub flop_convention: FlopConvention,
    /// The dense peak the publication divides by for MFU, TFLOP/s (where rows do not say).
    #[serde(default)]
    pub peak_tflops_assumed: Option<f64>,
}

/// How a publication turns a step into FLOPs (see `calibration/sources.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlopConvention {
    /// Narayanan et al. 2021 Eq. 3 (recompute forward included).
    NarayananEq3,
    /// MosaicML MPT: `3 (2 N s + 4 l h s^2)` per sequence.
    Mpt,
    /// Megatron-LM 2024 / NeMo 24.x-25.02: attention scores counted non-causal.
    MegatronFullAttention,
    /// Megatron-Bridge 25.11+: attention scores counted causal.
    MegatronCausal,
    /// No FLOP figure to convert.
    None,
}

/// A family's rows that ran another framework (Narayanan et al. 2021 Table 2's DeepSpeed rows).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkByZero {
    /// Lower-case text the row's `zero_stage_fsdp` column contains.
    pub contains: String,
    /// The framework those rows ran.
    pub framework: String,
}

/// Defaults for fields a table does not print (framework recipes' own defaults).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Microbatch (Megatron and NeMo recipes default `micro_batch_size` to 1).
    pub microbatch: u32,
    /// Recompute: none, selective, full or auto (the least that fits).
    pub recompute: String,
    /// Where the defaults come from.
    pub source: String,
}

impl Default for Defaults {
    fn default() -> Defaults {
        Defaults {
            microbatch: 1,
            recompute: "auto".into(),
            source: String::new(),
        }
    }
}

/// Model facts that fill what a table leaves out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ModelFacts {
    /// Lower-case substrings of the normalised model name.
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub layers: Option<f64>,
    pub hidden: Option<f64>,
    pub ffn_hidden: Option<f64>,
    pub heads: Option<f64>,
    pub kv_heads: Option<f64>,
    pub head_dim: Option<f64>,
    pub vocab: Option<f64>,
    pub gated_mlp: Option<bool>,
    pub tied_embeddings: Option<bool>,
    pub shared_experts: Option<f64>,
    pub dense_layers: Option<f64>,
    pub dense_ffn_hidden: Option<f64>,
    pub q_lora_rank: Option<f64>,
    pub kv_lora_rank: Option<f64>,
    pub qk_nope_head_dim: Option<f64>,
    pub qk_rope_head_dim: Option<f64>,
    pub v_head_dim: Option<f64>,
    /// Whether the routed experts carry biases (`add_bias_linear`).
    #[serde(default)]
    pub expert_bias: Option<bool>,
    /// YaRN's RoPE scaling factor (the model config's `rope_scaling.factor`), at least 1.
    #[serde(default)]
    pub yarn_scaling_factor: Option<f64>,
    /// Whether the experts' gated activation clamps its inputs (`swiglu_limit`; Megatron-Core
    /// `activation_func_clamp_value`).
    #[serde(default)]
    pub glu_clamp: Option<bool>,
    /// Whether each query and key head is normalised before attention (`qk_layernorm`).
    #[serde(default)]
    pub qk_norm: Option<bool>,
    /// Sliding-window attention: the band in tokens a sliding layer attends to (with
    /// `sliding_layers`).
    #[serde(default)]
    pub sliding_window: Option<f64>,
    /// How many of the layers attend over the band (the rest attend to the whole sequence).
    #[serde(default)]
    pub sliding_layers: Option<f64>,
    /// Where the facts come from.
    pub source: String,
}

/// What a publication's recipes ran: a family-wide default (`family`) or the preset of named
/// rows (`rows`, which win over the family's entry field by field).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeFacts {
    /// The family this entry is the default of.
    #[serde(default)]
    pub family: Option<String>,
    /// Row ids this entry is the preset of.
    #[serde(default)]
    pub rows: Vec<String>,
    /// Whether the recipe overlaps the expert all-to-all with another microbatch's compute
    /// (Megatron-Bridge `moe_a2a_overlap`).
    #[serde(default)]
    pub ep_comm_overlap: Option<bool>,
    /// The token dispatcher (`alltoall`, `deepep`, `hybridep`).
    #[serde(default)]
    pub moe_dispatcher: Option<String>,
    /// SMs the recipe gives HybridEP's dispatch and combine kernels (Megatron-Core's
    /// `moe_hybridep_num_sms`); read where the dispatcher is HybridEP.
    #[serde(default)]
    pub moe_hybridep_num_sms: Option<u32>,
    /// Whether the recipe hides the tensor-parallel collectives under the GEMMs
    /// (Transformer Engine's userbuffers, `tp_comm_overlap`); `false` where a recipe switches
    /// the framework's overlap off (Megatron-Bridge's NVFP4 presets), so they run in line.
    #[serde(default)]
    pub tp_comm_overlap: Option<bool>,
    /// The per-GEMM userbuffers settings the recipe hands Transformer Engine
    /// (Megatron-Bridge's `tp_comm_overlap_cfg`), by name: one of
    /// [`crate::train::userbuffers::BRIDGE_CONFIGS`], or `te_defaults`. Read only where the TP
    /// overlap runs.
    #[serde(default)]
    pub userbuffers: Option<String>,
    /// The recompute the recipe ran where the table leaves it out (`none`, `selective`, `full`).
    #[serde(default)]
    pub recompute: Option<String>,
    /// Layers whose activations the recipe offloads to host memory
    /// (`cpu_offloading_num_layers`).
    #[serde(default)]
    pub activation_offload_layers: Option<u32>,
    /// The modules the recipe recomputes (`recompute_modules`, Megatron-Core's names:
    /// `core_attn`, `layernorm`, `mlp`, `moe_act`, `moe`, `shared_experts`, `mla_up_proj`):
    /// selective recompute of those, where the table leaves recompute out.
    #[serde(default)]
    pub recompute_modules: Option<Vec<String>>,
    /// Whether gradients are reduced in fp32 (`grad_reduce_in_fp32`); `false`: 16-bit
    /// gradient buffers and reductions where the framework's default is fp32.
    #[serde(default)]
    pub fp32_gradients: Option<bool>,
    /// Whether the distributed optimizer's parameter all-gather overlaps the forward
    /// (`overlap_param_gather`); `false` where a recipe switches the framework's overlap off.
    #[serde(default)]
    pub overlap_param_gather: Option<bool>,
    /// Whether a per-tensor FP8 run keeps its weights in FP8 and all-gathers them in 8 bits
    /// (Megatron's `fp8_param_gather`, NeMo's `fp8_params`); BF16, MXFP8 and NVFP4 rows of
    /// the same recipe are unaffected (`Recipe::gathered_param_bytes`).
    #[serde(default)]
    pub fp8_param_gather: Option<bool>,
    /// Whether an NVFP4 run keeps its weights packed in 4 bits and gathers them so
    /// (Megatron's `fp4_param_gather`).
    #[serde(default)]
    pub fp4_param_gather: Option<bool>,
    /// What the recipe captures in CUDA graphs (`cuda_graph_impl` / `cuda_graph_scope`):
    /// `none`, `full_iteration`, or per-layer modules joined by `+`
    /// (`attn+moe_router+moe_preprocess`); see [`crate::train::CudaGraphs::parse`].
    #[serde(default)]
    pub cuda_graphs: Option<String>,
    /// The expert capacity factor of a recipe that drops tokens past it and pads every expert's
    /// input to it (Megatron-Core `moe_expert_capacity_factor` with
    /// `moe_pad_expert_input_to_capacity`): every expert computes and receives exactly that
    /// many times the mean load, so the busiest rank's load over the mean is the factor
    /// (at least 1), and the dispatcher never syncs with the host
    /// ([`crate::train::MoeRouting::capacity_factor`]).
    #[serde(default)]
    pub expert_capacity_factor: Option<f64>,
    /// Where the facts come from.
    pub source: String,
}

/// Rows excluded from coverage, with the reason.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// Row ids.
    pub ids: Vec<String>,
    /// Why (the published figures contradict themselves).
    pub reason: String,
}

impl Sources {
    /// The family whose prefix starts `source`.
    pub fn family_of(&self, source: &str) -> Option<&Family> {
        self.family.iter().find(|f| {
            f.source_prefix
                .iter()
                .any(|p| source.starts_with(p.as_str()))
        })
    }

    /// The framework a row of `family` ran, given its `zero_stage_fsdp` column.
    pub fn framework_of<'a>(&self, family: &'a Family, zero_column: &str) -> &'a str {
        let zero = zero_column.to_lowercase();
        family
            .framework_by_zero
            .iter()
            .find(|o| zero.contains(o.contains.as_str()))
            .map_or(family.framework.as_str(), |o| o.framework.as_str())
    }

    /// The first model-facts entry matching `model_name`.
    pub fn model_facts(&self, model_name: &str) -> Option<&ModelFacts> {
        let key = normalise(model_name);
        self.model
            .iter()
            .find(|m| m.matches.iter().any(|s| key.contains(s.as_str())))
    }

    /// The recipe facts of row `id` of `family`: each field from the first entry naming the
    /// row that sets it (a row may be named by several entries: one for its preset, one for a
    /// setting its model's recipes share), else the family's.
    pub fn recipe_facts(&self, family: &str, id: &str) -> RecipeFacts {
        let named: Vec<&RecipeFacts> = self
            .recipe
            .iter()
            .filter(|r| r.rows.iter().any(|i| i == id))
            .collect();
        let fam = self
            .recipe
            .iter()
            .find(|r| r.rows.is_empty() && r.family.as_deref() == Some(family));
        let pick = |f: &dyn Fn(&RecipeFacts) -> bool| {
            named
                .iter()
                .copied()
                .find(|r| f(r))
                .or(fam.filter(|r| f(r)))
        };
        RecipeFacts {
            family: Some(family.to_string()),
            rows: vec![id.to_string()],
            ep_comm_overlap: pick(&|r| r.ep_comm_overlap.is_some()).and_then(|r| r.ep_comm_overlap),
            moe_dispatcher: pick(&|r| r.moe_dispatcher.is_some())
                .and_then(|r| r.moe_dispatcher.clone()),
            moe_hybridep_num_sms: pick(&|r| r.moe_hybridep_num_sms.is_some())
                .and_then(|r| r.moe_hybridep_num_sms),
            tp_comm_overlap: pick(&|r| r.tp_comm_overlap.is_some()).and_then(|r| r.tp_comm_overlap),
            userbuffers: pick(&|r| r.userbuffers.is_some()).and_then(|r| r.userbuffers.clone()),
            recompute: pick(&|r| r.recompute.is_some()).and_then(|r| r.recompute.clone()),
            activation_offload_layers: pick(&|r| r.activation_offload_layers.is_some())
                .and_then(|r| r.activation_offload_layers),
            cuda_graphs: pick(&|r| r.cuda_graphs.is_some()).and_then(|r| r.cuda_graphs.clone()),
            recompute_modules: pick(&|r| r.recompute_modules.is_some())
                .and_then(|r| r.recompute_modules.clone()),
            fp32_gradients: pick(&|r| r.fp32_gradients.is_some()).and_then(|r| r.fp32_gradients),
            expert_capacity_factor: pick(&|r| r.expert_capacity_factor.is_some())
                .and_then(|r| r.expert_capacity_factor),
            overlap_param_gather: pick(&|r| r.overlap_param_gather.is_some())
                .and_then(|r| r.overlap_param_gather),
            fp8_param_gather: pick(&|r| r.fp8_param_gather.is_some())
                .and_then(|r| r.fp8_param_gather),
            fp4_param_gather: pick(&|r| r.fp4_param_gather.is_some())
                .and_then(|r| r.fp4_param_gather),
            source: if named.is_empty() {
                fam.map(|r| r.source.clone()).unwrap_or_default()
            } else {
                named
                    .iter()
                    .map(|r| r.source.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        }
    }

    /// Why `id` is excluded from coverage, if it is.
    pub fn exclusion(&self, id: &str) -> Option<&str> {
        self.exclude
            .iter()
            .find(|e| e.ids.iter().any(|i| i == id))
            .map(|e| e.reason.as_str())
    }

    /// Checks that every framework a family names is one `known` accepts; the message names
    /// the family.
    pub fn check(&self, known: &dyn Fn(&str) -> bool) -> Result<(), String> {
        for family in &self.family {
            let named = std::iter::once(&family.framework)
                .chain(family.framework_by_zero.iter().map(|o| &o.framework));
            for framework in named {
                if !known(framework) {
                    return Err(format!(
                        "family `{}` names framework `{framework}`, which catalog/frameworks.toml does not have",
                        family.id
                    ));
                }
            }
        }
        for recipe in &self.recipe {
            if let Some(name) = &recipe.moe_dispatcher {
                if crate::train::Dispatcher::parse(name).is_none() {
                    return Err(format!(
                        "[[recipe]] moe_dispatcher = `{name}` is not one of {}",
                        crate::train::Dispatcher::NAMES
                    ));
                }
            }
            if recipe.moe_hybridep_num_sms == Some(0) {
                return Err(
                    "[[recipe]] moe_hybridep_num_sms = 0: HybridEP needs at least one SM; \
                     give the count the recipe sets (Megatron-Core's `moe_hybridep_num_sms`) \
                     or leave the key out"
                        .to_string(),
                );
            }
            if let Some(name) = &recipe.userbuffers {
                if crate::train::userbuffers::UserbuffersConfig::named(name).is_none() {
                    return Err(format!(
                        "[[recipe]] userbuffers = `{name}` is not one of {}",
                        crate::train::userbuffers::UserbuffersConfig::names()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if let Some(r) = &recipe.recompute {
                if crate::validate::rows::recompute_choice(r).is_none() {
                    return Err(format!(
                        "[[recipe]] recompute = `{r}` is not none, selective, full or auto"
                    ));
                }
            }
            for m in recipe.recompute_modules.iter().flatten() {
                if crate::train::RecomputeModules::parse(m).is_none() {
                    return Err(format!(
                        "[[recipe]] recompute_modules names `{m}`: expected {}",
                        crate::train::RecomputeModules::NAMED
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if let Some(g) = &recipe.cuda_graphs {
                if let Err(e) = crate::train::CudaGraphs::parse(g) {
                    return Err(format!("[[recipe]] {e}"));
                }
            }
            if let Some(f) = recipe.expert_capacity_factor {
                if !f.is_finite() || f < 1.0 {
                    return Err(format!(
                        "[[recipe]] expert_capacity_factor = {f}: a padded capacity below the \
                         mean load is not modelled; give the factor the recipe sets, at least 1"
                    ));
                }
            }
            if recipe.family.is_none() && recipe.rows.is_empty() {
                return Err(
                    "a [[recipe]] entry names neither a `family` nor `rows`: add one".into(),
                );
            }
        }
        for model in &self.model {
            match (model.sliding_window, model.sliding_layers) {
                (None, None) => {}
                (Some(window), Some(layers)) => {
                    if !window.is_finite() || window < 1.0 {
                        return Err(format!(
                            "[[model]] {:?}: sliding_window = {window}: give the band in tokens \
                             a sliding layer attends to (at least 1), or leave both sliding \
                             fields out",
                            model.matches
                        ));
                    }
                    let most = model.layers.unwrap_or(f64::INFINITY);
                    if !layers.is_finite() || layers < 1.0 || layers > most {
                        return Err(format!(
                            "[[model]] {:?}: sliding_layers = {layers}: give how many of the \
                             model's layers attend over the band (1 to its layers)",
                            model.matches
                        ));
                    }
                }
                _ => {
                    return Err(format!(
                        "[[model]] {:?}: sliding_window and sliding_layers go together: the \
                         band in tokens and how many layers use it",
                        model.matches
                    ))
                }
            }
            if let Some(f) = model.yarn_scaling_factor {
                if !f.is_finite() || f < 1.0 {
                    return Err(format!(
                        "[[model]] {:?}: yarn_scaling_factor = {f}: YaRN scales the context up; \
                         give the model config's rope_scaling factor (at least 1), or leave it out",
                        model.matches
                    ));
                }
            }
        }
        if crate::validate::rows::recompute_choice(&self.defaults.recompute).is_none() {
            return Err(format!(
                "[defaults] recompute = `{}` is not none, selective, full or auto",
                self.defaults.recompute
            ));
        }
        Ok(())
    }
}

/// Lower case with '-', '_', '.' and spaces removed.
pub fn normalise(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A family `f` of sources starting `Pub`, run on `framework` (DeepSpeed's ZeRO-3 rows on
    /// `ds`): the fixture the validation's unit tests share.
    pub(crate) fn family(framework: &str) -> Family {
        Family {
            id: "f".into(),
            publication: "p".into(),
            source_prefix: vec!["Pub".into()],
            framework: framework.into(),
            framework_by_zero: vec![FrameworkByZero {
                contains: "zero-3".into(),
                framework: "ds".into(),
            }],
            sequence_parallel_with_tp: false,
            microbatch_auto: false,
            interleaved_auto: false,
            framework_note: None,
            flop_convention: FlopConvention::None,
            peak_tflops_assumed: None,
        }
    }

    #[test]
    fn recipe_facts_come_from_the_row_then_the_family_and_bad_ones_are_refused() {
        let sources = Sources {
            family: vec![family("mega")],
            recipe: vec![
                RecipeFacts {
                    family: Some("f".into()),
                    ep_comm_overlap: Some(false),
                    source: "family default".into(),
                    ..RecipeFacts::default()
                },
                RecipeFacts {
                    rows: vec!["r1".into()],
                    moe_dispatcher: Some("deepep".into()),
                    recompute: Some("none".into()),
                    overlap_param_gather: Some(false),
                    tp_comm_overlap: Some(false),
                    source: "preset".into(),
                    ..RecipeFacts::default()
                },
            ],
            ..Sources::default()
        };
        let r1 = sources.recipe_facts("f", "r1");
        assert_eq!(r1.ep_comm_overlap, Some(false));
        assert_eq!(r1.moe_dispatcher.as_deref(), Some("deepep"));
        assert_eq!(r1.recompute.as_deref(), Some("none"));
        assert_eq!(r1.overlap_param_gather, Some(false));
        assert_eq!(r1.tp_comm_overlap, Some(false));
        let r2 = sources.recipe_facts("f", "r2");
        assert_eq!(r2.tp_comm_overlap, None);
        assert_eq!((r2.ep_comm_overlap, r2.moe_dispatcher), (Some(false), None));
        assert_eq!(r2.overlap_param_gather, None);
        assert!(sources.check(&|_| true).is_ok());
        let bad = |facts: RecipeFacts| {
            Sources {
                recipe: vec![facts],
                ..sources.clone()
            }
            .check(&|_| true)
            .unwrap_err()
        };
        let named = |field: &str, value: &str| RecipeFacts {
            rows: vec!["r".into()],
            moe_dispatcher: (field == "d").then(|| value.into()),
            recompute: (field == "r").then(|| value.into()),
            cuda_graphs: (field == "g").then(|| value.into()),
            recompute_modules: (field == "m").then(|| vec![value.into()]),
            userbuffers: (field == "u").then(|| value.into()),
            source: "s".into(),
            ..RecipeFacts::default()
        };
        assert!(bad(named("d", "allgather")).contains("moe_dispatcher = `allgather`"));
        assert!(bad(named("r", "sometimes")).contains("recompute = `sometimes`"));
        assert!(bad(named("g", "attn+mlpp")).contains("`cuda_graphs` names `mlpp`"));
        assert!(bad(named("m", "moe_actt")).contains("recompute_modules names `moe_actt`"));
        let ub = bad(named("u", "userbuffers_fp8_h100_h8192_tp8"));
        assert!(
            ub.contains("userbuffers = `userbuffers_fp8_h100_h8192_tp8` is not one of")
                && ub.contains("userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192"),
            "{ub}"
        );
        assert!(sources
            .check(&|_| true)
            .and(
                Sources {
                    recipe: vec![named("m", "moe_act")],
                    ..sources.clone()
                }
                .check(&|_| true)
            )
            .is_ok());
        assert!(bad(RecipeFacts::default()).contains("neither a `family` nor `rows`"));
        let capacity = |f: f64| RecipeFacts {
            rows: vec!["r".into()],
            expert_capacity_factor: Some(f),
            source: "s".into(),
            ..RecipeFacts::default()
        };
        let yarn = |f: f64| Sources {
            model: vec![ModelFacts {
                matches: vec!["gptoss120b".into()],
                yarn_scaling_factor: Some(f),
                source: "s".into(),
                ..ModelFacts::default()
            }],
            ..sources.clone()
        };
        let yarn_error = |f: f64| yarn(f).check(&|_| true).unwrap_err();
        assert!(yarn_error(0.5).contains("[[model]] [\"gptoss120b\"]: yarn_scaling_factor = 0.5"));
        assert!(yarn_error(f64::NAN).contains("yarn_scaling_factor = NaN"));
        assert!(yarn(32.0).check(&|_| true).is_ok());
        let band = |window: Option<f64>, layers: Option<f64>| Sources {
            model: vec![ModelFacts {
                matches: vec!["gptoss120b".into()],
                layers: Some(36.0),
                sliding_window: window,
                sliding_layers: layers,
                source: "s".into(),
                ..ModelFacts::default()
            }],
            ..sources.clone()
        };
        let band_error = |w, l| band(w, l).check(&|_| true).unwrap_err();
        assert!(band_error(Some(0.0), Some(18.0)).contains("sliding_window = 0"));
        assert!(band_error(Some(f64::NAN), Some(18.0)).contains("sliding_window = NaN"));
        assert!(band_error(Some(128.0), Some(37.0)).contains("sliding_layers = 37"));
        assert!(band_error(Some(128.0), Some(0.0)).contains("sliding_layers = 0"));
        assert!(band_error(Some(128.0), None).contains("go together"));
        assert!(band_error(None, Some(18.0)).contains("go together"));
        assert!(band(Some(128.0), Some(18.0)).check(&|_| true).is_ok());
        assert!(band(None, None).check(&|_| true).is_ok());
        let hybridep_sms = |n: u32| RecipeFacts {
            rows: vec!["r".into()],
            moe_hybridep_num_sms: Some(n),
            source: "s".into(),
            ..RecipeFacts::default()
        };
        assert!(bad(hybridep_sms(0)).contains("moe_hybridep_num_sms = 0"));
        assert!(Sources {
            recipe: vec![hybridep_sms(32)],
            ..sources.clone()
        }
        .check(&|_| true)
        .is_ok());
        assert!(bad(capacity(0.5)).contains("expert_capacity_factor = 0.5"));
        assert!(bad(capacity(f64::NAN)).contains("expert_capacity_factor"));
        assert!(Sources {
            recipe: vec![capacity(1.0)],
            ..sources.clone()
        }
        .check(&|_| true)
        .is_ok());
    }

    #[test]
    fn families_match_by_prefix_and_rows_by_zero_column() {
        let sources = Sources {
            family: vec![family("mega")],
            ..Sources::default()
        };
        assert_eq!(sources.family_of("Pub 2021, Table 1").unwrap().id, "f");
        assert!(sources.family_of("Other").is_none());
        let f = &sources.family[0];
        assert_eq!(sources.framework_of(f, "ZeRO-3 (DeepSpeed)"), "ds");
        assert_eq!(sources.framework_of(f, ""), "mega");
        assert!(sources.check(&|id| id == "mega" || id == "ds").is_ok());
        let err = sources.check(&|id| id == "mega").unwrap_err();
        assert!(err.contains("family `f`") && err.contains("`ds`"), "{err}");
        let bad_default = Sources {
            defaults: Defaults {
                recompute: "sometimes".into(),
                ..Defaults::default()
            },
            ..sources
        };
        assert!(bad_default
            .check(&|_| true)
            .unwrap_err()
            .contains("sometimes"));
    }

    #[test]
    fn model_facts_match_normalised_names_first_entry_first() {
        let sources = Sources {
            model: vec![
                ModelFacts {
                    matches: vec!["llama2".into()],
                    vocab: Some(32000.0),
                    ..ModelFacts::default()
                },
                ModelFacts {
                    matches: vec!["llama".into()],
                    vocab: Some(1.0),
                    ..ModelFacts::default()
                },
            ],
            ..Sources::default()
        };
        assert_eq!(normalise("LLAMA2-7B (x)"), "llama27b(x)");
        assert_eq!(
            sources.model_facts("LLAMA2-7B").unwrap().vocab,
            Some(32000.0)
        );
        assert_eq!(sources.model_facts("Llama_3").unwrap().vocab, Some(1.0));
        assert!(sources.model_facts("GPT").is_none());
    }
}
