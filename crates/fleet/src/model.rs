//! The month-by-month buildout computation.

use serde::Serialize;
use units::{Month, HOURS_PER_MONTH, HOURS_PER_YEAR, WH_PER_TWH, W_PER_GW, W_PER_MW};

/// Dense peak FLOP/s of one accelerator per precision. `None` means not public; a precision
/// the chip does not have is `Some(0.0)`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PeakFlops {
    /// BF16 dense FLOP/s.
    pub bf16: Option<f64>,
    /// FP8 dense FLOP/s.
    pub fp8: Option<f64>,
    /// FP4 dense FLOP/s.
    pub fp4: Option<f64>,
}

/// One tranche, fully resolved to numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct TrancheInput {
    /// Display name, unique within a plan.
    pub name: String,
    /// Accelerator id (for the by-type counts).
    pub accelerator_id: String,
    /// Systems when fully built.
    pub systems: u64,
    /// Accelerator packages per system.
    pub accelerators_per_system: f64,
    /// Nameplate IT power per system, W.
    pub it_power_w_per_system: f64,
    /// Facility power / IT power.
    pub pue: f64,
    /// First month any system is online.
    pub start: Month,
    /// Months over which systems come online (0 = all at `start`).
    pub ramp_months: u32,
    /// Electricity price, USD/kWh.
    pub electricity_usd_per_kwh: f64,
    /// Average IT power drawn / nameplate.
    pub utilization: f64,
    /// Price per system, USD.
    pub price_usd_per_system: f64,
    /// Networking capex as a fraction of systems capex.
    pub networking_capex_fraction: f64,
    /// Facility capex per MW of facility power, USD.
    pub facility_capex_usd_per_mw: f64,
    /// Months of construction before power-on, over which facility capex is spread.
    pub build_months: u32,
    /// Non-energy opex per year as a fraction of capex in service.
    pub other_opex_fraction_per_year: f64,
    /// Dense peaks of one accelerator.
    pub peak_flops_per_accelerator: PeakFlops,
    /// The facility power the tranche was asked to be, W. Whole systems rarely fill it
    /// exactly; per-GW financing counts deployment against this nominal size, so that
    /// "1 GW" built from whole racks counts as the GW it was contracted as.
    pub nominal_facility_w: f64,
}

/// How a financing source pays.
#[derive(Debug, Clone, PartialEq)]
pub enum FinancingRule {
    /// Pays `usd_per_gw` each time the nominal facility power deployed by `tranches` crosses
    /// a whole GW, until `max_usd` has been paid.
    PerGwDeployed {
        /// Payment per whole GW.
        usd_per_gw: f64,
        /// Cap on the total paid.
        max_usd: f64,
        /// Indices of the tranches whose deployment counts.
        tranches: Vec<usize>,
    },
    /// Pays `usd` in `month`.
    Lump {
        /// When.
        month: Month,
        /// How much.
        usd: f64,
    },
}

/// A source of money flowing in (an investment, a tranche of equity).
#[derive(Debug, Clone, PartialEq)]
pub struct FinancingInput {
    /// Display name.
    pub name: String,
    /// How it pays.
    pub rule: FinancingRule,
}

/// Everything the model needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetInput {
    /// The tranches.
    pub tranches: Vec<TrancheInput>,
    /// Money flowing in.
    pub financing: Vec<FinancingInput>,
    /// Last month of the timeline.
    pub end: Month,
    /// Dense bf16 FLOP/s of the reference accelerator (the H100-equivalent unit).
    pub reference_bf16_flops: f64,
}

/// One tranche's state in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrancheMonth {
    /// Tranche name.
    pub tranche: String,
    /// Facility power online, GW.
    pub facility_gw: f64,
    /// IT power online, GW.
    pub it_gw: f64,
    /// Systems online.
    pub systems: f64,
    /// Accelerators online.
    pub accelerators: f64,
}

