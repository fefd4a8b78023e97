//! Catalog entry types, as written in the data files (see `catalog/README.md`).

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::precision::MatmulTable;
use crate::Sourced;

/// Where a source's number comes from, weakest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Datasheet, vendor documentation or technical blog.
    VendorSpec,
    /// Announcement, press release, executive statement, earnings call.
    CompanyStatement,
    /// SEC or other regulatory filing.
    Filing,
    /// Government statistics (EIA and the like).
    Government,
    /// An analyst's estimate.
    AnalystEstimate,
    /// Reporting.
    Press,
    /// A compiled community reference.
    CommunityReference,
    /// Arithmetic on other sources, named in the note.
    Derived,
    /// Wiki, aggregator: the weakest kind.
    Secondary,
    /// Given by the user (scenario file or command line), not from the catalog.
    UserInput,
    /// Official statistics (a statistics agency, a regulator's data), read at the agency.
    OfficialStatistics,
    /// Original reporting by the outlet that did it (Reuters, Bloomberg, WSJ, FT, The
    /// Information), read at that outlet or through a named page (`read_via`).
    PrimaryPress,
    /// An analyst's estimate or model (Epoch AI, SemiAnalysis, a bank's note).
    Analyst,
    /// A page that summarises or re-publishes others' reporting: the weakest kind.
    Aggregator,
}

impl SourceKind {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::VendorSpec => "vendor-spec",
            SourceKind::CompanyStatement => "company-statement",
            SourceKind::Filing => "filing",
            SourceKind::Government => "government",
            SourceKind::AnalystEstimate => "analyst-estimate",
            SourceKind::Press => "press",
            SourceKind::CommunityReference => "community-reference",
            SourceKind::Derived => "derived",
            SourceKind::Secondary => "secondary",
            SourceKind::UserInput => "user-input",
            SourceKind::OfficialStatistics => "official-statistics",
            SourceKind::PrimaryPress => "primary-press",
            SourceKind::Analyst => "analyst",
            SourceKind::Aggregator => "aggregator",
        }
    }
}

/// A document a number came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Title of the document.
    pub title: String,
    /// Where it was read.
    pub url: String,
    /// Publication date (or date read): `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: Spanned<String>,
    /// What kind of source it is.
    pub kind: SourceKind,
    /// Who published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// What was taken from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The date it was read, `YYYY-MM-DD` (then `date` is the publication date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Spanned<String>>,
    /// A short quotation from the document that carries the figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The page the original was read through, when it could not be read directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_via: Option<String>,
}

/// One accelerator package (a GPU, TPU chip or ASIC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Marketing name.
    pub name: String,
    /// Who makes it.
    pub vendor: String,
    /// Dense (no 2:4 sparsity) peak BF16 tensor TFLOP/s.
    pub bf16_dense_tflops: Sourced<f64>,
    /// Dense peak FP8 TFLOP/s.
    pub fp8_dense_tflops: Sourced<f64>,
    /// Dense peak FP4 TFLOP/s.
    pub fp4_dense_tflops: Sourced<f64>,
    /// On-package memory in GiB.
    pub hbm_gib: Sourced<f64>,
    /// Memory bandwidth in TB/s.
    pub hbm_tb_per_s: Sourced<f64>,
    /// Measured achievable memory bandwidth (a stream benchmark), TB/s, where published; the
    /// serving model streams no faster. Absent: only the fitted streaming efficiency applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hbm_measured_tb_per_s: Option<Sourced<f64>>,
    /// Package power in watts.
    pub tdp_w: Sourced<f64>,
    /// Streaming multiprocessors the product enables (NVIDIA GPUs): what a communication
    /// kernel's reserved SMs are a share of (the training model's userbuffers cost). Absent:
    /// not an NVIDIA GPU or not published; the training model then takes the GH100's 132.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming_multiprocessors: Option<Sourced<f64>>,
    /// Legacy key: measured maximum achievable dense BF16 matmul TFLOP/s (MAMF). Files may
    /// still write it; the loader moves it into `matmul.bf16.ceiling_tflops`, and after loading
    /// it mirrors that ceiling when it is a measurement. New code: [`Accelerator::matmul_ceiling`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16_mamf_tflops: Option<Sourced<f64>>,
    /// Legacy key: measured FP8 (per-tensor scaled) MAMF; as `bf16_mamf_tflops`, for
    /// `matmul.fp8.ceiling_tflops`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_mamf_tflops: Option<Sourced<f64>>,
    /// Per-precision peaks and matmul ceilings (`[accelerator.matmul.<precision>]`).
    #[serde(default)]
    pub matmul: MatmulTable,
}

