//! One row's case: its framework, model and layout, the recipe and MoE routing its publication
//! ran, and every fill stated (`super::read_rows` hands each CSV record here).

use super::*;

pub(super) fn case_from(
    row: &Row<'_>,
    family: &Family,
    sources: &Sources,
    frameworks: &FrameworkFor<'_>,
) -> Result<Case, String> {
    let framework_id = sources.framework_of(family, row.get("zero_stage_fsdp"));
    let framework = frameworks(framework_id).ok_or(format!(
        "framework `{framework_id}` is not in catalog/frameworks.toml"
    ))?;
    let defaults = &sources.defaults;
    let mut filled = Vec::new();
    let (arch, seq) = model::arch_of(row, sources.model_facts(row.get("model_name")), &mut filled)?;

    // The layout.
    let gpus = row
        .optional("num_gpus")?
        .ok_or("`num_gpus` is not published")?;
    let global_batch = row
        .optional("global_batch")?
        .ok_or("`global_batch` is not published")?;
    let cp = row.optional("cp")?.unwrap_or(1.0);
    let ep = row.optional("ep")?.unwrap_or(1.0);
    let (tp, pp) = (row.optional("tp")?, row.optional("pp")?);
    let auto_layout = tp.is_none() || pp.is_none();
    let dp = match (row.optional("dp")?, tp, pp) {
        (Some(dp), _, _) => dp,
        (None, Some(tp), Some(pp)) => gpus / (tp * pp * cp),
        (None, _, _) => 0.0,
    };
    if auto_layout {
        filled.push(if dp > 0.0 {
            format!("tp, pp auto (fastest that fits with the published dp={dp})")
        } else {
            "tp, pp, dp auto (fastest layout that fits)".into()
        });
    } else {
        if dp.fract() != 0.0 || dp < 1.0 {
            return Err(format!(
                "num_gpus / (tp x pp x cp) = {dp} is not a whole data-parallel size"
            ));
        }
        let product = tp.unwrap_or(1.0) * pp.unwrap_or(1.0) * dp * cp;
        if (product - gpus).abs() > 0.5 {
            return Err(format!(
                "tp x pp x dp x cp = {product} is not the {gpus} GPUs"
            ));
        }
    }
    let published_microbatch = row.optional("microbatch")?;
    let auto_microbatch = published_microbatch.is_none() && family.microbatch_auto;
    let microbatch = match published_microbatch {
        Some(m) => m,
        None if auto_microbatch => {
            filled.push("microbatch auto (fastest that fits; the framework has no default)".into());
            1.0
        }
        None => {
            filled.push(format!(
                "microbatch={} (recipe default)",
                defaults.microbatch
            ));
            f64::from(defaults.microbatch)
        }
    };
    let facts_of_recipe = sources.recipe_facts(&family.id, row.get("id"));
    let recipe_recompute = facts_of_recipe
        .recompute
        .as_deref()
        .and_then(recompute_choice)
        .flatten();
    // The preset's selective modules, where it names them and the table does not.
    let recipe_modules = facts_of_recipe.recompute_modules.as_ref().map(|names| {
        names
            .iter()
            .filter_map(|n| RecomputeModules::parse(n))
            .fold(RecomputeModules::NONE, RecomputeModules::union)
    });
    let published_recompute = recompute_choice(row.get("recompute"));
    let (recompute, auto_recompute) = match published_recompute {
        Some(Some(r)) => (r, false),
        _ if recipe_modules.is_some() => {
            let names = facts_of_recipe
                .recompute_modules
                .clone()
                .unwrap_or_default();
            filled.push(format!(
                "recompute=selective({}) (the recipe's recompute_modules)",
                names.join(",")
            ));
            (Recompute::Selective, false)
        }
        _ if recipe_recompute.is_some() => {
            let r = recipe_recompute.unwrap_or(Recompute::None);
            filled.push(format!("recompute={r:?} (the recipe)").to_lowercase());
            (r, false)
        }
        _ => {
            let default = recompute_choice(&defaults.recompute).flatten();
            filled.push(match default {
                Some(r) => format!("recompute={r:?} (default)").to_lowercase(),
                None => "recompute=auto (the least that fits)".into(),
            });
            (default.unwrap_or(Recompute::None), default.is_none())
        }
    };
    let tp_known = tp.unwrap_or(0.0);
    let sequence_parallel = match row.get("sequence_parallel") {
        "y" => true,
        "n" => false,
        _ => {
            if family.sequence_parallel_with_tp && tp_known > 1.0 {
                filled.push(format!("sequence_parallel=y ({} recipes)", family.id));
            }
            family.sequence_parallel_with_tp && (tp_known > 1.0 || auto_layout)
        }
    };
    let zero_text = row.get("zero_stage_fsdp").to_lowercase();
    let zero = if zero_text.contains("zero-3") || zero_text.contains("fsdp=0") {
        if zero_text.contains("zero-3") {
            3
        } else {
            1
        }
    } else if zero_text.contains("fsdp") {
        3
    } else if zero_text.contains("distributed optimizer") {
        1
    } else {
        framework.default_zero
    };
    let precision_text = row.get("precision").to_lowercase();
    let precision = if precision_text.contains("fp4") {
        Precision::Fp4
    } else if precision_text.contains("fp8") {
        Precision::Fp8
    } else {
        if precision_text.is_empty() {
            filled.push("precision=bf16 (not published)".into());
        }
        Precision::Bf16
    };
    let published_virtual_pp = row.optional("virtual_pp")?;
    let auto_virtual_pp = published_virtual_pp.is_none() && family.interleaved_auto;
    if auto_virtual_pp {
        filled.push("virtual_pp auto (interleaved; fastest chunk count that fits)".into());
    }
    let strategy = framework.apply(Strategy {
        tp: tp.unwrap_or(0.0) as u32,
        pp: pp.unwrap_or(0.0) as u32,
        dp: dp as u32,
        cp: cp as u32,
        ep: ep as u32,
        virtual_pp: published_virtual_pp.unwrap_or(1.0).max(1.0) as u32,
        microbatch: microbatch as u32,
        sequence_parallel,
        recompute,
        recompute_modules: match published_recompute {
            Some(Some(_)) => RecomputeModules::NONE,
            _ => recipe_modules.unwrap_or(RecomputeModules::NONE),
        },
        zero,
        ..Strategy::single()
    });
    // A row whose precision says `pure` (Composer's FSDP mode) reduces 16-bit gradients, as do
    // the recipes that set `grad_reduce_in_fp32 = False` (a `[[recipe]]` fact). MosaicML's
    // rows reduce bf16 in both of their modes anyway: their Composer's `DEFAULT` did too
    // (llm-foundry-2023's `gradient_precision`).
    let recipe_fp32_gradients = facts_of_recipe.fp32_gradients.unwrap_or(true);
    if !recipe_fp32_gradients && strategy.fp32_gradients {
        filled.push("fp32_gradients=false (the recipe's grad_reduce_in_fp32)".into());
    }
    let strategy = Strategy {
        fp32_gradients: strategy.fp32_gradients
            && !precision_text.contains("pure")
            && recipe_fp32_gradients,
        ..strategy
    };
    // The recipe: as the row names it (NVIDIA's tables write FP8-CS, FP8-MX, MXFP8, NVFP4);
    // a plain `fp8` is the framework version's default scaling, a catalog fact.
    let recipe = if precision_text.contains("nvfp4") || precision_text.contains("fp4") {
        Recipe::Nvfp4
    } else if precision_text.contains("mx") {
        Recipe::Mxfp8
    } else if precision_text.contains("fp8-cs") {
        Recipe::Fp8Current
    } else if precision_text.contains("fp8") {
        // A plain `fp8`: the framework version's default scaling (catalog/frameworks.toml,
        // `default_fp8_recipe`).
        let recipe = framework.default_fp8_recipe;
        filled.push(format!(
            "recipe={} ({framework_id}'s default FP8 scaling)",
            recipe.name()
        ));
        recipe
    } else {
        Recipe::Bf16
    };
    // NVIDIA's MoE benchmarks force balanced routing (the row's notes say so); elsewhere the
    // default imbalance stands.
    let mut moe = if row.get("notes").contains("force-balanced") {
        MoeRouting::balanced()
    } else if let Some(factor) = facts_of_recipe
        .expert_capacity_factor
        .filter(|_| num_experts_published(row))
    {
        // Token drop with padding to the capacity: every expert's load is the capacity, and
        // the dispatcher never waits for the token counts on the host.
        filled.push(format!(
            "moe_capacity_factor={factor} (the recipe's, padded: no host sync)"
        ));
        MoeRouting::padded(factor)
    } else {
        if num_experts_published(row) {
            filled.push(format!(
                "moe_imbalance={DEFAULT_MOE_IMBALANCE} (default, not published)"
            ));
        }
        MoeRouting::default()
    };
    // What the publication's MoE recipe ran: the expert all-to-all overlap and the dispatcher
    // (calibration/sources.toml `[[recipe]]`), where the framework can.
    let mut strategy = strategy;
    // A recipe that switches the parameter all-gather's overlap off (it cannot switch on what
    // the framework lacks).
    if let Some(on) = facts_of_recipe.overlap_param_gather {
        let on = on && strategy.overlap_param_gather;
        if on != strategy.overlap_param_gather {
            filled.push(format!(
                "overlap_param_gather={on} (the recipe's overlap_param_gather)"
            ));
        }
        strategy.overlap_param_gather = on;
    }
    // A recipe that keeps its weights in the matmul format gathers them in it (the
    // distributed optimizer's or FSDP's all-gather): said where the row's recipe is one it
    // changes.
    let sharded = strategy.zero >= 1;
    if let Some(on) = facts_of_recipe.fp8_param_gather {
        strategy.fp8_param_gather = on;
        if on && sharded && matches!(recipe, Recipe::Fp8Delayed | Recipe::Fp8Current) {
            filled.push("fp8_param_gather=true (the recipe's FP8 weights)".into());
        }
    }
    if let Some(on) = facts_of_recipe.fp4_param_gather {
        strategy.fp4_param_gather = on;
        if on && sharded && recipe == Recipe::Nvfp4 {
            filled.push("fp4_param_gather=true (the recipe's NVFP4 weights)".into());
        }
    }
    // A recipe that switches the TP overlap off runs the TP collectives in line (an overlap
    // is never switched on past what the framework can do): said where the layout has any.
    if let Some(on) = facts_of_recipe.tp_comm_overlap {
        let on = on && framework.tp_comm_overlap && strategy.tp > 1 && strategy.sequence_parallel;
        if on != strategy.tp_comm_overlap {
            filled.push(format!(
                "tp_comm_overlap={on} (the recipe's tp_comm_overlap)"
            ));
        }
        strategy.tp_comm_overlap = on;
    }
    // What the publication ran is what it ran: a TP overlap its recipes kept on stays on even
    // where the model would find running in line cheaper (a spec or search chooses).
    strategy.tp_comm_overlap_as_run = strategy.tp_comm_overlap;
    // The per-GEMM settings the preset hands Transformer Engine, where the overlap runs.
    if let Some(config) = facts_of_recipe
        .userbuffers
        .as_deref()
        .and_then(crate::train::userbuffers::UserbuffersConfig::named)
    {
        if crate::train::userbuffers::applies(&strategy, &arch) {
            if !config.is_te_defaults() {
                filled.push(format!(
                    "userbuffers={} (the recipe's tp_comm_overlap_cfg)",
                    config.name
                ));
            }
            strategy.userbuffers = config;
        }
    }
    if let Some(layers) = facts_of_recipe.activation_offload_layers {
        filled.push(format!(
            "activation_offload_layers={layers} (the recipe's cpu_offloading_num_layers)"
        ));
        strategy.activation_offload_layers = layers;
    }
    if num_experts_published(row) && ep > 1.0 {
        let (overlap, dispatcher) = (
            facts_of_recipe.ep_comm_overlap,
            facts_of_recipe.moe_dispatcher.as_deref(),
        );
        if let Some(on) = overlap {
            let on = on && framework.ep_comm_overlap;
            if on != strategy.ep_comm_overlap {
                filled.push(format!(
                    "ep_comm_overlap={on} (the recipe's moe_a2a_overlap)"
                ));
            }
            strategy.ep_comm_overlap = on;
        }
        if let Some((name, d)) =
            dispatcher.and_then(|name| Some((name, crate::train::Dispatcher::parse(name)?)))
        {
            moe.dispatcher = d;
            if let Some((sms, why)) = dispatcher_sms(
                name,
                facts_of_recipe.moe_hybridep_num_sms,
                d.per_node() && strategy.ep_comm_overlap,
            ) {
                filled.push(format!("dispatcher_sms={sms} ({why})"));
                moe.dispatcher_sms = Some(sms);
            }
        }
    }
    // What the recipe captures in CUDA graphs: those kernels are not launched by the host one
    // by one (checked when the sources load, so a bad scope never reaches here).
    if let Some(scope) = facts_of_recipe.cuda_graphs.as_deref() {
        if let Ok(graphs) = crate::train::CudaGraphs::parse(scope) {
            if graphs != crate::train::CudaGraphs::default() {
                filled.push(format!(
                    "cuda_graphs={scope} (the recipe's cuda_graph_scope)"
                ));
            }
            moe.cuda_graphs = graphs;
        }
    }
    let workload = Workload {
        global_batch,
        seq_len: seq,
        precision,
        components: Some(ComponentRecipes::uniform(recipe)),
        moe,
    };
    let published = Published {
        metric: row.get("measured_metric"),
        value: row
            .optional("measured_value")?
            .ok_or("`measured_value` is not published")?,
        peak_tflops: row
            .optional("peak_flops_assumed_by_source")
            .ok()
            .flatten()
            .or(family.peak_tflops_assumed),
        global_batch,
        seq_len: seq,
        gpus,
    };
    let measured_step_time_s = measured_step_time_s(&published, family.flop_convention, &arch)?;
    Ok(Case {
        id: String::new(),
        family: family.id.clone(),
        framework: framework_id.to_string(),
        framework_facts: framework,
        gpu_type: row.get("gpu_type").to_string(),
        generation: Generation::of(row.get("gpu_type")),
        arch,
        strategy,
        gpus: gpus as u32,
        auto_layout,
        auto_recompute,
        auto_microbatch,
        auto_virtual_pp,
        workload,
        measured_step_time_s,
        filled,
    })
}

/// Whether the row is an MoE model (it publishes an expert count above 1).
fn num_experts_published(row: &Row) -> bool {
    row.get("num_experts")
        .trim()
        .parse::<f64>()
        .is_ok_and(|n| n > 1.0)
}

/// The SMs a per-node dispatcher's kernels hold, and where the figure comes from: what the
/// recipe gives HybridEP (`recipe_hybridep_sms`), or DeepEP's Megatron-Core default. Read
/// only where the all-to-all hides under compute (`hidden`), so named only there.
pub(super) fn dispatcher_sms(
    name: &str,
    recipe_hybridep_sms: Option<u32>,
    hidden: bool,
) -> Option<(f64, &'static str)> {
    if !hidden {
        return None;
    }
    if crate::train::Dispatcher::names_hybridep(name) {
        recipe_hybridep_sms.map(|sms| (f64::from(sms), "the recipe's moe_hybridep_num_sms"))
    } else {
        crate::train::Dispatcher::default_sms(name)
            .map(|sms| (sms, "Megatron-Core's moe_deepep_num_sms default"))
    }
}
