//! The sourced defaults (`catalog/reliability.toml`, embedded): failure classes with their
//! published rates, recovery and checkpoint defaults, and the sources behind every number;
//! and turning them plus a job description into a [`Config`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::{Blast, Checkpoint, Config, FailureClass, Lifetime, Stop};

/// The embedded data file.
pub const EMBEDDED: &str = include_str!("../../../catalog/reliability.toml");

/// A number and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced {
    /// The number.
    pub value: f64,
    /// A `[[source]]` id.
    pub source: String,
    /// How it was read or derived.
    pub note: Option<String>,
}

/// What a rate is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Per accelerator package.
    Accelerator,
    /// Per host of `accelerators_per_unit` accelerators.
    Node,
    /// Per rack of `accelerators_per_unit` accelerators.
    Rack,
    /// Per job.
    Job,
}

/// One failure class as the file gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassData {
    /// Stable id.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// What the rate is counted per.
    pub scope: Scope,
    /// Accelerators per unit (node and rack scopes).
    pub accelerators_per_unit: Option<u32>,
    /// What a failure takes out.
    pub blast: Blast,
    /// Interruptions per 1,000 unit-days.
    pub interruptions_per_1000_unit_days: Sourced,
}

/// Recovery and checkpoint defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Failure to detection, minutes.
    pub detection_min: Sourced,
    /// Restart, minutes.
    pub restart_min: Sourced,
    /// Checkpoint interval, minutes of work.
    pub checkpoint_interval_min: Sourced,
    /// Checkpoint write (blocking), seconds.
    pub checkpoint_write_s: Sourced,
    /// Fraction of the write that stalls training when asynchronous.
    pub async_stall_fraction: Sourced,
    /// Repair or replacement of a system, hours.
    pub repair_hours: Sourced,
    /// Hot spare systems as a fraction of the job's systems.
    pub spare_fraction: Sourced,
    /// Accelerators per host in the fleets the node rates come from.
    pub accelerators_per_host: Sourced,
}

/// Planned maintenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Planned {
    /// Planned interruptions per day, for the whole job.
    pub interruptions_per_day: Sourced,
}

/// A source, as in `catalog/hardware.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Kebab-case id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Address (may be absent only for `derived`).
    pub url: Option<String>,
    /// Publication date, or the date read.
    pub date: String,
    /// One of the catalog's source kinds (`KINDS`): vendor-spec, company-statement, filing,
    /// government, official-statistics, primary-press, analyst, analyst-estimate, press,
    /// community-reference, aggregator, secondary, derived.
    pub kind: String,
    /// Publisher.
    pub publisher: Option<String>,
    /// What was taken from it.
    pub note: Option<String>,
    /// The date it was read, `YYYY-MM-DD` (then `date` is the publication date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// A short quotation that carries the figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The page the original was read through, when it could not be read directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_via: Option<String>,
}

/// The whole file, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityData {
    /// Format version (1).
    pub schema_version: u32,
    /// Defaults.
    pub defaults: Defaults,
    /// Planned maintenance.
    pub planned: Planned,
    /// Failure classes, in file order.
    pub failure_class: Vec<ClassData>,
    /// Sources.
    pub source: Vec<Source>,
}

/// A problem in the data file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// Not valid TOML for this format.
    #[error("reliability data does not parse: {0}")]
    Parse(String),
    /// Parses, but a rule is broken.
    #[error("reliability data: `{field}`: {message}")]
    Invalid {
        /// Where.
        field: String,
        /// What.
        message: String,
    },
}

/// The catalog's source kinds (catalog/README.md, "[[source]]").
const KINDS: [&str; 13] = [
    "vendor-spec",
    "company-statement",
    "filing",
    "government",
    "official-statistics",
    "primary-press",
    "analyst",
    "analyst-estimate",
    "press",
    "community-reference",
    "aggregator",
    "secondary",
    "derived",
];

impl ReliabilityData {
    /// The embedded data, parsed and validated.
    pub fn embedded() -> Result<ReliabilityData, DataError> {
        ReliabilityData::parse(EMBEDDED)
    }

