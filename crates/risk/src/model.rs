//! The portfolio as numbers, and the lean per-sample path: the planner's arithmetic (systems
//! online = floor(total * k / ramp), facility capex spread over the build months, per-GW
//! financing in whole GW) computing only the monthly series the risk view needs, into
//! preallocated buffers.

use engine::{Assumption, Excluded, SourceRef};
use fleet::{FinancingRule, FleetInput};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use units::{Month, W_PER_GW, W_PER_MW};

use crate::defaults::DealOdds;
use crate::result::PortfolioInfo;

/// One deal's uncertainty, resolved to numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct DealRisk {
    /// Catalog deal id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Reported status.
    pub status: String,
    /// When the status was reported.
    pub status_as_of: Option<String>,
    /// Source of the status.
    pub status_source: Option<String>,
    /// True when the portfolio file sets the outcome probabilities.
    pub from_file: bool,
    /// The outcome odds used: the status's defaults, with the portfolio file's overrides.
    pub odds: DealOdds,
    /// Indices of the shared drivers it depends on.
    pub drivers: Vec<usize>,
}

/// A shared driver.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    /// Id.
    pub id: String,
    /// Share of a dependent deal's latent variance, in [0, 1].
    pub weight: f64,
    /// What it stands for.
    pub note: Option<String>,
}

/// A validated portfolio: the plan's fleet input and each deal's uncertainty.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// Identity, for the result.
    pub info: PortfolioInfo,
    /// Catalog version.
    pub catalog_version: String,
    /// The plan as written.
    pub fleet: FleetInput,
    /// Index into `deals` of each tranche's deal (`None`: certain).
    pub tranche_deal: Vec<Option<usize>>,
    /// Index into `deals` of each financing entry's deal.
    pub financing_deal: Vec<Option<usize>>,
    /// The deals.
    pub deals: Vec<DealRisk>,
    /// The shared drivers.
    pub drivers: Vec<Driver>,
    /// The ledger (plan and risk assumptions).
    pub assumptions: Vec<Assumption>,
    /// Sources cited.
    pub sources: Vec<SourceRef>,
    /// Deals the plan leaves out.
    pub excluded: Vec<Excluded>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Default samples from the file.
    pub default_samples: Option<u64>,
    /// Default seed from the file.
    pub default_seed: Option<u64>,
    /// Each tranche's site key: its catalog site, else `tranche:NAME` of the tranche as planned
    /// (parts of a tranche split at `as_of` share it); same order as `fleet.tranches`.
    pub tranche_sites: Vec<Option<String>>,
    /// Each tranche's system id.
    pub tranche_systems: Vec<String>,
    /// The scenario's capability inputs.
    pub capability: engine::capability::CapabilityOptions,
}

/// How one deal turned out in one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DealOutcome {
    /// Share of the deal's GW built (1 proceed, (0, 1) cut, 0 collapse).
    pub kept: f64,
    /// 0 proceed, 1 cut, 2 collapse.
    pub kind: u8,
    /// Months of delay.
    pub delay: i32,
    /// Ramp multiplier of every tranche of the deal (forced outcomes only; sampled outcomes
    /// draw one per tranche).
    pub ramp_factor: Option<f64>,
}

impl DealOutcome {
    /// The deal as written.
    pub const AS_PLANNED: DealOutcome = DealOutcome {
        kept: 1.0,
        kind: 0,
        delay: 0,
        ramp_factor: Some(1.0),
    };
}

/// One tranche in one sample.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TrancheDraw {
    systems: u64,
    start: i32,
    ramp: u32,
}

#[derive(Debug, Clone)]
struct LeanTranche {
    start: i32,
    systems: u64,
    ramp: u32,
    build: u32,
    accelerators: f64,
    nominal_per_system: f64,
    nominal_w: f64,
    // Per-system constants of the arithmetic above, so the hot loop only multiplies.
    facility_gw_per_system: f64,
    h100e_per_system: f64,
    capex_per_system: f64,
    facility_capex_per_system_month: f64,
}

#[derive(Debug, Clone)]
enum LeanFinancing {
    PerGw {
        usd_per_gw: f64,
        max_usd: f64,
        tranches: Vec<usize>,
    },
    Lump {
        index: i32,
        usd: f64,
        deal: Option<usize>,
    },
}

