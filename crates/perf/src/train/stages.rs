//! How a pipeline splits the layers into stages, as Megatron-Core runs it: `pp x virtual_pp`
//! need not divide the layers; `first_stage_layers` / `last_stage_layers`
//! (`--decoder-first-pipeline-num-layers`, `--decoder-last-pipeline-num-layers`) set the ends
//! and the middle stages share the rest. The embedding lives on the first stage, the output
//! layer and the loss on the last, so by default the ends take fewer layers when the layers do
//! not divide evenly (Llama 3 405B: 126 layers on 16 stages as 7 + 14 x 8 + 7, the split Meta
//! describes).

use serde::Serialize;

/// Layers per pipeline stage (per device, all its virtual chunks together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stages {
    /// Pipeline stages.
    pub pp: u32,
    /// Layers on the first stage (with the embedding).
    pub first: u32,
    /// Layers on the heaviest middle stage (0 when pp <= 2).
    pub middle: u32,
    /// Layers on the lightest middle stage (0 when pp <= 2).
    pub middle_min: u32,
    /// Layers on the last stage (with the output layer and loss); equals `first` when pp = 1.
    pub last: u32,
}

/// Why layers cannot be split so; the field to fix is named in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    /// The spec field at fault (`first_stage_layers`, `last_stage_layers`, `pp`).
    pub field: &'static str,
    /// In words.
    pub message: String,
}

impl Stages {
    /// The largest layer count on any stage.
    pub fn max_layers(&self) -> u32 {
        self.first.max(self.middle).max(self.last)
    }

    /// Whether every stage has the same number of layers.
    pub fn is_even(&self) -> bool {
        let middle_even = self.pp <= 2 || (self.middle == self.middle_min);
        middle_even && self.first == self.last && (self.pp <= 2 || self.first == self.middle)
    }
}

/// Splits `layers` over `pp` stages of `virtual_pp` chunks each. `first` and `last` are the
/// requested end-stage layer counts (0: choose).
pub fn split_layers(
    layers: u32,
    pp: u32,
    virtual_pp: u32,
    first: u32,
    last: u32,
) -> Result<Stages, StageError> {
    let pp = pp.max(1);
    let v = virtual_pp.max(1);
    if pp == 1 {
        if first != 0 || last != 0 {
            let field = if first != 0 {
                "first_stage_layers"
            } else {
                "last_stage_layers"
            };
            return Err(StageError {
                field,
                message: format!("`{field}` needs pp > 1 (one stage holds all {layers} layers)"),
            });
        }
        return Ok(Stages {
            pp,
            first: layers,
            middle: 0,
            middle_min: 0,
            last: layers,
        });
    }
    // Every chunk of every stage needs a layer, except that with interleaving the first chunk
    // may hold only the embedding and the last only the output layer and loss: Megatron-Core
    // counts each as a layer in the split (`--account-for-embedding-in-pipeline-split`,
    // `--account-for-loss-in-pipeline-split`), which is how Megatron-Bridge runs Llama 3.1 405B
    // (126 layers) at PP16 x VPP8 = 128 chunks.
    let end_slack = if v > 1 { 1 } else { 0 };
    if layers + 2 * end_slack < pp * v {
        return Err(StageError {
            field: "pp",
            message: format!(
                "pp x virtual_pp = {} chunks is more than the {layers} layers",
                pp * v
            ),
        });
    }
    for (field, value) in [("first_stage_layers", first), ("last_stage_layers", last)] {
        if value > layers {
            return Err(StageError {
                field,
                message: format!("`{field}` = {value} is more than the {layers} layers"),
            });
        }
    }
    let (first, last) = match (first, last) {
        (0, 0) => default_ends(layers, pp, v),
        (f, 0) => (f, ends_for_one(layers, pp, f)),
        (0, l) => (ends_for_one(layers, pp, l), l),
        (f, l) => (f, l),
    };
    for (field, value) in [("first_stage_layers", first), ("last_stage_layers", last)] {
        if value < v - end_slack {
            return Err(StageError {
                field,
                message: format!(
                    "`{field}` = {value} leaves a virtual chunk without a layer (virtual_pp = {v})"
                ),
            });
        }
    }
    let ends = first + last;
    let middle_stages = pp - 2;
    if ends > layers || (middle_stages == 0 && ends != layers) {
        let message = if middle_stages == 0 {
            format!(
                "first_stage_layers + last_stage_layers = {first} + {last} = {ends}, but with pp = 2 they must add up to the {layers} layers"
            )
        } else {
            format!(
                "first_stage_layers + last_stage_layers = {first} + {last} = {ends} is more than the {layers} layers"
            )
        };
        return Err(StageError {
            field: if first > last {
                "first_stage_layers"
            } else {
                "last_stage_layers"
            },
            message,
        });
    }
    if middle_stages == 0 {
        return Ok(Stages {
            pp,
            first,
            middle: 0,
            middle_min: 0,
            last,
        });
    }
    let rest = layers - ends;
    if rest < middle_stages * v {
        return Err(StageError {
            field: "first_stage_layers",
            message: format!(
                "first_stage_layers + last_stage_layers = {ends} leave {rest} layers for {middle_stages} middle stages of {v} chunks; each chunk needs one"
            ),
        });
    }
    Ok(Stages {
        pp,
        first,
        middle: rest.div_ceil(middle_stages),
        middle_min: rest / middle_stages,
        last,
    })
}

