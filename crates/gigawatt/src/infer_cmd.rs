//! `gigawatt infer`: serving throughput and latency for a model on a system, the best layout,
//! what a planned fleet could serve, and validation against published serving results.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use engine::infer::{InferResult, ServeInputs};
use perf::ServingWorkload;
use serde_json::json;
use units::fmt_count;

use crate::cli::{Cli, ListFormat};
use crate::plan_cmd::load_catalog;
use crate::{output, scenarios, Failure};

/// Arguments of `gigawatt infer`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    long_about = INFER_ABOUT,
    after_help = crate::examples::INFER
)]
pub struct InferArgs {
    /// A serving spec file (TOML): model = "id", [cluster] system (and gpus), [serving].
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(subcommand)]
    pub command: Option<InferCommand>,
}

const INFER_ABOUT: &str = "\
How many tokens per second can a system serve for a model at a latency target, and what does a
million tokens cost?";

#[derive(Debug, Subcommand)]
pub enum InferCommand {
    /// Find the layout (TP, PP, EP) with the most output tokens per second per accelerator.
    #[command(after_help = crate::examples::INFER_SEARCH)]
    Search {
        #[command(flatten)]
        traffic: Traffic,
        /// Catalog system id.
        #[arg(long)]
        system: String,
        /// Layouts to print.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// What a planned fleet could serve, month by month: tokens/s, per MW, cost per million.
    #[command(after_help = crate::examples::INFER_FLEET)]
    Fleet {
        /// A scenario file or shipped scenario name (default: openai-nvidia-10gw).
        scenario: Option<String>,
        #[command(flatten)]
        traffic: Traffic,
        /// Years over which capex is amortised in the cost per token.
        #[arg(long, default_value_t = 5.0, allow_negative_numbers = true)]
        life_years: f64,
        /// Mean load over peak load: capacity is judged at the peak (latency targets met at the
        /// busiest hour); tokens per day = capacity x 24 h x this ratio (assumed default 0.6).
        #[arg(long, default_value_t = engine::capacity::DEFAULT_MEAN_TO_PEAK, allow_negative_numbers = true, conflicts_with = "peak_to_mean")]
        mean_to_peak: f64,
        /// The busiest hour's load over the day's mean, at least 1 (capacity is judged at the
        /// peak; tokens per day = capacity x 24 h / this); the inverse of --mean-to-peak.
        #[arg(long, allow_negative_numbers = true)]
        peak_to_mean: Option<f64>,
        /// A model mix instead of --model: catalog ids with their shares of output tokens,
        /// summing to 1 (e.g. llama3-70b=0.5,deepseek-v3=0.3,llama3-8b=0.2); each system then
        /// serves at 1 / sum(share / rate).
        #[arg(long, value_name = "ID=SHARE,...", conflicts_with_all = ["model", "model_file"])]
        mix: Option<String>,
        /// Output format; default: from --out's extension, else a table.
        #[arg(long, short = 'f', value_enum)]
        format: Option<FleetFormat>,
        /// Write the output to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Compare the serving model with published results (calibration/inference.csv).
    #[command(after_help = crate::examples::INFER_VALIDATE)]
    Validate {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

/// Output formats of `gigawatt infer fleet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    /// Aligned columns: the best layout per system type and each December.
    Table,
    /// Everything, as JSON (systems with their best layouts, timeline).
    Json,
    /// The monthly timeline as CSV.
    Csv,
    /// A self-contained HTML report with charts.
    Html,
}

/// The model and traffic of a serving question.
#[derive(Debug, Args)]
pub struct Traffic {
    /// Catalog model id (required unless --model-file, or --mix on `fleet`, is given).
    #[arg(long, conflicts_with = "model_file")]
    pub model: Option<String>,
    /// A TOML file with a [model] table (the keys `train` accepts: dense, GQA, MLA, MoE with
    /// shared experts and leading dense layers, sliding-window layers), instead of --model.
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// Prompt tokens per request (mean; not needed with --profile).
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "profile"
    )]
    pub input_tokens: Option<f64>,
    /// Generated tokens per request (mean; not needed with --profile).
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "profile"
    )]
    pub output_tokens: Option<f64>,
    /// Request lengths from a named dataset profile, evaluated as a 16-bin histogram:
    /// sharegpt, openorca, long-rag, reasoning (sources in the README).
    #[arg(long)]
    pub profile: Option<String>,
    /// Share of prompt tokens found in the prefix cache, from 0 up to 1 (prefill skipped for
    /// them; the cache holds a prefix per batch slot).
    #[arg(long, allow_negative_numbers = true)]
    pub prefix_hit_rate: Option<f64>,
    /// Time-to-first-token target, s.
    #[arg(long, allow_negative_numbers = true)]
    pub ttft_slo_s: Option<f64>,
    /// Time-per-output-token target, s.
    #[arg(long, allow_negative_numbers = true)]
    pub tpot_slo_s: Option<f64>,
    /// offline (throughput only) or server (latency targets).
    #[arg(long, default_value = "server")]
    pub mode: String,
    /// Separate prefill and decode pools.
    #[arg(long)]
    pub disaggregated: bool,
    /// The serving engine's batch limit per attention rank (its max_batch_size); by default
    /// only the KV cache limits the batch.
    #[arg(long, allow_negative_numbers = true)]
    pub max_batch: Option<f64>,
    /// Server mode: the percentile of requests the latency targets hold for. Requests arrive
    /// at random, so the sequences in flight vary; 99 is MLPerf's Server rule, 50 the median.
    #[arg(long, allow_negative_numbers = true)]
    pub slo_percentile: Option<f64>,
    /// Speculative decoding: tokens drafted per sequence per step (e.g. 1 for DeepSeek's MTP).
    #[arg(long, allow_negative_numbers = true)]
    pub draft_tokens: Option<f64>,
    /// Speculative decoding: probability a drafted token is accepted (DeepSeek: 0.85-0.9).
    #[arg(long, allow_negative_numbers = true)]
    pub acceptance_rate: Option<f64>,
    /// Speculative decoding: cost of one drafted token relative to a decode step of the model
    /// (default: one extra layer, as an MTP module; a draft model: its size / the model's).
    #[arg(long, allow_negative_numbers = true)]
    pub draft_cost_fraction: Option<f64>,
    /// Weight and matmul precision: bf16, fp8 or fp4 (`search` refuses a precision the chip
    /// lacks; `fleet` serves each system at the nearest precision with more bits it has).
    #[arg(long, default_value = "bf16")]
    pub precision: String,
    /// KV-cache precision: bf16 or fp8.
    #[arg(long, default_value = "bf16")]
    pub kv_precision: String,
}

