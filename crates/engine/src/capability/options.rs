//! The stated inputs of the capability view: defaults, the scenario's `[capability]` table and
//! its validation (each bad value an error naming the field).

use catalog::{Diagnostics, Problems};
use serde::{Deserialize, Serialize};
use toml::Spanned;
use units::Month;

/// The capability view's inputs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CapabilityOptions {
    /// Days the largest run trains.
    pub training_days: f64,
    /// Training tokens per (active) parameter: Chinchilla's ~20 (Hoffmann et al. 2022).
    pub tokens_per_parameter: f64,
    /// Share of each site and of the fleet reserved for serving, 0 to 1.
    pub serving_share: f64,
    /// Routed experts of the reference MoE.
    pub moe_experts: u32,
    /// Experts a token passes through.
    pub moe_top_k: u32,
    /// Hot spares held beside the run, as a fraction of its systems (the reliability data's
    /// sourced 5%, UIUC Delta).
    pub spare_fraction: f64,
    /// Years a system serves before it retires.
    pub service_life_years: f64,
    /// Months new capacity takes to reach stable goodput (it trains at half that meanwhile and
    /// does not join the largest run).
    pub burn_in_months: u32,
    /// Bandwidth between sites, Gbit/s each way: given, a run may span the sites of one system
    /// type, data parallel over this link (flagged).
    pub inter_site_gbit_per_s: Option<f64>,
    /// Months reported besides each December.
    pub months: Vec<Month>,
    /// The reference serving mix: (catalog model, share of output tokens).
    pub serving_mix: Vec<(String, f64)>,
    /// Mean load / peak load of a serving day.
    pub mean_to_peak: f64,
}

impl Default for CapabilityOptions {
    fn default() -> CapabilityOptions {
        CapabilityOptions {
            training_days: 90.0,
            tokens_per_parameter: 20.0,
            serving_share: DEFAULT_SERVING_SHARE,
            moe_experts: 128,
            moe_top_k: 8,
            spare_fraction: 0.05,
            service_life_years: DEFAULT_SERVICE_LIFE_YEARS,
            burn_in_months: DEFAULT_BURN_IN_MONTHS,
            inter_site_gbit_per_s: None,
            months: Vec::new(),
            serving_mix: vec![
                ("llama3-70b".to_string(), 0.5),
                ("qwen3-235b-a22b".to_string(), 0.5),
            ],
            mean_to_peak: crate::capacity::DEFAULT_MEAN_TO_PEAK,
        }
    }
}

/// Default share reserved for serving: an assumption (no operator publishes its split); half.
pub const DEFAULT_SERVING_SHARE: f64 = 0.5;
/// Default service life, years: the 6-year useful life hyperscalers depreciate servers over
/// (an accounting life, stated as an assumption about physical retirement).
pub const DEFAULT_SERVICE_LIFE_YEARS: f64 = 6.0;
/// Default burn-in, months: an assumption.
pub const DEFAULT_BURN_IN_MONTHS: u32 = 3;
/// Longest training duration accepted: ten years.
pub const MAX_TRAINING_DAYS: f64 = 3652.5;

/// The scenario's `[capability]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilitySpec {
    /// Days of training.
    pub training_days: Option<Spanned<f64>>,
    /// Tokens per parameter.
    pub tokens_per_parameter: Option<Spanned<f64>>,
    /// Serving share.
    pub serving_share: Option<Spanned<f64>>,
    /// Routed experts.
    pub moe_experts: Option<Spanned<i64>>,
    /// Active experts.
    pub moe_top_k: Option<Spanned<i64>>,
    /// Spare fraction.
    pub spare_fraction: Option<Spanned<f64>>,
    /// Service life, years.
    pub service_life_years: Option<Spanned<f64>>,
    /// Burn-in, months.
    pub burn_in_months: Option<Spanned<i64>>,
    /// Inter-site bandwidth, Gbit/s.
    pub inter_site_gbit_per_s: Option<Spanned<f64>>,
    /// Extra months, `YYYY-MM`.
    pub months: Option<Vec<Spanned<String>>>,
    /// The serving mix: catalog model id = share of output tokens.
    pub serving_mix: Option<std::collections::BTreeMap<String, Spanned<f64>>>,
}

