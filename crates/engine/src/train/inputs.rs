//! A resolved training question (`TrainInputs`): model, system, accelerators, workload and the
//! framework whose facts apply, with the assumptions stated; shared by the spec and `search`.

use catalog::Catalog;
use perf::{Arch, Hardware, ModelConstants, Precision, Workload};

use super::framework::{perf_framework, resolve_framework};
use super::{arch_from_catalog, hardware_for_system, matmul_ceiling_assumption};

pub(super) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A resolved training question: what `evaluate` and `search` need.
pub struct TrainInputs {
    /// Catalog id or `custom`.
    pub model_id: String,
    /// Architecture.
    pub arch: Arch,
    /// System id.
    pub system: String,
    /// Hardware.
    pub hardware: Hardware,
    /// Accelerators.
    pub gpus: u64,
    /// Batch, sequence, precision.
    pub workload: Workload,
    /// Stated assumptions.
    pub assumptions: Vec<String>,
    /// The training framework (catalog id).
    pub framework_id: String,
    /// Its facts.
    pub framework: perf::Framework,
    /// Whether the FP8 recipe was filled from the framework's `default_fp8_recipe` (a plain
    /// `fp8`), so that another framework refills it; a recipe the user named stays.
    fp8_recipe_from_framework: bool,
}

impl TrainInputs {
    /// The same question run on framework `id` (the default when `None`).
    pub fn with_framework(mut self, catalog: &Catalog, id: Option<&str>) -> Result<Self, String> {
        let fw = resolve_framework(catalog, id)?;
        self.framework_id = fw.id.get_ref().clone();
        self.framework = perf_framework(fw);
        self.fill_fp8_recipe();
        Ok(self)
    }

    /// A plain `fp8` means the framework version's default scaling (catalog/frameworks.toml,
    /// `default_fp8_recipe`: delayed in Megatron-Core, current in Megatron-Bridge), as the
    /// validation rows read it; a named recipe or per-component recipes are kept.
    fn fill_fp8_recipe(&mut self) {
        if self.workload.precision != Precision::Fp8
            || (self.workload.components.is_some() && !self.fp8_recipe_from_framework)
        {
            return;
        }
        let recipe = self.framework.default_fp8_recipe;
        self.workload.components = Some(perf::ComponentRecipes::uniform(recipe));
        self.fp8_recipe_from_framework = true;
        let note = format!(
            "fp8 runs as {} ({}'s default FP8 scaling, catalog/frameworks.toml)",
            recipe.name(),
            self.framework_id
        );
        self.assumptions.retain(|a| !a.starts_with("fp8 runs as "));
        self.assumptions.push(note);
    }
}

/// Resolves a model id, system id, GPU count and workload (shared by the spec and `search`).
pub fn resolve_train_inputs(
    catalog: &Catalog,
    model_id: &str,
    system: &str,
    gpus: u64,
    workload: Workload,
) -> Result<TrainInputs, String> {
    let model = catalog.models.get(model_id).ok_or_else(|| {
        match catalog::nearest(model_id, catalog.models.keys().map(String::as_str)) {
            Some(near) => format!("unknown model `{model_id}`; did you mean `{near}`?"),
            None => format!(
                "unknown model `{model_id}`; `gigawatt catalog list --kind models` shows them"
            ),
        }
    })?;
    let arch = arch_from_catalog(model);
    finish_inputs(catalog, model_id.to_string(), arch, system, gpus, workload)
}

