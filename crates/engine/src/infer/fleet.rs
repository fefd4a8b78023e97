//! What a planned fleet could serve, month by month.

use super::*;

/// The best serving rate one system type reaches for a model, or why it cannot be computed
/// (the capacity function's answer, with the precision each system serves at).
pub type SystemServing = crate::capacity::SystemCapacity;

/// A month of the fleet serving a model.
#[derive(Debug, Clone, Serialize)]
pub struct FleetServingRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Facility power online, GW.
    pub facility_gw: f64,
    /// Accelerators online.
    pub accelerators: f64,
    /// Output tokens per second the fleet could serve (null if any online system is unknown).
    pub output_tokens_per_s: Option<f64>,
    /// Per MW of facility power.
    pub output_tokens_per_s_per_mw: Option<f64>,
    /// Output tokens a day at the mean load: capacity x 24 h x mean/peak.
    pub output_tokens_per_day: Option<f64>,
    /// Cost per million output tokens at full use: capex to date over the stated life plus
    /// this month's opex, divided by the month's tokens.
    pub usd_per_million_output_tokens: Option<f64>,
}

/// What a planned fleet could serve, month by month.
#[derive(Debug, Clone, Serialize)]
pub struct FleetServing {
    /// Schema version.
    pub schema_version: u32,
    /// The plan's scenario name.
    pub scenario: String,
    /// Model served.
    pub model: String,
    /// Traffic and targets.
    pub workload: ServingWorkload,
    /// Years capex is amortised over.
    pub life_years: f64,
    /// Capacity is judged at peak load (the latency targets met at the busiest hour); a day
    /// serves at the mean: mean load / peak load.
    pub mean_to_peak: f64,
    /// Best layout per system type, with the precision it serves at (the first model of a mix).
    pub systems: Vec<SystemServing>,
    /// Monthly rows.
    pub timeline: Vec<FleetServingRow>,
    /// The busiest hour's load over the day's mean (1 / `mean_to_peak`).
    pub peak_to_mean: f64,
    /// A model mix: each model's share of output tokens and its best layout per system; a
    /// system's rate is then `1 / sum(share / rate)` over the models (empty for one model).
    pub mix: Vec<MixServing>,
}

/// One model of a mix served by the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct MixServing {
    /// Catalog model id.
    pub model: String,
    /// Share of output tokens.
    pub share: f64,
    /// Best layout per system type for this model.
    pub systems: Vec<SystemServing>,
}

/// Serving capacity of a plan for a catalog model: see [`fleet_serving_arch`].
#[allow(clippy::too_many_arguments)]
pub fn fleet_serving(
    catalog: &Catalog,
    plan: &PlanResult,
    model: &str,
    workload: ServingWorkload,
    precision: Precision,
    kv_bytes: f64,
    life_years: f64,
) -> Result<FleetServing, String> {
    let arch = catalog
        .models
        .get(model)
        .map(arch_from_catalog)
        .ok_or_else(|| {
            match catalog::nearest(model, catalog.models.keys().map(String::as_str)) {
                Some(near) => format!("unknown model `{model}`; did you mean `{near}`?"),
                None => format!("unknown model `{model}`"),
            }
        })?;
    let request = crate::capacity::CapacityRequest {
        model,
        arch: &arch,
        workload,
        precision,
        kv_bytes,
        traffic: None,
    };
    Ok(fleet_serving_arch(
        catalog,
        plan,
        &request,
        life_years,
        crate::capacity::DEFAULT_MEAN_TO_PEAK,
    ))
}

/// Serving capacity of a plan: each tranche's accelerators at the rate the capacity function
/// ([`crate::capacity::system_capacity`]) gives its system (at the requested precision where
/// the chip has it, else the nearest with more bits), and tokens per day at `mean_to_peak`.
pub fn fleet_serving_arch(
    catalog: &Catalog,
    plan: &PlanResult,
    request: &crate::capacity::CapacityRequest,
    life_years: f64,
    mean_to_peak: f64,
) -> FleetServing {
    let mut out = fleet_serving_mix(
        catalog,
        plan,
        &[(request.clone(), 1.0)],
        life_years,
        mean_to_peak,
    );
    out.mix.clear();
    out
}