/// What is bought and racked: a node or a rack of accelerators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Marketing name.
    pub name: String,
    /// The accelerator id.
    pub accelerator: Spanned<String>,
    /// Accelerator packages per system.
    pub accelerators_per_system: Sourced<f64>,
    /// Accelerators in one scale-up (NVLink, xGMI, ICI, NeuronLink) domain.
    pub scale_up_domain: Sourced<f64>,
    /// Scale-up bandwidth per accelerator, GB/s, bidirectional as vendors quote it.
    pub scale_up_gb_per_s: Sourced<f64>,
    /// Scale-out NIC bandwidth per accelerator, Gb/s.
    pub scale_out_gbit_per_s: Sourced<f64>,
    /// Oversubscription of the scale-out fabric above the leaf switches (downlink / uplink
    /// bandwidth, 1 = non-blocking as in NVIDIA's rail-optimised reference designs); traffic that
    /// leaves a scale-up domain runs at the NIC rate divided by it. Absent: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out_oversubscription: Option<Sourced<f64>>,
    /// Coherent CPU-GPU link bandwidth per accelerator, GB/s, bidirectional as vendors quote
    /// it (GB200's NVLink-C2C: 900 GB/s per Grace, shared by its two GPUs). Absent: the host
    /// is reached over PCIe only, and serving never streams weights from host memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link_gb_per_s: Option<Sourced<f64>>,
    /// All-reduce algorithm bandwidth per accelerator, GB/s (bytes each rank contributes over
    /// the collective's time), that the scale-up switches' in-network reduction reaches (NVLink
    /// SHARP, which NCCL uses for all-reduce by default where the switch has it), measured.
    /// Absent: no in-switch reduction is known for the system, and all-reduces run as rings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvls_all_reduce_gb_per_s: Option<Sourced<f64>>,
    /// IT power per system at full load, kW.
    pub it_power_kw: Sourced<f64>,
    /// Purchase price per system (hardware), USD.
    pub price_usd: Sourced<f64>,
    /// First customer availability.
    pub first_available: Sourced<String>,
    /// How the racks are cooled, which picks the PUE a plan uses (`facility.pue` for liquid,
    /// `facility.pue_air` for air). Absent means liquid: the catalog's systems for new AI
    /// builds are, and the air-cooled 8-GPU boxes say `cooling = "air"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooling: Option<Spanned<Cooling>>,
}

/// How a system is cooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cooling {
    /// Direct-to-chip liquid cooling (rack-scale systems).
    Liquid,
    /// Air-cooled servers.
    Air,
}

impl Cooling {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Cooling::Liquid => "liquid",
            Cooling::Air => "air",
        }
    }
}