    /// Parses and validates `text`.
    pub fn parse(text: &str) -> Result<ReliabilityData, DataError> {
        let data: ReliabilityData =
            toml::from_str(text).map_err(|e| DataError::Parse(e.to_string()))?;
        data.validate()?;
        Ok(data)
    }

    fn sourced(&self) -> Vec<(String, &Sourced)> {
        let d = &self.defaults;
        let mut all = vec![
            ("defaults.detection_min".to_string(), &d.detection_min),
            ("defaults.restart_min".into(), &d.restart_min),
            (
                "defaults.checkpoint_interval_min".into(),
                &d.checkpoint_interval_min,
            ),
            ("defaults.checkpoint_write_s".into(), &d.checkpoint_write_s),
            (
                "defaults.async_stall_fraction".into(),
                &d.async_stall_fraction,
            ),
            ("defaults.repair_hours".into(), &d.repair_hours),
            ("defaults.spare_fraction".into(), &d.spare_fraction),
            (
                "defaults.accelerators_per_host".into(),
                &d.accelerators_per_host,
            ),
            (
                "planned.interruptions_per_day".into(),
                &self.planned.interruptions_per_day,
            ),
        ];
        for class in &self.failure_class {
            all.push((
                format!(
                    "failure_class.{}.interruptions_per_1000_unit_days",
                    class.id
                ),
                &class.interruptions_per_1000_unit_days,
            ));
        }
        all
    }

    fn validate(&self) -> Result<(), DataError> {
        let invalid = |field: &str, message: String| DataError::Invalid {
            field: field.to_string(),
            message,
        };
        if self.schema_version != 1 {
            return Err(invalid(
                "schema_version",
                format!("version {} is not supported (1 is)", self.schema_version),
            ));
        }
        let mut ids = BTreeSet::new();
        for s in &self.source {
            if !ids.insert(s.id.as_str()) {
                return Err(invalid("source.id", format!("`{}` appears twice", s.id)));
            }
            if !KINDS.contains(&s.kind.as_str()) {
                return Err(invalid(
                    &format!("source.{}.kind", s.id),
                    format!("`{}` is not one of {}", s.kind, KINDS.join(", ")),
                ));
            }
            let filled = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
            match (&s.read, filled(&s.excerpt)) {
                (Some(read), true) => {
                    let digits = read.len() == 10
                        && read.char_indices().all(|(i, c)| {
                            if i == 4 || i == 7 {
                                c == '-'
                            } else {
                                c.is_ascii_digit()
                            }
                        });
                    if !digits {
                        return Err(invalid(
                            &format!("source.{}.read", s.id),
                            format!("`{read}` is not YYYY-MM-DD (the day it was read)"),
                        ));
                    }
                    if !filled(&s.publisher) {
                        return Err(invalid(
                            &format!("source.{}.publisher", s.id),
                            "missing: name who published what was read".into(),
                        ));
                    }
                }
                (Some(_), false) => {
                    return Err(invalid(
                        &format!("source.{}.excerpt", s.id),
                        "missing: quote the line that carries the figure, or drop `read`".into(),
                    ))
                }
                (None, true) => {
                    return Err(invalid(
                        &format!("source.{}.read", s.id),
                        "missing: give the day the excerpt was read".into(),
                    ))
                }
                (None, false) => {}
            }
            if s.url.is_none() && s.kind != "derived" {
                return Err(invalid(
                    &format!("source.{}.url", s.id),
                    "missing (only a derived source may have none)".into(),
                ));
            }
        }
        for (field, value) in self.sourced() {
            if !ids.contains(value.source.as_str()) {
                return Err(invalid(
                    &field,
                    format!("source `{}` is not a [[source]] in the file", value.source),
                ));
            }
            if !(value.value.is_finite() && value.value >= 0.0) {
                return Err(invalid(
                    &field,
                    format!("{} is not a finite number >= 0", value.value),
                ));
            }
        }
        let mut class_ids = BTreeSet::new();
        for class in &self.failure_class {
            if !class_ids.insert(class.id.as_str()) {
                return Err(invalid(
                    "failure_class.id",
                    format!("`{}` appears twice", class.id),
                ));
            }
            let needs_unit = matches!(class.scope, Scope::Node | Scope::Rack);
            match (needs_unit, class.accelerators_per_unit) {
                (true, None | Some(0)) => {
                    return Err(invalid(
                        &format!("failure_class.{}.accelerators_per_unit", class.id),
                        "a node or rack scope needs accelerators_per_unit >= 1".into(),
                    ))
                }
                (false, Some(_)) => {
                    return Err(invalid(
                        &format!("failure_class.{}.accelerators_per_unit", class.id),
                        "only node and rack scopes take accelerators_per_unit".into(),
                    ))
                }
                _ => {}
            }
        }
        if self.failure_class.is_empty() {
            return Err(invalid("failure_class", "no failure classes".into()));
        }
        Ok(())
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.source.iter().find(|s| s.id == id)
    }

