//! Validation and resolution of the accelerators' per-precision `matmul` tables.
//!
//! Refused: a ceiling (measured or derived) at a precision whose peak is not known, a measured
//! ceiling above its peak, a `derived` ceiling whose rule is empty, whose `like` accelerator
//! does not exist or has no measurement to borrow, or that borrows from itself; a BF16/FP8
//! `peak_tflops` (those peaks are the headline columns); a blockwise ceiling outside FP8; a
//! legacy `*_mamf_tflops` key beside the same ceiling in the table.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::checker::{Bound, Checker};
use crate::diagnostic::nearest;
use crate::load::Placed;
use crate::model::Accelerator;
use crate::precision::{Ceiling, Precision, ResolvedDerivation};
use crate::Sourced;

/// Which ceiling of a precision: the plain one or FP8's blockwise one.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    Ceiling,
    Blockwise,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Ceiling => "ceiling_tflops",
            Key::Blockwise => "blockwise_ceiling_tflops",
        }
    }
}

fn ceiling_of(a: &Accelerator, p: Precision, key: Key) -> Option<&Ceiling> {
    let figures = a.matmul.get(p)?;
    match key {
        Key::Ceiling => figures.ceiling_tflops.as_ref(),
        Key::Blockwise => figures.blockwise_ceiling_tflops.as_ref(),
    }
}

/// The legacy key holding a measured ceiling, if the file used one.
fn legacy(a: &Accelerator, p: Precision, key: Key) -> Option<(&'static str, &Sourced<f64>)> {
    match (p, key) {
        (Precision::Bf16, Key::Ceiling) => {
            a.bf16_mamf_tflops.as_ref().map(|s| ("bf16_mamf_tflops", s))
        }
        (Precision::Fp8, Key::Ceiling) => {
            a.fp8_mamf_tflops.as_ref().map(|s| ("fp8_mamf_tflops", s))
        }
        _ => None,
    }
}

/// A measured value (from the table or a legacy key) and its source.
fn measured(a: &Accelerator, p: Precision, key: Key) -> Option<(f64, String)> {
    let sourced = match ceiling_of(a, p, key) {
        Some(Ceiling::Measured(s)) => s,
        Some(Ceiling::Derived(_)) => return None,
        None => legacy(a, p, key)?.1,
    };
    Some((sourced.number()?, sourced.source()?.to_string()))
}

/// Every ceiling value the catalog determines: measurements, then derived ones in dependency
/// order (a derived ceiling may borrow from another derived one; cycles stay unresolved).
/// Keyed by (accelerator id, precision, key).
pub(crate) type Derivations = BTreeMap<(String, Precision, bool), ResolvedDerivation>;

fn derive_all(accelerators: &BTreeMap<String, &Accelerator>) -> Derivations {
    // Plain (non-blockwise) ceilings that can be borrowed from: measured first.
    let mut valued: BTreeMap<(String, Precision), (f64, String)> = BTreeMap::new();
    for (id, a) in accelerators {
        for p in Precision::ALL {
            if let Some(v) = measured(a, p, Key::Ceiling) {
                valued.insert((id.clone(), p), v);
            }
        }
    }
    let mut derived: Derivations = BTreeMap::new();
    loop {
        let mut progress = false;
        for (id, a) in accelerators {
            for p in Precision::ALL {
                for key in [Key::Ceiling, Key::Blockwise] {
                    let blockwise = key == Key::Blockwise;
                    if derived.contains_key(&(id.clone(), p, blockwise)) {
                        continue;
                    }
                    let Some(Ceiling::Derived(d)) = ceiling_of(a, p, key) else {
                        continue;
                    };
                    let like_id = d
                        .like
                        .as_ref()
                        .map_or(id.as_str(), |l| l.get_ref().as_str());
                    let from = d.from.unwrap_or(p);
                    if like_id == id && from == p && key == Key::Ceiling {
                        continue;
                    }
                    let (Some(like), Some((value, source))) = (
                        accelerators.get(like_id),
                        valued.get(&(like_id.to_string(), from)),
                    ) else {
                        continue;
                    };
                    let Some(like_peak) = like.peak_tflops(from).number() else {
                        continue;
                    };
                    let fraction = value / like_peak;
                    let ratio = d.ratio.as_ref().and_then(Sourced::number);
                    let base = match ratio {
                        Some(r) => a.peak_tflops(from).number().map(|peak| peak * r),
                        None => a.peak_tflops(p).number(),
                    };
                    let Some(base) = base else { continue };
                    let resolved = ResolvedDerivation {
                        like: like_id.to_string(),
                        from,
                        fraction,
                        value_tflops: round1(fraction * base),
                        ratio,
                        source: d
                            .ratio
                            .as_ref()
                            .and_then(|r| r.source())
                            .unwrap_or(source)
                            .to_string(),
                        borrowed_source: source.clone(),
                    };
                    if key == Key::Ceiling {
                        valued.insert(
                            (id.clone(), p),
                            (resolved.value_tflops, resolved.source.clone()),
                        );
                    }
                    derived.insert((id.clone(), p, blockwise), resolved);
                    progress = true;
                }
            }
        }
        if !progress {
            return derived;
        }
    }
}