impl Traffic {
    /// The model's name and architecture: a catalog id or a model file.
    fn model(&self, catalog: &catalog::Catalog) -> Result<(String, perf::Arch), Failure> {
        match (&self.model, &self.model_file) {
            (_, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::Input(format!("failed to read {}: {e}", path.display()))
                })?;
                engine::model_table::model_from_file_text(&text).map_err(|m| {
                    Failure::Input(format!(
                        "{}: {m}\n  fix: a [model] table with the keys `gigawatt train` accepts (see \"Serving a model\" in the README)",
                        path.display()
                    ))
                })
            }
            (Some(id), None) => {
                let model = catalog.models.get(id).ok_or_else(|| {
                    Failure::Input(
                        match catalog::nearest(id, catalog.models.keys().map(String::as_str)) {
                            Some(near) => format!("unknown model `{id}`; did you mean `{near}`?\n  fix: `gigawatt catalog list --kind models` shows them"),
                            None => format!("unknown model `{id}`\n  fix: `gigawatt catalog list --kind models` shows them, or give --model-file"),
                        },
                    )
                })?;
                Ok((id.clone(), engine::train::arch_from_catalog(model)))
            }
            (None, None) => Err(Failure::Input(
                "a model is needed\n  fix: --model ID or --model-file FILE".into(),
            )),
        }
    }

    fn kv_bytes(&self) -> Result<f64, Failure> {
        engine::infer::parse_kv_precision(&self.kv_precision).ok_or_else(|| {
            Failure::Input(format!(
                "--kv-precision `{}` is unknown\n  fix: bf16 or fp8",
                self.kv_precision
            ))
        })
    }

    /// The traffic's shape when --profile or --prefix-hit-rate is given.
    fn shape(&self) -> Result<Option<perf::Traffic>, Failure> {
        if self.profile.is_none() && self.prefix_hit_rate.is_none() {
            return Ok(None);
        }
        let w = self.workload()?;
        let flag = |f: &str| match f {
            "bins" => "--profile".to_string(),
            other => format!("--{}", other.replace('_', "-")),
        };
        engine::infer::checked_traffic(
            &engine::infer::ShapeRequest {
                profile: self.profile.as_deref(),
                bins: None,
                prefix_hit_rate: self.prefix_hit_rate,
            },
            w.input_tokens,
            w.output_tokens,
            &flag,
        )
        .map(Some)
        .map_err(Failure::Input)
    }

    /// Mean lengths: as given, else the profile's.
    fn lengths(&self) -> (f64, f64) {
        let profile = self.profile.as_deref().and_then(perf::LengthProfile::named);
        (
            self.input_tokens
                .or(profile.map(|p| p.mean_input_tokens))
                .unwrap_or(f64::NAN),
            self.output_tokens
                .or(profile.map(|p| p.mean_output_tokens))
                .unwrap_or(f64::NAN),
        )
    }

    fn workload(&self) -> Result<ServingWorkload, Failure> {
        if let Some(name) = &self.profile {
            if perf::LengthProfile::named(name).is_none() {
                let names: Vec<&str> = perf::PROFILES.iter().map(|p| p.name).collect();
                return Err(Failure::Input(format!(
                    "--profile `{name}` is unknown\n  fix: one of {}",
                    names.join(", ")
                )));
            }
        }
        let (input_tokens, output_tokens) = self.lengths();
        engine::infer::checked_workload(&engine::infer::TrafficRequest {
            names: engine::infer::FieldNames::Flags,
            input_tokens,
            output_tokens,
            ttft_slo_s: self.ttft_slo_s,
            tpot_slo_s: self.tpot_slo_s,
            mode: &self.mode,
            disaggregated: self.disaggregated,
            max_batch: self.max_batch,
            slo_percentile: self.slo_percentile,
            draft_tokens: self.draft_tokens,
            acceptance_rate: self.acceptance_rate,
            draft_cost_fraction: self.draft_cost_fraction,
        })
        .map_err(Failure::Input)
    }
}

