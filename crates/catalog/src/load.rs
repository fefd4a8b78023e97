//! Parsing, merging and validating catalog files into a [`Catalog`].
//!
//! Files come in layers: the embedded data first, then each `--catalog DIR` the user gives.
//! An id defined twice within one layer is an error; a later layer replaces an earlier entry
//! with the same id (and replaces `[facility]` defaults field by field).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;

use crate::checker::{Bound, Checker};
use crate::claim::Claim;
use crate::diagnostic::{nearest, Diagnostic, Diagnostics};
use crate::frameworks::Framework;
use crate::history::Event;
use crate::model::{Accelerator, Deal, FacilityDefaults, ModelArch, Source, System};
use crate::record::RecordEntry;
use crate::site::Site;
use crate::{Catalog, Sourced};

/// One catalog file's text and the name to report it by.
#[derive(Debug, Clone)]
pub struct CatalogText {
    /// Name shown in diagnostics (a path).
    pub name: String,
    /// The TOML text.
    pub text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    source: Vec<Source>,
    #[serde(default)]
    accelerator: Vec<Accelerator>,
    #[serde(default)]
    system: Vec<System>,
    #[serde(default)]
    facility: Option<FacilityDefaults>,
    #[serde(default)]
    deal: Vec<Deal>,
    #[serde(default)]
    model: Vec<ModelArch>,
    #[serde(default)]
    event: Vec<Event>,
    #[serde(default)]
    site: Vec<Site>,
    #[serde(default)]
    record: Vec<RecordEntry>,
    #[serde(default)]
    framework: Vec<Framework>,
    #[serde(default)]
    claim: Vec<Claim>,
}

/// An entry and the index of the file it came from.
pub(crate) struct Placed<T> {
    pub(crate) item: T,
    pub(crate) file: usize,
}

/// Everything gathered from the files before validation.
#[derive(Default)]
pub(crate) struct Gathered {
    sources: BTreeMap<String, Placed<Source>>,
    pub(crate) accelerators: BTreeMap<String, Placed<Accelerator>>,
    systems: BTreeMap<String, Placed<System>>,
    deals: BTreeMap<String, Placed<Deal>>,
    models: BTreeMap<String, Placed<ModelArch>>,
    frameworks: BTreeMap<String, Placed<Framework>>,
    pub(crate) facility: FacilityDefaults,
    pub(crate) facility_file: BTreeMap<&'static str, usize>,
    /// Deal events in file order, with the layer they came from.
    pub(crate) events: Vec<(Placed<Event>, usize)>,
    pub(crate) sites: BTreeMap<String, Placed<Site>>,
    pub(crate) records: BTreeMap<String, Placed<RecordEntry>>,
    /// Claims in file order (all layers: a later layer adds claims, it does not replace them).
    pub(crate) claims: Vec<Placed<Claim>>,
}