/// Even where the layers divide; otherwise the middle stages take `ceil(layers / pp)` and the
/// two ends share the rest, the first (lighter: an embedding lookup) the larger half.
fn default_ends(layers: u32, pp: u32, v: u32) -> (u32, u32) {
    if layers.is_multiple_of(pp) {
        return (layers / pp, layers / pp);
    }
    let per_middle = layers.div_ceil(pp);
    if pp == 2 {
        return (per_middle, layers - per_middle);
    }
    let middle_total = per_middle * (pp - 2);
    if middle_total + 2 * v <= layers {
        let rest = layers - middle_total;
        let last = rest / 2;
        return (rest - last, last);
    }
    // Too few layers to shorten the ends: spread the remainder over the stages, the ends last.
    let base = layers / pp;
    let extra = layers % pp;
    let middle_extra = extra.min(pp - 2);
    let ends_extra = extra - middle_extra;
    (
        base + u32::from(ends_extra >= 1),
        base + u32::from(ends_extra >= 2),
    )
}

/// The other end's layers when one end is given: the rest shared as evenly as possible.
fn ends_for_one(layers: u32, pp: u32, given: u32) -> u32 {
    let rest = layers.saturating_sub(given);
    rest / (pp - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_when_the_layers_divide() {
        let s = split_layers(96, 8, 1, 0, 0).unwrap();
        assert_eq!((s.first, s.middle, s.last), (12, 12, 12));
        assert!(s.is_even());
    }

    #[test]
    fn llama3_405b_on_16_stages_is_meta_split() {
        // Meta: one layer fewer on the first and the last stage: 7 + 14 x 8 + 7 = 126.
        let s = split_layers(126, 16, 1, 0, 0).unwrap();
        assert_eq!((s.first, s.middle, s.last), (7, 8, 7));
        assert_eq!(s.first + 14 * s.middle + s.last, 126);
    }

    #[test]
    fn deepseek_v3_on_16_stages() {
        // 61 = 3 + 14 x 4 + 2: the heaviest stage has 4 layers.
        let s = split_layers(61, 16, 1, 0, 0).unwrap();
        assert_eq!(s.max_layers(), 4);
        assert_eq!(s.first + 14 * s.middle + s.last, 61);
    }

    #[test]
    fn explicit_ends_must_add_up() {
        let s = split_layers(126, 16, 1, 7, 7).unwrap();
        assert_eq!(s.middle, 8);
        let e = split_layers(80, 2, 1, 30, 30).unwrap_err();
        assert!(e.message.contains("add up"), "{}", e.message);
        let e = split_layers(80, 4, 1, 50, 40).unwrap_err();
        assert_eq!(e.field, "first_stage_layers");
        let e = split_layers(80, 1, 1, 4, 0).unwrap_err();
        assert_eq!(e.field, "first_stage_layers");
    }

    #[test]
    fn middle_stages_may_be_uneven() {
        // 80 - 10 - 10 = 60 over 7 middle stages: 9 at most, 8 at least.
        let s = split_layers(80, 9, 1, 10, 10).unwrap();
        assert_eq!((s.middle, s.middle_min), (9, 8));
    }

    #[test]
    fn too_many_chunks_is_an_error() {
        assert_eq!(split_layers(8, 4, 4, 0, 0).unwrap_err().field, "pp");
        // 126 layers + embedding + loss = 128 slots: PP16 x VPP8 fits, VPP9 (144 chunks) does not.
        assert_eq!(split_layers(126, 16, 9, 0, 0).unwrap_err().field, "pp");
    }

    #[test]
    fn interleaved_ends_may_hold_only_the_embedding_and_the_loss() {
        // Megatron-Bridge's Llama 3.1 405B on GB200: 126 layers, PP16 x VPP8. The ends hold
        // 7 layers over 8 chunks (one chunk is the embedding, one the loss); 14 middle stages
        // x 8 = 112, and 7 + 112 + 7 = 126.
        let s = split_layers(126, 16, 8, 0, 0).unwrap();
        assert_eq!((s.first, s.middle, s.middle_min, s.last), (7, 8, 8, 7));
        // Without interleaving every stage still needs a layer.
        assert_eq!(split_layers(17, 18, 1, 0, 0).unwrap_err().field, "pp");
    }

    #[test]
    fn every_default_split_covers_every_layer() {
        for layers in 1..=130u32 {
            for pp in 1..=layers.min(33) {
                let s = split_layers(layers, pp, 1, 0, 0).unwrap();
                let total = if pp == 1 {
                    s.first
                } else {
                    s.first + s.last + (pp.saturating_sub(2)) * s.middle_min
                };
                // Middle stages hold between middle_min and middle; their sum is the rest.
                assert!(total <= layers, "{layers} on {pp}: {s:?}");
                assert!(s.first >= 1 && s.last >= 1, "{layers} on {pp}: {s:?}");
                assert!(
                    s.max_layers() <= layers.div_ceil(pp) + 1,
                    "{layers} on {pp}: {s:?}"
                );
            }
        }
    }
}