/// Facility and economic defaults for planning; every field may be replaced by a later file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityDefaults {
    /// Facility power / IT power, liquid-cooled AI builds.
    pub pue: Option<Sourced<f64>>,
    /// Facility power / IT power, air-cooled builds.
    pub pue_air: Option<Sourced<f64>>,
    /// Share of critical IT power drawn by IT other than the accelerator racks: scale-out
    /// network, storage, CPU and management nodes.
    pub non_accelerator_it_share: Option<Sourced<f64>>,
    /// Share of critical IT capacity held back from load: design margin between the power a
    /// site is built for and the IT it is filled with.
    pub design_headroom: Option<Sourced<f64>>,
    /// Critical IT power per GW named in a contract whose basis the parties did not state.
    pub contracted_it_fraction: Option<Sourced<f64>>,
    /// Facility capex (building, power, cooling; no IT) per MW of facility power, USD.
    pub capex_usd_per_mw: Option<Sourced<f64>>,
    /// Months from breaking ground to power-on.
    pub build_months: Option<Sourced<f64>>,
    /// Months from a site's first systems online to all of them (quick plans' default ramp).
    pub ramp_months: Option<Sourced<f64>>,
    /// Electricity price, USD per kWh.
    pub electricity_usd_per_kwh: Option<Sourced<f64>>,
    /// Average IT power drawn / nameplate IT power.
    pub utilization: Option<Sourced<f64>>,
    /// Networking capex as a fraction of systems capex.
    pub networking_capex_fraction: Option<Sourced<f64>>,
    /// Non-energy opex per year as a fraction of cumulative capex.
    pub other_opex_fraction_per_year: Option<Sourced<f64>>,
    /// The accelerator that H100-equivalents are counted in.
    pub reference_accelerator: Option<Spanned<String>>,
}

/// Where a deal stands, as publicly reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DealStatus {
    /// Announced; binding terms not public.
    Announced,
    /// Definitive, binding agreement.
    Binding,
    /// Binding and being delivered.
    InForce,
    /// Reported stalled.
    Stalled,
    /// Replaced by another arrangement.
    Replaced,
    /// Cancelled.
    Cancelled,
}

impl DealStatus {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Announced => "announced",
            DealStatus::Binding => "binding",
            DealStatus::InForce => "in-force",
            DealStatus::Stalled => "stalled",
            DealStatus::Replaced => "replaced",
            DealStatus::Cancelled => "cancelled",
        }
    }
}

/// A compute deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deal {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Name in words.
    pub name: String,
    /// Who buys compute.
    pub buyer: String,
    /// Who sells or supplies it.
    pub seller: String,
    /// When it was announced.
    pub announced: Sourced<String>,
    /// Capacity named in the deal, GW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_gw: Option<Sourced<f64>>,
    /// What `power_gw` measures; required when it is a known value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_basis: Option<Spanned<crate::GwBasis>>,
    /// The kind of party selling capacity, for odds from the record (`hyperscaler`,
    /// `neocloud`, `chip-vendor`, `joint-venture`, `self-build`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_type: Option<crate::CounterpartyType>,
    /// What the buyer commits to pay, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_value_usd: Option<Sourced<f64>>,
    /// Investment flowing the other way, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investment_usd: Option<Sourced<f64>>,
    /// When the first capacity is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_capacity: Option<Sourced<String>>,
    /// Catalog systems named in the deal.
    #[serde(default)]
    pub systems: Vec<Spanned<String>>,
    /// Hardware in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    /// How the deal works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure: Option<String>,
    /// Status as publicly reported.
    pub status: DealStatus,
    /// When that status was reported; its source backs the status.
    pub status_as_of: Sourced<String>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_note: Option<String>,
}

