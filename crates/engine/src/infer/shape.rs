//! The traffic's shape (issue 14), checked once for every surface: a length histogram or a
//! named dataset profile, the prefix-cache hit rate, the daily peak-to-mean ratio and a model
//! mix. Errors name the field as the surface spells it (`--prefix-hit-rate`,
//! `traffic.prefix_cache_hit_rate`, `prefix_hit_rate`) and say how to fix it.

use perf::{LengthBin, LengthProfile, Traffic};

/// Bins a named profile is evaluated with.
pub const PROFILE_BINS: usize = 16;

/// How far the shares of a histogram or a mix may be from summing to one.
const SHARE_TOLERANCE: f64 = 1e-6;

/// A traffic shape as a surface gives it; `field(name)` spells a field for messages.
pub struct ShapeRequest<'a> {
    /// A named profile (`sharegpt`, `openorca`, `long-rag`, `reasoning`).
    pub profile: Option<&'a str>,
    /// Histogram bins: (prompt tokens, output tokens, share).
    pub bins: Option<&'a [(f64, f64, f64)]>,
    /// Share of prompt tokens served from the prefix cache.
    pub prefix_hit_rate: Option<f64>,
}

/// The traffic of a request: the profile or histogram given, else every request at the mean
/// lengths; `field` spells `profile`, `bins`, `prefix_hit_rate` the surface's way.
pub fn checked_traffic(
    r: &ShapeRequest,
    input_tokens: f64,
    output_tokens: f64,
    field: &dyn Fn(&str) -> String,
) -> Result<Traffic, String> {
    let hit = match r.prefix_hit_rate {
        None => 0.0,
        Some(h) if (0.0..1.0).contains(&h) => h,
        Some(h) => {
            return Err(format!(
                "{} is {h}\n  fix: the share of prompt tokens found in the prefix cache, from 0 up to (not including) 1 (DeepSeek reports 0.563 for its service)",
                field("prefix_hit_rate")
            ))
        }
    };
    let (profile, bins) = match (r.profile, r.bins) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{} and {} are both given\n  fix: give a named profile or a histogram, not both",
                field("profile"),
                field("bins")
            ))
        }
        (Some(name), None) => {
            let p = LengthProfile::named(name).ok_or_else(|| {
                let names: Vec<&str> = perf::PROFILES.iter().map(|p| p.name).collect();
                format!(
                    "{} `{name}` is unknown\n  fix: one of {}, or a histogram",
                    field("profile"),
                    names.join(", ")
                )
            })?;
            (p.name.to_string(), p.histogram(PROFILE_BINS))
        }
        (None, Some(bins)) => (String::from("histogram"), checked_bins(bins, field)?),
        (None, None) => (
            String::from("uniform"),
            vec![LengthBin {
                input_tokens,
                output_tokens,
                share: 1.0,
            }],
        ),
    };
    Ok(Traffic {
        profile,
        bins,
        prefix_hit_rate: hit,
    })
}

fn checked_bins(
    bins: &[(f64, f64, f64)],
    field: &dyn Fn(&str) -> String,
) -> Result<Vec<LengthBin>, String> {
    if bins.is_empty() || bins.len() > 256 {
        return Err(format!(
            "{} has {} bins\n  fix: give 1 to 256 bins of input_tokens, output_tokens and share",
            field("bins"),
            bins.len()
        ));
    }
    for (i, (input, output, share)) in bins.iter().enumerate() {
        for (name, v) in [("input_tokens", input), ("output_tokens", output)] {
            if !(1.0..=10_000_000.0).contains(v) {
                return Err(format!(
                    "{} bin {}: {name} is {v}\n  fix: tokens per request, from 1 to 10,000,000",
                    field("bins"),
                    i + 1
                ));
            }
        }
        if !(*share >= 0.0 && share.is_finite()) {
            return Err(format!(
                "{} bin {}: share is {share}\n  fix: a share of requests from 0 to 1",
                field("bins"),
                i + 1
            ));
        }
    }
    let sum: f64 = bins.iter().map(|b| b.2).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        return Err(format!(
            "{} shares sum to {sum}\n  fix: the shares of requests in the bins must sum to 1",
            field("bins")
        ));
    }
    Ok(bins
        .iter()
        .map(|&(input_tokens, output_tokens, share)| LengthBin {
            input_tokens,
            output_tokens,
            share,
        })
        .collect())
}

/// A daily peak-to-mean load ratio: at least 1 (capacity is judged at the peak).
pub fn checked_peak_to_mean(v: f64, field: &str) -> Result<f64, String> {
    if (1.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{field} is {v}\n  fix: the busiest hour's load over the day's mean, from 1 (flat) to 100; capacity is judged at the peak"
        ))
    }
}

/// One model of a mix and its share of output tokens.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MixShare {
    /// Catalog model id.
    pub model: String,
    /// Share of output tokens served.
    pub share: f64,
}

/// Parses `id=share,id=share` (the CLI's `--mix`).
pub fn parse_mix(text: &str, field: &str) -> Result<Vec<(String, f64)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let (id, share) = part.split_once('=').ok_or_else(|| {
                format!("{field} `{part}` is not id=share\n  fix: e.g. {field} llama3-70b=0.5,deepseek-v3=0.3,llama3-8b=0.2")
            })?;
            let share: f64 = share.trim().parse().map_err(|_| {
                format!("{field} `{part}`: the share is not a number\n  fix: e.g. llama3-70b=0.5")
            })?;
            Ok((id.trim().to_string(), share))
        })
        .collect()
}