fn json_text(value: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("results serialize");
    s.push('\n');
    s
}

fn input_error(e: engine::EngineError) -> Failure {
    let engine::EngineError::Invalid(d) = e;
    Failure::Input(d.to_string())
}

pub fn run(cli: &Cli, args: &InferArgs) -> Result<(), Failure> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let text = match &args.command {
        None => {
            let Some(path) = &args.spec else {
                return Err(Failure::Input("gigawatt infer needs a spec\n  fix: gigawatt infer --spec FILE, or gigawatt infer search --help".into()));
            };
            let text = crate::input::read_input(path, "serving spec")?;
            let result = engine::infer::infer_text(&catalog, &path.display().to_string(), &text)
                .map_err(input_error)?;
            match args.format {
                ListFormat::Json => json_text(&result),
                ListFormat::Table => single_text(&result),
            }
        }
        Some(InferCommand::Search {
            traffic,
            system,
            top,
            format,
        }) => {
            let workload = traffic.workload()?;
            if *top == 0 || *top > 100 {
                return Err(Failure::Input(format!("--top is {top}\n  fix: 1 to 100")));
            }
            let precision =
                engine::train::parse_precision(&traffic.precision).ok_or_else(|| {
                    Failure::Input(format!(
                        "--precision `{}` is unknown\n  fix: bf16, fp8 or fp4",
                        traffic.precision
                    ))
                })?;
            let (model, arch) = traffic.model(&catalog)?;
            let inputs: ServeInputs =
                engine::infer::serve_inputs_for_arch(&catalog, model, arch, system).map_err(
                    |m| Failure::Input(format!("{m}\n  fix: {}", engine::train::lookup_fix(&m))),
                )?;
            engine::infer::check_precision(&inputs, precision).map_err(Failure::Input)?;
            let kv_bytes = traffic.kv_bytes()?;
            let (found, evaluated) = match traffic.shape()? {
                None => engine::infer::infer_search(
                    &catalog, &inputs, precision, kv_bytes, workload, *top,
                ),
                Some(shape) => {
                    // The shipped fit's constants and the reference engine's efficiencies,
                    // as the plain search's results use them.
                    let fit = engine::infer::ServingFit::shipped();
                    let (found, evaluated) = perf::search_traffic_with(
                        &inputs.arch,
                        &inputs.hardware,
                        precision,
                        kv_bytes,
                        &workload,
                        &shape,
                        &fit.constants(),
                        &fit.efficiency_for(engine::infer::REFERENCE_ENGINE),
                        *top,
                    );
                    let results = found
                        .into_iter()
                        .map(|(layout, t)| {
                            let mut r = engine::infer::infer_result(
                                &catalog,
                                &inputs,
                                layout,
                                workload,
                                None,
                                String::new(),
                            );
                            engine::infer::apply_traffic(&mut r, &shape, &t);
                            r
                        })
                        .collect();
                    (results, evaluated)
                }
            };
            if found.is_empty() {
                return Err(Failure::Input(engine::infer::no_layout_message(
                    &catalog, &inputs, precision, kv_bytes, workload, evaluated,
                )));
            }
            match format {
                ListFormat::Json => json_text(&json!({ "evaluated": evaluated, "top": found })),
                ListFormat::Table => format!("{evaluated} layouts evaluated\n") + &table(&found),
            }
        }
        Some(InferCommand::Fleet {
            scenario,
            traffic,
            life_years,
            mean_to_peak,
            peak_to_mean,
            mix,
            format,
            out,
        }) => {
            let workload = traffic.workload()?;
            if !(*life_years >= 0.5 && *life_years <= 30.0) {
                return Err(Failure::Input(format!(
                    "--life-years is {life_years:?}\n  fix: give the years capex is spread over, from 0.5 to 30 (servers are depreciated over 4-6)"
                )));
            }
            let name = scenario
                .clone()
                .unwrap_or_else(|| scenarios::SHIPPED[0].0.to_string());
            let (origin, text) = match scenarios::find(&name) {
                Some((n, t)) if std::fs::metadata(&name).is_err() => {
                    (format!("<shipped>/scenarios/{n}.toml"), t.to_string())
                }
                _ => (
                    name.clone(),
                    crate::input::read_input(
                        std::path::Path::new(&name),
                        "scenario file (or a name from `gigawatt scenarios`)",
                    )?,
                ),
            };
            let plan = engine::plan_text(&catalog, &origin, &text).map_err(input_error)?;
            let precision =
                engine::train::parse_precision(&traffic.precision).ok_or_else(|| {
                    Failure::Input(format!(
                        "--precision `{}` is unknown\n  fix: bf16, fp8 or fp4",
                        traffic.precision
                    ))
                })?;
            if peak_to_mean.is_none() && !(*mean_to_peak > 0.0 && *mean_to_peak <= 1.0) {
                return Err(Failure::Input(format!(
                    "--mean-to-peak is {mean_to_peak:?}\n  fix: the mean load over the peak load the capacity is judged at, above 0 and at most 1 (default {})",
                    engine::capacity::DEFAULT_MEAN_TO_PEAK
                )));
            }
            let mean_to_peak = match peak_to_mean {
                None => *mean_to_peak,
                Some(p) => {
                    1.0 / engine::infer::checked_peak_to_mean(*p, "--peak-to-mean")
                        .map_err(Failure::Input)?
                }
            };
            let shape = traffic.shape()?;
            let kv_bytes = traffic.kv_bytes()?;
            // One model, or each model of the mix with its share.
            let models: Vec<(String, perf::Arch, f64)> = match mix {
                None => {
                    let (model, arch) = traffic.model(&catalog)?;
                    vec![(model, arch, 1.0)]
                }
                Some(text) => {
                    let parsed = engine::infer::parse_mix(text, "--mix").map_err(Failure::Input)?;
                    engine::infer::checked_mix(&catalog, &parsed, "--mix")
                        .map_err(Failure::Input)?
                        .into_iter()
                        .map(|m| {
                            let arch = engine::train::arch_from_catalog(&catalog.models[&m.model]);
                            (m.model, arch, m.share)
                        })
                        .collect()
                }
            };
            let requests: Vec<(engine::capacity::CapacityRequest, f64)> = models
                .iter()
                .map(|(model, arch, share)| {
                    (
                        engine::capacity::CapacityRequest {
                            model,
                            arch,
                            workload,
                            precision,
                            kv_bytes,
                            traffic: shape.as_ref(),
                        },
                        *share,
                    )
                })
                .collect();
            let mut fleet = engine::infer::fleet_serving_mix(
                &catalog,
                &plan,
                &requests,
                *life_years,
                mean_to_peak,
            );
            if mix.is_none() {
                fleet.mix.clear();
            }
            let format = output::format_for(
                *format,
                out.as_deref(),
                FleetFormat::Table,
                &[
                    ("json", FleetFormat::Json),
                    ("csv", FleetFormat::Csv),
                    ("html", FleetFormat::Html),
                    ("htm", FleetFormat::Html),
                ],
            )?;
            let text = match format {
                FleetFormat::Json => json_text(&fleet),
                FleetFormat::Table => fleet_table(&fleet),
                FleetFormat::Csv => report::serving::fleet_csv(&fleet),
                FleetFormat::Html => report::serving::fleet_html(
                    &fleet,
                    &plan,
                    &format!("{precision:?}").to_lowercase(),
                ),
            };
            return output::emit(&text, out.as_deref());
        }
        Some(InferCommand::Validate { format }) => {
            let v = engine::infer::validate_shipped(&catalog).map_err(Failure::Input)?;
            match format {
                ListFormat::Json => json_text(&v),
                ListFormat::Table => {
                    let mut out = String::new();
                    for c in &v.cases {
                        out += &format!(
                            "{:<34} {} measured {} predicted {} error {:+.1}%\n  {}\n",
                            c.id,
                            c.metric,
                            units::fmt_grouped(c.measured, 0),
                            units::fmt_grouped(c.predicted, 0),
                            100.0 * c.error,
                            c.note
                        );
                    }
                    for s in &v.skipped {
                        out += &format!("skipped {:<34} {}\n", s.id, s.reason);
                    }
                    out += &format!(
                        "\n{:<10} {:>5} {:>9} {:>7} {:>7} {:>7} {:>7} {:>22}\n",
                        "family",
                        "cases",
                        "evaluated",
                        "MAE",
                        "median",
                        "p90",
                        "bias",
                        "leave-family-out MAE"
                    );
                    for f in &v.families {
                        out += &format!(
                            "{:<10} {:>5} {:>9} {:>6.1}% {:>6.1}% {:>6.1}% {:>+6.1}% {:>22}\n",
                            f.family,
                            f.cases,
                            f.evaluated,
                            100.0 * f.mean_abs_error,
                            100.0 * f.median_abs_error,
                            100.0 * f.p90_abs_error,
                            100.0 * f.bias,
                            f.leave_family_out_mean_abs_error
                                .map_or("-".to_string(), |e| format!("{:.1}%", 100.0 * e)),
                        );
                    }
                    let fitted = v.cases.len() - v.scale.cases - v.engine_era.cases;
                    out += &format!(
                        "{fitted} cases, mean absolute error {:.1}% out of sample (each family judged with the constants refitted on the others), {:.1}% in sample\n",
                        100.0 * v.leave_family_out_mean_abs_error,
                        100.0 * v.mean_abs_error,
                    );
                    // The older runtimes' tables (their own step factor only) and issue 14's cases, each apart.
                    for apart in [&v.engine_era, &v.scale] {
                        out += &format!(
                            "{}: {} cases, MAE {:.1}%, median {:.1}%, bias {:+.1}%\n",
                            apart.family,
                            apart.cases,
                            100.0 * apart.mean_abs_error,
                            100.0 * apart.median_abs_error,
                            100.0 * apart.bias
                        );
                    }
                    out
                }
            }
        }
    };
    output::emit(&text, None)
}