/// The options a `[capability]` table gives (defaults where it is silent), or every problem
/// with its field. `has_sites`: whether any tranche names a site.
pub fn options_from_spec(
    spec: Option<&CapabilitySpec>,
    origin: &str,
    text: &str,
    has_sites: bool,
) -> Result<CapabilityOptions, Diagnostics> {
    let mut options = CapabilityOptions::default();
    let Some(spec) = spec else {
        return Ok(options);
    };
    let mut problems = Problems::new(origin, text);
    let mut problem = |span: std::ops::Range<usize>, field: &str, message: String, hint: &str| {
        problems.add(Some(span), format!("capability.{field}"), message, hint);
    };
    let mut number = |value: &Option<Spanned<f64>>,
                      field: &str,
                      ok: fn(f64) -> bool,
                      hint: &str,
                      target: &mut f64| {
        if let Some(v) = value {
            let x = *v.get_ref();
            if x.is_finite() && ok(x) {
                *target = x;
            } else {
                problem(v.span(), field, format!("impossible value {x}"), hint);
            }
        }
    };
    number(
        &spec.training_days,
        "training_days",
        |d| d > 0.0 && d <= MAX_TRAINING_DAYS,
        "`training_days` must be more than 0 and at most ten years (3,652.5 days), for example 90",
        &mut options.training_days,
    );
    number(
        &spec.tokens_per_parameter,
        "tokens_per_parameter",
        |r| r > 0.0 && r <= 1e6,
        "`tokens_per_parameter` must be more than 0 (Chinchilla's is 20)",
        &mut options.tokens_per_parameter,
    );
    number(
        &spec.serving_share,
        "serving_share",
        |s| (0.0..=1.0).contains(&s),
        "`serving_share` is a share of the fleet, from 0 to 1, for example 0.5",
        &mut options.serving_share,
    );
    number(
        &spec.spare_fraction,
        "spare_fraction",
        |s| (0.0..1.0).contains(&s),
        "`spare_fraction` must be from 0 to below 1, for example 0.05",
        &mut options.spare_fraction,
    );
    number(
        &spec.service_life_years,
        "service_life_years",
        |y| y > 0.0 && y <= 100.0,
        "`service_life_years` must be more than 0 (and at most 100), for example 6",
        &mut options.service_life_years,
    );
    let mut bandwidth = options.inter_site_gbit_per_s.unwrap_or(0.0);
    number(
        &spec.inter_site_gbit_per_s,
        "inter_site_gbit_per_s",
        |b| b > 0.0 && b <= 1e12,
        "`inter_site_gbit_per_s` must be more than 0, for example 400000 (400 Tbit/s)",
        &mut bandwidth,
    );
    if let Some(v) = &spec.inter_site_gbit_per_s {
        if !has_sites {
            problem(
                v.span(),
                "inter_site_gbit_per_s",
                "inter-site bandwidth is given but no tranche names a site".into(),
                "give tranches a `site = \"id\"` (`gigawatt catalog list --kind sites`), or drop `inter_site_gbit_per_s`",
            );
        } else if bandwidth > 0.0 {
            options.inter_site_gbit_per_s = Some(bandwidth);
        }
    }
    let mut int = |value: &Option<Spanned<i64>>, field: &str, lo: i64, hi: i64, hint: &str| {
        value.as_ref().and_then(|v| {
            let x = *v.get_ref();
            if (lo..=hi).contains(&x) {
                Some(x as u32)
            } else {
                problem(v.span(), field, format!("impossible value {x}"), hint);
                None
            }
        })
    };
    if let Some(e) = int(
        &spec.moe_experts,
        "moe_experts",
        2,
        4096,
        "`moe_experts` must be from 2 to 4,096, for example 128",
    ) {
        options.moe_experts = e;
    }
    if let Some(k) = int(
        &spec.moe_top_k,
        "moe_top_k",
        1,
        4096,
        "`moe_top_k` must be at least 1 and below `moe_experts`, for example 8",
    ) {
        options.moe_top_k = k;
    }
    if let Some(b) = int(
        &spec.burn_in_months,
        "burn_in_months",
        0,
        120,
        "`burn_in_months` must be a whole number from 0 to 120, for example 3",
    ) {
        options.burn_in_months = b;
    }
    if options.moe_top_k >= options.moe_experts {
        let span = spec.moe_top_k.as_ref().map(|v| v.span()).unwrap_or(0..0);
        problem(
            span,
            "moe_top_k",
            format!(
                "{} active experts of {} is not sparse",
                options.moe_top_k, options.moe_experts
            ),
            "`moe_top_k` must be below `moe_experts`, for example 8 of 128",
        );
    }
    if let Some(mix) = &spec.serving_mix {
        let mut list = Vec::new();
        for (model, share) in mix {
            let x = *share.get_ref();
            if x.is_finite() && x > 0.0 && x <= 1e6 {
                list.push((model.clone(), x));
            } else {
                problem(
                    share.span(),
                    "serving_mix",
                    format!("impossible share {x} for `{model}`"),
                    "each share of the serving mix must be more than 0, for example { \"llama3-70b\" = 0.5, \"qwen3-235b-a22b\" = 0.5 }",
                );
            }
        }
        if mix.is_empty() {
            problem(
                0..0,
                "serving_mix",
                "the serving mix is empty".into(),
                "name at least one catalog model, for example serving_mix = { \"llama3-70b\" = 1 }",
            );
        }
        options.serving_mix = list;
    }
    for m in spec.months.iter().flatten() {
        match m.get_ref().parse::<Month>() {
            Ok(month) => options.months.push(month),
            Err(e) => problem(
                m.span(),
                "months",
                e.to_string(),
                "write months as \"YYYY-MM\", for example months = [\"2028-06\"]",
            ),
        }
    }
    problems.into_result().map(|()| options)
}