/// The fleet in one month: stocks are as of the end of the month, flows are within it, and
/// `cumulative_*` fields add flows up to and including it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthRow {
    /// The month, `YYYY-MM`.
    pub month: Month,
    /// Facility power online, GW.
    pub facility_gw: f64,
    /// IT power online, GW.
    pub it_gw: f64,
    /// Systems online.
    pub systems: f64,
    /// Accelerator packages online.
    pub accelerators: f64,
    /// Accelerators online by accelerator id.
    pub accelerators_by_type: std::collections::BTreeMap<String, f64>,
    /// H100-equivalents by dense bf16 FLOP/s (`null` if any online chip's bf16 is unknown).
    pub h100e: Option<f64>,
    /// Peak dense bf16 FLOP/s online.
    pub bf16_dense_flops: Option<f64>,
    /// Peak dense fp8 FLOP/s online.
    pub fp8_dense_flops: Option<f64>,
    /// Peak dense fp4 FLOP/s online.
    pub fp4_dense_flops: Option<f64>,
    /// Capex spent to date (systems + networking + facility), USD.
    pub capex_usd: f64,
    /// Capex spent this month, USD.
    pub capex_usd_in_month: f64,
    /// Systems capex to date, USD.
    pub capex_systems_usd: f64,
    /// Networking capex to date, USD.
    pub capex_networking_usd: f64,
    /// Facility capex to date, USD.
    pub capex_facility_usd: f64,
    /// Opex (energy + other) to date, USD.
    pub opex_usd: f64,
    /// Opex this month, USD.
    pub opex_usd_in_month: f64,
    /// Energy cost to date, USD.
    pub opex_energy_usd: f64,
    /// Other opex to date, USD.
    pub opex_other_usd: f64,
    /// Capex + opex to date, USD.
    pub spend_usd: f64,
    /// Energy drawn at this month's rate, annualised, TWh per year.
    pub energy_twh_per_year: f64,
    /// Energy drawn to date, TWh.
    pub energy_twh: f64,
    /// Financing received to date, USD.
    pub financing_usd: f64,
    /// Financing received this month, USD.
    pub financing_usd_in_month: f64,
    /// Each tranche's share of what is online.
    pub by_tranche: Vec<TrancheMonth>,
}

/// Per-tranche results when fully built.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrancheTotals {
    /// Tranche name.
    pub tranche: String,
    /// Accelerator id.
    pub accelerator: String,
    /// Systems when fully built.
    pub systems: f64,
    /// Accelerators when fully built.
    pub accelerators: f64,
    /// Facility power when fully built, GW.
    pub facility_gw: f64,
    /// IT power when fully built, GW.
    pub it_gw: f64,
    /// H100-equivalents when fully built.
    pub h100e: Option<f64>,
    /// Systems + networking + facility capex, USD.
    pub capex_usd: f64,
    /// First month online.
    pub start: Month,
    /// First month fully online.
    pub full: Month,
}

/// The result: a row per month and per-tranche totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// One row per month, in order.
    pub rows: Vec<MonthRow>,
    /// Each tranche when fully built.
    pub tranches: Vec<TrancheTotals>,
}

impl TrancheInput {
    /// Systems online at the end of `month`.
    pub fn systems_online(&self, month: Month) -> f64 {
        let k = month.months_since(self.start) + 1;
        if k <= 0 {
            return 0.0;
        }
        let total = self.systems as f64;
        if self.ramp_months == 0 || k as u32 >= self.ramp_months {
            return total;
        }
        // Integer arithmetic: no rounding drift, and never above `total`.
        ((self.systems as u128 * k as u128) / self.ramp_months as u128) as f64
    }

    /// First month with every system online.
    pub fn full_month(&self) -> Month {
        self.start.plus(self.ramp_months.saturating_sub(1) as i32)
    }

    fn facility_w(&self, systems: f64) -> f64 {
        systems * self.it_power_w_per_system * self.pue
    }

    fn in_service_capex_usd(&self, systems: f64) -> f64 {
        let systems_usd = systems * self.price_usd_per_system;
        let facility_usd = self.facility_w(systems) / W_PER_MW * self.facility_capex_usd_per_mw;
        systems_usd * (1.0 + self.networking_capex_fraction) + facility_usd
    }
}

