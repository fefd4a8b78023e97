//! `gigawatt train validate`: the training model against published runs, per source family,
//! out of sample (leave one source out, leave Blackwell out), with coverage; as a table, JSON
//! or per-row CSV, or an HTML page with a chart of every row's error by family; `--row`
//! narrows the output to chosen rows, each with where its step goes.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use engine::train_validate::{validate_files_with_sources, TrainingValidation};
use perf::validate::{RowResult, Status};

use crate::{output, Failure};

/// Output formats of `train validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Per-family table, headline and every row.
    Table,
    /// Everything, as JSON.
    Json,
    /// One line per row.
    Csv,
    /// A self-contained page: the headline, a chart of every row's error by source family,
    /// the targets, the families and every row.
    Html,
}

/// What `--row` prints its chosen rows as (the HTML page always shows every row).
enum RowFormat {
    /// Each row in full, with where its step goes.
    Details,
    Json,
    Csv,
}

/// Each file's (name, text), read with the CLI's one bounded reader (FIFOs, devices, folders
/// and huge files refused).
fn read_all(paths: &[PathBuf], what: &str) -> Result<Vec<(String, String)>, Failure> {
    paths
        .iter()
        .map(|path| {
            Ok((
                path.display().to_string(),
                crate::input::read_input(path, what)?,
            ))
        })
        .collect()
}

fn as_named(texts: &[(String, String)]) -> Vec<(&str, &str)> {
    texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect()
}

/// Runs the validation on the shipped files, or on `files` when given, with the user's
/// `sources` files read ahead of the shipped sources; with `rows`, prints only the rows whose id
/// contains one of them (every figure is still computed over every row).
pub fn run_validate(
    catalog: &catalog::Catalog,
    files: &[PathBuf],
    sources: &[PathBuf],
    format: Option<ValidateFormat>,
    out: Option<&Path>,
    rows: &[String],
) -> Result<(), Failure> {
    let format = output::format_for(
        format,
        out,
        ValidateFormat::Table,
        &[
            ("json", ValidateFormat::Json),
            ("csv", ValidateFormat::Csv),
            ("html", ValidateFormat::Html),
            ("htm", ValidateFormat::Html),
        ],
    )?;
    // Checked before the (slow) validation runs.
    let row_format = if rows.is_empty() {
        None
    } else {
        Some(match format {
            ValidateFormat::Table => RowFormat::Details,
            ValidateFormat::Json => RowFormat::Json,
            ValidateFormat::Csv => RowFormat::Csv,
            ValidateFormat::Html => return Err(Failure::Input(
                "`--row` chooses rows for the table, JSON or CSV; the HTML page shows every row\n  fix: drop --row, or use --format table, json or csv".into(),
            )),
        })
    };
    let texts = read_all(files, "calibration file")?;
    let source_texts = read_all(sources, "sources file")?;
    let named = as_named(&texts);
    let named_sources = as_named(&source_texts);
    let report = validate_files_with_sources(catalog, &named, &named_sources).map_err(|m| {
        if named_sources.iter().any(|(name, _)| m.starts_with(name)) {
            Failure::Input(format!(
                "the sources file is not usable: {m}\n  fix: follow calibration/sources.toml \
                 ([[family]], [[model]], [[recipe]], [[exclude]]; the shipped [defaults] stay)"
            ))
        } else {
            Failure::Input(format!(
                "the calibration file is not usable: {m}\n  fix: use the columns of calibration/training.csv"
            ))
        }
    })?;
    if let Some(row_format) = row_format {
        let chosen = chosen_rows(&report, rows)?;
        let text = match row_format {
            RowFormat::Json => {
                let mut s = serde_json::to_string_pretty(&chosen).expect("results serialize");
                s.push('\n');
                s
            }
            RowFormat::Csv => csv(chosen.iter().copied()),
            RowFormat::Details => row_details(&report, &chosen),
        };
        return output::emit(&text, out);
    }
    let text = match format {
        ValidateFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report).expect("results serialize");
            s.push('\n');
            s
        }
        ValidateFormat::Csv => csv(report.report.rows.iter()),
        ValidateFormat::Table => table(&report),
        ValidateFormat::Html => report::training_validation_html(&report, engine::ENGINE_VERSION),
    };
    output::emit(&text, out)
}