/// A decoder-only transformer architecture, dense or mixture-of-experts.
///
/// An architecture comes from one configuration file or paper table, so one `source` covers
/// every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelArch {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Name.
    pub name: String,
    /// The source of every field.
    pub source: Spanned<String>,
    /// Transformer layers.
    pub layers: u32,
    /// Model width.
    pub hidden: u32,
    /// Dense MLP width.
    pub ffn_hidden: u32,
    /// Attention (query) heads.
    pub heads: u32,
    /// Key/value heads (GQA when fewer than `heads`).
    pub kv_heads: u32,
    /// Per-head width, when it is not hidden / heads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u32>,
    /// Vocabulary size.
    pub vocab: u32,
    /// Gated MLP (SwiGLU): three matrices instead of two.
    pub gated_mlp: bool,
    /// Input and output embeddings shared.
    pub tied_embeddings: bool,
    /// Routed experts (0: dense).
    #[serde(default)]
    pub experts: u32,
    /// Experts each token is routed to.
    #[serde(default)]
    pub top_k: u32,
    /// Width of each expert's MLP.
    #[serde(default)]
    pub moe_ffn_hidden: u32,
    /// Always-active shared experts (of width `moe_ffn_hidden`).
    #[serde(default)]
    pub shared_experts: u32,
    /// Leading layers with a dense MLP instead of experts.
    #[serde(default)]
    pub dense_layers: u32,
    /// MLA: query low-rank width (0: none).
    #[serde(default)]
    pub q_lora_rank: u32,
    /// MLA: compressed key/value width (0: not MLA).
    #[serde(default)]
    pub kv_lora_rank: u32,
    /// MLA: per-head query/key width without rotary part.
    #[serde(default)]
    pub qk_nope_head_dim: u32,
    /// MLA: per-head rotary width.
    #[serde(default)]
    pub qk_rope_head_dim: u32,
    /// MLA: per-head value width.
    #[serde(default)]
    pub v_head_dim: u32,
    /// Sliding-window attention: the band, in tokens, of the layers that attend over it only
    /// (0: every layer attends over the whole sequence).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sliding_window: u32,
    /// How many layers attend over `sliding_window` only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sliding_window_layers: u32,
    /// Biases on the routed experts' linear layers (GPT-OSS).
    #[serde(default, skip_serializing_if = "is_false")]
    pub expert_bias: bool,
    /// YaRN rotary scaling factor, at least 1 (GPT-OSS: 32); absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yarn_scaling_factor: Option<f64>,
    /// The routed experts clamp their gated activation's inputs (GPT-OSS's `swiglu_limit`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub glu_clamp: bool,
    /// Each query and key head is normalised before attention (Qwen3).
    #[serde(default, skip_serializing_if = "is_false")]
    pub qk_norm: bool,
    /// The source of the layer facts above (`sliding_window` to `qk_norm`) where `source`, a
    /// configuration file, does not state them (Qwen3's QK-norm is in its modelling code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts_source: Option<Spanned<String>>,
    /// What to know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A model's layer facts that cost a framework passes and launches beyond a plain pre-norm
/// transformer, as a catalog `[[model]]` entry and a `gigawatt train` `[model]` table both give
/// them (the same keys): what [`layer_facts_problem`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerFacts {
    pub layers: u32,
    pub experts: u32,
    pub gated_mlp: bool,
    pub sliding_window: u32,
    pub sliding_window_layers: u32,
    pub expert_bias: bool,
    pub yarn_scaling_factor: Option<f64>,
    pub glu_clamp: bool,
}

impl ModelArch {
    /// This entry's layer facts.
    pub fn layer_facts(&self) -> LayerFacts {
        LayerFacts {
            layers: self.layers,
            experts: self.experts,
            gated_mlp: self.gated_mlp,
            sliding_window: self.sliding_window,
            sliding_window_layers: self.sliding_window_layers,
            expert_bias: self.expert_bias,
            yarn_scaling_factor: self.yarn_scaling_factor,
            glu_clamp: self.glu_clamp,
        }
    }
}

/// What is wrong with a model's layer facts: the field, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct FactProblem {
    pub field: &'static str,
    pub message: String,
    pub hint: &'static str,
}