/// One evaluated spec: the table row, then where a decode step's time goes, the latencies the
/// targets were judged at, and the assumptions behind the figures.
fn single_text(r: &InferResult) -> String {
    let lengths = match &r.traffic {
        Some(t) => format!(
            "traffic `{}` ({} bins, mean {} input, {} output tokens per request)",
            t.profile,
            t.bins.len(),
            fmt_count(t.evaluation.mean_input_tokens),
            fmt_count(t.evaluation.mean_output_tokens)
        ),
        None => format!(
            "{} input, {} output tokens per request",
            fmt_count(r.workload.input_tokens),
            fmt_count(r.workload.output_tokens)
        ),
    };
    let mut out = format!(
        "{} on {} x {}: {lengths}\n\n",
        r.model,
        fmt_count(r.gpus as f64),
        r.system,
    );
    out += &table(std::slice::from_ref(r));
    if !r.feasible {
        return out;
    }
    let d = &r.detail.decode_step;
    let ms = |s: f64| format!("{:.1} ms", 1e3 * s);
    let share = |part: f64| format!("{:.0}%", 100.0 * part / d.step_s.max(f64::MIN_POSITIVE));
    out += &format!("\ndecode step {} at batch {}:", ms(d.step_s), r.batch);
    let compute = [
        ("dense GEMMs", d.dense_gemm_s),
        ("expert GEMMs", d.expert_gemm_s),
        ("KV-cache reads", d.kv_read_s),
        ("attention", d.attention_compute_s),
        ("TP all-reduce", d.tp_comm_s),
        ("pipeline hand-off", d.pp_comm_s),
        ("launches", d.launch_s),
        ("engine (scheduler, per sequence)", d.engine_s),
        ("drafting", d.draft_s),
    ];
    for (name, part) in compute {
        if part > 0.0 {
            out += &format!(" {name} {} ({}),", ms(part), share(part));
        }
    }
    if d.ep_comm_s > 0.0 {
        // Overlapped, the all-to-all shows only where it outlasts the compute it pairs with.
        let shown = (d.step_s - compute.iter().map(|(_, p)| p).sum::<f64>()).max(0.0);
        if r.layout.overlap_ep {
            out += &format!(
                " EP all-to-all {} overlapped with compute, of which {} shows ({}),",
                ms(d.ep_comm_s),
                ms(shown),
                share(shown)
            );
        } else {
            out += &format!(
                " EP all-to-all {} ({}),",
                ms(d.ep_comm_s),
                share(d.ep_comm_s)
            );
        }
    }
    out.pop();
    out += &format!(
        "\nthe weight GEMMs are limited by {}\n",
        if d.gemm_memory_bound {
            "HBM bandwidth"
        } else {
            "matmul throughput"
        }
    );
    if r.workload.disaggregated {
        out += &format!(
            "disaggregated: the prefill pool needs {:.2} GPUs per decode GPU; the per-GPU figures count both pools\n",
            r.detail.prefill_to_decode_ratio
        );
    }
    if r.workload.mode == perf::ServingMode::Server {
        out += &format!(
            "at p{} of the sequences in flight (requests arrive at random): TPOT {}, TTFT {:.0} ms\n",
            r.workload.slo_percentile,
            ms(r.detail.tpot_at_percentile_s),
            1e3 * r.detail.ttft_at_percentile_s
        );
    }
    out += "\nassumptions:\n";
    for a in &r.assumptions {
        out += &format!("  - {a}\n");
    }
    out
}

