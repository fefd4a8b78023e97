//! The serving model's fit on published tables: the global constants the roofline does not
//! give (HBM streaming efficiency, kernel launch cost, attention, grouped expert GEMMs, the
//! per-sequence step cost) and one step factor per serving engine, by coordinate descent on
//! coarse grids (the mean |error| is flat near its minimum, so grids are enough). Used in
//! sample on every case and out of sample with one hardware family held out.

use std::collections::BTreeMap;

use perf::{ModelConstants, ServingEfficiency};
use serde::Serialize;

/// The engine every other engine's step factor is relative to (the most rows, on three GPU
/// generations): TensorRT-LLM 1.x. Its factor is 1 by definition.
pub const REFERENCE_ENGINE: &str = "tensorrt-llm";

/// The engine family a published row's engine text names (versions with a different runtime
/// kept apart: TensorRT-LLM 0.6's static-batching session benchmark is not its 1.x runtime).
pub fn engine_key(engine: &str) -> &'static str {
    let e = engine.to_lowercase();
    if e.contains("0.6.1") || e.contains("gptsession") {
        "tensorrt-llm-0.6"
    } else if e.contains("v0.10") || e.contains("2024 build") {
        // TensorRT-LLM's 2024 TensorRT-engine runtime with in-flight batching: its v0.10 perf
        // tables, and NVIDIA's MLPerf Inference v4.0 / v4.1 submissions, which ran builds of
        // February and mid 2024 (the 1.x PyTorch runtime the reference tables measure came a
        // year later).
        "tensorrt-llm-2024"
    } else if e.contains("tensorrt") {
        REFERENCE_ENGINE
    } else if e.contains("vllm") {
        "vllm"
    } else if e.contains("sglang") {
        "sglang"
    } else if e.contains("deepseek") {
        "deepseek"
    } else {
        "other"
    }
}

/// The shipped efficiencies for an engine family (the global ones for the reference engine
/// and for engines without published tables here).
pub fn engine_efficiency(key: &str) -> ServingEfficiency {
    ServingFit::shipped().efficiency_for(key)
}

/// The share of memory an engine family lets the model use (`memory_fraction` in
/// catalog/engines.toml for the family's catalog id; 1 where the catalog states none). Read once.
pub fn engine_memory_fraction(key: &str) -> f64 {
    static FRACTIONS: std::sync::OnceLock<BTreeMap<String, f64>> = std::sync::OnceLock::new();
    let fractions = FRACTIONS.get_or_init(|| {
        catalog::engines::Engines::embedded()
            .engines
            .iter()
            .filter_map(|(id, e)| {
                let f = e
                    .memory_fraction
                    .as_ref()
                    .and_then(|m| m.value())
                    .copied()?;
                Some((id.clone(), f))
            })
            .collect()
    });
    fractions.get(key).copied().unwrap_or(1.0)
}

/// Engine families' own (step factor, per-sequence cost in s) fitted on every shipped case.
const SHIPPED_ENGINE_FACTORS: [(&str, f64, f64); 3] = [
    ("tensorrt-llm-0.6", 1.075, 5e-6),
    ("tensorrt-llm-2024", 1.225, 25e-6),
    ("vllm", 1.175, 25e-6),
];

/// Engine families that inform only their own step factor, never the global constants nor the
/// serving headline: an older runtime's tables (TensorRT-LLM's 2024 TensorRT-engine runtime,
/// its v0.10 table) measure that runtime, so today's reference engine is fitted without them,
/// and `gigawatt infer validate` reports them apart (`engine_era`).
pub const ERA_FAMILIES: [&str; 1] = ["tensorrt-llm-2024"];

