//! `gigawatt train validate`: the training model against the shipped calibration files (or
//! files the user hands in), per source family, leave-one-source-out and leave-Blackwell-out.
//! The files and `calibration/sources.toml` are embedded; parsing and the hardware lookup are
//! here, the computation in `perf::validate`.

use catalog::{Catalog, Sourced};
use perf::validate::{CaseResult, Grid, Group, Report, Skipped, Sources, ValidationSummary};
use perf::{Hardware, ModelConstants};
use serde::Serialize;

use crate::train::{hardware_for_system, perf_framework};

/// `calibration/sources.toml`: families, frameworks, model facts, exclusions.
pub const SHIPPED_SOURCES: &str = include_str!("../../../calibration/sources.toml");

/// The shipped calibration files, by name.
pub const SHIPPED_TRAINING_FILES: [(&str, &str); 2] = [
    (
        "training.csv",
        include_str!("../../../calibration/training.csv"),
    ),
    (
        "training-blackwell-moe.csv",
        include_str!("../../../calibration/training-blackwell-moe.csv"),
    ),
];

/// Scale-out bandwidth per GPU assumed for validation where the catalog has none (GB200
/// NVL72): the ConnectX-7 400 Gb/s per GPU of NVIDIA's reference design, as the catalog's own
/// note on `gb200-nvl72` says. Stated on every row that uses it.
const FALLBACK_SCALE_OUT_GBIT_PER_S: f64 = 400.0;

/// The catalog system a calibration row's GPU type ran on.
pub fn system_for_gpu_type(gpu_type: &str) -> Option<&'static str> {
    let g = gpu_type.to_uppercase();
    let table = [
        ("GB300", "gb300-nvl72"),
        ("GB200", "gb200-nvl72"),
        ("B300", "dgx-b300"),
        ("B200", "dgx-b200"),
        ("H800", "hgx-h800"),
        ("H200", "dgx-h200"),
        ("H100", "dgx-h100"),
    ];
    if let Some((_, id)) = table.iter().find(|(k, _)| g.contains(k)) {
        return Some(id);
    }
    if g.contains("A100") && g.contains("40") {
        Some("dgx-a100-40gb")
    } else if g.contains("A100") {
        Some("dgx-a100-80gb")
    } else {
        None
    }
}

/// The hardware a row ran on, with any assumption stated.
pub fn hardware_for_row(
    catalog: &Catalog,
    gpu_type: &str,
) -> Result<(Hardware, Vec<String>), String> {
    let id = system_for_gpu_type(gpu_type)
        .ok_or_else(|| format!("no catalog system for GPU type `{gpu_type}`"))?;
    match hardware_for_system(catalog, id) {
        Ok(hw) => Ok((hw, Vec::new())),
        Err(message) if message.contains("scale-out") => {
            let mut patched = catalog.clone();
            if let Some(system) = patched.systems.get_mut(id) {
                system.scale_out_gbit_per_s =
                    Sourced::known(FALLBACK_SCALE_OUT_GBIT_PER_S, "validation assumption");
            }
            let hw = hardware_for_system(&patched, id)?;
            Ok((
                hw,
                vec![format!(
                    "scale-out {FALLBACK_SCALE_OUT_GBIT_PER_S} Gb/s per GPU assumed (`{id}` has none in the catalog)"
                )],
            ))
        }
        Err(message) => Err(message),
    }
}

/// Parses `calibration/sources.toml` text; every framework it names must be in the catalog.
pub fn parse_sources(catalog: &Catalog, text: &str) -> Result<Sources, String> {
    let sources: Sources =
        toml::from_str(text).map_err(|e| format!("calibration/sources.toml: {e}"))?;
    sources
        .check(&|id| catalog.frameworks.contains_key(id))
        .map_err(|m| format!("calibration/sources.toml: {m}"))?;
    Ok(sources)
}