/// The portfolio compiled for sampling.
#[derive(Debug, Clone)]
pub(crate) struct Lean {
    pub first: Month,
    pub months: usize,
    tranches: Vec<LeanTranche>,
    financing: Vec<LeanFinancing>,
    pub has_h100e: bool,
    /// Tranches of each deal, in start order.
    deal_tranches: Vec<Vec<usize>>,
    tranche_deal: Vec<Option<usize>>,
    /// Per deal: sqrt(weight) of each driver, and the idiosyncratic scale.
    loadings: Vec<(Vec<(usize, f64)>, f64)>,
    deals: Vec<DealRisk>,
    drivers: usize,
}

/// The monthly series of one sample.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Facility GW online.
    pub facility_gw: Vec<f64>,
    /// Accelerators online.
    pub accelerators: Vec<f64>,
    /// H100-equivalents online (zeros when unknown).
    pub h100e: Vec<f64>,
    /// Capex to date, USD.
    pub capex_usd: Vec<f64>,
    /// Financing to date, USD.
    pub financing_usd: Vec<f64>,
}

/// Buffers reused from sample to sample.
#[derive(Debug, Clone)]
pub(crate) struct Scratch {
    pub series: Series,
    rate_diff: Vec<f64>,
    capex_flow: Vec<f64>,
    nominal: Vec<f64>,
    /// Each driver's shock to the deals' outcomes.
    z: Vec<f64>,
    /// Each driver's shock to the deals' delays (independent of `z`).
    z_delay: Vec<f64>,
    pub outcomes: Vec<DealOutcome>,
    draws: Vec<TrancheDraw>,
    ramp_u: Vec<f64>,
}

/// The first month with any spend (as `fleet::plan` starts its timeline).
pub(crate) fn first_month(input: &FleetInput) -> Option<Month> {
    input
        .tranches
        .iter()
        .map(|t| t.start.plus(-(t.build_months.max(1) as i32 - 1)))
        .chain(input.financing.iter().filter_map(|f| match f.rule {
            FinancingRule::Lump { month, .. } => Some(month),
            FinancingRule::PerGwDeployed { .. } => None,
        }))
        .min()
}

impl Lean {
    pub(crate) fn new(p: &Portfolio) -> Option<Lean> {
        let first = first_month(&p.fleet)?;
        let months = (p.fleet.end.months_since(first) + 1).max(0) as usize;
        let has_h100e = p
            .fleet
            .tranches
            .iter()
            .all(|t| t.peak_flops_per_accelerator.bf16.is_some());
        let tranches: Vec<LeanTranche> = p
            .fleet
            .tranches
            .iter()
            .map(|t| LeanTranche {
                facility_gw_per_system: t.it_power_w_per_system * t.pue / W_PER_GW,
                h100e_per_system: t.accelerators_per_system
                    * t.peak_flops_per_accelerator.bf16.unwrap_or(0.0)
                    / p.fleet.reference_bf16_flops,
                capex_per_system: t.price_usd_per_system * (1.0 + t.networking_capex_fraction),
                facility_capex_per_system_month: t.it_power_w_per_system * t.pue / W_PER_MW
                    * t.facility_capex_usd_per_mw
                    / t.build_months.max(1) as f64,
                start: t.start.months_since(first),
                systems: t.systems,
                ramp: t.ramp_months,
                build: t.build_months.max(1),
                accelerators: t.accelerators_per_system,
                nominal_per_system: t.nominal_facility_w / t.systems.max(1) as f64,
                nominal_w: t.nominal_facility_w,
            })
            .collect();
        let financing = p
            .fleet
            .financing
            .iter()
            .zip(&p.financing_deal)
            .map(|(f, deal)| match &f.rule {
                FinancingRule::PerGwDeployed {
                    usd_per_gw,
                    max_usd,
                    tranches,
                } => LeanFinancing::PerGw {
                    usd_per_gw: *usd_per_gw,
                    max_usd: *max_usd,
                    tranches: tranches.clone(),
                },
                FinancingRule::Lump { month, usd } => LeanFinancing::Lump {
                    index: month.months_since(first),
                    usd: *usd,
                    deal: *deal,
                },
            })
            .collect();
        let mut deal_tranches = vec![Vec::new(); p.deals.len()];
        for (t, deal) in p.tranche_deal.iter().enumerate() {
            if let Some(d) = deal {
                deal_tranches[*d].push(t);
            }
        }
        for list in &mut deal_tranches {
            list.sort_by_key(|&t| (tranches[t].start, t));
        }
        let loadings = p
            .deals
            .iter()
            .map(|d| {
                let shared: Vec<(usize, f64)> = d
                    .drivers
                    .iter()
                    .map(|&k| (k, p.drivers[k].weight.sqrt()))
                    .collect();
                let total: f64 = d.drivers.iter().map(|&k| p.drivers[k].weight).sum();
                (shared, (1.0 - total).max(0.0).sqrt())
            })
            .collect();
        Some(Lean {
            first,
            months,
            tranches,
            financing,
            has_h100e,
            deal_tranches,
            tranche_deal: p.tranche_deal.clone(),
            loadings,
            deals: p.deals.clone(),
            drivers: p.drivers.len(),
        })
    }