fn table(results: &[InferResult]) -> String {
    let mut out = format!(
        "  {:>3} {:>3} {:>4} {:>5} {:>6} {:>12} {:>10} {:>9} {:>9} {:>8} {:>8}  {}\n",
        "tp",
        "pp",
        "ep",
        "prec",
        "batch",
        "tokens/s",
        "per GPU",
        "TPOT ms",
        "TTFT ms",
        "KV GiB",
        "wts GiB",
        "feasible"
    );
    for r in results {
        let l = &r.layout;
        // An infeasible layout has no latency: a dash, not `inf`.
        let latency = |seconds: f64, digits: usize| {
            if seconds.is_finite() {
                format!("{:.*}", digits, 1e3 * seconds)
            } else {
                "-".to_string()
            }
        };
        out += &format!(
            "  {:>3} {:>3} {:>4} {:>5} {:>6} {:>12} {:>10} {:>9} {:>9} {:>8.1} {:>8.1}  {}\n",
            l.tp,
            l.pp,
            l.ep,
            format!("{:?}", l.precision).to_lowercase(),
            r.batch,
            fmt_count(r.output_tokens_per_s),
            fmt_count(r.output_tokens_per_s_per_gpu),
            latency(r.tpot_s, 1),
            latency(r.ttft_s, 0),
            r.kv_cache_gib,
            r.weights_gib,
            if r.feasible {
                "yes".to_string()
            } else {
                format!("no: {}", r.reason.clone().unwrap_or_default())
            }
        );
    }
    out
}