/// Predicted against published: the first release's fields (`cases`, `summary`, `skipped`,
/// `constants`) and the per-family, out-of-sample and coverage report beside them.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingValidation {
    /// The files read.
    pub files: Vec<String>,
    /// Per compared case.
    pub cases: Vec<CaseResult>,
    /// Summary (in sample, with `constants`).
    pub summary: ValidationSummary,
    /// Rows not compared, and why.
    pub skipped: Vec<Skipped>,
    /// The model constants used for the per-row predictions.
    pub constants: ModelConstants,
    /// Families, folds, coverage and every row.
    #[serde(flatten)]
    pub report: Report,
    /// The compared rows by the system they ran on and by their matmuls' precision recipe.
    pub groups: Groups,
}

/// The compared rows sliced by system and by precision ([`perf::validate::group_by`]).
#[derive(Debug, Clone, Serialize)]
pub struct Groups {
    /// By the catalog system the row's GPU type maps to ([`system_for_gpu_type`]).
    pub by_system: Vec<Group>,
    /// By the precision recipe of the layers' matmuls (the experts' in an MoE model).
    pub by_precision: Vec<Group>,
    /// By both, keyed "system / recipe": whether a recipe's error is the recipe's or its
    /// chips' (NVFP4's rows, all Blackwell, say which chips they ran on).
    pub by_system_and_precision: Vec<Group>,
}

impl Groups {
    /// The groups of `report`'s rows.
    pub fn of(report: &Report) -> Groups {
        Groups {
            by_system: perf::validate::group_by(&report.rows, &|r| {
                system_for_gpu_type(&r.gpu_type).map(str::to_string)
            }),
            by_precision: perf::validate::group_by(&report.rows, &|r| {
                (!r.precision.is_empty()).then(|| r.precision.clone())
            }),
            by_system_and_precision: perf::validate::group_by(&report.rows, &|r| {
                let system = system_for_gpu_type(&r.gpu_type)?;
                (!r.precision.is_empty()).then(|| format!("{system} / {}", r.precision))
            }),
        }
    }
}

/// Validates the training model with the shipped constants and `calibration/sources.toml` on
/// `files` (name, CSV text), or on the shipped calibration files when there are none: what
/// `gigawatt train validate`, the dashboard's `/train/validation` and Python's
/// `train_validate` run. The error is the reason the files cannot be read, for the caller to
/// word.
pub fn validate_files_or_shipped(
    catalog: &Catalog,
    files: &[(&str, &str)],
) -> Result<TrainingValidation, String> {
    validate_files_with_sources(catalog, files, &[])
}

/// As [`validate_files_or_shipped`], with the user's own families, model facts, recipes and
/// exclusions (`extra_sources`: file name, TOML text in `calibration/sources.toml`'s schema
/// without `[defaults]`) read ahead of the shipped ones, for runs the shipped families do not
/// describe. An error names the file it comes from.
pub fn validate_files_with_sources(
    catalog: &Catalog,
    files: &[(&str, &str)],
    extra_sources: &[(&str, &str)],
) -> Result<TrainingValidation, String> {
    let files = if files.is_empty() {
        &SHIPPED_TRAINING_FILES[..]
    } else {
        files
    };
    let mut sources = parse_sources(catalog, SHIPPED_SOURCES)?;
    let mut named_rows = Vec::new();
    for (name, text) in extra_sources {
        let extra = parse_extra_sources(catalog, name, text)?;
        named_rows.extend(
            extra
                .recipe_rows()
                .map(|id| (name.to_string(), id.to_string())),
        );
        sources = sources
            .with_extra(extra)
            .map_err(|m| format!("{name}: {m}"))?;
    }
    // A recipe naming a row no file has would silently do nothing (a typo in an id).
    for (name, id) in &named_rows {
        let known = files.iter().any(|(_, text)| {
            text.lines()
                .skip(1)
                .filter_map(|line| line.split(',').next())
                .any(|first| first.trim().trim_matches('"') == id)
        });
        if !known {
            return Err(format!(
                "{name}: [[recipe]] names row `{id}`, which none of the calibration files has \
                 (check the id against the files' first column)"
            ));
        }
    }
    validate_with_sources(catalog, files, sources, &ModelConstants::default())
}

