//! `gigawatt plan`: read the scenario (file, shipped name, or flags), plan it, render it.

use std::path::Path;

use catalog::{Catalog, CatalogText, Diagnostics};
use engine::{EngineError, PlanResult, QuickPlan};

use crate::cli::{Cli, Format, PlanArgs};
use crate::{output, scenarios, Failure};

/// The name diagnostics use for a plan given by flags.
const COMMAND_LINE: &str = "command line";

pub fn run(cli: &Cli, args: &PlanArgs) -> Result<(), Failure> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let catalog = crate::deals_cmd::cut_back(catalog, args.known_on.as_deref())?;
    let result = plan(&catalog, args)?;
    let format = output::format_for(
        args.format,
        args.out.as_deref(),
        Format::Table,
        &[
            ("json", Format::Json),
            ("csv", Format::Csv),
            ("md", Format::Md),
            ("html", Format::Html),
            ("htm", Format::Html),
        ],
    )?;
    let text = match format {
        Format::Table => report::plan_text_summary(&result),
        Format::Json => report::plan_json(&result),
        Format::Csv => report::plan_csv(&result),
        Format::Md => report::plan_markdown(&result),
        Format::Html => report::plan_html(&result),
    };
    output::emit(&text, args.out.as_deref())
}

/// Ranges unless `--no-ranges`, with `--seed` and `--draws`.
fn options(args: &PlanArgs) -> engine::PlanOptions {
    engine::PlanOptions {
        ranges: (!args.no_ranges).then_some(engine::RangeOptions {
            draws: args.draws as usize,
            seed: args.seed,
        }),
    }
}

fn plan(catalog: &Catalog, args: &PlanArgs) -> Result<PlanResult, Failure> {
    if let Some(system) = &args.system {
        return quick(catalog, system, args);
    }
    let quick_flags = [
        ("--facility-gw", args.facility_gw.is_some()),
        ("--systems", args.systems.is_some()),
        ("--pue", args.pue.is_some()),
        ("--start", args.start.is_some()),
        ("--ramp-months", args.ramp_months.is_some()),
        ("--price-usd", args.price_usd.is_some()),
        ("--it-power-kw", args.it_power_kw.is_some()),
        (
            "--electricity-usd-per-kwh",
            args.electricity_usd_per_kwh.is_some(),
        ),
        ("--utilization", args.utilization.is_some()),
        ("--end", args.end.is_some()),
    ];
    if let Some((flag, _)) = quick_flags.iter().find(|(_, set)| *set) {
        return Err(Failure::Input(format!(
            "{flag} belongs to a quick question and needs --system\n  fix: add --system ID (see `gigawatt catalog list --kind systems`), or put the value in the scenario file"
        )));
    }
    let (origin, text) = match &args.scenario {
        None => {
            let (name, text) = scenarios::SHIPPED[0];
            (format!("<shipped>/scenarios/{name}.toml"), text.to_string())
        }
        Some(given) => {
            let path = Path::new(given);
            // Anything at the path (a file, a folder, a device, a FIFO) is read as a file, and
            // the reader refuses what is not one.
            if std::fs::metadata(path).is_ok() {
                let text = crate::input::read_input(path, "scenario file")?;
                (given.clone(), text)
            } else if let Some((name, text)) = scenarios::find(given) {
                (format!("<shipped>/scenarios/{name}.toml"), text.to_string())
            } else {
                let names = scenarios::SHIPPED.iter().map(|(n, _)| *n);
                let hint = match catalog::nearest(given, names) {
                    Some(near) => format!("did you mean the shipped scenario `{near}`?"),
                    None => "give a path to a scenario file, or a shipped name from `gigawatt scenarios`".into(),
                };
                return Err(Failure::Input(format!(
                    "no scenario file or shipped scenario named `{given}`\n  fix: {hint}"
                )));
            }
        }
    };
    let flags = capability_flags(args);
    engine::plan_text_with_capability(catalog, &origin, &text, &options(args), &flags).map_err(
        |e| {
            let EngineError::Invalid(Diagnostics(mut list)) = e;
            for d in &mut list {
                name_capability_flag(d, &flags);
            }
            render_engine_error(EngineError::Invalid(Diagnostics(list)))
        },
    )
}