pub(super) fn finish_inputs(
    catalog: &Catalog,
    model_id: String,
    arch: Arch,
    system: &str,
    gpus: u64,
    workload: Workload,
) -> Result<TrainInputs, String> {
    if !catalog.systems.contains_key(system) {
        return Err(match catalog.nearest_system(system) {
            Some(near) => format!("unknown system `{system}`; did you mean `{near}`?"),
            None => format!(
                "unknown system `{system}`; `gigawatt catalog list --kind systems` shows them"
            ),
        });
    }
    let hardware = hardware_for_system(catalog, system)?;
    if hardware.peak(workload.precision).is_none() {
        return Err(format!(
            "`{system}` has no dense {:?} rate in the catalog; choose another precision",
            workload.precision
        )
        .to_lowercase());
    }
    let mut assumptions = vec![matmul_ceiling_assumption(
        catalog,
        system,
        &hardware,
        workload.precision,
    )];
    let c = ModelConstants::default();
    assumptions.push(format!(
        "fitted on the calibration set: GEMM half-efficiency dimension {}, attention at {:.0}% of the matmul ceiling, {} element-wise passes per layer",
        c.gemm_half_dim,
        100.0 * c.attention_fraction,
        c.elementwise_passes
    ));
    assumptions.push(format!(
        "assumed: HBM streaming at {:.0}%, links at {:.0}% of nominal, {:.0} GiB reserved per accelerator",
        100.0 * c.memory_efficiency,
        100.0 * c.link_efficiency,
        c.reserved_memory_bytes / GIB
    ));
    assumptions.push(collectives_assumption(catalog, system, &hardware));
    if let Some(note) = sliding_window_assumption(&arch, workload.seq_len) {
        assumptions.push(note);
    }
    if let Some(note) = unfused_ops_assumption(&arch) {
        assumptions.push(note);
    }
    if let Some(note) = moe_routing_assumption(&arch, &workload.moe) {
        assumptions.push(note);
    }
    if arch.normalises_queries_and_keys() {
        assumptions.push(
            "query and key norms (Qwen3): Transformer Engine's fused RMSNorm on every query and \
             key head, charged as element-wise passes (10 bytes an element over forward and \
             backward) and 2 launches a layer, the pre-norm queries and keys kept for the backward"
                .to_string(),
        );
    }
    let framework = resolve_framework(catalog, None)?;
    let mut inputs = TrainInputs {
        framework_id: framework.id.get_ref().clone(),
        framework: perf_framework(framework),
        fp8_recipe_from_framework: false,
        model_id,
        arch,
        system: system.to_string(),
        hardware,
        gpus,
        workload,
        assumptions,
    };
    inputs.fill_fp8_recipe();
    Ok(inputs)
}

/// The ledger's line for how all-reduces run: at the scale-up switches' measured in-network
/// rate (NVLink SHARP) where the system has it and it beats the ring, else as rings.
fn collectives_assumption(catalog: &Catalog, system: &str, hardware: &Hardware) -> String {
    let rings = "reduce-scatters, all-gathers and all-reduces across domains run as rings (NCCL's \
                 tuning model); InfiniBand SHARP, an opt-in plugin, is not modelled";
    match hardware.nvls_all_reduce_bytes_per_s {
        Some(rate) => {
            let source = catalog.systems[system]
                .nvls_all_reduce_gb_per_s
                .as_ref()
                .and_then(|r| r.source())
                .unwrap_or("the catalog");
            format!(
                "all-reduces inside one scale-up domain (tensor parallelism without sequence \
                 parallelism, ZeRO-0 gradients) run at NVLink SHARP's measured {:.0} GB/s per \
                 rank where that beats the ring ({source}); {rings}",
                rate / 1e9
            )
        }
        None => format!(
            "no in-switch reduction known for `{system}`: all-reduces, reduce-scatters and \
             all-gathers run as rings (NCCL's tuning model); InfiniBand SHARP, an opt-in plugin, \
             is not modelled"
        ),
    }
}

