//! `/reliability`: one synchronous training job's failures, checkpoints, restarts and spares,
//! simulated from a form (empty fields take the sourced defaults); the result as cards and
//! tables with the assumptions and their sources.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use units::fmt_count;

use super::{cards, downloads, linkable, messages, options, page, trim_number, SCRIPT_FIELDS};
use crate::AppState;

const SCRIPT_RELIABILITY: &str = include_str!("scripts/reliability.js");

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn fmt_hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{:.1} days", h / 24.0)
    } else if h >= 1.0 {
        format!("{h:.2} h")
    } else {
        format!("{:.1} min", h * 60.0)
    }
}

/// A reliability report as an HTML fragment: headline cards, where the wall clock went, the
/// interruptions by cause, and the assumptions with their sources.
pub fn reliability_fragment(r: &reliability::Report) -> String {
    let i = &r.inputs;
    let s = &r.summary;
    let horizon = match (i.work_hours, i.days) {
        (Some(w), _) => format!("until {} work-hours are done", fmt_count(w)),
        (None, Some(d)) => format!("{d} days"),
        (None, None) => String::new(),
    };
    let mut headline = vec![
        ("ETTR (useful / wall clock)", pct(r.ettr)),
        (
            "ETTR, p5 to p95 of runs",
            format!("{} to {}", pct(s.ettr.p5), pct(s.ettr.p95)),
        ),
        ("ETTR, closed form", pct(r.expected_ettr)),
        (
            "unexpected interruptions per run",
            format!("{:.1}", r.unexpected_interruptions),
        ),
        (
            "planned interruptions per run",
            format!("{:.1}", r.planned_interruptions),
        ),
        (
            "mean time to interruption",
            r.mtti_hours.map_or("no interruptions".into(), fmt_hours),
        ),
        match r.optimal_checkpoint_interval_min {
            Some(m) => ("best checkpoint interval, simulated", format!("{m:.1} min")),
            // Not searched: the closed form's optimum, said to be one.
            None => (
                "best checkpoint interval, closed form",
                s.expected
                    .optimal_interval_min
                    .map_or("—".into(), |m| format!("{m:.1} min")),
            ),
        },
        (
            "Young-Daly interval",
            r.young_daly_interval_min
                .map_or("—".into(), |m| format!("{m:.1} min")),
        ),
        (
            "spares needed (p95)",
            format!("{:.0} systems", r.spares_needed),
        ),
    ];
    if let Some(t) = r.time_to_finish_hours {
        headline.push(("time to finish", fmt_hours(t)));
    } else if s.runs_finished == Some(0) {
        headline.push(("time to finish", "did not finish".into()));
    }
    let l = &r.lost_hours;
    let wall = s.wall_hours.mean.max(f64::MIN_POSITIVE);
    let parts = [
        ("useful work", s.useful_hours.mean),
        ("rolled-back work", l.rollback),
        ("detection", l.detection),
        ("waiting for spares", l.waiting_for_spares),
        ("restart", l.restart),
        ("checkpoint stalls", l.checkpoint),
        ("planned maintenance", l.planned),
    ];
    let mut causes: Vec<_> = r.by_cause.iter().collect();
    causes.sort_by(|a, b| b.1.interruptions.total_cmp(&a.1.interruptions));
    html! {
        p {
            strong { (fmt_count(i.gpus as f64)) " accelerators" } " on " (i.system)
            " (" (fmt_count(i.systems as f64)) " systems of " (i.accelerators_per_system) ", "
            (fmt_count(i.spares as f64)) " hot spares), " (horizon) ", " (r.runs) " runs, seed " (r.seed) ". "
            "Failures " (i.failure_distribution) (format!(" ({:.1} per day); ", i.failures_per_day))
            (format!("checkpoint every {:.1} min, {} {:.1} s; detect {:.1} min, restart {:.1} min, repair {:.0} h.",
                i.checkpoint_interval_min, i.checkpoint_mode, i.checkpoint_write_s, i.detection_min, i.restart_min, i.repair_hours))
        }
        (cards(&headline))
        h3 { "Where the wall clock went (mean per run)" }
        table #wall-clock {
            tr { th { "part" } th { "time" } th { "share" } }
            @for (name, hours) in parts {
                tr { th { (name) } td.num { (fmt_hours(hours)) } td.num { (pct(hours / wall)) } }
            }
        }
        h3 { "Unexpected interruptions by cause (mean per run)" }
        table #by-cause {
            tr { th { "cause" } th { "count" } th { "share" } th { "lost work" } th { "downtime" } }
            @for (id, c) in causes {
                tr {
                    td { code { (id) } " " (c.name) }
                    td.num { (format!("{:.1}", c.interruptions)) }
                    td.num { (pct(c.share)) }
                    td.num { (fmt_hours(c.lost_work_hours)) }
                    td.num { (fmt_hours(c.downtime_hours)) }
                }
            }
        }
        details {
            summary { "Assumptions and sources" }
            ul {
                @for a in &r.assumptions {
                    li {
                        span.nw { (a.name) } " = " (trim_number(a.value)) " " (PreEscaped(report::prose_html(&a.unit)))
                        " " span.muted.nw { "[" (a.source) "]" }
                    }
                }
            }
            ul {
                @for source in &r.sources {
                    li {
                        code { (source.id) } " "
                        @match &source.url {
                            Some(url) if linkable(url) => a href=(url) rel="noreferrer" { (PreEscaped(report::prose_html(&source.title))) },
                            _ => (PreEscaped(report::prose_html(&source.title))),
                        }
                        " " span.muted.nw { "(" (source.kind) ", " (source.date) ")" }
                    }
                }
            }
        }
    }
    .into_string()
}