    pub(crate) fn scratch(&self) -> Scratch {
        let m = self.months;
        Scratch {
            series: Series {
                facility_gw: vec![0.0; m],
                accelerators: vec![0.0; m],
                h100e: vec![0.0; m],
                capex_usd: vec![0.0; m],
                financing_usd: vec![0.0; m],
            },
            rate_diff: vec![0.0; m + 1],
            capex_flow: vec![0.0; m],
            nominal: vec![0.0; m],
            z: vec![0.0; self.drivers],
            z_delay: vec![0.0; self.drivers],
            outcomes: vec![DealOutcome::AS_PLANNED; self.deals.len()],
            draws: vec![TrancheDraw::default(); self.tranches.len()],
            ramp_u: vec![0.0; self.tranches.len()],
        }
    }

    /// Draws every deal's outcome and every tranche's ramp for one sample. The number and order
    /// of draws is fixed, so forcing one deal later leaves the others' draws unchanged.
    ///
    /// Two one-factor Gaussian copulas: each driver has one shock for outcomes and a second,
    /// independent one for delays. Two deals sharing a driver of weight w have outcome latents
    /// correlated by w and delay latents correlated by w, but a deal's own outcome and delay
    /// are independent, so among the samples where it does not collapse it is delayed with
    /// exactly the stated P(delayed | not collapsed). (Driving both from one shock made low
    /// draws mean collapse and delay at once, so survivors were delayed too rarely.)
    pub(crate) fn draw(&self, rng: &mut ChaCha8Rng, s: &mut Scratch) {
        for z in s.z.iter_mut() {
            *z = rng.sample(StandardNormal);
        }
        for z in s.z_delay.iter_mut() {
            *z = rng.sample(StandardNormal);
        }
        for (d, deal) in self.deals.iter().enumerate() {
            let (shared, idio) = &self.loadings[d];
            let (u_out, u_delay) = if shared.is_empty() {
                (rng.random::<f64>(), rng.random::<f64>())
            } else {
                let common: f64 = shared.iter().map(|&(k, w)| w * s.z[k]).sum();
                let common_delay: f64 = shared.iter().map(|&(k, w)| w * s.z_delay[k]).sum();
                let e1: f64 = rng.sample(StandardNormal);
                let e2: f64 = rng.sample(StandardNormal);
                (
                    normal_cdf(common + idio * e1),
                    normal_cdf(common_delay + idio * e2),
                )
            };
            let u_cut: f64 = rng.random();
            let u_months: f64 = rng.random();
            let (kind, kept) = if u_out < deal.odds.collapse {
                (2, 0.0)
            } else if u_out < deal.odds.collapse + deal.odds.cut {
                let [lo, hi] = deal.odds.cut_kept;
                (1, lo + (hi - lo) * u_cut)
            } else {
                (0, 1.0)
            };
            let delay = if kind != 2 && u_delay < deal.odds.delay {
                triangular(u_months, deal.odds.delay_months).round() as i32
            } else {
                0
            };
            s.outcomes[d] = DealOutcome {
                kept,
                kind,
                delay,
                ramp_factor: None,
            };
        }
        for u in s.ramp_u.iter_mut() {
            *u = rng.random();
        }
    }

