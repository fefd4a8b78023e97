//! Serving engines (`catalog/engines.toml`): what each engine supports, cited fact by fact, the
//! serving analogue of training's frameworks. Parsed on its own (its own sources), so the rest
//! of the catalog does not depend on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{nearest, Sourced};

/// The embedded engines file.
pub const ENGINES_TOML: &str = include_str!("../../../catalog/engines.toml");

/// One serving engine and version.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// Id (`vllm`, `sglang`, `tensorrt-llm`, `vllm-rocm`, `sglang-rocm`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The version the facts were read for.
    pub version: String,
    /// `nvidia` or `amd`.
    pub platform: String,
    /// Weight and matmul precisions it serves (`bf16`, `fp8`, `fp4`).
    pub precisions: Sourced<Vec<String>>,
    /// Whether decode steps run as captured CUDA (HIP) graphs.
    pub cuda_graphs: Sourced<bool>,
    /// Whether attention can run data parallel beside expert parallelism.
    pub attention_data_parallel: Sourced<bool>,
    /// The setting that limits the batch (sequences per step).
    pub batch_limit_setting: Sourced<String>,
    /// CPU scheduling cost per decode step, s.
    pub scheduler_overhead_per_step_s: Sourced<f64>,
    /// The share of each accelerator's memory the engine lets weights, activations and the KV
    /// cache take by default (vLLM's `--gpu-memory-utilization`); absent: all of it, less the
    /// serving model's fixed reserve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_fraction: Option<Sourced<f64>>,
}

/// A cited document.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSource {
    /// Id cited by the facts.
    pub id: String,
    /// Title.
    pub title: String,
    /// Where it was read.
    pub url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnginesFile {
    engine: Vec<Engine>,
    source: Vec<EngineSource>,
}

/// The engines catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Engines {
    /// By id.
    pub engines: BTreeMap<String, Engine>,
    /// Sources by id.
    pub sources: BTreeMap<String, EngineSource>,
}

impl Engines {
    /// Parses and checks an engines file: unique ids, every cited source present.
    pub fn parse(text: &str) -> Result<Engines, String> {
        let file: EnginesFile =
            toml::from_str(text).map_err(|e| format!("engines.toml: {}", e.message().trim()))?;
        let sources: BTreeMap<String, EngineSource> =
            file.source.into_iter().map(|s| (s.id.clone(), s)).collect();
        let mut engines = BTreeMap::new();
        for e in file.engine {
            let cited = [
                e.precisions.source(),
                e.cuda_graphs.source(),
                e.attention_data_parallel.source(),
                e.batch_limit_setting.source(),
                e.scheduler_overhead_per_step_s.source(),
                e.memory_fraction.as_ref().and_then(|m| m.source()),
            ];
            for id in cited.into_iter().flatten() {
                if !sources.contains_key(id) {
                    return Err(format!(
                        "engines.toml: engine `{}` cites `{id}`, which is not a [[source]]",
                        e.id
                    ));
                }
            }
            if let Some(list) = e.precisions.value() {
                if let Some(bad) = list
                    .iter()
                    .find(|p| !["bf16", "fp8", "fp4"].contains(&p.as_str()))
                {
                    return Err(format!(
                        "engines.toml: engine `{}` lists precision `{bad}`; use bf16, fp8 or fp4",
                        e.id
                    ));
                }
            }
            if let Some(f) = e.memory_fraction.as_ref().and_then(|m| m.value()) {
                if !(*f > 0.0 && *f <= 1.0) {
                    return Err(format!(
                        "engines.toml: engine `{}` has memory_fraction {f}; use a share in (0, 1]",
                        e.id
                    ));
                }
            }
            let id = e.id.clone();
            if engines.insert(id.clone(), e).is_some() {
                return Err(format!("engines.toml: engine `{id}` appears twice"));
            }
        }
        Ok(Engines { engines, sources })
    }

    /// The shipped engines.
    pub fn embedded() -> Engines {
        Engines::parse(ENGINES_TOML).expect("the shipped engines.toml parses (tested)")
    }

    /// An engine by id, or an error with the nearest id.
    pub fn get(&self, id: &str) -> Result<&Engine, String> {
        self.engines.get(id).ok_or_else(|| {
            match nearest(id, self.engines.keys().map(String::as_str)) {
                Some(near) => format!("unknown engine `{id}`; did you mean `{near}`?"),
                None => format!(
                    "unknown engine `{id}`; the engines are {}",
                    self.engines.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_engines_parse_and_cite_what_they_claim() {
        let e = Engines::parse(ENGINES_TOML).unwrap();
        for id in ["vllm", "sglang", "tensorrt-llm", "vllm-rocm", "sglang-rocm"] {
            assert!(e.engines.contains_key(id), "{id}");
        }
        assert!(e.get("vlm").unwrap_err().contains("did you mean `vllm`"));
        assert_eq!(
            e.engines["vllm-rocm"].precisions.value().unwrap(),
            &["bf16".to_string(), "fp8".to_string()]
        );
    }

    #[test]
    fn vllm_states_its_memory_share_and_a_share_out_of_range_is_refused() {
        let e = Engines::parse(ENGINES_TOML).unwrap();
        let share = |id: &str| {
            e.engines[id]
                .memory_fraction
                .as_ref()
                .and_then(|m| m.value().copied())
        };
        assert_eq!(share("vllm"), Some(0.9));
        assert_eq!(share("vllm-rocm"), Some(0.9));
        assert_eq!(share("tensorrt-llm"), None);
        let text = ENGINES_TOML.replacen(
            "memory_fraction = { value = 0.9",
            "memory_fraction = { value = 1.5",
            1,
        );
        let err = Engines::parse(&text).unwrap_err();
        assert!(
            err.contains("memory_fraction 1.5") && err.contains("(0, 1]"),
            "{err}"
        );
    }

    #[test]
    fn a_dangling_source_is_refused() {
        let text = ENGINES_TOML.replace("source = \"src-vllm-engine-args\"", "source = \"nope\"");
        assert!(Engines::parse(&text).unwrap_err().contains("`nope`"));
    }
}