/// Achieved HBM fraction in serving, fitted on every shipped case (at the top of its grid, which
/// stops at BabelStream's measured 89% on H100).
pub const SHIPPED_MEMORY_EFFICIENCY: f64 = 0.9;
/// Fixed cost of each decode kernel in serving (launch gap, ramp and tail of a kernel too
/// small to fill the GPU), fitted on every shipped case, s.
pub const SHIPPED_KERNEL_OVERHEAD_S: f64 = 10e-6;
/// Scale-up collective residual in serving, fitted on every shipped case, s: what an EP
/// all-to-all, a pipeline hop, or a tensor-parallel all-reduce too large for the one-shot
/// kernel pays per call. Small all-reduces (latency-bound decode) pay only the sourced
/// one-shot latency (`perf::one_shot_allreduce_latency_s`), so this no longer sets a batch-1
/// step; the grid reaches 0 and past this value.
pub const SHIPPED_SCALE_UP_LATENCY_S: f64 = 64e-6;

/// A fit: the global constants and the engines' step factors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServingFit {
    /// Achieved fraction of HBM bandwidth.
    pub memory_efficiency: f64,
    /// Fixed cost per kernel launch, s.
    pub kernel_overhead_s: f64,
    /// Fixed cost per collective on the scale-up link (TP all-reduces, EP all-to-alls), s.
    pub scale_up_latency_s: f64,
    /// The engine-independent efficiencies (`engine_step_factor` 1).
    pub efficiency: ServingEfficiency,
    /// Each engine family's own step factor and per-sequence cost; absent: the global values
    /// (factor 1).
    pub engine_step_factors: BTreeMap<String, EngineFit>,
}

/// One engine family's fitted figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineFit {
    /// Multiplies the step's kernel time.
    pub step_factor: f64,
    /// Work per sequence per step outside the kernels, s.
    pub per_sequence_step_s: f64,
}

