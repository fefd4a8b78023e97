//! One calibration CSV row into a case: the model, the layout and the measured step time, with
//! every field the table leaves out filled from the row's framework defaults, model facts or
//! `auto`, and each fill stated.

use std::collections::HashMap;

use serde::Serialize;

use crate::arch::Arch;
use crate::step::{Precision, Recompute, Strategy, Workload};
use crate::train::overlap::{MoeRouting, DEFAULT_MOE_IMBALANCE};
use crate::train::precision::{ComponentRecipes, Recipe};
use crate::train::{Framework, RecomputeModules};
use crate::validate::conventions::{measured_step_time_s, Published};
use crate::validate::csv::parse_csv;
use crate::validate::sources::{Family, Sources};

mod case;
mod model;

use case::case_from;

/// The columns a calibration file must have.
pub const COLUMNS: [&str; 28] = [
    "id",
    "source",
    "model_name",
    "layers",
    "hidden",
    "ffn_hidden",
    "heads",
    "kv_heads",
    "seq_len",
    "vocab",
    "num_experts",
    "top_k",
    "gpu_type",
    "num_gpus",
    "tp",
    "pp",
    "dp",
    "cp",
    "ep",
    "virtual_pp",
    "microbatch",
    "global_batch",
    "recompute",
    "sequence_parallel",
    "precision",
    "zero_stage_fsdp",
    "measured_metric",
    "measured_value",
];

/// Hardware generation of a GPU type (the leave-one-generation-out fold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// A100.
    Ampere,
    /// H100, H800, H200.
    Hopper,
    /// B200, B300, GB200, GB300.
    Blackwell,
    /// Anything else.
    Other,
}

impl Generation {
    /// The generation of a GPU type as the calibration files write it.
    pub fn of(gpu_type: &str) -> Generation {
        let g = gpu_type.to_uppercase();
        if g.contains("A100") {
            Generation::Ampere
        } else if g.contains("H100") || g.contains("H800") || g.contains("H200") {
            Generation::Hopper
        } else if ["B200", "B300", "GB200", "GB300"]
            .iter()
            .any(|k| g.contains(k))
        {
            Generation::Blackwell
        } else {
            Generation::Other
        }
    }
}

/// One published run, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Case {
    /// Row id.
    pub id: String,
    /// Source family id.
    pub family: String,
    /// Framework id.
    pub framework: String,
    /// The framework's facts (kernels, overlaps, legality, recompute ladder).
    pub framework_facts: Framework,
    /// GPU type as written in the file.
    pub gpu_type: String,
    /// Hardware generation.
    pub generation: Generation,
    /// The model.
    pub arch: Arch,
    /// The layout (`tp` and `pp` are 0 when `auto_layout`).
    pub strategy: Strategy,
    /// GPUs in the run.
    pub gpus: u32,
    /// TP and PP not published: the fastest layout that fits is taken.
    pub auto_layout: bool,
    /// Recompute not published: the least recompute that fits is taken.
    pub auto_recompute: bool,
    /// Microbatch not published and the framework has no default: the fastest that fits.
    pub auto_microbatch: bool,
    /// Interleaved schedule, chunk count not published: the fastest that fits.
    pub auto_virtual_pp: bool,
    /// Batch, sequence, precision.
    pub workload: Workload,
    /// The measured step time derived from the published figure, s.
    pub measured_step_time_s: f64,
    /// Fields filled by framework defaults, model facts or `auto`, in words.
    pub filled: Vec<String>,
}

/// A row as read: a case, or why it is not one.
#[derive(Debug, Clone)]
pub struct RowRead {
    /// Row id.
    pub id: String,
    /// The file it came from.
    pub file: String,
    /// Source family id (`unknown` when no family matches).
    pub family: String,
    /// GPU type as written.
    pub gpu_type: String,
    /// The case, or the reason it is not evaluated.
    pub outcome: RowOutcome,
}