/// A model mix checked against the catalog: known ids, each once, shares summing to one.
pub fn checked_mix(
    catalog: &catalog::Catalog,
    mix: &[(String, f64)],
    field: &str,
) -> Result<Vec<MixShare>, String> {
    if mix.is_empty() {
        return Err(format!(
            "{field} is empty\n  fix: give id=share pairs, e.g. llama3-70b=0.6,llama3-8b=0.4"
        ));
    }
    let mut out: Vec<MixShare> = Vec::new();
    for (id, share) in mix {
        if !catalog.models.contains_key(id) {
            return Err(
                match catalog::nearest(id, catalog.models.keys().map(String::as_str)) {
                    Some(near) => format!(
                        "{field}: unknown model `{id}`; did you mean `{near}`?\n  fix: `gigawatt catalog list --kind models` shows them"
                    ),
                    None => format!(
                        "{field}: unknown model `{id}`\n  fix: `gigawatt catalog list --kind models` shows them"
                    ),
                },
            );
        }
        if out.iter().any(|m| &m.model == id) {
            return Err(format!(
                "{field}: `{id}` is given twice\n  fix: give each model once with its whole share"
            ));
        }
        if !(*share > 0.0 && *share <= 1.0) {
            return Err(format!(
                "{field}: `{id}` has share {share}\n  fix: a share of output tokens above 0 and at most 1"
            ));
        }
        out.push(MixShare {
            model: id.clone(),
            share: *share,
        });
    }
    let sum: f64 = out.iter().map(|m| m.share).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        return Err(format!(
            "{field} shares sum to {sum}\n  fix: the shares of output tokens must sum to 1"
        ));
    }
    Ok(out)
}

/// Output tokens per second per accelerator for a mix: each model's tokens take
/// `share / rate` accelerator-seconds, so the mix runs at `1 / sum(share / rate)`; unknown if
/// any model's rate is.
pub fn mix_rate(rates: &[(f64, Option<f64>)]) -> Option<f64> {
    let mut seconds = 0.0;
    for (share, rate) in rates {
        seconds += share / (*rate)?.max(f64::MIN_POSITIVE);
    }
    (seconds > 0.0).then(|| 1.0 / seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(f: &str) -> String {
        format!("--{}", f.replace('_', "-"))
    }

    #[test]
    fn histogram_shares_must_sum_to_one() {
        let bins = [(100.0, 200.0, 0.5), (1000.0, 100.0, 0.4)];
        let r = ShapeRequest {
            profile: None,
            bins: Some(&bins),
            prefix_hit_rate: None,
        };
        let e = checked_traffic(&r, 1.0, 1.0, &flag).unwrap_err();
        assert!(e.contains("--bins shares sum to 0.9"), "{e}");
        assert!(e.contains("fix:"));
    }

    #[test]
    fn hit_rate_outside_zero_to_one_is_refused() {
        for bad in [-0.1, 1.0, 1.5, f64::NAN] {
            let r = ShapeRequest {
                profile: None,
                bins: None,
                prefix_hit_rate: Some(bad),
            };
            let e = checked_traffic(&r, 100.0, 100.0, &flag).unwrap_err();
            assert!(e.starts_with("--prefix-hit-rate is"), "{e}");
        }
    }

    #[test]
    fn unknown_profile_names_the_known_ones() {
        let r = ShapeRequest {
            profile: Some("sharegtp"),
            bins: None,
            prefix_hit_rate: None,
        };
        let e = checked_traffic(&r, 1.0, 1.0, &flag).unwrap_err();
        assert!(
            e.contains("--profile `sharegtp` is unknown") && e.contains("sharegpt"),
            "{e}"
        );
    }

    #[test]
    fn peak_to_mean_below_one_is_refused() {
        let e = checked_peak_to_mean(0.8, "--peak-to-mean").unwrap_err();
        assert!(e.starts_with("--peak-to-mean is 0.8"), "{e}");
        assert_eq!(checked_peak_to_mean(1.6, "x"), Ok(1.6));
    }

    #[test]
    fn a_mix_needs_known_ids_and_shares_summing_to_one() {
        let catalog = catalog::Catalog::embedded().unwrap();
        let unknown = checked_mix(
            &catalog,
            &[("llama3-70c".into(), 0.5), ("llama3-8b".into(), 0.5)],
            "--mix",
        )
        .unwrap_err();
        assert!(
            unknown.contains("unknown model `llama3-70c`; did you mean `llama3-70b`"),
            "{unknown}"
        );
        let short = checked_mix(
            &catalog,
            &[("llama3-70b".into(), 0.5), ("llama3-8b".into(), 0.3)],
            "--mix",
        )
        .unwrap_err();
        assert!(short.contains("--mix shares sum to 0.8"), "{short}");
        let parsed = parse_mix("llama3-70b=0.5,llama3-8b=0.5", "--mix").unwrap();
        assert_eq!(checked_mix(&catalog, &parsed, "--mix").unwrap().len(), 2);
        assert!(parse_mix("llama3-70b", "--mix").is_err());
    }

    #[test]
    fn a_mix_runs_at_the_harmonic_rate() {
        // Half the tokens at 1,000/s and half at 3,000/s: 0.5/1000 + 0.5/3000 = 1/1500.
        let r = mix_rate(&[(0.5, Some(1000.0)), (0.5, Some(3000.0))]).unwrap();
        assert!((r - 1500.0).abs() < 1e-9);
        assert_eq!(mix_rate(&[(0.5, Some(1000.0)), (0.5, None)]), None);
    }
}
