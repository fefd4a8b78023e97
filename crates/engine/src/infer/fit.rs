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

/// The fitted step factor of an engine family (1 for the reference and for engines without
/// published tables here): the fit on every shipped case, printed by
/// `cargo run -p engine --example infer_check`.
pub fn engine_step_factor(key: &str) -> f64 {
    SHIPPED_ENGINE_FACTORS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(1.0, |(_, f)| *f)
}

/// Engine step factors fitted on every shipped case.
const SHIPPED_ENGINE_FACTORS: [(&str, f64); 2] = [("tensorrt-llm-0.6", 1.0), ("vllm", 1.36)];

/// Achieved HBM fraction in serving, fitted on every shipped case (at the top of its grid, which
/// stops at BabelStream's measured 89% on H100).
pub const SHIPPED_MEMORY_EFFICIENCY: f64 = 0.9;
/// Kernel launch cost in serving, fitted on every shipped case, s.
pub const SHIPPED_KERNEL_OVERHEAD_S: f64 = 6e-6;

/// A fit: the global constants and the engines' step factors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServingFit {
    /// Achieved fraction of HBM bandwidth.
    pub memory_efficiency: f64,
    /// Fixed cost per kernel launch, s.
    pub kernel_overhead_s: f64,
    /// The engine-independent efficiencies (`engine_step_factor` 1).
    pub efficiency: ServingEfficiency,
    /// Step factor per engine family; absent: 1.
    pub engine_step_factors: BTreeMap<String, f64>,
}

impl ServingFit {
    /// The shipped defaults.
    pub fn shipped() -> ServingFit {
        ServingFit {
            memory_efficiency: SHIPPED_MEMORY_EFFICIENCY,
            kernel_overhead_s: SHIPPED_KERNEL_OVERHEAD_S,
            efficiency: ServingEfficiency::default(),
            engine_step_factors: SHIPPED_ENGINE_FACTORS
                .iter()
                .map(|(k, f)| (k.to_string(), *f))
                .collect(),
        }
    }

    /// The training constants with this fit's memory and launch figures.
    pub fn constants(&self) -> ModelConstants {
        ModelConstants {
            memory_efficiency: self.memory_efficiency,
            kernel_overhead_s: self.kernel_overhead_s,
            ..ModelConstants::default()
        }
    }

    /// The efficiencies for one engine family.
    pub fn efficiency_for(&self, engine_key: &str) -> ServingEfficiency {
        ServingEfficiency {
            engine_step_factor: self
                .engine_step_factors
                .get(engine_key)
                .copied()
                .unwrap_or(1.0),
            ..self.efficiency
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

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Engines need this many cases in the fitted set for a factor of their own.
const MIN_ENGINE_CASES: usize = 3;

/// Fits on `cases`, starting from the shipped values.
pub(super) fn fit<T: Judged>(cases: &[&T]) -> ServingFit {
    let mut f = ServingFit {
        engine_step_factors: BTreeMap::new(),
        ..ServingFit::shipped()
    };
    type Setter = fn(&mut ServingFit, f64);
    let grids: [(&[f64], Setter); 5] = [
        (&[0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9], |f, v| {
            f.memory_efficiency = v
        }),
        (&[2e-6, 4e-6, 6e-6, 8e-6, 12e-6], |f, v| {
            f.kernel_overhead_s = v
        }),
        (&[0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1.0], |f, v| {
            f.efficiency.attention_fraction = v
        }),
        (&[0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0], |f, v| {
            f.efficiency.expert_gemm_efficiency = v
        }),
        (
            &[0.0, 2e-6, 5e-6, 10e-6, 15e-6, 20e-6, 30e-6, 40e-6],
            |f, v| f.efficiency.per_sequence_step_s = v,
        ),
    ];
    for _round in 0..2 {
        for _pass in 0..2 {
            for (grid, set) in &grids {
                let mut best = (f64::INFINITY, f.clone());
                for &v in *grid {
                    let mut g = f.clone();
                    set(&mut g, v);
                    let l = loss(cases, &g);
                    if l < best.0 {
                        best = (l, g);
                    }
                }
                f = best.1;
            }
        }
        // Each engine's factor: the median of predicted / measured over its cases at factor 1
        // (a step factor divides throughput), the reference engine fixed at 1.
        let mut keys: Vec<&str> = cases.iter().map(|c| c.engine_key()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut factors = BTreeMap::new();
        for key in keys.into_iter().filter(|k| *k != REFERENCE_ENGINE) {
            let of_engine: Vec<&&T> = cases.iter().filter(|c| c.engine_key() == key).collect();
            if of_engine.len() < MIN_ENGINE_CASES {
                continue;
            }
            let mut base = f.clone();
            base.engine_step_factors.remove(key);
            let ratios: Vec<f64> = of_engine
                .iter()
                .filter_map(|c| c.error_under(&base).map(|e| 1.0 + e))
                .collect();
            if let Some(m) = median(ratios) {
                factors.insert(key.to_string(), (m.clamp(0.5, 3.0) * 100.0).round() / 100.0);
            }
        }
        f.engine_step_factors = factors;
    }
    f
}