    /// Turns outcomes (and the drawn ramp uniforms) into each tranche's systems, start, ramp.
    pub(crate) fn apply(&self, s: &mut Scratch) {
        for (t, tranche) in self.tranches.iter().enumerate() {
            s.draws[t] = TrancheDraw {
                systems: tranche.systems,
                start: tranche.start,
                ramp: tranche.ramp,
            };
            if let Some(d) = self.tranche_deal[t] {
                let o = s.outcomes[d];
                let factor = o
                    .ramp_factor
                    .unwrap_or_else(|| triangular(s.ramp_u[t], self.deals[d].odds.ramp_factor));
                s.draws[t].start += o.delay;
                s.draws[t].ramp = (tranche.ramp as f64 * factor).round() as u32;
            }
        }
        for (d, list) in self.deal_tranches.iter().enumerate() {
            let kept = s.outcomes[d].kept;
            if kept >= 1.0 {
                continue;
            }
            let total: f64 = list.iter().map(|&t| self.tranches[t].nominal_w).sum();
            let mut budget = kept * total;
            for &t in list {
                let tranche = &self.tranches[t];
                if budget >= tranche.nominal_w * (1.0 - 1e-12) {
                    budget -= tranche.nominal_w;
                } else {
                    let share = (budget / tranche.nominal_w).max(0.0);
                    s.draws[t].systems = (tranche.systems as f64 * share).floor() as u64;
                    budget = 0.0;
                }
            }
        }
    }

    /// Facility GW online in the last month, per tranche, summed over `tranches`.
    pub(crate) fn final_gw(&self, s: &Scratch, tranches: &[usize]) -> f64 {
        let last = self.months as i32 - 1;
        tranches
            .iter()
            .map(|&t| {
                let tr = &self.tranches[t];
                let online = online_at(s.draws[t], last);
                online as f64 * tr.facility_gw_per_system
            })
            .sum()
    }

    /// Accelerators tranche `t` has brought online by month index `index` in the sample in
    /// `s` (after `apply`); 0 before the timeline.
    pub(crate) fn accelerators_online(&self, s: &Scratch, t: usize, index: i64) -> f64 {
        let index = index.clamp(-1, i64::from(i32::MAX)) as i32;
        online_at(s.draws[t], index) as f64 * self.tranches[t].accelerators
    }

    pub(crate) fn deal_tranches(&self, d: usize) -> &[usize] {
        &self.deal_tranches[d]
    }

    pub(crate) fn tranche_count(&self) -> usize {
        self.tranches.len()
    }

    /// The monthly series of the sample in `s` (after `apply`), into `s.series`.
    pub(crate) fn series(&self, s: &mut Scratch) {
        let m = self.months;
        let Scratch {
            series,
            rate_diff,
            capex_flow,
            nominal,
            draws,
            outcomes,
            ..
        } = s;
        for v in [
            &mut series.facility_gw,
            &mut series.accelerators,
            &mut series.h100e,
            &mut series.financing_usd,
            &mut *capex_flow,
        ] {
            v.fill(0.0);
        }
        rate_diff.fill(0.0);
        for (t, tr) in self.tranches.iter().enumerate() {
            let draw = draws[t];
            if draw.systems == 0 {
                continue;
            }
            let build = tr.build as i32;
            let steps = draw.ramp.max(1);
            // online(k) = floor(systems * k / steps), stepped without dividing.
            let (whole, part) = (draw.systems / steps as u64, draw.systems % steps as u64);
            let (mut quotient, mut remainder) = (0u64, 0u64);
            let mut previous = 0u64;
            for k in 1..=steps {
                quotient += whole;
                remainder += part;
                if remainder >= steps as u64 {
                    quotient += 1;
                    remainder -= steps as u64;
                }
                let online = if k == steps { draw.systems } else { quotient };
                let new = online - previous;
                previous = online;
                let index = draw.start + k as i32 - 1;
                if index - build + 1 >= m as i32 {
                    break;
                }
                if new == 0 {
                    continue;
                }
                let new = new as f64;
                let per_month = new * tr.facility_capex_per_system_month;
                let lo = (index - build + 1).max(0) as usize;
                let hi = ((index + 1).max(0) as usize).min(m);
                if lo < hi {
                    rate_diff[lo] += per_month;
                    rate_diff[hi] -= per_month;
                }
                if index < 0 || index >= m as i32 {
                    continue;
                }
                let i = index as usize;
                series.facility_gw[i] += new * tr.facility_gw_per_system;
                series.accelerators[i] += new * tr.accelerators;
                series.h100e[i] += new * tr.h100e_per_system;
                capex_flow[i] += new * tr.capex_per_system;
            }
        }
        // Money in.
        for f in &self.financing {
            match f {
                LeanFinancing::Lump { index, usd, deal } => {
                    let (paid, delay) = match deal {
                        Some(d) => (outcomes[*d].kind != 2, outcomes[*d].delay),
                        None => (true, 0),
                    };
                    let i = index + delay;
                    if paid && (0..m as i32).contains(&i) {
                        series.financing_usd[i as usize] += usd;
                    }
                }
                LeanFinancing::PerGw {
                    usd_per_gw,
                    max_usd,
                    tranches,
                } => {
                    nominal.fill(0.0);
                    for &t in tranches {
                        let Some(tr) = self.tranches.get(t) else {
                            continue;
                        };
                        let draw = draws[t];
                        let steps = draw.ramp.max(1);
                        let mut previous = 0u64;
                        for k in 1..=steps {
                            let online = systems_at(draw.systems, k, steps);
                            let index = draw.start + k as i32 - 1;
                            if index >= m as i32 {
                                break;
                            }
                            if index >= 0 {
                                nominal[index as usize] +=
                                    (online - previous) as f64 * tr.nominal_per_system;
                            }
                            previous = online;
                        }
                    }
                    let mut deployed = 0.0;
                    let mut paid_steps = 0u64;
                    let mut paid = 0.0;
                    for (i, n) in nominal.iter().enumerate() {
                        deployed += n;
                        let steps = (deployed / W_PER_GW + 1e-9).floor().max(0.0) as u64;
                        let new_steps = steps.saturating_sub(paid_steps);
                        paid_steps = paid_steps.max(steps);
                        let due = (new_steps as f64 * usd_per_gw).min(max_usd - paid).max(0.0);
                        paid += due;
                        series.financing_usd[i] += due;
                    }
                }
            }
        }
        // Stocks and running totals.
        let (mut fac, mut acc, mut h, mut rate, mut capex, mut fin) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..m {
            fac += series.facility_gw[i];
            series.facility_gw[i] = fac;
            acc += series.accelerators[i];
            series.accelerators[i] = acc;
            h += series.h100e[i];
            series.h100e[i] = h;
            rate += rate_diff[i];
            capex += capex_flow[i] + rate;
            series.capex_usd[i] = capex;
            fin += series.financing_usd[i];
            series.financing_usd[i] = fin;
        }
    }
}