/// The ledger's line for an MoE model's routing: the load the busiest expert-parallel rank
/// carries and whether the dispatcher waits on the host for the token counts
/// (`perf::train::step::host`).
fn moe_routing_assumption(arch: &Arch, moe: &perf::MoeRouting) -> Option<String> {
    if !arch.is_moe() {
        return None;
    }
    let per_op_us = perf::HOST_S_PER_OP * 1e6;
    let sync = |point: &str| {
        format!(
            "the dispatcher copies the token counts to the host and waits for them before its \
             {point}, so an MoE layer takes at least its host launch time ({per_op_us:.0} us \
             per launched op) and the block after the sync at least the host's time to launch it"
        )
    };
    // What a hidden all-to-all costs the compute under it, where the dispatcher holds SMs of
    // its own (`perf::MoeRouting::dispatcher_sms`).
    let dispatcher_sms = match moe.dispatcher_sms {
        Some(sms) if moe.dispatcher.per_node() => format!(
            "; where the all-to-all hides under compute it costs that compute the share of the \
             chip its dispatcher's {sms:.0} SMs are (DeepEP at Megatron-Core's \
             moe_deepep_num_sms), not the fitted share NCCL's collectives cost"
        ),
        _ => String::new(),
    };
    let line = match (moe.capacity_factor, moe.pad_to_capacity) {
        (Some(factor), true) => format!(
            "MoE routing: token drop padded to {factor}x the mean tokens, so every expert \
             processes its capacity and the dispatcher never syncs with the host (the host \
             runs ahead past MoE layers; {per_op_us:.0} us of host time per launched op)"
        ),
        (Some(factor), false) => format!(
            "MoE routing: token drop at {factor}x the mean tokens, the busiest expert-parallel \
             rank carrying the smaller of that and {}x the mean (with ep > 1); {}",
            moe.imbalance,
            sync("first permutation")
        ),
        (None, _) => format!(
            "MoE routing: dropless, the busiest expert-parallel rank carrying {}x the mean (with \
             ep > 1); {}",
            moe.imbalance,
            sync("all-to-all")
        ),
    };
    Some(line + &dispatcher_sms)
}

/// The ledger's line for a model some of whose ops Megatron-Core runs unfused (GPT-OSS): what
/// the step charges for them, as element-wise passes and launches (`perf::train::step::layer`).
fn unfused_ops_assumption(arch: &Arch) -> Option<String> {
    let mut parts = Vec::new();
    if arch.is_moe() && arch.expert_bias {
        parts.push(
            "the experts' output biases, added in fp32 one expert at a time (48 bytes a routed \
             element over forward and backward)",
        );
    }
    if arch.unfused_rope() {
        parts.push(
            "YaRN's rotary embedding, which Transformer Engine's fused kernel does not take \
             (48 bytes a rotated element)",
        );
    }
    if arch.clamps_experts_glu() {
        parts.push(
            "the clamp of the experts' gated activation, two clamps and a concatenation \
             before the fused GLU (18 bytes an FC1-output element, and the clamped copy kept \
             unless moe_act is recomputed)",
        );
    }
    (!parts.is_empty()).then(|| {
        format!(
            "unfused in Megatron-Core, charged as element-wise passes and launches: {}",
            parts.join("; ")
        )
    })
}

/// The ledger's line for a model with sliding-window layers: how many attend over the band,
/// what that costs, and where the kernel rate comes from (`perf::train::attention`).
fn sliding_window_assumption(arch: &Arch, seq_len: f64) -> Option<String> {
    if arch.sliding_window <= 0.0 || arch.sliding_layers <= 0.0 {
        return None;
    }
    let (window, banded, layers) = (arch.sliding_window, arch.sliding_layers, arch.layers);
    Some(if arch.banded_layer_share(seq_len) > 0.0 {
        format!(
            "attention: {banded:.0} of {layers:.0} layers attend over a {window:.0}-token band \
             ({:.0} keys a query against {:.0} on the others), timed at the banded kernel's rate \
             (its band plus the diagonal tile at an unmasked kernel's rate: within 1.2% of \
             NVIDIA's cuDNN benchmark on GB200, 15% fast on H200); MFU counts the band",
            perf::banded_keys_per_query(window, seq_len),
            0.5 * seq_len
        )
    } else {
        format!(
            "attention: the {window:.0}-token band covers the {seq_len:.0}-token sequence, so \
             every layer runs full causal attention"
        )
    })
}