/// A number field of the job.
fn field(id: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        label { (label) " " input type="number" step="any" id=(id) value=(value) placeholder=(hint) data-share; }
    }
}

pub async fn reliability_page(State(state): State<AppState>) -> Response {
    let body = html! {
        h1 { "Reliability at scale" }
        p.muted {
            "One synchronous training job: failures, checkpoints, restarts and spares, simulated (\"Reliability at scale\" in the README). "
            "Empty fields take the sourced defaults. The server simulates at most "
            (fmt_count(crate::models::MAX_RELIABILITY_GPUS as f64)) " accelerators, "
            (crate::models::MAX_RELIABILITY_RUNS) " runs, " (crate::models::MAX_RELIABILITY_DAYS) " days and an expected "
            (fmt_count(crate::models::MAX_RELIABILITY_EVENTS))
            " simulation events a request (the interval search multiplies the events about eightfold; skip it for larger jobs); larger jobs: "
            code { "gigawatt reliability" } "."
        }
        div.grid {
            div #inputs {
                fieldset {
                    legend { "Job" }
                    (field("r-gpus", "Accelerators", "16384", "e.g. 16384"))
                    (field("r-days", "Days", "54", "e.g. 54"))
                    (field("r-work", "Work hours (instead)", "", "run until done"))
                    label { "System " select #r-system data-share { (options(state.inner.catalog.systems.keys(), "dgx-h100")) } }
                    (field("r-runs", "Runs", "20", "20"))
                    (field("r-seed", "Seed", "1", "1"))
                }
                fieldset {
                    legend { "Checkpoints and recovery" }
                    (field("r-interval", "Checkpoint every, min", "", "60"))
                    (field("r-write", "Checkpoint write, s", "", "148.8"))
                    label.check { input type="checkbox" #r-async data-share; " asynchronous checkpoints" }
                    (field("r-restart", "Restart, min", "", "10"))
                    (field("r-detection", "Detection, min", "", "2.5"))
                    (field("r-repair", "Repair, hours", "", "48"))
                    (field("r-spares", "Hot spare systems", "", "5% of systems"))
                }
                fieldset {
                    legend { "Failures" }
                    (field("r-node", "Node failures per 1,000 days", "", "per cause (Llama 3)"))
                    (field("r-planned", "Planned per day", "", "0.87"))
                    (field("r-weibull", "Weibull shape", "", "exponential"))
                }
                label.check { input type="checkbox" #r-nosearch data-share; " skip the checkpoint-interval search" }
                div.row { button #run { "Simulate" } " " span #status .muted role="status" {} }
            }
            div {
                (messages())
                (downloads("Downloads and sharing", html! {
                    button type="button" .plain #dl-html { "HTML (this result)" }
                    button type="button" .plain #dl-json { "JSON" }
                }))
                div #result {}
            }
        }
    };
    page(
        "Reliability",
        "Reliability",
        body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_RELIABILITY}"),
    )
}