/// Checks one accelerator's `matmul` table; problems go to `check`.
pub(crate) fn check_accelerator(
    check: &mut Checker<'_>,
    file: usize,
    a: &Accelerator,
    all: &BTreeMap<String, Placed<Accelerator>>,
    derivations: &Derivations,
) {
    let id = a.id.get_ref();
    let field = |p: Precision, name: &str| format!("accelerator[{id}].matmul.{p}.{name}");
    for p in Precision::ALL {
        let Some(figures) = a.matmul.get(p) else {
            continue;
        };
        if let Some(peak) = &figures.peak_tflops {
            if matches!(p, Precision::Bf16 | Precision::Fp8) {
                check.error(
                    file,
                    peak.source_span_opt().or(Some(a.id.span())),
                    field(p, "peak_tflops"),
                    format!("the {p} peak is the `{p}_dense_tflops` column, not a matmul key"),
                    format!("move the figure to `{p}_dense_tflops`"),
                );
            } else {
                check.number(file, field(p, "peak_tflops"), peak, Bound::Positive);
            }
        }
        if figures.blockwise_ceiling_tflops.is_some() && p != Precision::Fp8 {
            check.error(
                file,
                Some(a.id.span()),
                field(p, "blockwise_ceiling_tflops"),
                format!("`blockwise_ceiling_tflops` is an FP8 recipe; {p} has none"),
                "MX and NVFP4 formats are block-scaled by definition: give their rate as `ceiling_tflops`",
            );
        }
        let peak = a.peak_tflops(p).number();
        for key in [Key::Ceiling, Key::Blockwise] {
            let Some(ceiling) = ceiling_of(a, p, key) else {
                continue;
            };
            let name = field(p, key.name());
            if let Some((legacy_key, _)) = legacy(a, p, key) {
                check.error(
                    file,
                    Some(a.id.span()),
                    name.clone(),
                    format!(
                        "the {p} ceiling is given twice: `{legacy_key}` and `matmul.{p}.{}`",
                        key.name()
                    ),
                    format!("keep `matmul.{p}.{}` and delete `{legacy_key}`", key.name()),
                );
            }
            match ceiling {
                Ceiling::Measured(sourced) => {
                    check.number(file, name.clone(), sourced, Bound::Positive);
                    if let Some(value) = sourced.number() {
                        measured_within_peak(
                            check,
                            file,
                            &name,
                            value,
                            peak,
                            sourced.source_span_opt(),
                            p,
                        );
                    }
                }
                Ceiling::Derived(d) => {
                    let span = Some(d.rule.span());
                    if peak.is_none() {
                        measured_within_peak(check, file, &name, 0.0, None, span.clone(), p);
                    }
                    let like_id = d
                        .like
                        .as_ref()
                        .map_or(id.as_str(), |l| l.get_ref().as_str());
                    let from = d.from.unwrap_or(p);
                    if like_id == id && from == p && key == Key::Ceiling {
                        let diag = check
                            .diag(file, span, name.clone(), "a derived ceiling borrows from itself".into())
                            .hint("name `like = \"<measured accelerator>\"` or `from = \"<measured precision>\"`");
                        check.problems.push(diag);
                        continue;
                    }
                    if !all.contains_key(like_id) {
                        let like_span = d.like.as_ref().map(|l| l.span());
                        let mut diag = check.diag(
                            file,
                            like_span,
                            format!("{name}.like"),
                            format!("unknown accelerator `{like_id}`"),
                        );
                        diag = match nearest(like_id, all.keys().map(String::as_str)) {
                            Some(near) => diag.hint(format!("did you mean `{near}`?")),
                            None => diag.hint("name an accelerator with a measured ceiling"),
                        };
                        check.problems.push(diag);
                        continue;
                    }
                    if let Some(ratio) = &d.ratio {
                        check.number(file, format!("{name}.ratio"), ratio, Bound::Positive);
                        if a.peak_tflops(from).number().is_none() {
                            measured_within_peak(check, file, &name, 0.0, None, span.clone(), from);
                        }
                    }
                    let blockwise = key == Key::Blockwise;
                    match derivations.get(&(id.clone(), p, blockwise)) {
                        None => {
                            let diag = match all.get(like_id) {
                                // A later file replaced the accelerator this one borrows from
                                // (a `--catalog` override): the fix belongs in that file, so
                                // point there rather than at the untouched entry.
                                Some(like) if like.file != file => {
                                    let dependent = &check.files[file].name;
                                    check
                                        .diag(
                                            like.file,
                                            Some(like.item.id.span()),
                                            format!("accelerator[{like_id}].matmul.{from}.ceiling_tflops"),
                                            format!("this `{like_id}` gives no {from} ceiling with a known peak, and `{id}` ({dependent}) derives its {p} ceiling from it"),
                                        )
                                        .hint(format!("add `matmul.{from}.ceiling_tflops = {{ value = ..., source = \"...\" }}` (and the {from} peak) to this `{like_id}`, or replace `{id}` in this file as well"))
                                }
                                _ => check
                                    .diag(
                                        file,
                                        span,
                                        name.clone(),
                                        format!("`{like_id}` has no {from} ceiling with a known peak to derive from"),
                                    )
                                    .hint("borrow from a measured ceiling, or from a derived one that does not lead back here"),
                            };
                            check.problems.push(diag);
                        }
                        Some(r) => {
                            if let Some(peak) = peak {
                                if r.value_tflops > peak {
                                    let diag = check
                                        .diag(
                                            file,
                                            span,
                                            name.clone(),
                                            format!("derived {} TFLOP/s is above the {peak} TFLOP/s {p} peak", r.value_tflops),
                                        )
                                        .hint("check the rule's `ratio` and the peaks");
                                    check.problems.push(diag);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn measured_within_peak(
    check: &mut Checker<'_>,
    file: usize,
    name: &str,
    value: f64,
    peak: Option<f64>,
    span: Option<Range<usize>>,
    p: Precision,
) {
    let message = match peak {
        None => format!("a {p} ceiling is given but the chip's {p} peak is not known"),
        Some(peak) if value > peak => {
            format!("measured {value} TFLOP/s is above the {peak} TFLOP/s {p} peak")
        }
        Some(_) => return,
    };
    let hint = match peak {
        None => format!("give the {p} dense peak with its source (see catalog/README.md), or write the ceiling as `{{ not_applicable = \"why\" }}`"),
        Some(_) => "a measured rate cannot exceed the dense peak: check both figures".into(),
    };
    check.error(file, span, name.to_string(), message, hint);
}

/// The derivations of a set of accelerators (for validation).
pub(crate) fn derivations(all: &BTreeMap<String, Placed<Accelerator>>) -> Derivations {
    let view: BTreeMap<String, &Accelerator> =
        all.iter().map(|(k, v)| (k.clone(), &v.item)).collect();
    derive_all(&view)
}

/// After validation: moves legacy keys into the table, fills in every derived ceiling, and
/// mirrors measured BF16/FP8 ceilings back into the legacy fields for older callers.
pub(crate) fn resolve(accelerators: &mut BTreeMap<String, Accelerator>) {
    for a in accelerators.values_mut() {
        if let Some(s) = a.bf16_mamf_tflops.clone() {
            a.matmul.entry(Precision::Bf16).ceiling_tflops = Some(Ceiling::Measured(s));
        }
        if let Some(s) = a.fp8_mamf_tflops.clone() {
            a.matmul.entry(Precision::Fp8).ceiling_tflops = Some(Ceiling::Measured(s));
        }
    }
    let derived = {
        let view: BTreeMap<String, &Accelerator> =
            accelerators.iter().map(|(k, v)| (k.clone(), v)).collect();
        derive_all(&view)
    };
    for ((id, p, blockwise), resolved) in derived {
        let entry = accelerators
            .get_mut(&id)
            .expect("derived from an existing accelerator")
            .matmul
            .entry(p);
        let slot = if blockwise {
            &mut entry.blockwise_ceiling_tflops
        } else {
            &mut entry.ceiling_tflops
        };
        if let Some(Ceiling::Derived(d)) = slot {
            d.resolved = Some(resolved);
        }
    }
    for a in accelerators.values_mut() {
        let mirror = |c: &Option<Ceiling>| match c {
            Some(Ceiling::Measured(s @ Sourced::Known { .. })) => Some(s.clone()),
            _ => None,
        };
        a.bf16_mamf_tflops = a
            .matmul
            .bf16
            .as_ref()
            .and_then(|f| mirror(&f.ceiling_tflops));
        a.fp8_mamf_tflops = a
            .matmul
            .fp8
            .as_ref()
            .and_then(|f| mirror(&f.ceiling_tflops));
    }
}

/// To 0.1 TFLOP/s: the precision the catalog's measurements are written in.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
