//! Validation cases of issue 14 (`calibration/serving-scale.toml`): multi-node MoE prefill
//! pools and decode pools, and server mode judged on the batch in flight under Poisson arrivals
//! (`perf::BatchQueue`) with a length profile.

use super::*;
use perf::{evaluate_serving, ModelConstants};

/// The shipped cases.
pub const SHIPPED_SCALE: &str = include_str!("../../../../calibration/serving-scale.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleCases {
    #[serde(default)]
    prefill: Vec<PrefillCase>,
    #[serde(default)]
    decode: Vec<DecodeCase>,
    #[serde(default)]
    server: Vec<ServerCase>,
    #[serde(default)]
    concurrency: Vec<ConcurrencyCase>,
}

/// A closed-loop measurement: `concurrency` users each send a request, wait for its last
/// token and send the next, so `concurrency` sequences are in flight (fewer in the batch when
/// the KV cache holds fewer; the rest wait). At one user it is latency-bound: every step streams
/// the weights for one token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcurrencyCase {
    id: String,
    model: String,
    system: String,
    gpus: u32,
    tp: u32,
    /// Experts split over `ep` ranks with attention data parallel over them (default 1).
    #[serde(default)]
    ep: Option<u32>,
    precision: String,
    /// Per-component weight precision where the source gives it (default `precision`).
    #[serde(default)]
    attention_precision: Option<String>,
    #[serde(default)]
    dense_precision: Option<String>,
    #[serde(default)]
    expert_precision: Option<String>,
    kv_precision: String,
    input_tokens: f64,
    output_tokens: f64,
    concurrency: u32,
    /// Speculative decoding: tokens drafted per step (MTP layers or a draft model) ...
    #[serde(default)]
    draft_tokens: Option<u32>,
    /// ... and the published mean tokens emitted per step (the drafts accepted plus the model's
    /// own; what NVIDIA's tables call the "acceptance rate"). The per-token acceptance the
    /// model takes is solved from it: `(1 - a^(k+1)) / (1 - a)` tokens per step.
    #[serde(default)]
    accepted_tokens_per_step: Option<f64>,
    /// The engine as the source names it (its fitted factor when it has one).
    engine: String,
    measured_output_tokens_per_s: f64,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefillCase {
    /// The busiest EP rank's load over the mean where the measurement fixed it (DeepSeek's
    /// profiles simulate perfectly balanced routing: 1); else the default.
    #[serde(default)]
    expert_imbalance: Option<f64>,
    id: String,
    model: String,
    system: String,
    tp: u32,
    ep: u32,
    precision: String,
    kv_precision: String,
    input_tokens: f64,
    #[serde(default)]
    prefix_hit_rate: f64,
    #[serde(default)]
    overlap_ep: bool,
    measured_input_tokens_per_s_per_gpu: f64,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecodeCase {
    /// The busiest EP rank's load over the mean where the measurement fixed it (DeepSeek's
    /// profiles simulate perfectly balanced routing: 1); else the default.
    #[serde(default)]
    expert_imbalance: Option<f64>,
    id: String,
    model: String,
    system: String,
    tp: u32,
    ep: u32,
    precision: String,
    kv_precision: String,
    context_tokens: f64,
    #[serde(default)]
    max_batch: Option<u32>,
    #[serde(default)]
    overlap_ep: bool,
    /// The engine overlaps the expert combine with the down GEMM (SGLang part II's decode).
    #[serde(default)]
    combine_overlaps_down_gemm: bool,
    measured_output_tokens_per_s_per_gpu: f64,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerCase {
    id: String,
    model: String,
    /// A vocabulary other than the catalog model's (Llama 2's 32,000).
    #[serde(default)]
    vocab: Option<f64>,
    system: String,
    gpus: u32,
    tp: u32,
    precision: String,
    kv_precision: String,
    profile: String,
    #[serde(default)]
    max_batch: Option<u32>,
    ttft_slo_s: f64,
    tpot_slo_s: f64,
    slo_percentile: f64,
    measured_output_tokens_per_s: f64,
    /// The same system's published Offline figure, for the Server/Offline ratio.
    #[serde(default)]
    offline_output_tokens_per_s: Option<f64>,
    /// The Offline run's batch limit.
    #[serde(default)]
    offline_max_batch: Option<u32>,
    /// The engine that ran it (its family's fitted step factor, `fit::engine_key`); absent:
    /// the reference engine.
    #[serde(default)]
    engine: Option<String>,
    source: String,
}

fn kv_bytes_of(id: &str, kv: &str) -> Result<f64, String> {
    parse_kv_precision(kv).ok_or(format!("case {id}: unknown kv_precision `{kv}`"))
}

fn precision_of(id: &str, p: &str) -> Result<Precision, String> {
    parse_precision(p).ok_or(format!("case {id}: unknown precision `{p}`"))
}

#[allow(clippy::too_many_arguments)]
fn case(
    id: &str,
    metric: &str,
    measured: f64,
    predicted: f64,
    note: String,
    system: &str,
    engine: &str,
    evaluation: ServingEvaluation,
    feasible: bool,
) -> InferenceCase {
    let evaluated = feasible && predicted > 0.0 && predicted.is_finite();
    InferenceCase {
        id: id.to_string(),
        metric: metric.to_string(),
        measured,
        predicted,
        error: if evaluated {
            predicted / measured - 1.0
        } else {
            f64::NAN
        },
        note,
        family: hardware_family(system).into(),
        engine: engine.to_string(),
        evaluated,
        evaluation,
    }
}

/// The per-token acceptance `a` at which `drafts` drafted tokens emit `accepted` tokens per
/// step on average, `(1 - a^(k+1)) / (1 - a)` (bisection; the count is increasing in `a`).
fn acceptance_for(id: &str, drafts: u32, accepted: f64) -> Result<f64, String> {
    let k = f64::from(drafts);
    if drafts == 0 || !(1.0..=k + 1.0).contains(&accepted) {
        return Err(format!(
            "case {id}: accepted_tokens_per_step {accepted} must lie in [1, draft_tokens + 1] with at least one draft"
        ));
    }
    let per_step = |a: f64| {
        perf::Speculation {
            draft_tokens: drafts,
            acceptance_rate: a,
            draft_cost_fraction: None,
        }
        .tokens_per_step()
    };
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if per_step(mid) < accepted {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The cases of `toml_text` evaluated with the shipped constants.
pub fn scale_cases(catalog: &Catalog, toml_text: &str) -> Result<Vec<InferenceCase>, String> {
    let cases: ScaleCases =
        toml::from_str(toml_text).map_err(|e| format!("serving-scale.toml: {}", e.message()))?;
    let base = super::fit::ServingFit::shipped().constants();
    let mut out = Vec::new();
    for p in &cases.prefill {
        let c = ModelConstants {
            expert_imbalance: p.expert_imbalance.unwrap_or(base.expert_imbalance),
            ..base
        };
        let inputs = resolve_serve_inputs(catalog, &p.model, &p.system)?;
        let layout = ServingLayout {
            tp: p.tp,
            pp: 1,
            ep: p.ep,
            precision: precision_of(&p.id, &p.precision)?,
            kv_bytes: kv_bytes_of(&p.id, &p.kv_precision)?,
            overlap_ep: p.overlap_ep,
        };
        let cost = perf::prefill_pool(
            &inputs.arch,
            &inputs.hardware,
            &layout,
            p.input_tokens,
            p.prefix_hit_rate,
            true,
            &c,
        );
        let predicted = cost.map_or(0.0, |k| k.input_tokens_per_s_per_gpu);
        let w = ServingWorkload {
            input_tokens: p.input_tokens,
            output_tokens: 1.0,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: true,
            max_batch: None,
            speculation: None,
            slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
        };
        let evaluation = evaluate_serving(&inputs.arch, &inputs.hardware, &layout, &w, &c);
        let k = cost.unwrap_or_default();
        out.push(case(
            &p.id,
            "input_tokens_per_s_per_gpu (prefill pool)",
            p.measured_input_tokens_per_s_per_gpu,
            predicted,
            format!(
                "{}; prefill pool tp {} ep {}, {} weights, {} KV, {} prompt tokens, per request on its rank: compute {:.1} ms, expert all-to-all {:.1} ms ({}), KV send {:.1} ms",
                p.source,
                p.tp,
                p.ep,
                p.precision,
                p.kv_precision,
                p.input_tokens,
                1e3 * k.compute_s,
                1e3 * k.all_to_all_s,
                if p.overlap_ep { "overlapped" } else { "in sequence" },
                1e3 * k.kv_send_s
            ),
            &p.system,
            "SGLang",
            evaluation,
            cost.is_some(),
        ));
    }
    for d in &cases.decode {
        let c = ModelConstants {
            expert_imbalance: d.expert_imbalance.unwrap_or(base.expert_imbalance),
            ..base
        };
        let inputs = resolve_serve_inputs(catalog, &d.model, &d.system)?;
        let layout = ServingLayout {
            tp: d.tp,
            pp: 1,
            ep: d.ep,
            precision: precision_of(&d.id, &d.precision)?,
            kv_bytes: kv_bytes_of(&d.id, &d.kv_precision)?,
            overlap_ep: d.overlap_ep,
        };
        // The decode context is the published KV length (input = context, one output token).
        let w = ServingWorkload {
            input_tokens: d.context_tokens,
            output_tokens: 1.0,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: true,
            max_batch: d.max_batch,
            speculation: None,
            slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
        };
        let eff = perf::ServingEfficiency {
            combine_overlaps_down_gemm: d.combine_overlaps_down_gemm,
            ..perf::ServingEfficiency::default()
        };
        let e = perf::evaluate_serving_with(&inputs.arch, &inputs.hardware, &layout, &w, &c, &eff);
        let predicted = e.output_tokens_per_s / f64::from(layout.gpus());
        out.push(case(
            &d.id,
            "output_tokens_per_s_per_gpu (decode pool)",
            d.measured_output_tokens_per_s_per_gpu,
            predicted,
            format!(
                "{}; decode pool tp {} ep {}, {} weights, {} KV, context {}, batch {} per rank (KV-limited{}), all-to-all {}",
                d.source,
                d.tp,
                d.ep,
                d.precision,
                d.kv_precision,
                d.context_tokens,
                e.batch,
                d.max_batch.map_or(String::new(), |b| format!(", limit {b}")),
                if d.overlap_ep {
                    "overlapped"
                } else if d.combine_overlaps_down_gemm {
                    "combine beside the down GEMM"
                } else {
                    "in sequence"
                },
            ),
            &d.system,
            "SGLang",
            e,
            e.feasible,
        ));
    }
    let c = base;
    for k in &cases.concurrency {
        let inputs = resolve_serve_inputs(catalog, &k.model, &k.system)?;
        let precision = precision_of(&k.id, &k.precision)?;
        let component = |p: &Option<String>| {
            p.as_deref()
                .map_or(Ok(precision), |p| precision_of(&k.id, p))
        };
        let components = perf::ComponentPrecision {
            attention: component(&k.attention_precision)?,
            dense: component(&k.dense_precision)?,
            experts: component(&k.expert_precision)?,
        };
        let layout = ServingLayout {
            tp: k.tp,
            pp: 1,
            ep: k.ep.unwrap_or(1),
            precision,
            kv_bytes: kv_bytes_of(&k.id, &k.kv_precision)?,
            overlap_ep: false,
        };
        let speculation = match (k.draft_tokens, k.accepted_tokens_per_step) {
            (None, None) => None,
            (Some(drafts), Some(accepted)) => Some(perf::Speculation {
                draft_tokens: drafts,
                acceptance_rate: acceptance_for(&k.id, drafts, accepted)?,
                draft_cost_fraction: None,
            }),
            _ => {
                return Err(format!(
                    "case {}: draft_tokens and accepted_tokens_per_step go together",
                    k.id
                ))
            }
        };
        // Closed loop: the batch is the users in flight (the KV cache may hold fewer).
        let w = ServingWorkload {
            input_tokens: k.input_tokens,
            output_tokens: k.output_tokens,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: false,
            max_batch: Some(k.concurrency),
            speculation,
            slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
        };
        let eff = super::fit::engine_efficiency(super::fit::engine_key(&k.engine));
        let e = perf::evaluate_serving_components(
            &inputs.arch,
            &inputs.hardware,
            &layout,
            &w,
            &c,
            &eff,
            &components,
        );
        let predicted = e.output_tokens_per_s_per_gpu * f64::from(k.gpus);
        out.push(case(
            &k.id,
            "output_tokens_per_s_system (closed loop)",
            k.measured_output_tokens_per_s,
            predicted,
            format!(
                "{}; tp {} ep {}, weights attention {:?} / dense {:?} / experts {:?}, {} KV{}, {} users of {} + {} tokens: batch {} (slots {}), TTFT {:.0} ms, TPOT {:.2} ms",
                k.source,
                k.tp,
                layout.ep,
                components.attention,
                components.dense,
                components.experts,
                k.kv_precision,
                speculation.map_or(String::new(), |s| format!(
                    ", {} drafts accepted at {:.3} each ({:.2} tokens per step)",
                    s.draft_tokens,
                    s.acceptance_rate,
                    s.tokens_per_step()
                )),
                k.concurrency,
                k.input_tokens,
                k.output_tokens,
                e.batch,
                e.max_batch,
                1e3 * e.ttft_s,
                1e3 * e.tpot_s
            ),
            &k.system,
            &k.engine,
            e,
            e.feasible,
        ));
    }
    for s in &cases.server {
        let mut inputs = resolve_serve_inputs(catalog, &s.model, &s.system)?;
        if let Some(v) = s.vocab {
            inputs.arch.vocab = v;
        }
        let profile = perf::LengthProfile::named(&s.profile)
            .ok_or(format!("case {}: unknown profile `{}`", s.id, s.profile))?;
        let traffic = perf::Traffic {
            profile: profile.name.into(),
            bins: profile.histogram(PROFILE_BINS),
            prefix_hit_rate: 0.0,
        };
        let layout = ServingLayout {
            tp: s.tp,
            pp: 1,
            ep: 1,
            precision: precision_of(&s.id, &s.precision)?,
            kv_bytes: kv_bytes_of(&s.id, &s.kv_precision)?,
            overlap_ep: false,
        };
        let w = ServingWorkload {
            input_tokens: profile.mean_input_tokens,
            output_tokens: profile.mean_output_tokens,
            ttft_slo_s: Some(s.ttft_slo_s),
            tpot_slo_s: Some(s.tpot_slo_s),
            mode: ServingMode::Server,
            disaggregated: false,
            max_batch: s.max_batch,
            speculation: None,
            slo_percentile: s.slo_percentile,
        };
        // The engine build the submission ran (MLPerf's 2024 TensorRT-LLM builds: the family
        // fitted on TensorRT-LLM's own v0.10 tables, never on these rows).
        let engine = s.engine.as_deref().unwrap_or(super::fit::REFERENCE_ENGINE);
        let eff = super::fit::engine_efficiency(super::fit::engine_key(engine));
        let t = perf::evaluate_traffic_with(
            &inputs.arch,
            &inputs.hardware,
            &layout,
            &w,
            &traffic,
            &c,
            &eff,
        );
        let predicted = t.evaluation.output_tokens_per_s_per_gpu * f64::from(s.gpus);
        // The Offline twin at its own batch limit: the model's Server/Offline ratio beside the
        // published one.
        let offline = perf::evaluate_traffic_with(
            &inputs.arch,
            &inputs.hardware,
            &layout,
            &ServingWorkload {
                mode: ServingMode::Offline,
                max_batch: s.offline_max_batch.or(s.max_batch),
                ..w
            },
            &traffic,
            &c,
            &eff,
        );
        let offline_predicted = offline.evaluation.output_tokens_per_s_per_gpu * f64::from(s.gpus);
        let ratio = match s.offline_output_tokens_per_s {
            Some(o) => {
                // The queue alone: with the engine's step scaled until the model's Offline
                // figure is the published one (a diagnostic, fitted to this row and used for
                // nothing else), how far is the Server figure off?
                let at_factor = |factor: f64, mode: ServingMode, max_batch: Option<u32>| {
                    let e = perf::ServingEfficiency {
                        engine_step_factor: factor,
                        ..eff
                    };
                    let w = ServingWorkload {
                        mode,
                        max_batch,
                        ..w
                    };
                    perf::evaluate_traffic_with(
                        &inputs.arch,
                        &inputs.hardware,
                        &layout,
                        &w,
                        &traffic,
                        &c,
                        &e,
                    )
                    .evaluation
                    .output_tokens_per_s_per_gpu
                        * f64::from(s.gpus)
                };
                let offline_batch = s.offline_max_batch.or(s.max_batch);
                let (mut lo, mut hi) = (0.25, 4.0);
                for _ in 0..40 {
                    let mid = 0.5 * (lo + hi);
                    if at_factor(mid, ServingMode::Offline, offline_batch) > o {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let server_given_offline = at_factor(lo, ServingMode::Server, s.max_batch);
                format!(
                    "; Server/Offline published {:.3}, model {:.3} (Offline {:+.1}%); with the step scaled {:.2}x to the published Offline, Server {:+.1}%",
                    s.measured_output_tokens_per_s / o,
                    predicted / offline_predicted.max(f64::MIN_POSITIVE),
                    100.0 * (offline_predicted / o - 1.0),
                    lo,
                    100.0 * (server_given_offline / s.measured_output_tokens_per_s - 1.0)
                )
            }
            None => String::new(),
        };
        let q = t.queue.unwrap_or_default();
        out.push(case(
            &s.id,
            "output_tokens_per_s_system (server)",
            s.measured_output_tokens_per_s,
            predicted,
            format!(
                "{}; tp {}, {} weights, {} KV, profile {} ({} bins), p{} TTFT {} s and TPOT {} s judged on the batch in flight (negative binomial, shape {:.0}): {:.0} slots, mean {:.0} ({:.0}% busy), p{} {:.0} in flight, p{} TTFT {:.2} s, TPOT {:.0} ms{}",
                s.source,
                s.tp,
                s.precision,
                s.kv_precision,
                s.profile,
                traffic.bins.len(),
                s.slo_percentile,
                s.ttft_slo_s,
                s.tpot_slo_s,
                q.in_flight_shape,
                q.slots,
                q.offered_erlangs,
                100.0 * q.utilisation,
                s.slo_percentile,
                q.in_flight_at_percentile,
                s.slo_percentile,
                t.evaluation.ttft_at_percentile_s,
                1e3 * t.evaluation.tpot_at_percentile_s,
                ratio
            ),
            &s.system,
            engine,
            t.evaluation,
            t.evaluation.feasible,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptance_is_solved_from_the_published_tokens_per_step() {
        // One draft: 1 + a tokens per step, so 1.92 is a = 0.92.
        assert!((acceptance_for("x", 1, 1.92).unwrap() - 0.92).abs() < 1e-9);
        // Two drafts: 1 + a + a^2 = 2.58 at a = 0.8528 (NVIDIA's MTP 2 row).
        let a = acceptance_for("x", 2, 2.58).unwrap();
        assert!((1.0 + a + a * a - 2.58).abs() < 1e-9, "{a}");
        assert!(acceptance_for("x", 2, 3.5).is_err());
        assert!(acceptance_for("x", 0, 1.0).is_err());
    }
}