fn fleet_table(f: &engine::infer::FleetServing) -> String {
    let mut out = format!(
        "{} serving {} (capex over {} years; capacity at peak load, tokens/day at mean/peak {})\n\n",
        f.scenario, f.model, f.life_years, f.mean_to_peak
    );
    if !f.mix.is_empty() {
        for m in &f.mix {
            out += &format!(
                "  {} ({:.0}% of output tokens):\n",
                m.model,
                100.0 * m.share
            );
            for s in &m.systems {
                out += &match &s.best {
                    Some(b) => format!(
                        "    {:<20} best tp {} pp {} ep {}: {} output tokens/s per accelerator\n",
                        s.system,
                        b.layout.tp,
                        b.layout.pp,
                        b.layout.ep,
                        fmt_count(b.output_tokens_per_s_per_gpu)
                    ),
                    None => format!(
                        "    {:<20} not computed: {}\n",
                        s.system,
                        s.reason.clone().unwrap_or_default()
                    ),
                };
            }
        }
    }
    for s in f.systems.iter().filter(|_| f.mix.is_empty()) {
        match &s.best {
            Some(b) => {
                let precision = s.precision_served.clone().unwrap_or_default();
                let fallback = if precision != s.precision_requested {
                    format!(" (no {} on this chip)", s.precision_requested)
                } else {
                    String::new()
                };
                out += &format!(
                    "  {:<20} best tp {} pp {} ep {} at {precision}{fallback}: {} output tokens/s per accelerator\n",
                    s.system,
                    b.layout.tp,
                    b.layout.pp,
                    b.layout.ep,
                    fmt_count(b.output_tokens_per_s_per_gpu)
                )
            }
            None => {
                out += &format!(
                    "  {:<20} not computed: {}\n",
                    s.system,
                    s.reason.clone().unwrap_or_default()
                )
            }
        }
    }
    out += &format!(
        "\n  {:<8} {:>9} {:>12} {:>16} {:>14} {:>16} {:>12}\n",
        "month", "GW", "accelerators", "tokens/s", "tokens/s/MW", "tokens/day", "$/M tokens"
    );
    let last = f.timeline.last().filter(|r| !r.month.ends_with("-12"));
    for row in f
        .timeline
        .iter()
        .filter(|r| r.month.ends_with("-12"))
        .chain(last)
    {
        out += &format!(
            "  {:<8} {:>9.2} {:>12} {:>16} {:>14} {:>16} {:>12}\n",
            row.month,
            row.facility_gw,
            fmt_count(row.accelerators),
            row.output_tokens_per_s.map_or("unknown".into(), fmt_count),
            row.output_tokens_per_s_per_mw.map_or("-".into(), fmt_count),
            row.output_tokens_per_day.map_or("-".into(), fmt_count),
            row.usd_per_million_output_tokens
                .map_or("-".into(), |c| format!("${c:.3}"))
        );
    }
    out
}
