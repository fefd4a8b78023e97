//! The traffic part of a serving result: the `[traffic]` table of an infer spec, and a
//! traffic evaluation's figures put into an `InferResult`.

use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrafficSpec {
    /// A named length profile (`sharegpt`, `openorca`, `long-rag`, `reasoning`).
    profile: Option<String>,
    /// A length histogram: `[[traffic.bin]]` tables of input_tokens, output_tokens, share.
    bin: Option<Vec<TrafficBin>>,
    /// Share of prompt tokens served from the prefix cache, [0, 1).
    prefix_cache_hit_rate: Option<f64>,
    /// The busiest hour's load over the day's mean (>= 1).
    peak_to_mean: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficBin {
    input_tokens: f64,
    output_tokens: f64,
    share: f64,
}

/// The traffic part of a serving result.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficResult {
    /// Profile name, `histogram` or `uniform`.
    pub profile: String,
    /// The bins evaluated.
    pub bins: Vec<perf::LengthBin>,
    /// Share of prompt tokens served from the prefix cache.
    pub prefix_hit_rate: f64,
    /// The busiest hour's load over the day's mean (capacity is judged at the peak).
    pub peak_to_mean: f64,
    /// Output tokens a day per accelerator at the mean load: capacity x 86,400 / peak_to_mean.
    pub output_tokens_per_day_per_gpu: f64,
    /// The evaluation on the traffic.
    pub evaluation: perf::TrafficEvaluation,
}

/// Puts a traffic evaluation's figures into a serving result (the layout's plain evaluation
/// stays in `detail` only where the traffic one could not be made).
pub fn apply_traffic(r: &mut InferResult, traffic: &perf::Traffic, t: &perf::TrafficEvaluation) {
    apply_traffic_peak(r, traffic, t, 1.0);
}

fn apply_traffic_peak(
    r: &mut InferResult,
    traffic: &perf::Traffic,
    t: &perf::TrafficEvaluation,
    peak_to_mean: f64,
) {
    let e = &t.evaluation;
    r.output_tokens_per_s_per_gpu = e.output_tokens_per_s_per_gpu;
    r.output_tokens_per_s = e.output_tokens_per_s_per_gpu * r.gpus as f64;
    r.ttft_s = e.ttft_s;
    r.tpot_s = e.tpot_s;
    r.batch = e.batch;
    r.kv_cache_gib = e.kv_cache_gib;
    r.weights_gib = e.weights_gib;
    r.feasible = e.feasible;
    r.reason = describe_infeasible(e);
    r.detail = *e;
    // The plain model's lines on lengths and arrivals no longer describe these figures.
    r.assumptions.retain(|a| {
        !a.starts_with("not modelled:")
            && !a.starts_with("the KV cache holds")
            && !a.starts_with("server: requests arrive at random")
    });
    r.assumptions.push(format!(
        "traffic `{}`: {} length bin(s), mean {:.0} prompt and {:.0} output tokens, evaluated bin by bin (output-weighted context {:.0} tokens; the KV cache holds each sequence's prompt and full answer); {:.1}% of prompt tokens from the prefix cache ({:.1}% of prefill FLOPs saved, {:.2} GiB per accelerator holding cached prefixes)",
        traffic.profile,
        traffic.bins.len(),
        t.mean_input_tokens,
        t.mean_output_tokens,
        t.decode_context_tokens,
        100.0 * traffic.prefix_hit_rate,
        100.0 * t.prefill_saved_fraction,
        t.prefix_cache_gib
    ));
    if let Some(q) = &t.queue {
        r.assumptions.push(format!(
            "server: continuous batching under Poisson arrivals, the sequences in flight negative binomial (shape {:.0}: a step's fixed over its per-sequence cost, plus one; {:.0} slots per attention rank, {:.0}% busy on average, {:.0} in flight at p{}, {:.1}% of requests wait for a slot); TTFT p{} includes the wait, TPOT p{} is at that p{} batch",
            q.in_flight_shape,
            q.slots,
            100.0 * q.utilisation,
            q.in_flight_at_percentile,
            r.workload.slo_percentile,
            100.0 * q.wait_probability,
            r.workload.slo_percentile,
            r.workload.slo_percentile,
            r.workload.slo_percentile
        ));
    }
    r.assumptions.push(format!(
        "expert load imbalance (MoE with ep > 1): the busiest rank carries {:.2}x the mean (default from SGLang's published balanced vs EPLB prefill throughput)",
        perf::DEFAULT_EXPERT_IMBALANCE
    ));
    r.traffic = Some(TrafficResult {
        profile: traffic.profile.clone(),
        bins: traffic.bins.clone(),
        prefix_hit_rate: traffic.prefix_hit_rate,
        peak_to_mean,
        output_tokens_per_day_per_gpu: e.output_tokens_per_s_per_gpu
            * crate::capacity::SECONDS_PER_DAY
            / peak_to_mean,
        evaluation: t.clone(),
    });
}