/// The rows whose id contains one of `patterns` (case-insensitive), in file order; a pattern
/// that matches no row is an input error naming it.
fn chosen_rows<'a>(
    v: &'a TrainingValidation,
    patterns: &[String],
) -> Result<Vec<&'a RowResult>, Failure> {
    let rows = &v.report.rows;
    let lowered: Vec<String> = patterns.iter().map(|p| p.to_lowercase()).collect();
    for (pattern, needle) in patterns.iter().zip(&lowered) {
        if needle.trim().is_empty() {
            return Err(Failure::Input(
                "`--row` is empty\n  fix: give part of a row id, for example --row gpt-oss".into(),
            ));
        }
        if !rows.iter().any(|r| r.id.to_lowercase().contains(needle)) {
            return Err(Failure::Input(format!(
                "`--row {pattern}` matches no row of {}\n  fix: give part of a row id (the first column of `gigawatt train validate -f csv`), for example --row gpt-oss",
                v.files.join(", ")
            )));
        }
    }
    Ok(rows
        .iter()
        .filter(|r| {
            let id = r.id.to_lowercase();
            lowered.iter().any(|needle| id.contains(needle))
        })
        .collect())
}

/// Each chosen row in full: what was measured and predicted, in and out of sample, the layout
/// evaluated, what was filled, and where the predicted step goes.
fn row_details(v: &TrainingValidation, chosen: &[&RowResult]) -> String {
    let err = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:+.1}%", 100.0 * x));
    let secs = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3} s"));
    let mut out = format!(
        "{} of {} rows (errors and leave one source out computed over every row)\n",
        chosen.len(),
        v.report.rows.len()
    );
    for row in chosen {
        let publication = v
            .report
            .families
            .iter()
            .find(|f| f.id == row.family)
            .map_or("", |f| f.publication.as_str());
        out += &format!("\n{}\n", row.id);
        out += &format!("  source      {} ({publication})\n", row.family);
        out += &format!(
            "  run         {} on {}, framework {}\n",
            row.file,
            row.gpu_type,
            if row.framework.is_empty() {
                "-"
            } else {
                &row.framework
            }
        );
        if row.status != Status::Compared {
            out += &format!(
                "  {}    {}\n",
                format!("{:?}", row.status).to_lowercase(),
                row.reason.as_deref().unwrap_or("")
            );
            continue;
        }
        out += &format!(
            "  step        measured {}, predicted {}: error {} in sample, {} with its source left out\n",
            secs(row.measured_step_time_s),
            secs(row.predicted_step_time_s),
            err(row.error),
            err(row.loso_error)
        );
        out += &format!("  layout      {}\n", row.layout.as_deref().unwrap_or("-"));
        match (row.predicted_fits, &row.infeasible) {
            (Some(false), Some(why)) => {
                out += &format!("  memory      predicted not to fit: {why}\n")
            }
            (Some(false), None) => out += "  memory      predicted not to fit\n",
            _ => {}
        }
        if let Some(why) = &row.framework_illegal {
            out += &format!("  framework   cannot run this layout: {why}\n");
        }
        for (i, fact) in row.filled.iter().enumerate() {
            let label = if i == 0 { "filled" } else { "" };
            out += &format!("  {label:<12}{fact}\n");
        }
        if let (Some(b), Some(step)) = (&row.breakdown, row.predicted_step_time_s) {
            out += "  where the predicted step goes (s, share of the step)\n";
            for (name, value) in b.step_parts() {
                if value > 0.0 {
                    out += &format!(
                        "    {name:<24}{value:>10.3} {:>6.1}%\n",
                        100.0 * value / step
                    );
                }
            }
            out += &format!(
                "    {:<24}{:>10.3}  (off the critical path)\n",
                "comm hidden by compute", b.hidden_comm_s
            );
            out += "  what the compute runs (s, share of compute)\n";
            for (name, value) in b.compute_by_kind() {
                if value > 0.0 {
                    out += &format!(
                        "    {name:<24}{value:>10.3} {:>6.1}%\n",
                        100.0 * value / b.compute_s
                    );
                }
            }
        }
    }
    out +=
        "\nReproduce: gigawatt train validate --row TEXT (-f json or -f csv for the same rows)\n";
    out
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The compared rows by system and by precision: how far off, and which way, for the chip
/// and the recipe of a question.
fn groups(g: &engine::train_validate::Groups) -> String {
    let mut out = String::from(
        "\nBy system and by precision (compared rows; bias > 0: the model is slower than measured):\n",
    );
    let width = g
        .by_system_and_precision
        .iter()
        .map(|group| group.key.len())
        .max()
        .unwrap_or(0)
        .max(16);
    for (title, groups) in [
        ("system", &g.by_system),
        ("precision", &g.by_precision),
        ("system / precision", &g.by_system_and_precision),
    ] {
        out += &format!(
            "  {:<width$} {:>5} {:>9} {:>7} {:>7} {:>9}\n",
            title, "rows", "families", "MAE", "bias", "LOSO MAE"
        );
        for group in groups {
            out += &format!(
                "  {:<width$} {:>5} {:>9} {:>7} {:>+6.1}% {:>9}\n",
                group.key,
                group.in_sample.n,
                group.families,
                pct(group.in_sample.mae),
                100.0 * group.in_sample.bias,
                pct(group.loso.mae)
            );
        }
    }
    out
}