/// Capability inputs given as command-line flags (or in an API body), laid over the
/// scenario's `[capability]` table: a flag wins over the file.
#[derive(Debug, Clone, Default)]
pub struct CapabilityFlags {
    /// `--training-days`.
    pub training_days: Option<f64>,
    /// `--serving-share`.
    pub serving_share: Option<f64>,
    /// `--tokens-per-parameter`.
    pub tokens_per_parameter: Option<f64>,
    /// `--capability-month`, each `YYYY-MM`.
    pub months: Vec<String>,
}

impl CapabilityFlags {
    /// Lays the flags over `spec`.
    pub fn apply(&self, spec: &mut Option<CapabilitySpec>) {
        let spec = spec.get_or_insert_with(CapabilitySpec::default);
        let given = |v: f64| Spanned::new(0..0, v);
        if let Some(v) = self.training_days {
            spec.training_days = Some(given(v));
        }
        if let Some(v) = self.serving_share {
            spec.serving_share = Some(given(v));
        }
        if let Some(v) = self.tokens_per_parameter {
            spec.tokens_per_parameter = Some(given(v));
        }
        if !self.months.is_empty() {
            let list = spec.months.get_or_insert_with(Vec::new);
            list.extend(self.months.iter().map(|m| Spanned::new(0..0, m.clone())));
        }
    }

    /// Whether any flag is set.
    pub fn any(&self) -> bool {
        self.training_days.is_some()
            || self.serving_share.is_some()
            || self.tokens_per_parameter.is_some()
            || !self.months.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, has_sites: bool) -> Result<CapabilityOptions, Diagnostics> {
        #[derive(Deserialize)]
        struct File {
            capability: CapabilitySpec,
        }
        let file: File = toml::from_str(text).unwrap();
        options_from_spec(Some(&file.capability), "x.toml", text, has_sites)
    }

    #[test]
    fn silence_gives_the_stated_defaults() {
        let o = options_from_spec(None, "x.toml", "", false).unwrap();
        assert_eq!(o, CapabilityOptions::default());
        assert_eq!((o.training_days, o.tokens_per_parameter), (90.0, 20.0));
        let o = parse(
            "[capability]\ntraining_days = 30\nmonths = [\"2028-06\"]\n",
            false,
        )
        .unwrap();
        assert_eq!(o.training_days, 30.0);
        assert_eq!(o.months, vec!["2028-06".parse().unwrap()]);
    }

    #[test]
    fn each_bad_value_names_its_field() {
        for (text, field) in [
            ("serving_share = 1.01", "capability.serving_share"),
            ("training_days = 0", "capability.training_days"),
            ("training_days = 3653", "capability.training_days"),
            ("moe_top_k = 128", "capability.moe_top_k"),
            ("burn_in_months = -1", "capability.burn_in_months"),
            ("months = [\"2028-13\"]", "capability.months"),
            (
                "inter_site_gbit_per_s = 400",
                "capability.inter_site_gbit_per_s",
            ),
        ] {
            let e = parse(&format!("[capability]\n{text}\n"), false).unwrap_err();
            assert_eq!(e.0[0].field.as_deref(), Some(field), "{text}");
            assert_eq!(e.0[0].line, Some(2), "{text}");
        }
        // With sites, a bandwidth is accepted.
        let o = parse("[capability]\ninter_site_gbit_per_s = 400\n", true).unwrap();
        assert_eq!(o.inter_site_gbit_per_s, Some(400.0));
    }
}
