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

/// A cited document. The provenance keys are those of a catalog `[[source]]` (catalog/README.md):
/// optional here, but a source that gives `read` must also give the `excerpt` it read and the
/// `publisher`, and an `excerpt` needs the `read` date.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSource {
    /// Id cited by the facts.
    pub id: String,
    /// Title.
    pub title: String,
    /// Where it was read.
    pub url: String,
    /// Publication date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// What kind of source it is (the catalog's source kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::SourceKind>,
    /// Who published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The date it was read, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// A short quotation that carries the fact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The page the original was read through, when it could not be read directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_via: Option<String>,
}

impl EngineSource {
    /// Checks the provenance keys: dates in the catalog's form, and `read`, `excerpt` and
    /// `publisher` given together.
    fn check(&self) -> Result<(), String> {
        let at = |field: &str| format!("engines.toml: source `{}`: `{field}`", self.id);
        if let Some(date) = &self.date {
            if !crate::history::is_date(date) {
                return Err(format!(
                    "{} = \"{date}\" is not YYYY, YYYY-MM or YYYY-MM-DD",
                    at("date")
                ));
            }
        }
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
        match (&self.read, filled(&self.excerpt)) {
            (Some(read), true) => {
                if read.len() != 10 || !crate::history::is_date(read) {
                    return Err(format!(
                        "{} = \"{read}\" is not YYYY-MM-DD (the day it was read)",
                        at("read")
                    ));
                }
                if !filled(&self.publisher) {
                    return Err(format!(
                        "{} is missing: name who published what was read",
                        at("publisher")
                    ));
                }
            }
            (Some(_), false) => {
                return Err(format!(
                    "{} is missing: quote the line that carries the fact, or drop `read`",
                    at("excerpt")
                ))
            }
            (None, true) => {
                return Err(format!(
                    "{} is missing: give the day the excerpt was read",
                    at("read")
                ))
            }
            (None, false) => {}
        }
        Ok(())
    }

    /// Whether the source records what was read, when and from whom (`read`, `excerpt`,
    /// `publisher`), as the catalog's complete sources do.
    pub fn is_complete(&self) -> bool {
        self.read.is_some() && self.excerpt.is_some() && self.publisher.is_some()
    }
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
        for source in &file.source {
            source.check()?;
        }
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
    fn every_shipped_engine_source_was_read_and_quoted() {
        let e = Engines::parse(ENGINES_TOML).unwrap();
        for (id, source) in &e.sources {
            assert!(
                source.is_complete(),
                "{id} lacks read, excerpt or publisher"
            );
        }
    }

    #[test]
    fn provenance_keys_are_checked() {
        // The shipped file with `src-vllm-engine-args` stripped of its provenance keys and
        // `extra` put in their place.
        let with = |extra: &str| {
            let text = ENGINES_TOML;
            let start = text.find("id = \"src-vllm-engine-args\"").unwrap();
            let end = start + text[start..].find("\n\n").unwrap();
            let block: String = text[start..end]
                .lines()
                .filter(|l| {
                    ![
                        "read =",
                        "excerpt =",
                        "publisher =",
                        "read_via =",
                        "kind =",
                        "date =",
                    ]
                    .iter()
                    .any(|k| l.starts_with(k))
                })
                .collect::<Vec<_>>()
                .join("\n");
            format!("{}{block}\n{extra}{}", &text[..start], &text[end..])
        };
        assert!(Engines::parse(&with("kind = \"vendor-spec\"")).is_ok());
        let err = Engines::parse(&with("read = \"2026-12-02\"")).unwrap_err();
        assert!(err.contains("`excerpt` is missing"), "{err}");
        let err = Engines::parse(&with("excerpt = \"--max-num-seqs\"")).unwrap_err();
        assert!(err.contains("`read` is missing"), "{err}");
        let err = Engines::parse(&with(
            "read = \"2026-12\"\nexcerpt = \"x\"\npublisher = \"vLLM\"",
        ))
        .unwrap_err();
        assert!(err.contains("is not YYYY-MM-DD"), "{err}");
        let err = Engines::parse(&with("read = \"2026-12-02\"\nexcerpt = \"x\"")).unwrap_err();
        assert!(err.contains("`publisher` is missing"), "{err}");
        let err = Engines::parse(&with("date = \"Dec 2026\"")).unwrap_err();
        assert!(err.contains("`date`"), "{err}");
    }

    #[test]
    fn a_dangling_source_is_refused() {
        let text = ENGINES_TOML.replace("source = \"src-vllm-engine-args\"", "source = \"nope\"");
        assert!(Engines::parse(&text).unwrap_err().contains("`nope`"));
    }
}