/// The headline figures' intervals (`perf::validate::uncertainty`): how far they move when
/// other publications stand in for these.
fn uncertainty_line(u: &perf::validate::Uncertainty) -> String {
    let r = &u.refitted;
    format!(
        "  {:.0}% interval, the {} source families resampled ({} draws): left out {}, in sample {}; Blackwell rows left out {}; mean over families {}\n  the same, refitting the constants in every draw: left out {}, in sample {}; Blackwell rows left out {}; mean over families {}\n",
        100.0 * u.level,
        u.families,
        u.resamples,
        u.loso.percent_text(),
        u.in_sample.percent_text(),
        u.leave_blackwell_out.percent_text(),
        u.macro_average.percent_text(),
        r.loso.percent_text(),
        r.in_sample.percent_text(),
        r.leave_blackwell_out.percent_text(),
        r.macro_average.percent_text()
    )
}

/// The left-out families whose fit is an exact tie on the other families (a constant only the
/// held-out rows feel, set by the grid's first point): what the tie decides about the figure.
fn tied_folds_line(r: &perf::validate::Report) -> String {
    r.families
        .iter()
        .filter_map(|f| f.loso.as_ref().map(|fold| (f, fold)))
        .filter(|(_, fold)| fold.tied_points > 1)
        .map(|(f, fold)| {
            format!(
                "  {} left out leaves {} undetermined (only its rows feel it): {} grid points tie on the other families; the first, which the figure takes, gives it {}, the others up to {}\n",
                f.id,
                if fold.undetermined.is_empty() {
                    "a constant".to_string()
                } else {
                    fold.undetermined.join(", ")
                },
                fold.tied_points,
                pct(fold.stats.mae),
                pct(fold.tied_mae.high)
            )
        })
        .collect()
}

/// Issue 12's targets: the groups they read, then each target, unmet first.
fn targets(t: &perf::validate::Targets) -> String {
    let m = &t.macro_average;
    let mut out = format!(
        "Groups: MoE rows {} in sample, {} left out ({} rows); Blackwell rows {} in sample, {} left out ({} rows); mean over {} families {} in sample, {} left out\n",
        pct(t.moe_rows.in_sample.mae),
        pct(t.moe_rows.loso.mae),
        t.moe_rows.in_sample.n,
        pct(t.blackwell_rows.in_sample.mae),
        pct(t.blackwell_rows.loso.mae),
        t.blackwell_rows.in_sample.n,
        m.families,
        pct(m.in_sample_mae),
        pct(m.loso_mae)
    );
    out += &format!(
        "Targets (issue 12, MAE at most): {} of {} met\n",
        t.met,
        t.checks.len()
    );
    for check in t
        .checks
        .iter()
        .filter(|c| !c.met)
        .chain(t.checks.iter().filter(|c| c.met))
    {
        out += &format!(
            "  {:<5} {:<52} {:>6} (target {})\n",
            if check.met { "met" } else { "unmet" },
            check.name,
            pct(check.measured),
            pct(check.limit)
        );
    }
    out.push('\n');
    out
}