/// How a spec error is built: (span, field, message, fix).
type SpecFail<'a> = &'a dyn Fn(Option<std::ops::Range<usize>>, &str, String, &str) -> EngineError;

/// Evaluates a spec's `[traffic]` table on the spec's layout and puts the figures into
/// `result`; errors name the `traffic.*` field.
#[allow(clippy::too_many_arguments)]
pub(super) fn spec_traffic(
    result: &mut InferResult,
    t: &TrafficSpec,
    inputs: &ServeInputs,
    layout: &ServingLayout,
    workload: &ServingWorkload,
    engine: Option<&str>,
    components: Option<perf::ComponentPrecision>,
    fail: SpecFail,
) -> Result<(), EngineError> {
    let spec_field = |f: &str| match f {
        "bins" => "`traffic.bin`".to_string(),
        "prefix_hit_rate" => "`traffic.prefix_cache_hit_rate`".to_string(),
        other => format!("`traffic.{other}`"),
    };
    let bins: Option<Vec<(f64, f64, f64)>> = t.bin.as_ref().map(|b| {
        b.iter()
            .map(|b| (b.input_tokens, b.output_tokens, b.share))
            .collect()
    });
    let shape = ShapeRequest {
        profile: t.profile.as_deref(),
        bins: bins.as_deref(),
        prefix_hit_rate: t.prefix_cache_hit_rate,
    };
    let spec_error = |m: String, field: &str| {
        let (message, fix) = m.split_once("\n  fix: ").unwrap_or((m.as_str(), ""));
        fail(None, field, message.to_string(), fix)
    };
    let traffic = checked_traffic(
        &shape,
        workload.input_tokens,
        workload.output_tokens,
        &spec_field,
    )
    .map_err(|m| {
        let field = if m.starts_with("`traffic.bin`") {
            "traffic.bin"
        } else if m.starts_with("`traffic.prefix") {
            "traffic.prefix_cache_hit_rate"
        } else {
            "traffic.profile"
        };
        spec_error(m, field)
    })?;
    let peak = match t.peak_to_mean {
        None => 1.0 / crate::capacity::DEFAULT_MEAN_TO_PEAK,
        Some(p) => checked_peak_to_mean(p, "`traffic.peak_to_mean`")
            .map_err(|m| spec_error(m, "traffic.peak_to_mean"))?,
    };
    // The spec's engine and per-component precisions, as its plain result above used them.
    let fit = super::ServingFit::shipped();
    let evaluation = perf::evaluate_traffic_components(
        &inputs.arch,
        &inputs.hardware,
        layout,
        workload,
        &traffic,
        &fit.constants(),
        &fit.efficiency_for(engine.map_or(super::REFERENCE_ENGINE, super::engine_key)),
        &components.unwrap_or(perf::ComponentPrecision::uniform(layout.precision)),
    );
    apply_traffic_peak(result, &traffic, &evaluation, peak);
    Ok(())
}