    /// Resolves `job` against these defaults into a simulation config and the ledger of every
    /// number it used. `job` must hold valid values (the CLI checks them, naming its flags);
    /// [`Config::validate`] checks the result.
    pub fn config(&self, job: &JobSpec) -> (Config, Vec<Assumption>) {
        let mut ledger = Vec::new();
        let mut pick = |name: &str, unit: &str, given: Option<f64>, default: &Sourced| {
            let (value, source, note) = match given {
                Some(v) => (v, "user-input".to_string(), None),
                None => (default.value, default.source.clone(), default.note.clone()),
            };
            ledger.push(Assumption {
                name: name.to_string(),
                value,
                unit: unit.to_string(),
                source,
                note,
            });
            value
        };
        let d = &self.defaults;
        let per_system = u64::from(job.accelerators_per_system.max(1));
        let systems = job.accelerators.div_ceil(per_system).max(1);
        let systems_per_domain = u64::from(job.scale_up_domain.max(1))
            .div_ceil(per_system)
            .clamp(1, systems);
        let detection_min = pick("detection", "min", job.detection_min, &d.detection_min);
        let restart_min = pick("restart", "min", job.restart_min, &d.restart_min);
        let interval_min = pick(
            "checkpoint_interval",
            "min",
            job.checkpoint_interval_min,
            &d.checkpoint_interval_min,
        );
        let write_s = pick(
            "checkpoint_write",
            "s",
            job.checkpoint_write_s,
            &d.checkpoint_write_s,
        );
        let stall_fraction = if job.async_checkpoint {
            pick(
                "async_stall_fraction",
                "fraction",
                None,
                &d.async_stall_fraction,
            )
        } else {
            1.0
        };
        let repair_hours = pick("repair", "h", job.repair_hours, &d.repair_hours);
        let spares = match job.spares {
            Some(k) => {
                pick(
                    "spare_systems",
                    "systems",
                    Some(k as f64),
                    &d.spare_fraction,
                );
                k
            }
            None => {
                let f = pick("spare_fraction", "fraction", None, &d.spare_fraction);
                (f * systems as f64).ceil() as u64
            }
        };
        let planned_per_day = pick(
            "planned_interruptions",
            "per day",
            job.planned_per_day,
            &self.planned.interruptions_per_day,
        );
        let lifetime = match job.weibull_shape {
            Some(shape) => Lifetime::Weibull { shape },
            None => Lifetime::Exponential,
        };
        let n = job.accelerators as f64;
        let classes = match job.node_failures_per_1000_days {
            Some(rate) => {
                ledger.push(Assumption {
                    name: "node_failures".into(),
                    value: rate,
                    unit: "per 1,000 node-days".into(),
                    source: "user-input".into(),
                    note: Some(format!(
                        "replaces the per-cause rates; a node is one system of {per_system} accelerators"
                    )),
                });
                vec![FailureClass {
                    id: "node".into(),
                    name: "Node failure (one rate for all causes)".into(),
                    units: n / per_system as f64,
                    rate_per_unit_hour: rate / 1000.0 / 24.0,
                    blast: Blast::Node,
                    lifetime,
                }]
            }
            None => self
                .failure_class
                .iter()
                .map(|c| {
                    let rate = &c.interruptions_per_1000_unit_days;
                    ledger.push(Assumption {
                        name: format!("failures.{}", c.id),
                        value: rate.value,
                        unit: format!(
                            "per 1,000 {}-days",
                            match c.scope {
                                Scope::Accelerator => "accelerator",
                                Scope::Node => "host",
                                Scope::Rack => "rack",
                                Scope::Job => "job",
                            }
                        ),
                        source: rate.source.clone(),
                        note: rate.note.clone(),
                    });
                    let units = match c.scope {
                        Scope::Accelerator => n,
                        Scope::Node | Scope::Rack => {
                            n / f64::from(c.accelerators_per_unit.unwrap_or(1).max(1))
                        }
                        Scope::Job => 1.0,
                    };
                    FailureClass {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        units,
                        rate_per_unit_hour: rate.value / 1000.0 / 24.0,
                        blast: c.blast,
                        lifetime: if rate.value > 0.0 {
                            lifetime
                        } else {
                            Lifetime::Exponential
                        },
                    }
                })
                .collect(),
        };
        let write_hours = write_s / 3600.0;
        let cfg = Config {
            systems,
            spares,
            systems_per_domain,
            systems_per_switch: job.systems_per_switch.unwrap_or(1).clamp(1, systems),
            classes,
            planned_per_hour: planned_per_day / 24.0,
            detection_hours: detection_min / 60.0,
            restart_hours: restart_min / 60.0,
            repair_hours,
            checkpoint: Checkpoint {
                interval_hours: interval_min / 60.0,
                write_hours,
                stall_hours: write_hours * stall_fraction,
            },
            stop: job.stop,
            runs: job.runs,
            seed: job.seed,
        };
        (cfg, ledger)
    }
}