/// What became of a row.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    /// Evaluable.
    Case(Box<Case>),
    /// Not evaluable: a field the comparison needs is missing or contradictory.
    Refused(String),
    /// Named in the exclusion list (published figures inconsistent with themselves).
    Excluded(String),
}

/// A framework's facts by catalog id.
pub type FrameworkFor<'a> = dyn Fn(&str) -> Option<Framework> + 'a;

/// Reads one calibration file (`file` names it in the output).
pub fn read_rows(
    text: &str,
    file: &str,
    sources: &Sources,
    frameworks: &FrameworkFor<'_>,
) -> Result<Vec<RowRead>, String> {
    let records = parse_csv(text);
    let header = records
        .first()
        .ok_or(format!("{file}: the file is empty"))?;
    let mut index = HashMap::new();
    for name in COLUMNS {
        let at = header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(format!("{file}: no column `{name}`"))?;
        index.insert(name, at);
    }
    for optional in ["peak_flops_assumed_by_source", "notes"] {
        if let Some(at) = header.iter().position(|h| h.trim() == optional) {
            index.insert(optional, at);
        }
    }
    let mut rows = Vec::new();
    for record in records.iter().skip(1).filter(|r| r.len() > 1) {
        let row = Row {
            record,
            index: &index,
        };
        let id = row.get("id").to_string();
        let family = sources.family_of(row.get("source"));
        let outcome = if let Some(reason) = sources.exclusion(&id) {
            RowOutcome::Excluded(reason.to_string())
        } else {
            match family {
                None => RowOutcome::Refused(format!(
                    "source `{}` matches no family in calibration/sources.toml",
                    row.get("source")
                )),
                Some(family) => match case_from(&row, family, sources, frameworks) {
                    Ok(case) => RowOutcome::Case(Box::new(Case {
                        id: id.clone(),
                        ..case
                    })),
                    Err(reason) => RowOutcome::Refused(reason),
                },
            }
        };
        rows.push(RowRead {
            id,
            file: file.to_string(),
            family: family.map_or("unknown".into(), |f| f.id.clone()),
            gpu_type: row.get("gpu_type").to_string(),
            outcome,
        });
    }
    Ok(rows)
}

/// One CSV record with its columns by name.
struct Row<'a> {
    record: &'a [String],
    index: &'a HashMap<&'static str, usize>,
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        self.index
            .get(name)
            .and_then(|&i| self.record.get(i))
            .map_or("", |s| s.trim())
    }

    fn optional(&self, name: &str) -> Result<Option<f64>, String> {
        let text = self.get(name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f64>()
            .map(Some)
            .map_err(|_| format!("`{name}` is `{text}`, not a number"))
    }
}