/// The capability flags of a plan command.
fn capability_flags(args: &PlanArgs) -> engine::capability::CapabilityFlags {
    engine::capability::CapabilityFlags {
        training_days: args.training_days,
        serving_share: args.serving_share,
        tokens_per_parameter: args.tokens_per_parameter,
        months: args.capability_month.clone(),
    }
}

/// A problem with a value a capability flag gave names the flag, not the scenario field.
fn name_capability_flag(d: &mut catalog::Diagnostic, flags: &engine::capability::CapabilityFlags) {
    let Some(field) = d.field.clone() else {
        return;
    };
    let flag = match field.as_str() {
        "capability.training_days" if flags.training_days.is_some() => "--training-days",
        "capability.serving_share" if flags.serving_share.is_some() => "--serving-share",
        "capability.tokens_per_parameter" if flags.tokens_per_parameter.is_some() => {
            "--tokens-per-parameter"
        }
        "capability.months" if !flags.months.is_empty() => "--capability-month",
        _ => return,
    };
    d.field = Some(flag.to_string());
    d.line = None;
    d.column = None;
    if let Some(hint) = &d.hint {
        let key = field.trim_start_matches("capability.");
        d.hint = Some(hint.replace(&format!("`{key}`"), &format!("`{flag}`")));
    }
}

fn quick(catalog: &Catalog, system: &str, args: &PlanArgs) -> Result<PlanResult, Failure> {
    if args.facility_gw.is_none() && args.systems.is_none() {
        return Err(Failure::Input(
            "a quick question needs a size\n  fix: add --facility-gw GW (facility power) or --systems N".into(),
        ));
    }
    // Default start: the system's first availability, when the catalog knows it.
    let start = args.start.clone().or_else(|| {
        let available = catalog.systems.get(system)?.first_available.value()?;
        units::Month::parse_lenient(available)
            .ok()
            .map(|m| m.to_string())
    });
    // Default ramp: the catalog's, stated in the description and recorded in the ledger (a
    // plan that brought a whole site online in one month would understate months of opex).
    let catalog_ramp = catalog
        .facility
        .ramp_months
        .as_ref()
        .and_then(|r| Some((r.number()?, r.source()?.to_string())));
    let (ramp_months, ramp_note, ramp_words) = match (args.ramp_months, catalog_ramp) {
        (Some(ramp), _) => (
            Some(ramp),
            None,
            format!(
                "ramps over {} months (--ramp-months)",
                units::fmt_number(ramp)
            ),
        ),
        (None, Some((ramp, source))) => (
            Some(ramp),
            Some(format!(
                "the catalog's default ramp, facility.ramp_months [{source}]"
            )),
            format!(
                "ramps over {} months (the catalog's default; set --ramp-months to change it)",
                units::fmt_number(ramp)
            ),
        ),
        (None, None) => (
            None,
            None,
            "comes online at once (set --ramp-months to ramp it)".to_string(),
        ),
    };
    let mut description = format!("One tranche from the command line; it {ramp_words}");
    let borrowed = borrowed_overrides(catalog, system);
    if borrowed.is_some() {
        description += "; H100-equivalents use the default scenario's derived BF16 figure for its accelerator (as `gigawatt plan` does)";
    }
    let quick = QuickPlan {
        system: system.to_string(),
        facility_gw: args.facility_gw,
        systems: args.systems,
        pue: args.pue,
        start,
        ramp_months,
        ramp_note,
        description: Some(description),
        extra_toml: borrowed,
        price_usd: args.price_usd,
        electricity_usd_per_kwh: args.electricity_usd_per_kwh,
        utilization: args.utilization,
        end: args.end.clone(),
        it_power_kw: args.it_power_kw,
    };
    let text = quick.to_scenario_text();
    let flags = capability_flags(args);
    engine::plan_text_with_capability(catalog, COMMAND_LINE, &text, &options(args), &flags).map_err(
        |e| {
            let EngineError::Invalid(Diagnostics(mut list)) = e;
            for d in &mut list {
                name_capability_flag(d, &flags);
                // Lines of the generated scenario mean nothing to the user: name the flag instead.
                d.line = None;
                d.column = None;
                if let Some(field) = &d.field {
                    d.field = Some(flag_for_field(field));
                }
                if let Some(hint) = &d.hint {
                    if hint.contains("[prices]") {
                        d.hint = Some("add --price-usd USD (a price per system)".into());
                    } else if hint.contains("it_power_kw = ") {
                        d.hint = Some("add --it-power-kw KW (IT power per system)".into());
                    }
                }
            }
            render_engine_error(EngineError::Invalid(Diagnostics(list)))
        },
    )
}