/// A job to resolve: its size and hardware shape, and any figure that replaces a default.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Accelerators the job runs on.
    pub accelerators: u64,
    /// Accelerators per system (node, or rack for rack-scale systems).
    pub accelerators_per_system: u32,
    /// Accelerators per scale-up domain.
    pub scale_up_domain: u32,
    /// Systems behind one leaf switch (for `Blast::Switch` classes; default 1).
    pub systems_per_switch: Option<u64>,
    /// Hot spare systems (default: the sourced spare fraction).
    pub spares: Option<u64>,
    /// Checkpoint interval, minutes of work.
    pub checkpoint_interval_min: Option<f64>,
    /// Checkpoint write time, seconds.
    pub checkpoint_write_s: Option<f64>,
    /// Asynchronous checkpoints (stall = the sourced fraction of the write).
    pub async_checkpoint: bool,
    /// Detection time, minutes.
    pub detection_min: Option<f64>,
    /// Restart time, minutes.
    pub restart_min: Option<f64>,
    /// Repair time, hours.
    pub repair_hours: Option<f64>,
    /// One node failure rate replacing the per-cause rates, per 1,000 node-days.
    pub node_failures_per_1000_days: Option<f64>,
    /// Weibull shape for every class (default exponential).
    pub weibull_shape: Option<f64>,
    /// Planned interruptions per day (default sourced).
    pub planned_per_day: Option<f64>,
    /// When runs stop.
    pub stop: Stop,
    /// Runs.
    pub runs: u32,
    /// Seed.
    pub seed: u64,
}

impl JobSpec {
    /// A job of `accelerators` on 8-accelerator nodes for `days`, everything else default.
    pub fn new(accelerators: u64, days: f64) -> JobSpec {
        JobSpec {
            accelerators,
            accelerators_per_system: 8,
            scale_up_domain: 8,
            systems_per_switch: None,
            spares: None,
            checkpoint_interval_min: None,
            checkpoint_write_s: None,
            async_checkpoint: false,
            detection_min: None,
            restart_min: None,
            repair_hours: None,
            node_failures_per_1000_days: None,
            weibull_shape: None,
            planned_per_day: None,
            stop: Stop::Wall { hours: days * 24.0 },
            runs: 20,
            seed: 1,
        }
    }
}