/// A recompute setting by name (`auto` is `Some(None)`).
pub fn recompute_choice(text: &str) -> Option<Option<Recompute>> {
    match text {
        "none" => Some(Some(Recompute::None)),
        "selective" => Some(Some(Recompute::Selective)),
        "full" => Some(Some(Recompute::Full)),
        "auto" => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hidden_per_node_dispatcher_holds_the_sms_its_recipe_or_default_gives() {
        // HybridEP: what the recipe sets (Megatron-Bridge's performance scripts give 32).
        assert_eq!(
            super::case::dispatcher_sms("hybridep", Some(32), true),
            Some((32.0, "the recipe's moe_hybridep_num_sms"))
        );
        // No recipe figure: HybridEP's own default depends on the job, so none is read.
        assert_eq!(super::case::dispatcher_sms("hybridep", None, true), None);
        // DeepEP: Megatron-Core's default, whatever a HybridEP figure says.
        assert_eq!(
            super::case::dispatcher_sms("deepep", Some(32), true),
            Some((20.0, "Megatron-Core's moe_deepep_num_sms default"))
        );
        // In line, the all-to-all costs its own time and nothing under it.
        assert_eq!(
            super::case::dispatcher_sms("hybridep", Some(32), false),
            None
        );
        assert_eq!(super::case::dispatcher_sms("deepep", None, false), None);
    }

    use super::*;
    use crate::validate::sources::{Exclusion, FlopConvention, ModelFacts};

    fn sources() -> Sources {
        Sources {
            family: vec![Family {
                id: "pub".into(),
                publication: "A publication, Table 1".into(),
                source_prefix: vec!["Pub".into()],
                framework: "fw".into(),
                framework_by_zero: vec![],
                sequence_parallel_with_tp: true,
                microbatch_auto: false,
                interleaved_auto: false,
                framework_note: None,
                flop_convention: FlopConvention::None,
                peak_tflops_assumed: None,
            }],
            model: vec![ModelFacts {
                matches: vec!["llama2".into()],
                vocab: Some(32000.0),
                gated_mlp: Some(true),
                source: "Llama 2 paper".into(),
                ..ModelFacts::default()
            }],
            exclude: vec![Exclusion {
                ids: vec!["bad".into()],
                reason: "inconsistent".into(),
            }],
            ..Sources::default()
        }
    }

    fn csv(rows: &[&str]) -> String {
        format!("{}\n{}\n", COLUMNS.join(","), rows.join("\n"))
    }

    // id,source,model_name,layers,hidden,ffn_hidden,heads,kv_heads,seq_len,vocab,num_experts,
    // top_k,gpu_type,num_gpus,tp,pp,dp,cp,ep,virtual_pp,microbatch,global_batch,recompute,
    // sequence_parallel,precision,zero_stage_fsdp,measured_metric,measured_value
    const ROW: &str = "r1,Pub 2024,LLAMA2-7B,32,4096,11008,32,,4096,,,,H100,8,2,1,,,,,,64,,,fp8,,tokens_per_s_per_gpu,4000";

    #[test]
    fn unknown_fields_are_filled_and_stated() {
        let fw = |id: &str| (id == "fw").then(crate::train::Framework::unrestricted);
        let rows = read_rows(&csv(&[ROW]), "t.csv", &sources(), &fw).unwrap();
        let RowOutcome::Case(case) = &rows[0].outcome else {
            panic!("{:?}", rows[0].outcome)
        };
        assert_eq!(case.arch.vocab, 32000.0);
        assert!(case.arch.gated_mlp);
        // dp = 8 / (2 x 1 x 1) = 4; microbatch from the recipe default; SP with TP 2.
        assert_eq!((case.strategy.dp, case.strategy.microbatch), (4, 1));
        assert!(case.strategy.sequence_parallel && case.auto_recompute && !case.auto_layout);
        assert_eq!(case.workload.precision, Precision::Fp8);
        let filled = case.filled.join("; ");
        for text in [
            "vocab=32000",
            "microbatch=1",
            "recompute=auto",
            "sequence_parallel=y",
        ] {
            assert!(filled.contains(text), "{filled}");
        }
        // 64 x 4096 / (4000 x 8) = 8.192 s.
        assert!((case.measured_step_time_s - 8.192).abs() < 1e-9);
    }

    #[test]
    fn an_unpublished_microbatch_without_a_framework_default_is_searched() {
        let fw = |id: &str| (id == "fw").then(crate::train::Framework::unrestricted);
        let mut srcs = sources();
        srcs.family[0].microbatch_auto = true;
        let published = ROW.replace(",,64,", ",2,64,").replacen("r1", "r2", 1);
        let rows = read_rows(&csv(&[ROW, &published]), "t.csv", &srcs, &fw).unwrap();
        let case = |i: usize| match &rows[i].outcome {
            RowOutcome::Case(case) => case.clone(),
            other => panic!("{other:?}"),
        };
        let searched = case(0);
        assert!(searched.auto_microbatch);
        assert!(searched.filled.join("; ").contains("microbatch auto"));
        // A row that prints its microbatch keeps it.
        let kept = case(1);
        assert!(!kept.auto_microbatch);
        assert_eq!(kept.strategy.microbatch, 2);
        assert!(!kept.filled.join("; ").contains("microbatch"));

        // resolve offers every power of two up to 8 that splits a rank's 64 / 4 = 16
        // sequences evenly (1, 2, 4, 8); predict takes the fastest that fits.
        let hw = crate::reference::h100_sxm();
        let constants = crate::train::ModelConstants::default();
        let candidates = crate::validate::predict::resolve(&searched, &hw, &constants).unwrap();
        let mut microbatches: Vec<u32> = candidates.iter().map(|s| s.microbatch).collect();
        microbatches.dedup();
        assert_eq!(microbatches, vec![1, 2, 4, 8]);
        let best = crate::validate::predict::predict(&searched, &hw, &candidates, &constants);
        for s in &candidates {
            let e =
                crate::train::evaluate_with(&searched.arch, &hw, s, &searched.workload, &constants);
            assert!(!e.feasible || e.step_time_s >= best.evaluation.step_time_s);
        }
    }

    #[test]
    fn an_interleaved_run_without_its_chunk_count_tries_every_count() {
        let fw = |id: &str| (id == "fw").then(crate::train::Framework::unrestricted);
        let mut srcs = sources();
        srcs.family[0].interleaved_auto = true;
        // TP 2 x PP 2 on 8 GPUs: DP 2, 64 / 2 = 32 microbatches (a multiple of PP 2), 32 / 2
        // = 16 layers per stage, so 2, 4, 8 and 16 chunks per stage.
        let row = ROW.replace(",8,2,1,", ",8,2,2,");
        let rows = read_rows(&csv(&[&row]), "t.csv", &srcs, &fw).unwrap();
        let RowOutcome::Case(case) = &rows[0].outcome else {
            panic!("{:?}", rows[0].outcome)
        };
        assert!(case.auto_virtual_pp);
        assert!(case.filled.join("; ").contains("virtual_pp auto"));
        let hw = crate::reference::h100_sxm();
        let constants = crate::train::ModelConstants::default();
        let candidates = crate::validate::predict::resolve(case, &hw, &constants).unwrap();
        let mut chunks: Vec<u32> = candidates.iter().map(|s| s.virtual_pp).collect();
        chunks.sort_unstable();
        chunks.dedup();
        assert_eq!(chunks, vec![2, 4, 8, 16]);
    }

    #[test]
    fn rows_are_refused_or_excluded_with_the_reason() {
        let fw = |id: &str| (id == "fw").then(crate::train::Framework::unrestricted);
        let no_batch = ROW.replace(",64,,,fp8", ",,,,fp8").replacen("r1", "r2", 1);
        let bad_layout = ROW.replace(",8,2,1,", ",9,2,1,").replacen("r1", "r3", 1);
        let excluded = ROW.replacen("r1", "bad", 1);
        let unknown = ROW.replace("Pub 2024", "Elsewhere").replacen("r1", "r4", 1);
        let text = csv(&[&no_batch, &bad_layout, &excluded, &unknown]);
        let rows = read_rows(&text, "t.csv", &sources(), &fw).unwrap();
        let reason = |i: usize| match &rows[i].outcome {
            RowOutcome::Refused(r) | RowOutcome::Excluded(r) => r.clone(),
            RowOutcome::Case(_) => String::new(),
        };
        assert!(
            reason(0).contains("`global_batch` is not published"),
            "{}",
            reason(0)
        );
        assert!(
            reason(1).contains("not a whole data-parallel size"),
            "{}",
            reason(1)
        );
        assert!(matches!(rows[2].outcome, RowOutcome::Excluded(_)));
        assert!(reason(3).contains("matches no family"), "{}", reason(3));
        assert!(read_rows("id,source\nx,y\n", "t.csv", &sources(), &fw)
            .unwrap_err()
            .contains("no column `model_name`"));
    }
}