impl ServingFit {
    /// The shipped defaults.
    pub fn shipped() -> ServingFit {
        ServingFit {
            memory_efficiency: SHIPPED_MEMORY_EFFICIENCY,
            kernel_overhead_s: SHIPPED_KERNEL_OVERHEAD_S,
            scale_up_latency_s: SHIPPED_SCALE_UP_LATENCY_S,
            efficiency: ServingEfficiency::default(),
            engine_step_factors: SHIPPED_ENGINE_FACTORS
                .iter()
                .map(|(k, f, p)| {
                    (
                        k.to_string(),
                        EngineFit {
                            step_factor: *f,
                            per_sequence_step_s: *p,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Serving's base constants (`ModelConstants::serving`) with this fit's memory and launch
    /// figures.
    pub fn constants(&self) -> ModelConstants {
        ModelConstants {
            memory_efficiency: self.memory_efficiency,
            kernel_overhead_s: self.kernel_overhead_s,
            scale_up_latency_s: self.scale_up_latency_s,
            ..ModelConstants::serving()
        }
    }

    /// The efficiencies for one engine family: its fitted step factor and per-sequence cost
    /// (the global values where it has none), and its catalog facts (memory share), which hold
    /// whether or not its tables were in the fit.
    pub fn efficiency_for(&self, engine_key: &str) -> ServingEfficiency {
        let facts = ServingEfficiency {
            memory_fraction: engine_memory_fraction(engine_key),
            ..self.efficiency
        };
        match self.engine_step_factors.get(engine_key) {
            Some(e) => ServingEfficiency {
                engine_step_factor: e.step_factor,
                per_sequence_step_s: e.per_sequence_step_s,
                ..facts
            },
            None => facts,
        }
    }
}

/// Something the fit can judge: its error (predicted / measured - 1) under a fit, `None` when
/// the model cannot evaluate it, and its engine family.
pub(super) trait Judged {
    fn error_under(&self, fit: &ServingFit) -> Option<f64>;
    fn engine_key(&self) -> &str;
}

/// Mean |error|, an unevaluated case counting as 100% (so a fit cannot win by dropping cases).
fn loss<T: Judged>(cases: &[&T], fit: &ServingFit) -> f64 {
    let total: f64 = cases
        .iter()
        .map(|c| c.error_under(fit).map_or(1.0, f64::abs))
        .sum();
    total / cases.len().max(1) as f64
}

/// Per-sequence step costs an engine's own fit chooses from, s.
const ENGINE_PER_SEQUENCE_GRID: [f64; 11] = [
    0.0, 2e-6, 5e-6, 10e-6, 15e-6, 20e-6, 25e-6, 30e-6, 35e-6, 40e-6, 60e-6,
];

/// Engines need this many cases in the fitted set for a factor of their own.
const MIN_ENGINE_CASES: usize = 3;

/// Fits on `cases`, from a fixed start.
pub(super) fn fit<T: Judged>(cases: &[&T]) -> ServingFit {
    // A fixed starting point (serving's base constants, no serving efficiencies), so the fit does
    // not depend on the shipped values it is compared with.
    let start = ModelConstants::serving();
    let mut f = ServingFit {
        memory_efficiency: start.memory_efficiency,
        kernel_overhead_s: start.kernel_overhead_s,
        scale_up_latency_s: start.scale_up_latency_s,
        efficiency: ServingEfficiency {
            attention_fraction: start.attention_fraction,
            expert_gemm_efficiency: 1.0,
            per_sequence_step_s: 0.0,
            engine_step_factor: 1.0,
            memory_fraction: 1.0,
            combine_overlaps_down_gemm: false,
        },
        engine_step_factors: BTreeMap::new(),
    };
    type Setter = fn(&mut ServingFit, f64);
    let grids: [(&[f64], Setter); 6] = [
        (
            &[0.0, 4e-6, 8e-6, 16e-6, 24e-6, 32e-6, 48e-6, 64e-6, 96e-6],
            |f, v| f.scale_up_latency_s = v,
        ),
        (&[0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9], |f, v| {
            f.memory_efficiency = v
        }),
        (&[2e-6, 4e-6, 6e-6, 8e-6, 10e-6, 12e-6], |f, v| {
            f.kernel_overhead_s = v
        }),
        (&[0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1.0], |f, v| {
            f.efficiency.attention_fraction = v
        }),
        (&[0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0], |f, v| {
            f.efficiency.expert_gemm_efficiency = v
        }),
        (
            &[
                0.0, 2e-6, 4e-6, 6e-6, 8e-6, 10e-6, 12e-6, 15e-6, 20e-6, 30e-6,
            ],
            |f, v| f.efficiency.per_sequence_step_s = v,
        ),
    ];
    // The global constants are fitted without the older runtimes' tables (`ERA_FAMILIES`).
    let global: Vec<&T> = cases
        .iter()
        .filter(|c| !ERA_FAMILIES.contains(&c.engine_key()))
        .copied()
        .collect();
    for _round in 0..2 {
        for _pass in 0..2 {
            for (grid, set) in &grids {
                let mut best = (f64::INFINITY, f.clone());
                for &v in *grid {
                    let mut g = f.clone();
                    set(&mut g, v);
                    let l = loss(&global, &g);
                    if l < best.0 {
                        best = (l, g);
                    }
                }
                f = best.1;
            }
        }
        // Each engine's own step factor and per-sequence cost (its scheduler), on grids, the
        // reference engine keeping the global values.
        let mut keys: Vec<&str> = cases.iter().map(|c| c.engine_key()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut factors = BTreeMap::new();
        for key in keys.into_iter().filter(|k| *k != REFERENCE_ENGINE) {
            let of_engine: Vec<&T> = cases
                .iter()
                .filter(|c| c.engine_key() == key)
                .copied()
                .collect();
            if of_engine.len() < MIN_ENGINE_CASES {
                continue;
            }
            let mut best = (f64::INFINITY, None);
            for step_factor in (0..=56).map(|i| 0.6 + 0.025 * f64::from(i)) {
                for per_sequence_step_s in ENGINE_PER_SEQUENCE_GRID {
                    let mut g = f.clone();
                    let e = EngineFit {
                        step_factor: (step_factor * 1000.0_f64).round() / 1000.0,
                        per_sequence_step_s,
                    };
                    g.engine_step_factors.insert(key.to_string(), e);
                    let l = loss(&of_engine, &g);
                    if l < best.0 {
                        best = (l, Some(e));
                    }
                }
            }
            if let Some(e) = best.1 {
                factors.insert(key.to_string(), e);
            }
        }
        f.engine_step_factors = factors;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_texts_map_to_their_families() {
        assert_eq!(
            engine_key("TensorRT-LLM (trtllm-bench, PyTorch backend)"),
            "tensorrt-llm"
        );
        assert_eq!(
            engine_key("TensorRT-LLM v0.6.1 (gptSessionBenchmark)"),
            "tensorrt-llm-0.6"
        );
        assert_eq!(
            engine_key("TensorRT-LLM v0.10.0 (gptManagerBenchmark, in-flight batching)"),
            "tensorrt-llm-2024"
        );
        assert_eq!(
            engine_key("TensorRT-LLM 2024 build (NVIDIA's MLPerf v4.0 submission)"),
            "tensorrt-llm-2024"
        );
        // The v4.1 rows of calibration/inference.csv ran TensorRT-LLM 0.11's TensorRT 10.2.0.
        assert_eq!(
            engine_key(
                "TensorRT-LLM 2024 build (NVIDIA's MLPerf v4.1 submission, TensorRT 10.2.0: the 0.11 release's)"
            ),
            "tensorrt-llm-2024"
        );
        assert_eq!(
            engine_key("TensorRT-LLM 1.0 (PyTorch runtime)"),
            "tensorrt-llm"
        );
        assert_eq!(engine_key("vLLM (ROCm) 0.11.1"), "vllm");
        assert_eq!(engine_key("vllm-rocm"), "vllm");
        assert_eq!(engine_key("SGLang"), "sglang");
        assert_eq!(engine_key("DeepSeek's in-house engine"), "deepseek");
    }

    #[test]
    fn an_engine_without_tables_is_costed_as_the_reference() {
        let fit = ServingFit::shipped();
        assert_eq!(fit.efficiency_for("sglang"), fit.efficiency);
        assert_eq!(fit.efficiency_for(REFERENCE_ENGINE), fit.efficiency);
        let vllm = fit.efficiency_for("vllm");
        assert!(vllm.engine_step_factor > 1.0);
        assert_eq!(vllm.attention_fraction, fit.efficiency.attention_fraction);
    }

    /// A case whose error is a known function of the fit: the fit must find its minimum.
    struct Synthetic {
        engine: &'static str,
        best_memory_efficiency: f64,
    }

    impl Judged for Synthetic {
        fn error_under(&self, fit: &ServingFit) -> Option<f64> {
            let factor = fit
                .engine_step_factors
                .get(self.engine)
                .map_or(1.0, |e| e.step_factor);
            Some(fit.memory_efficiency / self.best_memory_efficiency / factor - 1.0)
        }
        fn engine_key(&self) -> &str {
            self.engine
        }
    }

    #[test]
    fn the_fit_finds_a_known_minimum_and_an_engine_factor() {
        // The reference engine's cases are right at 75% of nominal bandwidth; another engine's
        // cases are 1.5x too fast there, which its step factor absorbs.
        let cases: Vec<Synthetic> = (0..9)
            .map(|i| Synthetic {
                engine: if i < 6 { REFERENCE_ENGINE } else { "other" },
                best_memory_efficiency: if i < 6 { 0.75 } else { 0.5 },
            })
            .collect();
        let refs: Vec<&Synthetic> = cases.iter().collect();
        let f = fit(&refs);
        assert_eq!(f.memory_efficiency, 0.75);
        assert_eq!(f.engine_step_factors["other"].step_factor, 1.5);
        assert!(!f.engine_step_factors.contains_key(REFERENCE_ENGINE));
    }
}