/// One number a configuration used, and where it came from (`user-input` for a flag).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    /// What it is.
    pub name: String,
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// A source id, or `user-input`.
    pub source: String,
    /// How it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_data_is_valid_and_every_number_has_a_source() {
        let data = ReliabilityData::embedded().unwrap();
        for (field, value) in data.sourced() {
            assert!(data.source(&value.source).is_some(), "{field}");
        }
    }

    #[test]
    fn the_llama3_causes_add_up_to_419() {
        // Accelerator-scoped rates x 884,736 GPU-days + host-scoped x 110,592 host-days
        // recover the 419 interruptions (to rounding of the stored rates).
        let data = ReliabilityData::embedded().unwrap();
        let total: f64 = data
            .failure_class
            .iter()
            .map(|c| {
                let exposure = match c.scope {
                    Scope::Accelerator => 16_384.0 * 54.0,
                    Scope::Node | Scope::Rack => {
                        16_384.0 / f64::from(c.accelerators_per_unit.unwrap()) * 54.0
                    }
                    Scope::Job => 54.0,
                };
                c.interruptions_per_1000_unit_days.value * exposure / 1000.0
            })
            .sum();
        assert!((total - 419.0).abs() < 0.01, "{total}");
    }

    #[test]
    fn every_shipped_source_that_is_not_derived_was_read_and_quoted() {
        let data = ReliabilityData::embedded().unwrap();
        for s in data.source.iter().filter(|s| s.kind != "derived") {
            assert!(
                s.read.is_some() && s.excerpt.is_some() && s.publisher.is_some(),
                "{} lacks read, excerpt or publisher",
                s.id
            );
        }
    }

    #[test]
    fn read_and_excerpt_go_together_with_a_publisher() {
        let field = |text: &str| match ReliabilityData::parse(text) {
            Err(DataError::Invalid { field, message }) => format!("{field}: {message}"),
            other => panic!("expected a validation error, got {other:?}"),
        };
        let excerpt = "excerpt = \"Example: 7B model ‘down time’ for a checkpoint goes from an average of 148.8 seconds to 6.3 seconds, or 23.62x faster.\"\n";
        let no_excerpt = EMBEDDED.replacen(excerpt, "", 1);
        assert!(field(&no_excerpt).contains("source.src-pytorch-async-dcp.excerpt: missing"));
        let bad_read = EMBEDDED.replacen("read = \"2026-12-02\"", "read = \"Dec 2026\"", 1);
        assert!(field(&bad_read).contains("is not YYYY-MM-DD"));
        let no_read = EMBEDDED.replacen("read = \"2026-12-02\"\n", "", 1);
        assert!(field(&no_read).contains(".read: missing"));
        let new_kind = EMBEDDED.replacen("kind = \"vendor-spec\"", "kind = \"primary-press\"", 1);
        assert!(ReliabilityData::parse(&new_kind).is_ok());
    }

    #[test]
    fn a_missing_source_is_an_error() {
        let text = EMBEDDED.replace(
            "source = \"src-pytorch-async-dcp\", note = \"synchronous",
            "source = \"src-nowhere\", note = \"synchronous",
        );
        let e = ReliabilityData::parse(&text).unwrap_err();
        assert!(e.to_string().contains("src-nowhere"), "{e}");
        assert!(e.to_string().contains("checkpoint_write_s"), "{e}");
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let text = EMBEDDED.replace("blast = \"node\"\n", "blast = \"node\"\ncolour = 1\n");
        let e = ReliabilityData::parse(&text).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn a_bare_number_is_an_error() {
        let text = EMBEDDED.replace(
            "repair_hours = { value = 48, source = \"src-gigawatt-repair-assumption\", note = \"no published repair or replacement time per node; matters only when spares run out\" }",
            "repair_hours = 48",
        );
        assert_ne!(text, EMBEDDED);
        assert!(ReliabilityData::parse(&text).is_err());
    }

    #[test]
    fn defaults_resolve_by_hand() {
        // 16,384 GPUs on 8-GPU nodes: 2,048 systems; spares ceil(5% x 2,048) = 103.
        let data = ReliabilityData::embedded().unwrap();
        let (cfg, ledger) = data.config(&JobSpec::new(16_384, 54.0));
        assert_eq!(cfg.systems, 2048);
        assert_eq!(cfg.spares, 103);
        assert!(cfg.validate().is_ok());
        assert!(ledger.iter().all(|a| data.source(&a.source).is_some()));
        // Fleet rate x 54 days = 419 expected unexpected interruptions.
        let expected = cfg.failure_rate_per_hour() * 54.0 * 24.0;
        assert!((expected - 419.0).abs() < 0.01, "{expected}");
    }
}