/// Serving capacity of a plan for a model mix: each model's best layout per system from the
/// capacity function, a system's rate for the mix `1 / sum(share / rate)` (each model's tokens
/// take their share of the accelerator-seconds), and tokens per day at `mean_to_peak`.
pub fn fleet_serving_mix(
    catalog: &Catalog,
    plan: &PlanResult,
    requests: &[(crate::capacity::CapacityRequest, f64)],
    life_years: f64,
    mean_to_peak: f64,
) -> FleetServing {
    // Accelerator figures the scenario supplied (for example Rubin's bf16 rate).
    let overrides: Vec<(String, String, f64)> = plan
        .assumptions
        .iter()
        .filter_map(|a| {
            let rest = a.name.strip_prefix("overrides.accelerator.")?;
            let (id, key) = rest.split_once('.')?;
            Some((id.to_string(), key.to_string(), a.value))
        })
        .collect();
    let mut mix: Vec<MixServing> = Vec::new();
    for (request, share) in requests {
        let mut systems: Vec<SystemServing> = Vec::new();
        for tranche in &plan.tranches {
            if systems.iter().any(|s| s.system == tranche.system) {
                continue;
            }
            let accelerator = tranche.totals.accelerator.clone();
            let mine: Vec<(&str, f64)> = overrides
                .iter()
                .filter(|(id, _, _)| *id == accelerator)
                .map(|(_, k, v)| (k.as_str(), *v))
                .collect();
            let hardware = hardware_for_serving(catalog, &tranche.system, &mine);
            systems.push(crate::capacity::system_capacity(
                catalog,
                &tranche.system,
                hardware,
                request,
            ));
        }
        mix.push(MixServing {
            model: request.model.to_string(),
            share: *share,
            systems,
        });
    }
    let systems = mix.first().map(|m| m.systems.clone()).unwrap_or_default();
    let rate = |system: &str| {
        let rates: Vec<(f64, Option<f64>)> = mix
            .iter()
            .map(|m| {
                (
                    m.share,
                    m.systems
                        .iter()
                        .find(|s| s.system == system)
                        .and_then(|s| s.output_tokens_per_s_per_gpu),
                )
            })
            .collect();
        super::shape::mix_rate(&rates)
    };
    let seconds_per_month = units::HOURS_PER_MONTH * 3600.0;
    let timeline = plan
        .timeline
        .iter()
        .map(|row| {
            let mut tokens = Some(0.0);
            for (i, t) in row.by_tranche.iter().enumerate() {
                if t.accelerators > 0.0 {
                    tokens = match (tokens, rate(&plan.tranches[i].system)) {
                        (Some(sum), Some(r)) => Some(sum + r * t.accelerators),
                        _ => None,
                    };
                }
            }
            let mw = row.facility_gw * 1e3;
            let cost = tokens.filter(|t| *t > 0.0).map(|t| {
                let monthly = row.capex_usd / (life_years * 12.0) + row.opex_usd_in_month;
                monthly / (t * seconds_per_month) * 1e6
            });
            FleetServingRow {
                month: row.month.to_string(),
                facility_gw: row.facility_gw,
                accelerators: row.accelerators,
                output_tokens_per_s: tokens,
                output_tokens_per_s_per_mw: tokens.filter(|_| mw > 0.0).map(|t| t / mw),
                output_tokens_per_day: tokens
                    .map(|t| crate::capacity::tokens_per_day(t, mean_to_peak)),
                usd_per_million_output_tokens: cost,
            }
        })
        .collect();
    FleetServing {
        schema_version: SCHEMA_VERSION,
        scenario: plan.scenario.name.clone(),
        model: mix
            .iter()
            .map(|m| {
                if mix.len() > 1 {
                    format!("{} {:.0}%", m.model, 100.0 * m.share)
                } else {
                    m.model.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" + "),
        workload: requests.first().map_or_else(
            || perf::ServingWorkload {
                input_tokens: 1.0,
                output_tokens: 1.0,
                ttft_slo_s: None,
                tpot_slo_s: None,
                mode: perf::ServingMode::Offline,
                disaggregated: false,
                max_batch: None,
                speculation: None,
                slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
            },
            |r| r.0.workload,
        ),
        life_years,
        mean_to_peak,
        systems,
        timeline,
        peak_to_mean: 1.0 / mean_to_peak,
        mix,
    }
}