fn table(v: &TrainingValidation) -> String {
    let r = &v.report;
    let c = &r.coverage;
    let lbo = &r.leave_blackwell_out;
    let mut out = format!(
        "Training step-time model against published runs ({} rows in {})\n\n",
        c.rows,
        v.files.join(", ")
    );
    out += &format!(
        "Out of sample, leave one source out: MAE {} over {} rows (median {}, p90 {}, bias {:+.1}%)\n",
        pct(r.loso.mae),
        r.loso.n,
        pct(r.loso.median),
        pct(r.loso.p90),
        100.0 * r.loso.bias
    );
    out += &format!(
        "  in sample beside it: {} with the shipped constants; {} refitted on every row (GEMM half-dim {}, attention {}, overlap share {:.2}; unfused element-wise passes counted, {:.1}, not fitted)\n",
        pct(r.in_sample.mae),
        pct(r.refit.stats.mae),
        r.refit.fitted.gemm_half_dim,
        r.refit.fitted.attention_fraction,
        r.refit.fitted.overlap_compute_share,
        r.refit.fitted.elementwise_passes,
    );
    out += &uncertainty_line(&r.uncertainty);
    out += &tied_folds_line(r);
    out += &format!(
        "Leave Blackwell out (fit on {} A100/H100 rows, predict {} Blackwell rows): MAE {} (median {}, p90 {}, bias {:+.1}%); fitted GEMM half-dim {}, attention {}, overlap share {:.2}\n",
        lbo.fit_rows,
        lbo.stats.n,
        pct(lbo.stats.mae),
        pct(lbo.stats.median),
        pct(lbo.stats.p90),
        100.0 * lbo.stats.bias,
        lbo.fitted.gemm_half_dim,
        lbo.fitted.attention_fraction,
        lbo.fitted.overlap_compute_share
    );
    out += &format!(
        "Coverage: {} of {} eligible rows evaluated ({}; target {}), {} of them predicted to fit ({}); {} rows excluded as self-inconsistent (calibration/README.md)\n\n",
        c.evaluated,
        c.eligible,
        pct(c.fraction),
        pct(c.target),
        c.evaluated_and_fit,
        pct(c.fraction_fit),
        c.excluded
    );
    out += &targets(&r.targets);
    out += &format!(
        "{:<18} {:<22} {:>4} {:>4} {:>4} {:>4} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>8}\n",
        "family",
        "framework",
        "rows",
        "cmp",
        "ref",
        "oom",
        "ill",
        "excl",
        "MAE",
        "median",
        "p90",
        "bias",
        "LOSO MAE"
    );
    for f in &r.families {
        let s = &f.in_sample;
        let loso = f
            .loso
            .as_ref()
            .map_or("-".to_string(), |l| pct(l.stats.mae));
        let (mae, median, p90, bias) = if s.n == 0 {
            ("-".into(), "-".into(), "-".into(), "-".into())
        } else {
            (
                pct(s.mae),
                pct(s.median),
                pct(s.p90),
                format!("{:+.1}%", 100.0 * s.bias),
            )
        };
        out += &format!(
            "{:<18} {:<22} {:>4} {:>4} {:>4} {:>4} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>8}\n",
            f.id,
            f.framework,
            f.rows,
            f.compared,
            f.refused,
            f.predicted_infeasible,
            f.framework_illegal,
            f.excluded,
            mae,
            median,
            p90,
            bias,
            loso
        );
    }
    out += "  (cmp: compared; ref: refused; oom: compared but predicted not to fit, counted as a model error;\n   ill: compared but the framework catalog says the framework cannot run the layout; excl: excluded)\n";
    for f in &r.families {
        out += &format!("  {:<18} {}\n", f.id, f.publication);
    }
    out += &groups(&v.groups);
    let mut reasons = String::new();
    for f in &r.families {
        for (why, n) in &f.refused_by_reason {
            reasons += &format!("  {:<18} refused {n} x {why}\n", f.id);
        }
        for (why, n) in &f.infeasible_by_reason {
            reasons += &format!("  {:<18} predicted infeasible {n} x {why}\n", f.id);
        }
        for row in r.rows.iter().filter(|row| row.family == f.id) {
            if let Some(why) = &row.framework_illegal {
                reasons += &format!(
                    "  {:<18} {} on {}: not legal for the framework: {why}\n",
                    f.id,
                    row.id,
                    row.layout.as_deref().unwrap_or("")
                );
            }
        }
    }
    if !reasons.is_empty() {
        out += "\nRefused, predicted infeasible or framework-illegal, by reason:\n";
        out += &reasons;
    }
    out += &format!(
        "\n{} cases: mean absolute error {}, mean error {:+.1}% (in sample, shipped constants)\n\n",
        r.in_sample.n,
        pct(r.in_sample.mae),
        100.0 * r.in_sample.bias
    );
    out += &format!(
        "{:<44} {:<18} {:>10} {:>11} {:>8} {:>8} {:>4}  filled\n",
        "row", "family", "measured s", "predicted s", "error", "LOSO", "fits"
    );
    for row in &r.rows {
        let filled = match row.status {
            Status::Compared => row.filled.join("; "),
            _ => format!(
                "{}: {}",
                format!("{:?}", row.status).to_lowercase(),
                row.reason.clone().unwrap_or_default()
            ),
        };
        let num =
            |x: Option<f64>, w: usize| x.map_or(format!("{:>w$}", "-"), |x| format!("{x:>w$.3}"));
        let err = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:+.1}%", 100.0 * x));
        out += &format!(
            "{:<44} {:<18} {} {} {:>8} {:>8} {:>4}  {}\n",
            row.id,
            row.family,
            num(row.measured_step_time_s, 10),
            num(row.predicted_step_time_s, 11),
            err(row.error),
            err(row.loso_error),
            match row.predicted_fits {
                Some(true) => "y",
                Some(false) => "NO",
                None => "-",
            },
            filled
        );
    }
    out += "\nReproduce: gigawatt train validate (-f json for every field, -f csv for one line per row)\n";
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv<'a>(rows: impl Iterator<Item = &'a RowResult>) -> String {
    let mut out = String::from(
        "id,file,family,framework,gpu_type,generation,status,reason,measured_step_time_s,predicted_step_time_s,error,loso_error,predicted_fits,infeasible,framework_illegal,layout,filled,compute_s,recompute_s,tp_comm_s,cp_comm_s,ep_comm_s,pp_comm_s,dp_comm_s,bubble_s,optimizer_s,overlap_slowdown_s,userbuffers_s,hidden_comm_s,matmul_s,attention_s,elementwise_s,host_stall_s,output_layer_s,moe,precision\n",
    );
    let num = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.6}"));
    for r in rows {
        let fields = [
            csv_field(&r.id),
            csv_field(&r.file),
            csv_field(&r.family),
            csv_field(&r.framework),
            csv_field(&r.gpu_type),
            format!("{:?}", r.generation).to_lowercase(),
            format!("{:?}", r.status).to_lowercase(),
            csv_field(r.reason.as_deref().unwrap_or("")),
            num(r.measured_step_time_s),
            num(r.predicted_step_time_s),
            num(r.error),
            num(r.loso_error),
            r.predicted_fits.map_or(String::new(), |f| f.to_string()),
            csv_field(r.infeasible.as_deref().unwrap_or("")),
            csv_field(r.framework_illegal.as_deref().unwrap_or("")),
            csv_field(r.layout.as_deref().unwrap_or("")),
            csv_field(&r.filled.join("; ")),
        ];
        out += &fields.join(",");
        // Where the predicted step goes (the JSON's `breakdown`), empty where nothing was
        // predicted.
        let parts = r.breakdown.as_ref().map(|b| {
            [
                b.compute_s,
                b.recompute_s,
                b.tp_comm_s,
                b.cp_comm_s,
                b.ep_comm_s,
                b.pp_comm_s,
                b.dp_comm_s,
                b.bubble_s,
                b.optimizer_s,
                b.overlap_slowdown_s,
                b.userbuffers_s,
                b.hidden_comm_s,
                b.matmul_s,
                b.attention_s,
                b.elementwise_s,
                b.host_stall_s,
                b.output_layer_s,
            ]
        });
        for i in 0..17 {
            out.push(',');
            out += &num(parts.map(|p| p[i]));
        }
        // Appended after the breakdown so the earlier columns keep their places: what
        // `groups` slices by, for a reader grouping the rows themselves.
        out += &format!(",{},{}\n", r.moe, csv_field(&r.precision));
    }
    out
}