/// For a system whose accelerator has no dense BF16 figure in the catalog (so no
/// H100-equivalents), the shipped default scenario's override for that accelerator and the
/// sources it cites, as scenario text: a quick plan then counts H100-equivalents the way the
/// default scenario does. None when the catalog knows the figure or the default has none.
fn borrowed_overrides(catalog: &Catalog, system: &str) -> Option<String> {
    let accelerator = catalog.systems.get(system)?.accelerator.get_ref();
    let known = catalog
        .accelerators
        .get(accelerator)?
        .bf16_dense_tflops
        .number()
        .is_some();
    if known {
        return None;
    }
    let (_, default_text) = scenarios::SHIPPED[0];
    let header = format!("[overrides.accelerator.{accelerator}]");
    let block = toml_block(default_text, |line| line == header)?;
    if !block.contains("bf16_dense_tflops") {
        return None;
    }
    let mut out = block.clone();
    for cited in block.split("source = \"").skip(1) {
        let Some((id, _)) = cited.split_once('"') else {
            continue;
        };
        if catalog.sources.contains_key(id) {
            continue;
        }
        let id_line = format!("id = \"{id}\"");
        // The [[source]] table whose first line is `id = "<id>"`.
        let found = default_text
            .split("\n[[source]]\n")
            .skip(1)
            .find(|rest| rest.lines().next().is_some_and(|l| l.trim() == id_line))
            .map(|rest| {
                let body: Vec<&str> = rest.lines().take_while(|l| !l.starts_with('[')).collect();
                format!("[[source]]\n{}\n", body.join("\n").trim_end())
            });
        out += &found?;
    }
    Some(out)
}

/// The lines of the TOML table whose header line satisfies `is_header`, up to the next table.
fn toml_block(text: &str, is_header: impl Fn(&str) -> bool) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| !is_header(l.trim()));
    let header = lines.next()?;
    let body: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect();
    Some(format!("{header}\n{}\n", body.join("\n").trim_end()))
}

/// `tranche[1].facility_gw` -> `--facility-gw`; other fields are left as they are.
fn flag_for_field(field: &str) -> String {
    let key = field.rsplit('.').next().unwrap_or(field);
    let flag = match key {
        "facility_gw"
        | "systems"
        | "pue"
        | "start"
        | "ramp_months"
        | "electricity_usd_per_kwh"
        | "utilization"
        | "system"
        | "end" => key,
        _ if field.starts_with("prices.") => "price_usd",
        "it_power_kw" => "it_power_kw",
        _ => return field.to_string(),
    };
    format!("--{}", flag.replace('_', "-"))
}

fn render_engine_error(e: EngineError) -> Failure {
    let EngineError::Invalid(diagnostics) = e;
    Failure::Input(diagnostics.to_string())
}

/// The shipped catalog plus the *.toml files in `dir`, if given.
pub fn load_catalog(dir: Option<&Path>) -> Result<Catalog, Failure> {
    let mut extra = Vec::new();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Failure::Input(format!(
                "failed to read the catalog folder {}: {e}\n  fix: --catalog takes a folder of *.toml catalog files",
                dir.display()
            ))
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(Failure::Input(format!(
                "the catalog folder {} holds no *.toml files\n  fix: put catalog files (format in catalog/README.md) in it",
                dir.display()
            )));
        }
        for path in paths {
            let text = crate::input::read_input(&path, "catalog file")?;
            extra.push(CatalogText {
                name: path.display().to_string(),
                text,
            });
        }
    }
    Catalog::load(&extra).map_err(|d| Failure::Input(d.to_string()))
}