/// The first inconsistency in `facts`, fields named with `prefix` (`"model."` for a `[model]`
/// table, empty in the catalog, whose diagnostics name the entry).
pub fn layer_facts_problem(facts: &LayerFacts, prefix: &str) -> Option<FactProblem> {
    let p = prefix;
    if facts.sliding_window_layers > facts.layers {
        return Some(FactProblem {
            field: "sliding_window_layers",
            message: format!(
                "`{p}sliding_window_layers` = {} exceeds `{p}layers` = {}",
                facts.sliding_window_layers, facts.layers
            ),
            hint: "count the layers that attend over the band only, at most every layer",
        });
    }
    if (facts.sliding_window == 0) != (facts.sliding_window_layers == 0) {
        let field = if facts.sliding_window == 0 {
            "sliding_window"
        } else {
            "sliding_window_layers"
        };
        return Some(FactProblem {
            field,
            message: format!(
                "`{p}sliding_window` and `{p}sliding_window_layers` go together: the window in tokens and how many layers use it"
            ),
            hint: "give both (GPT-OSS: 128 tokens on 18 of 36 layers) or neither",
        });
    }
    if (facts.expert_bias || facts.glu_clamp) && facts.experts == 0 {
        let field = if facts.expert_bias {
            "expert_bias"
        } else {
            "glu_clamp"
        };
        return Some(FactProblem {
            field,
            message: format!("`{p}{field}` describes the routed experts, and `{p}experts` is 0"),
            hint: "set experts (with top_k and moe_ffn_hidden) or drop it",
        });
    }
    if facts.glu_clamp && !facts.gated_mlp {
        return Some(FactProblem {
            field: "glu_clamp",
            message: format!(
                "`{p}glu_clamp` clamps a gated activation's inputs, and `{p}gated_mlp` is false"
            ),
            hint: "set gated_mlp = true or drop it",
        });
    }
    let factor = facts.yarn_scaling_factor.unwrap_or(0.0);
    if !factor.is_finite() || (factor != 0.0 && factor < 1.0) {
        return Some(FactProblem {
            field: "yarn_scaling_factor",
            message: format!(
                "`{p}yarn_scaling_factor` = {factor}: YaRN scales the context up, so the factor is at least 1 (GPT-OSS: 32)"
            ),
            hint: "leave it out for no scaling",
        });
    }
    None
}

#[cfg(test)]
mod layer_facts_tests {
    use super::*;

    #[test]
    fn each_inconsistency_names_its_field() {
        let gpt_oss = LayerFacts {
            layers: 36,
            experts: 128,
            gated_mlp: true,
            sliding_window: 128,
            sliding_window_layers: 18,
            expert_bias: true,
            yarn_scaling_factor: Some(32.0),
            glu_clamp: true,
        };
        assert_eq!(layer_facts_problem(&gpt_oss, ""), None);
        let field = |facts: LayerFacts| layer_facts_problem(&facts, "model.").unwrap().field;
        assert_eq!(
            field(LayerFacts {
                sliding_window_layers: 37,
                ..gpt_oss
            }),
            "sliding_window_layers"
        );
        assert_eq!(
            field(LayerFacts {
                sliding_window: 0,
                ..gpt_oss
            }),
            "sliding_window"
        );
        assert_eq!(
            field(LayerFacts {
                experts: 0,
                ..gpt_oss
            }),
            "expert_bias"
        );
        assert_eq!(
            field(LayerFacts {
                experts: 0,
                expert_bias: false,
                ..gpt_oss
            }),
            "glu_clamp"
        );
        assert_eq!(
            field(LayerFacts {
                gated_mlp: false,
                ..gpt_oss
            }),
            "glu_clamp"
        );
        for bad in [0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                field(LayerFacts {
                    yarn_scaling_factor: Some(bad),
                    ..gpt_oss
                }),
                "yarn_scaling_factor"
            );
        }
        let message = layer_facts_problem(
            &LayerFacts {
                gated_mlp: false,
                ..gpt_oss
            },
            "model.",
        )
        .unwrap()
        .message;
        assert!(message.contains("`model.glu_clamp`") && message.contains("`model.gated_mlp`"));
    }
}