/// Runs the buildout. Pure: the same input gives the same timeline.
pub fn plan(input: &FleetInput) -> Timeline {
    let Some(first) = first_month(input) else {
        return Timeline {
            rows: Vec::new(),
            tranches: Vec::new(),
        };
    };
    let months = (input.end.months_since(first) + 1).max(0) as usize;

    // Facility capex is spent ahead of power-on, so it is computed as a schedule first.
    // Indexed [month][tranche].
    let mut facility_spend = vec![vec![0.0; input.tranches.len()]; months];
    for (t, tranche) in input.tranches.iter().enumerate() {
        let build = tranche.build_months.max(1) as i32;
        let mut previous = 0.0;
        let mut month = tranche.start;
        loop {
            let online = tranche.systems_online(month);
            let new_mw = tranche.facility_w(online - previous) / W_PER_MW;
            previous = online;
            let per_month = new_mw * tranche.facility_capex_usd_per_mw / build as f64;
            for back in 0..build {
                let index = month.plus(-back).months_since(first);
                if (0..months as i32).contains(&index) {
                    facility_spend[index as usize][t] += per_month;
                }
            }
            if month >= tranche.full_month() {
                break;
            }
            month = month.plus(1);
        }
    }

    let mut rows = Vec::with_capacity(months);
    let mut previous_systems = vec![0.0; input.tranches.len()];
    let mut paid = vec![0.0; input.financing.len()];
    let mut gw_steps_paid = vec![0u64; input.financing.len()];
    let mut cumulative = Cumulative::default();
    for (i, facility_spend_in_month) in facility_spend.iter().enumerate() {
        let month = first.plus(i as i32);
        let mut row = MonthRow::empty(month);
        let mut peaks_known = [true; 3];
        let mut peaks = [0.0f64; 3];
        let mut systems_capex = 0.0;
        let mut networking_capex = 0.0;
        let mut facility_capex = 0.0;
        let mut energy_kwh = 0.0;
        let mut energy_usd = 0.0;
        let mut other_opex = 0.0;
        let mut nominal_w_by_tranche = Vec::with_capacity(input.tranches.len());
        for (t, tranche) in input.tranches.iter().enumerate() {
            let systems = tranche.systems_online(month);
            let new_systems = systems - previous_systems[t];
            previous_systems[t] = systems;
            let accelerators = systems * tranche.accelerators_per_system;
            let it_w = systems * tranche.it_power_w_per_system;
            let facility_w = it_w * tranche.pue;
            nominal_w_by_tranche
                .push(tranche.nominal_facility_w * systems / tranche.systems.max(1) as f64);

            row.systems += systems;
            row.accelerators += accelerators;
            row.it_gw += it_w / W_PER_GW;
            row.facility_gw += facility_w / W_PER_GW;
            if accelerators > 0.0 {
                *row.accelerators_by_type
                    .entry(tranche.accelerator_id.clone())
                    .or_insert(0.0) += accelerators;
            }
            let p = tranche.peak_flops_per_accelerator;
            for (k, peak) in [p.bf16, p.fp8, p.fp4].into_iter().enumerate() {
                match peak {
                    Some(flops) => peaks[k] += accelerators * flops,
                    None if accelerators > 0.0 => peaks_known[k] = false,
                    None => {}
                }
            }

            let bought = new_systems * tranche.price_usd_per_system;
            systems_capex += bought;
            networking_capex += bought * tranche.networking_capex_fraction;
            facility_capex += facility_spend_in_month[t];

            let drawn_kwh = facility_w * tranche.utilization * HOURS_PER_MONTH / 1e3;
            energy_kwh += drawn_kwh;
            energy_usd += drawn_kwh * tranche.electricity_usd_per_kwh;
            other_opex +=
                tranche.in_service_capex_usd(systems) * tranche.other_opex_fraction_per_year / 12.0;

            row.by_tranche.push(TrancheMonth {
                tranche: tranche.name.clone(),
                facility_gw: facility_w / W_PER_GW,
                it_gw: it_w / W_PER_GW,
                systems,
                accelerators,
            });
        }
        let known = |k: usize| peaks_known[k].then_some(peaks[k]);
        row.bf16_dense_flops = known(0);
        row.fp8_dense_flops = known(1);
        row.fp4_dense_flops = known(2);
        row.h100e = row.bf16_dense_flops.map(|f| f / input.reference_bf16_flops);

        let mut financing = 0.0;
        for (f, source) in input.financing.iter().enumerate() {
            let due = match &source.rule {
                FinancingRule::Lump { month: when, usd } => {
                    if *when == month {
                        *usd
                    } else {
                        0.0
                    }
                }
                FinancingRule::PerGwDeployed {
                    usd_per_gw,
                    max_usd,
                    tranches,
                } => {
                    let deployed_gw: f64 = tranches
                        .iter()
                        .filter_map(|&t| nominal_w_by_tranche.get(t))
                        .sum::<f64>()
                        / W_PER_GW;
                    // A small tolerance so that 1.0 GW built from whole racks counts as 1 GW.
                    let steps = (deployed_gw + 1e-9).floor().max(0.0) as u64;
                    let new_steps = steps.saturating_sub(gw_steps_paid[f]);
                    gw_steps_paid[f] = gw_steps_paid[f].max(steps);
                    (new_steps as f64 * usd_per_gw)
                        .min(max_usd - paid[f])
                        .max(0.0)
                }
            };
            paid[f] += due;
            financing += due;
        }

        cumulative.systems += systems_capex;
        cumulative.networking += networking_capex;
        cumulative.facility += facility_capex;
        cumulative.energy_usd += energy_usd;
        cumulative.other_opex += other_opex;
        cumulative.energy_kwh += energy_kwh;
        cumulative.financing += financing;

        row.capex_usd_in_month = systems_capex + networking_capex + facility_capex;
        row.capex_systems_usd = cumulative.systems;
        row.capex_networking_usd = cumulative.networking;
        row.capex_facility_usd = cumulative.facility;
        row.capex_usd = cumulative.systems + cumulative.networking + cumulative.facility;
        row.opex_usd_in_month = energy_usd + other_opex;
        row.opex_energy_usd = cumulative.energy_usd;
        row.opex_other_usd = cumulative.other_opex;
        row.opex_usd = cumulative.energy_usd + cumulative.other_opex;
        row.spend_usd = row.capex_usd + row.opex_usd;
        row.energy_twh_per_year = energy_kwh * 1e3 / HOURS_PER_MONTH * HOURS_PER_YEAR / WH_PER_TWH;
        row.energy_twh = cumulative.energy_kwh * 1e3 / WH_PER_TWH;
        row.financing_usd_in_month = financing;
        row.financing_usd = cumulative.financing;
        rows.push(row);
    }

    let tranches = input
        .tranches
        .iter()
        .map(|t| {
            let systems = t.systems as f64;
            let accelerators = systems * t.accelerators_per_system;
            TrancheTotals {
                tranche: t.name.clone(),
                accelerator: t.accelerator_id.clone(),
                systems,
                accelerators,
                facility_gw: t.facility_w(systems) / W_PER_GW,
                it_gw: systems * t.it_power_w_per_system / W_PER_GW,
                h100e: t
                    .peak_flops_per_accelerator
                    .bf16
                    .map(|f| accelerators * f / input.reference_bf16_flops),
                capex_usd: t.in_service_capex_usd(systems),
                start: t.start,
                full: t.full_month(),
            }
        })
        .collect();
    Timeline { rows, tranches }
}