/// Parses a user's sources file (see [`validate_files_with_sources`]); every framework it names
/// must be in the catalog (the shipped one, or with `--catalog` the user's too).
pub fn parse_extra_sources(
    catalog: &Catalog,
    name: &str,
    text: &str,
) -> Result<perf::validate::ExtraSources, String> {
    let extra: perf::validate::ExtraSources =
        toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    extra
        .check(&|id| catalog.frameworks.contains_key(id))
        .map_err(|m| format!("{name}: {m}"))?;
    Ok(extra)
}

/// Validates the training model on named calibration CSV texts.
pub fn validate_training_files(
    catalog: &Catalog,
    files: &[(&str, &str)],
    sources_text: &str,
    constants: &ModelConstants,
) -> Result<TrainingValidation, String> {
    let sources = parse_sources(catalog, sources_text)?;
    validate_with_sources(catalog, files, sources, constants)
}

fn validate_with_sources(
    catalog: &Catalog,
    files: &[(&str, &str)],
    sources: Sources,
    constants: &ModelConstants,
) -> Result<TrainingValidation, String> {
    let frameworks = |id: &str| catalog.frameworks.get(id).map(perf_framework);
    let mut rows = Vec::new();
    for (name, text) in files {
        rows.extend(perf::validate::read_rows(
            text,
            name,
            &sources,
            &frameworks,
        )?);
    }
    let hardware_for = |gpu_type: &str| hardware_for_row(catalog, gpu_type);
    let report =
        perf::validate::validate(&rows, &sources, &hardware_for, constants, &Grid::shipped());
    Ok(TrainingValidation {
        files: files.iter().map(|(name, _)| name.to_string()).collect(),
        cases: report.cases(),
        summary: report.summary(),
        skipped: report.skipped(),
        constants: *constants,
        groups: Groups::of(&report),
        report,
    })
}

/// Validates on one CSV text with the shipped sources (the first release's entry point).
pub fn validate_training(
    catalog: &Catalog,
    csv_text: &str,
    constants: &ModelConstants,
) -> Result<TrainingValidation, String> {
    validate_training_files(catalog, &[("input", csv_text)], SHIPPED_SOURCES, constants)
}

/// Validates on the shipped files.
pub fn validate_shipped(
    catalog: &Catalog,
    constants: &ModelConstants,
) -> Result<TrainingValidation, String> {
    validate_training_files(catalog, &SHIPPED_TRAINING_FILES, SHIPPED_SOURCES, constants)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weight-gather settings are booleans; anything else is refused naming the file and
    /// the field.
    #[test]
    fn a_param_gather_setting_that_is_not_a_boolean_is_refused() {
        let catalog = Catalog::embedded().unwrap();
        for field in ["fp8_param_gather", "fp4_param_gather"] {
            let text =
                format!("[[recipe]]\nfamily = \"nemo2502\"\n{field} = \"yes\"\nsource = \"s\"\n");
            let err = parse_sources(&catalog, &text).unwrap_err();
            assert!(err.contains("calibration/sources.toml"), "{err}");
            assert!(err.contains(field) || err.contains("boolean"), "{err}");
            let ok = format!("[[recipe]]\nfamily = \"nemo2502\"\n{field} = true\nsource = \"s\"\n");
            let sources = parse_sources(&catalog, &ok).unwrap();
            let facts = sources.recipe_facts("nemo2502", "any");
            assert_eq!(
                (facts.fp8_param_gather, facts.fp4_param_gather),
                if field == "fp8_param_gather" {
                    (Some(true), None)
                } else {
                    (None, Some(true))
                }
            );
        }
    }

    /// A `[[recipe]]` entry that names a row the shipped files do not have would silently do
    /// nothing (a typo in an id): every id it names is a row of the shipped files.
    #[test]
    fn every_recipe_row_is_a_shipped_row() {
        let catalog = Catalog::embedded().unwrap();
        let sources = parse_sources(&catalog, SHIPPED_SOURCES).unwrap();
        let ids: Vec<&str> = SHIPPED_TRAINING_FILES
            .iter()
            .flat_map(|(_, text)| text.lines().skip(1))
            .filter_map(|line| line.split(',').next())
            .collect();
        for recipe in &sources.recipe {
            for id in &recipe.rows {
                assert!(
                    ids.contains(&id.as_str()),
                    "[[recipe]] names `{id}`, which no shipped calibration row has"
                );
            }
        }
    }
}