/// Parses and validates `layers` of catalog files (earlier layers first).
pub fn load_layers(layers: &[Vec<CatalogText>]) -> Result<Catalog, Diagnostics> {
    let files: Vec<&CatalogText> = layers.iter().flatten().collect();
    let mut problems = Vec::new();
    let mut gathered = Gathered::default();
    let mut file_index = 0;
    for (layer_index, layer) in layers.iter().enumerate() {
        let mut seen_in_layer: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for file in layer {
            let index = file_index;
            file_index += 1;
            let parsed: CatalogFile = match toml::from_str(&file.text) {
                Ok(parsed) => parsed,
                Err(err) => {
                    problems.push(
                        Diagnostic::from_toml(&file.name, &file.text, &err)
                            .hint("see catalog/README.md for the format of catalog files"),
                    );
                    continue;
                }
            };
            let mut duplicate = |kind: &'static str, id: &str, span: Range<usize>| {
                if let Some(first) = seen_in_layer.insert((kind, id.to_string()), index) {
                    problems.push(
                        Diagnostic::new(&file.name, format!("{kind} `{id}` is defined twice"))
                            .at(&file.text, Some(span))
                            .field(format!("{kind}.id"))
                            .hint(format!(
                                "ids are unique; the first definition is in {}",
                                files[first].name
                            )),
                    );
                }
            };
            for item in parsed.source {
                duplicate("source", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.sources.insert(id, Placed { item, file: index });
            }
            for item in parsed.accelerator {
                duplicate("accelerator", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered
                    .accelerators
                    .insert(id, Placed { item, file: index });
            }
            for item in parsed.system {
                duplicate("system", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.systems.insert(id, Placed { item, file: index });
            }
            for item in parsed.deal {
                duplicate("deal", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.deals.insert(id, Placed { item, file: index });
            }
            for item in parsed.model {
                duplicate("model", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.models.insert(id, Placed { item, file: index });
            }
            for item in parsed.site {
                duplicate("site", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.sites.insert(id, Placed { item, file: index });
            }
            for item in parsed.record {
                duplicate("record", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.records.insert(id, Placed { item, file: index });
            }
            // A later layer's events for a deal replace the earlier layers' history of it.
            let deals_here: std::collections::BTreeSet<String> = parsed
                .event
                .iter()
                .map(|e| e.deal.get_ref().clone())
                .collect();
            gathered.events.retain(|(placed, layer)| {
                *layer == layer_index || !deals_here.contains(placed.item.deal.get_ref())
            });
            for item in parsed.event {
                gathered
                    .events
                    .push((Placed { item, file: index }, layer_index));
            }
            for item in parsed.claim {
                gathered.claims.push(Placed { item, file: index });
            }
            for item in parsed.framework {
                duplicate("framework", item.id.get_ref(), item.id.span());
                let id = item.id.get_ref().clone();
                gathered.frameworks.insert(id, Placed { item, file: index });
            }
            if let Some(facility) = parsed.facility {
                merge_facility(&mut gathered, facility, index);
            }
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    validate(gathered, &files)
}

fn merge_facility(gathered: &mut Gathered, new: FacilityDefaults, file: usize) {
    macro_rules! take {
        ($($field:ident),*) => {$(
            if new.$field.is_some() {
                gathered.facility.$field = new.$field;
                gathered.facility_file.insert(stringify!($field), file);
            }
        )*};
    }
    take!(
        pue,
        pue_air,
        non_accelerator_it_share,
        design_headroom,
        contracted_it_fraction,
        capex_usd_per_mw,
        build_months,
        ramp_months,
        electricity_usd_per_kwh,
        utilization,
        networking_capex_fraction,
        other_opex_fraction_per_year,
        reference_accelerator
    );
}

fn validate(gathered: Gathered, files: &[&CatalogText]) -> Result<Catalog, Diagnostics> {
    let mut check = Checker {
        files,
        sources: &gathered.sources,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for placed in gathered.sources.values() {
        let (file, source) = (placed.file, &placed.item);
        let id = source.id.get_ref();
        check.id(file, "source", &source.id);
        if !(source.url.starts_with("https://") || source.url.starts_with("http://")) {
            check.error(
                file,
                Some(source.id.span()),
                format!("source[{id}].url"),
                format!("`{}` is not a web address", source.url),
                "give the http(s) address the figure was read at",
            );
        }
        check.is_dated(
            file,
            format!("source[{id}].date"),
            &source.date,
            "write dates as YYYY, YYYY-MM or YYYY-MM-DD",
        );
        if source.title.trim().is_empty() {
            check.error(
                file,
                Some(source.id.span()),
                format!("source[{id}].title"),
                "the title is empty".into(),
                "name the document",
            );
        }
    }
    let derivations = crate::check_matmul::derivations(&gathered.accelerators);
    for placed in gathered.accelerators.values() {
        let (file, a) = (placed.file, &placed.item);
        let id = a.id.get_ref();
        check.id(file, "accelerator", &a.id);
        let f = |name: &str| format!("accelerator[{id}].{name}");
        check.number(
            file,
            f("bf16_dense_tflops"),
            &a.bf16_dense_tflops,
            Bound::Positive,
        );
        check.number(
            file,
            f("fp8_dense_tflops"),
            &a.fp8_dense_tflops,
            Bound::Positive,
        );
        check.number(
            file,
            f("fp4_dense_tflops"),
            &a.fp4_dense_tflops,
            Bound::Positive,
        );
        check.number(file, f("hbm_gib"), &a.hbm_gib, Bound::Positive);
        check.number(file, f("hbm_tb_per_s"), &a.hbm_tb_per_s, Bound::Positive);
        if let Some(measured) = &a.hbm_measured_tb_per_s {
            // A measurement cannot beat the nominal figure.
            let nominal = a.hbm_tb_per_s.number().unwrap_or(f64::INFINITY);
            check.number(
                file,
                f("hbm_measured_tb_per_s"),
                measured,
                Bound::UpTo(nominal),
            );
        }
        check.number(file, f("tdp_w"), &a.tdp_w, Bound::Positive);
        if let Some(sms) = &a.streaming_multiprocessors {
            check.number(file, f("streaming_multiprocessors"), sms, Bound::Count);
        }
        for (key, mamf, peak) in [
            (
                "bf16_mamf_tflops",
                &a.bf16_mamf_tflops,
                &a.bf16_dense_tflops,
            ),
            ("fp8_mamf_tflops", &a.fp8_mamf_tflops, &a.fp8_dense_tflops),
        ] {
            let Some(mamf) = mamf else { continue };
            check.number(file, f(key), mamf, Bound::Positive);
            if let (Some(m), Some(peak)) = (mamf.number(), peak.number()) {
                if m > peak {
                    check.error(
                        file,
                        mamf.source_span_opt(),
                        f(key),
                        format!("measured {m} TFLOP/s is above the {peak} TFLOP/s peak"),
                        "a measured rate cannot exceed the dense peak: check both figures",
                    );
                }
            }
        }
        crate::check_matmul::check_accelerator(
            &mut check,
            file,
            a,
            &gathered.accelerators,
            &derivations,
        );
    }
    for placed in gathered.systems.values() {
        let (file, s) = (placed.file, &placed.item);
        let id = s.id.get_ref();
        check.id(file, "system", &s.id);
        let f = |name: &str| format!("system[{id}].{name}");
        let accelerator = gathered.accelerators.get(s.accelerator.get_ref());
        if accelerator.is_none() {
            let wanted = s.accelerator.get_ref();
            let mut d = check.diag(
                file,
                Some(s.accelerator.span()),
                f("accelerator"),
                format!("unknown accelerator `{wanted}`"),
            );
            d = match nearest(wanted, gathered.accelerators.keys().map(String::as_str)) {
                Some(near) => d.hint(format!("did you mean `{near}`?")),
                None => d.hint("define it in an [[accelerator]] entry, or use an id from `gigawatt catalog list`"),
            };
            check.problems.push(d);
        }
        check.number(
            file,
            f("accelerators_per_system"),
            &s.accelerators_per_system,
            Bound::Count,
        );
        check.number(file, f("scale_up_domain"), &s.scale_up_domain, Bound::Count);
        check.number(
            file,
            f("scale_up_gb_per_s"),
            &s.scale_up_gb_per_s,
            Bound::Positive,
        );
        check.number(
            file,
            f("scale_out_gbit_per_s"),
            &s.scale_out_gbit_per_s,
            Bound::Positive,
        );
        if let Some(ratio) = &s.scale_out_oversubscription {
            check.number(
                file,
                f("scale_out_oversubscription"),
                ratio,
                Bound::Between(1.0, 64.0),
            );
        }
        if let Some(link) = &s.host_link_gb_per_s {
            check.number(file, f("host_link_gb_per_s"), link, Bound::Positive);
        }
        if let Some(nvls) = &s.nvls_all_reduce_gb_per_s {
            check.number(file, f("nvls_all_reduce_gb_per_s"), nvls, Bound::Positive);
        }
        check.number(file, f("it_power_kw"), &s.it_power_kw, Bound::Positive);
        check.number(file, f("price_usd"), &s.price_usd, Bound::Positive);
        check.date(file, f("first_available"), &s.first_available);
        // A system cannot draw less than its accelerators alone.
        let tdp_w = accelerator.and_then(|a| a.item.tdp_w.number());
        if let (Some(tdp_w), Some(count), Some(power_kw)) = (
            tdp_w,
            s.accelerators_per_system.number(),
            s.it_power_kw.number(),
        ) {
            if power_kw * 1e3 < tdp_w * count {
                let span = s.it_power_kw.source_span_opt();
                check.error(
                    file,
                    span,
                    f("it_power_kw"),
                    format!(
                        "{power_kw} kW is less than its {count} accelerators' TDP alone ({} kW)",
                        tdp_w * count / 1e3
                    ),
                    "check the system power and the accelerator TDP",
                );
            }
        }
    }
    for placed in gathered.deals.values() {
        let (file, d) = (placed.file, &placed.item);
        let id = d.id.get_ref();
        check.id(file, "deal", &d.id);
        let f = |name: &str| format!("deal[{id}].{name}");
        check.date(file, f("announced"), &d.announced);
        check.date(file, f("status_as_of"), &d.status_as_of);
        if let Some(v) = &d.first_capacity {
            check.date(file, f("first_capacity"), v);
        }
        for (name, value) in [
            ("power_gw", &d.power_gw),
            ("contract_value_usd", &d.contract_value_usd),
            ("investment_usd", &d.investment_usd),
        ] {
            if let Some(value) = value {
                check.number(file, f(name), value, Bound::NonNegative);
            }
        }
        for system in &d.systems {
            if !gathered.systems.contains_key(system.get_ref()) {
                let wanted = system.get_ref();
                let mut diag = check.diag(
                    file,
                    Some(system.span()),
                    f("systems"),
                    format!("unknown system `{wanted}`"),
                );
                if let Some(near) = nearest(wanted, gathered.systems.keys().map(String::as_str)) {
                    diag = diag.hint(format!("did you mean `{near}`?"));
                }
                check.problems.push(diag);
            }
        }
    }
    for placed in gathered.models.values() {
        let (file, m) = (placed.file, &placed.item);
        check.id(file, "model", &m.id);
        let id = m.id.get_ref();
        check.source_exists(
            file,
            &format!("model[{id}].source"),
            m.source.get_ref(),
            &m.source.span(),
        );
        if let Some(facts_source) = &m.facts_source {
            check.source_exists(
                file,
                &format!("model[{id}].facts_source"),
                facts_source.get_ref(),
                &facts_source.span(),
            );
        }
        let mut bad = |field: &str, message: String, hint: &str| {
            check.error(
                file,
                Some(m.id.span()),
                format!("model[{id}].{field}"),
                message,
                hint,
            );
        };
        for (field, value) in [
            ("layers", m.layers),
            ("hidden", m.hidden),
            ("ffn_hidden", m.ffn_hidden),
            ("heads", m.heads),
            ("kv_heads", m.kv_heads),
            ("vocab", m.vocab),
        ] {
            if value == 0 {
                bad(
                    field,
                    format!("`{field}` is 0"),
                    "architectures have at least one of each",
                );
            }
        }
        if m.kv_heads > 0 && m.heads % m.kv_heads != 0 {
            bad(
                "kv_heads",
                format!(
                    "{} heads do not split into {} key/value groups",
                    m.heads, m.kv_heads
                ),
                "kv_heads must divide heads",
            );
        }
        if m.experts > 0 && (m.top_k == 0 || m.top_k > m.experts || m.moe_ffn_hidden == 0) {
            bad(
                "top_k",
                format!(
                    "an MoE with {} experts needs 1 <= top_k <= experts and moe_ffn_hidden > 0",
                    m.experts
                ),
                "set top_k and moe_ffn_hidden",
            );
        }
        if let Some(problem) = crate::model::layer_facts_problem(&m.layer_facts(), "") {
            bad(problem.field, problem.message, problem.hint);
        }
        if m.dense_layers > m.layers {
            bad(
                "dense_layers",
                format!(
                    "{} dense layers in a {}-layer model",
                    m.dense_layers, m.layers
                ),
                "dense_layers counts leading layers, at most layers",
            );
        }
    }
    crate::world::validate_world(
        &mut check,
        &gathered.deals,
        &gathered.systems,
        &gathered.events,
        &gathered.sites,
        &gathered.records,
    );
    let known = crate::claim::KnownIds {
        by_table: [
            (
                "system",
                gathered.systems.keys().map(String::as_str).collect(),
            ),
            (
                "accelerator",
                gathered.accelerators.keys().map(String::as_str).collect(),
            ),
            ("deal", gathered.deals.keys().map(String::as_str).collect()),
            ("site", gathered.sites.keys().map(String::as_str).collect()),
        ]
        .into_iter()
        .collect(),
    };
    crate::claim::validate(&mut check, &gathered.claims, &known);
    let source_ids: Vec<&str> = gathered.sources.keys().map(String::as_str).collect();
    for placed in gathered.frameworks.values() {
        check.id(placed.file, "framework", &placed.item.id);
        let f = files[placed.file];
        check.problems.extend(crate::frameworks::validate(
            &placed.item,
            &f.name,
            &f.text,
            &source_ids,
        ));
    }
    let facility = crate::check_facility::validate_facility(&gathered, &mut check, files);
    let problems = std::mem::take(&mut check.problems);
    let warnings = std::mem::take(&mut check.warnings);
    drop(check);
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let facility = facility.expect("facility is complete when no problem was found");
    let mut accelerators: BTreeMap<String, Accelerator> = gathered
        .accelerators
        .into_iter()
        .map(|(k, v)| (k, v.item))
        .collect();
    crate::check_matmul::resolve(&mut accelerators);
    Ok(Catalog {
        models: gathered
            .models
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        sources: gathered
            .sources
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        accelerators,
        systems: gathered
            .systems
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        deals: gathered
            .deals
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        events: gathered.events.into_iter().map(|(p, _)| p.item).collect(),
        sites: gathered
            .sites
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        records: gathered
            .records
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        claims: gathered.claims.into_iter().map(|p| p.item).collect(),
        warnings,
        known_on: None,
        withheld: BTreeMap::new(),
        frameworks: gathered
            .frameworks
            .into_iter()
            .map(|(k, v)| (k, v.item))
            .collect(),
        facility,
        version: version_hash(files),
    })
}

/// A short content hash of the catalog files: the catalog version every output states.
fn version_hash(files: &[&CatalogText]) -> String {
    // FNV-1a, 64 bit: stable across platforms and Rust versions, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in file
            .name
            .bytes()
            .chain([0])
            .chain(file.text.bytes())
            .chain([0])
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:012x}", hash >> 16)
}

impl<T> Sourced<T> {
    pub(crate) fn source_span_opt(&self) -> Option<Range<usize>> {
        match self {
            Sourced::Known { source_span, .. } => Some(source_span.clone()),
            _ => None,
        }
    }
}