/// The first month with any spend: the earliest construction start.
fn first_month(input: &FleetInput) -> Option<Month> {
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

#[derive(Default)]
struct Cumulative {
    systems: f64,
    networking: f64,
    facility: f64,
    energy_usd: f64,
    other_opex: f64,
    energy_kwh: f64,
    financing: f64,
}

impl MonthRow {
    fn empty(month: Month) -> MonthRow {
        MonthRow {
            month,
            facility_gw: 0.0,
            it_gw: 0.0,
            systems: 0.0,
            accelerators: 0.0,
            accelerators_by_type: Default::default(),
            h100e: None,
            bf16_dense_flops: None,
            fp8_dense_flops: None,
            fp4_dense_flops: None,
            capex_usd: 0.0,
            capex_usd_in_month: 0.0,
            capex_systems_usd: 0.0,
            capex_networking_usd: 0.0,
            capex_facility_usd: 0.0,
            opex_usd: 0.0,
            opex_usd_in_month: 0.0,
            opex_energy_usd: 0.0,
            opex_other_usd: 0.0,
            spend_usd: 0.0,
            energy_twh_per_year: 0.0,
            energy_twh: 0.0,
            financing_usd: 0.0,
            financing_usd_in_month: 0.0,
            by_tranche: Vec::new(),
        }
    }
}