/// floor(total * k / steps), never above total.
fn systems_at(total: u64, k: u32, steps: u32) -> u64 {
    if k >= steps {
        return total;
    }
    match total.checked_mul(k as u64) {
        Some(product) => product / steps as u64,
        None => ((total as u128 * k as u128) / steps as u128) as u64,
    }
}

/// Systems online at the end of month `index`.
fn online_at(draw: TrancheDraw, index: i32) -> u64 {
    let k = index - draw.start + 1;
    if k <= 0 {
        return 0;
    }
    systems_at(draw.systems, k as u32, draw.ramp.max(1))
}

/// Inverse CDF of the triangular distribution [min, mode, max] at `u`.
pub(crate) fn triangular(u: f64, [a, c, b]: [f64; 3]) -> f64 {
    if b <= a {
        return a;
    }
    let fc = (c - a) / (b - a);
    if u < fc {
        a + (u * (b - a) * (c - a)).sqrt()
    } else {
        b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
    }
}

/// The standard normal CDF (via a Chebyshev erfc, fractional error below 1.2e-7).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const PORTFOLIO_PLAN: &str = include_str!("../../../scenarios/openai-portfolio.toml");

    /// Two deals sharing one driver of weight `weight`, each with collapse 0.6 and the given
    /// P(delayed | not collapsed).
    fn shared_driver(weight: f64, delay: [f64; 2]) -> Lean {
        let text = format!(
            r#"
scenario = "x"
[[driver]]
id = "financing"
weight = {weight}
[[deal]]
id = "openai-nvidia-loi"
proceed = 0.3
cut = {{ value = 0.1, kept = [0.5, 0.5] }}
collapse = 0.6
delay = {{ value = {}, months = [1, 2, 3] }}
ramp_factor = [1, 1, 1]
drivers = ["financing"]
[[deal]]
id = "openai-oracle"
proceed = 0.3
cut = {{ value = 0.1, kept = [0.5, 0.5] }}
collapse = 0.6
delay = {{ value = {}, months = [1, 2, 3] }}
ramp_factor = [1, 1, 1]
drivers = ["financing"]
"#,
            delay[0], delay[1]
        );
        let catalog = catalog::Catalog::embedded().unwrap();
        let file = crate::parse("test.toml", &text).unwrap();
        let p = crate::build(
            &catalog,
            &file,
            "test.toml",
            &text,
            "plan.toml",
            PORTFOLIO_PLAN,
        )
        .unwrap();
        Lean::new(&p).unwrap()
    }

    /// Per sample, whether each of the two deals survived and was delayed.
    fn sample(lean: &Lean, n: u64, seed: u64) -> Vec<[(bool, bool); 2]> {
        let index = |id: &str| lean.deals.iter().position(|d| d.id == id).unwrap();
        let deals = [index("openai-nvidia-loi"), index("openai-oracle")];
        assert!(deals.iter().all(|&d| lean.deals[d].drivers == [0]));
        let base = ChaCha8Rng::seed_from_u64(seed);
        let mut s = lean.scratch();
        (0..n)
            .map(|i| {
                let mut rng = base.clone();
                rng.set_stream(i);
                lean.draw(&mut rng, &mut s);
                deals.map(|d| (s.outcomes[d].kind != 2, s.outcomes[d].delay > 0))
            })
            .collect()
    }

    /// Phi coefficient of the two deals' delays over the samples where both survive, and how
    /// many those are.
    fn delay_correlation(samples: &[[(bool, bool); 2]]) -> (f64, f64) {
        let both: Vec<[bool; 2]> = samples
            .iter()
            .filter(|x| x[0].0 && x[1].0)
            .map(|x| [x[0].1, x[1].1])
            .collect();
        let n = both.len() as f64;
        let mean = |d: usize| both.iter().filter(|x| x[d]).count() as f64 / n;
        let joint = both.iter().filter(|x| x[0] && x[1]).count() as f64 / n;
        let (a, b) = (mean(0), mean(1));
        ((joint - a * b) / (a * (1.0 - a) * b * (1.0 - b)).sqrt(), n)
    }

    #[test]
    fn deals_with_drivers_are_delayed_at_the_stated_rate_when_they_survive() {
        let stated = [0.5, 0.3];
        let n = 50_000;
        for weight in [0.5, 0.95] {
            let samples = sample(&shared_driver(weight, stated), n, 3);
            for (d, q) in stated.into_iter().enumerate() {
                let survived = samples.iter().filter(|x| x[d].0).count() as f64;
                let delayed = samples.iter().filter(|x| x[d].0 && x[d].1).count() as f64;
                let sampled = delayed / survived;
                let sigma = (q * (1.0 - q) / survived).sqrt();
                assert!(
                    (sampled - q).abs() < 4.0 * sigma,
                    "weight {weight}, deal {d}: sampled {sampled:.4} vs stated {q} (sigma {sigma:.4})"
                );
                // Collapse is unchanged too.
                let collapsed = 1.0 - survived / n as f64;
                assert!(
                    (collapsed - 0.6).abs() < 4.0 * (0.24 / n as f64).sqrt(),
                    "{collapsed}"
                );
            }
        }
    }

    #[test]
    fn delays_of_deals_sharing_a_driver_move_together() {
        let n = 50_000;
        let (correlated, m) = delay_correlation(&sample(&shared_driver(0.8, [0.5, 0.3]), n, 4));
        let (independent, m0) = delay_correlation(&sample(&shared_driver(0.0, [0.5, 0.3]), n, 4));
        // Without a driver the phi coefficient is noise, about 1/sqrt(m).
        assert!(independent.abs() < 4.0 / m0.sqrt(), "{independent}");
        // Latent correlation 0.8 at thresholds 0.5 and 0.3 gives a phi of about 0.57.
        assert!(
            correlated > 0.4 && correlated > independent + 8.0 / m.sqrt(),
            "{correlated} vs {independent}"
        );
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (x, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.959_963_985, 0.025),
            (3.0, 0.998_650_102),
        ] {
            assert!((normal_cdf(x) - p).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn triangular_covers_its_range() {
        let t = [2.0, 6.0, 24.0];
        assert_eq!(triangular(0.0, t), 2.0);
        assert!((triangular(1.0, t) - 24.0).abs() < 1e-12);
        assert!((triangular(4.0 / 22.0, t) - 6.0).abs() < 1e-9);
        assert_eq!(triangular(0.3, [1.0, 1.0, 1.0]), 1.0);
    }

    #[test]
    fn systems_follow_the_floor_rule() {
        assert_eq!(systems_at(10, 1, 3), 3);
        assert_eq!(systems_at(10, 2, 3), 6);
        assert_eq!(systems_at(10, 3, 3), 10);
        assert_eq!(systems_at(u64::MAX, 1, 2), u64::MAX / 2);
    }
}
