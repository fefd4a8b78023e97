//! The host's side of a layer: how long the CPU takes to launch its kernels, what CUDA graphs
//! take off it, and where an MoE layer makes the CPU wait for the GPU, so that the GPU waits
//! for the CPU in turn (the MoE host stalls).

use super::layer::ROUTER_KERNELS_PER_LAYER_FORWARD;
use crate::train::CudaGraphs;

/// Host (CPU) time per launched operation in an eager PyTorch framework: Python, the
/// pybind11 boundary, autograd recording, the ATen dispatcher, the library's algorithm pick and
/// `cudaLaunchKernel` together. Measured (Transformer Engine issue #2053, "High CPU overhead on
/// Grace systems", 2025-08-11, read 2026-12-02; CPU time per Linear forward, BF16, hidden 2048,
/// 8192 tokens): a plain PyTorch `Linear` 13.48 us on a DGX H100's Xeon 8480C and 37.08 us on
/// GB200's Grace; Transformer Engine's `Linear` 99.66 us on GB200 and 90.53 us on GH200. A
/// launch here stands for one framework-level op of Megatron's MoE path (Transformer Engine
/// module calls, with their quantiser and workspace set-up per expert GEMM, and plain torch ops
/// of the router and dispatcher), so it lies inside that 13-100 us bracket; 37 us (the GB200
/// PyTorch op) is the value the calibration read supports best once CUDA graphs are charged
/// per recipe (`gigawatt train validate`, MoE rows in sample / leave-one-source-out, on the
/// tree this shipped with: 25 us 17.1 / 16.6%, 30 us 16.1 / 15.7%, 37 us 14.5 / 14.2%, 45 us
/// 15.0 / 14.8%; before the recipes' recompute modules and 16-bit gradients, 50 us read 17.6 /
/// 17.2% and 60 us 22.0 / 21.7%). One figure for every host: the rows do not show the Grace
/// penalty the microbenchmark does (Grace 37 us with x86 25-30 us read 15.2-16.1%). Chosen
/// once on all rows, not refitted per fold. The GPU hides host time while the CPU runs ahead of the kernels
/// it has queued; [`moe_stalls`] is where it cannot.
pub const HOST_S_PER_OP: f64 = 37e-6;

/// Host time per kernel a library launches from C++ inside one framework operation (FP8
/// current scaling's amax and scale kernels before each cast): the CUDA driver's launch cost,
/// not a framework operation's. Measured (meta-pytorch/tritonbench PR #1017, 2026-04-14, read
/// 2026-12-04; GB200): a raw `cuLaunchKernel` of an empty kernel takes 3.0 us of CPU time with
/// no arguments and 3.3 us with 19; the 19-argument figure stands for a library kernel.
pub const HOST_S_PER_KERNEL_LAUNCH: f64 = 3.3e-6;

/// What the host launches per layer forward.
#[derive(Clone, Copy)]
pub(super) struct Launches {
    /// Kernels of a layer, averaged over dense and MoE layers (MoE layers a `moe_share`).
    pub layer_kernels: f64,
    /// Of those, the attention block's (what an `attn` CUDA graph captures).
    pub attention_kernels: f64,
    /// MoE layers' share of the layers.
    pub moe_share: f64,
    /// An MoE layer's kernels after its dispatcher's host sync (the dispatch, the experts, the
    /// combine, to the layer's end).
    pub block_kernels: f64,
    /// Kernels launched from C++ inside those operations, beyond one per operation (FP8
    /// current scaling's amax and scale kernels), per layer forward averaged as
    /// `layer_kernels` is; all of them fall in the MoE block, after the sync
    /// ([`HOST_S_PER_KERNEL_LAUNCH`] each).
    pub library_kernels: f64,
    pub graphs: CudaGraphs,
}

/// What the GPU runs of the same, seconds.
#[derive(Clone, Copy)]
pub(super) struct GpuTimes {
    /// The average layer's forward and backward compute.
    pub layer_forward_s: f64,
    pub layer_backward_s: f64,
    /// An MoE layer's block after the sync, forward (its all-to-all included where it runs in
    /// line: the GPU is busy with it while the host launches what follows); `None` where the
    /// schedule runs another microbatch's compute in the same window (combined 1F1B), which
    /// keeps the GPU busy after the sync, and where the dispatcher does not sync at all (token
    /// drop padded to capacity).
    pub block_forward_s: Option<f64>,
    /// Where the block makes the host wait a second time (GPT-OSS's clamped GLU).
    pub second_sync: Option<SecondSync>,
}

/// A stretch of work the host launches with the GPU idle at its start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Segment {
    /// Framework operations ([`HOST_S_PER_OP`] each).
    pub operations: f64,
    /// Kernels a library launches from C++ inside them ([`HOST_S_PER_KERNEL_LAUNCH`] each).
    pub library_kernels: f64,
    /// What the GPU runs of the stretch, seconds.
    pub gpu_s: f64,
}

/// A second host sync inside the MoE block: what follows it forward, and, where the backward
/// recomputes the activation (and so syncs again), what follows that sync in the backward up
/// to the attention's backward.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct SecondSync {
    pub forward: Segment,
    pub recomputed: Option<Segment>,
}

impl Segment {
    fn host_s(&self) -> f64 {
        self.operations * HOST_S_PER_OP + self.library_kernels * HOST_S_PER_KERNEL_LAUNCH
    }

    /// The stretch before `tail`, which ends this one.
    fn less(&self, tail: Segment) -> Segment {
        Segment {
            operations: self.operations - tail.operations,
            library_kernels: self.library_kernels - tail.library_kernels,
            gpu_s: self.gpu_s - tail.gpu_s,
        }
    }

    /// How long the GPU waits for the host over the stretch.
    fn excess_s(&self) -> f64 {
        (self.host_s() - self.gpu_s).max(0.0)
    }
}

/// Kernels the host launches one by one per layer forward (of `layer_kernels`), once CUDA
/// graphs replay what they capture: each captured module costs one graph launch instead of
/// its kernels; a full-iteration graph leaves nothing to launch. The backward's launches scale
/// with these (TE's graphed callables capture the backward of what they capture in the
/// forward).
fn launched_kernels(l: &Launches) -> f64 {
    if l.graphs.full_iteration {
        return 0.0;
    }
    let mut launched = l.layer_kernels;
    if l.graphs.attention {
        launched -= l.attention_kernels - 1.0;
    }
    if l.graphs.moe_router {
        launched -= l.moe_share * (ROUTER_KERNELS_PER_LAYER_FORWARD - 1.0);
    }
    launched.max(0.0)
}

/// MoE host stalls of the average layer, forward and backward, seconds.
///
/// Megatron's token dispatchers copy the tokens-per-expert counts to the host (a device-to-host
/// copy and stream synchronisation) before the all-to-all and the grouped GEMM can be sized,
/// so the CPU cannot run ahead of the GPU past an MoE layer: each MoE layer takes at least the
/// host time to launch its kernels (the backward launches twice as many: data and weight
/// gradients, and knows its sizes, so it only waits where the host is the slower overall).
///
/// Where the CPU waits matters as well as how long it launches: a dropless dispatcher
/// synchronises before the expert all-to-all (`cuda_sync_point = "before_ep_alltoall"`,
/// megatron/core/transformer/moe/token_dispatcher.py at the 26.04 pin 3097d81, as at the 25.11
/// pin), so after each sync the GPU has nothing queued and runs the MoE block (the dispatch,
/// the expert GEMMs one local expert at a time, the combine) only as fast as the host launches
/// it; the attention that follows, up to the next layer's sync, keeps the GPU busy but cannot
/// lend the host time to run ahead into that block. An MoE layer's forward is then the
/// longest of its GPU time, its host time, and the block's host time with the rest of the
/// layer's GPU time after it: the stall is the larger of the layer's host excess and the
/// block's. Where the schedule pairs each layer's forward with another microbatch's backward
/// (Megatron's combined 1F1B), that backward's kernels keep the GPU busy after the sync, and
/// only the layer's host excess counts; so too where the dispatcher drops and pads to a fixed
/// capacity and never syncs.
pub(super) fn moe_stalls(launches: Launches, gpu: GpuTimes) -> (f64, f64) {
    // A full-iteration graph launches nothing from the host, and has no sync to wait at.
    if launches.graphs.full_iteration {
        return (0.0, 0.0);
    }
    let library_s = launches.library_kernels * HOST_S_PER_KERNEL_LAUNCH;
    let host_forward_s = launched_kernels(&launches) * HOST_S_PER_OP + library_s;
    let layer_excess_s = host_forward_s - gpu.layer_forward_s;
    let block_excess_s = gpu.block_forward_s.map_or(0.0, |block_s| {
        let block = Segment {
            operations: launches.block_kernels,
            library_kernels: launches.library_kernels / launches.moe_share.max(f64::MIN_POSITIVE),
            gpu_s: block_s,
        };
        match gpu.second_sync {
            None => block.excess_s(),
            // The GPU drains again at the second sync, so the stretches before and after it
            // each wait for their own launches.
            Some(second) => block.less(second.forward).excess_s() + second.forward.excess_s(),
        }
    });
    let recomputed_excess_s = gpu
        .second_sync
        .and_then(|second| second.recomputed)
        .map_or(0.0, |stretch| stretch.excess_s());
    (
        launches.moe_share * layer_excess_s.max(block_excess_s).max(0.0),
        launches.moe_share
            * (2.0 * host_forward_s - gpu.layer_backward_s)
                .max(recomputed_excess_s)
                .max(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launches(block_kernels: f64, graphs: &str) -> Launches {
        Launches {
            layer_kernels: 86.0,
            attention_kernels: 7.0,
            moe_share: 1.0,
            block_kernels,
            library_kernels: 0.0,
            graphs: CudaGraphs::parse(graphs).unwrap(),
        }
    }

    /// A layer of 10 ms forward and 20 ms backward on the GPU whose MoE block after the sync
    /// runs 1 ms.
    fn gpu_bound_layer_with_a_short_block() -> GpuTimes {
        GpuTimes {
            layer_forward_s: 10e-3,
            layer_backward_s: 20e-3,
            block_forward_s: Some(1e-3),
            second_sync: None,
        }
    }

    #[test]
    fn a_host_bound_moe_block_stalls_a_layer_the_gpu_bounds() {
        // 86 kernels a layer forward at 37 us: 3.182 ms of host time against 10 ms of GPU
        // time, so the layer as a whole never waits for the host. Its MoE block after the
        // sync launches 70 of them (2.590 ms) for 1 ms of GPU work: the GPU waits
        // 2.590 - 1 = 1.590 ms. Backward: 2 x 3.182 = 6.364 ms against 20 ms, no wait.
        let gpu = gpu_bound_layer_with_a_short_block();
        let (forward, backward) = moe_stalls(launches(70.0, "none"), gpu);
        assert!((forward - (70.0 * 37e-6 - 1e-3)).abs() < 1e-12, "{forward}");
        assert_eq!(backward, 0.0);
        // A block the GPU keeps up with leaves the layer as it was.
        let busy = GpuTimes {
            block_forward_s: Some(5e-3),
            ..gpu
        };
        assert_eq!(moe_stalls(launches(70.0, "none"), busy), (0.0, 0.0));
        // A full-iteration graph launches nothing.
        assert_eq!(
            moe_stalls(launches(70.0, "full_iteration"), gpu),
            (0.0, 0.0)
        );
        // Under combined 1F1B another microbatch's backward keeps the GPU busy after the sync.
        let overlapped = GpuTimes {
            block_forward_s: None,
            ..gpu
        };
        assert_eq!(moe_stalls(launches(70.0, "none"), overlapped), (0.0, 0.0));
    }

    #[test]
    fn kernels_a_library_launches_cost_the_host_the_drivers_launch_not_an_operation() {
        // 70 operations after the sync at 37 us and 128 amax and scale kernels (FP8 current
        // scaling, 32 experts x 2 GEMMs x 2) at 3.3 us: 2.590 + 0.4224 = 3.0124 ms of host time
        // against 1 ms of GPU time in the block: 2.0124 ms. The whole layer's host time grows
        // by the same 0.4224 ms.
        let gpu = gpu_bound_layer_with_a_short_block();
        let with = Launches {
            library_kernels: 128.0,
            ..launches(70.0, "none")
        };
        let (forward, backward) = moe_stalls(with, gpu);
        let expected = 70.0 * HOST_S_PER_OP + 128.0 * HOST_S_PER_KERNEL_LAUNCH - 1e-3;
        assert!((forward - expected).abs() < 1e-12, "{forward}");
        assert_eq!(backward, 0.0);
        // As operations they would cost 128 x (37 - 3.3) us = 4.314 ms more.
        let (as_operations, _) = moe_stalls(launches(70.0 + 128.0, "none"), gpu);
        let saved = 128.0 * (HOST_S_PER_OP - HOST_S_PER_KERNEL_LAUNCH);
        assert!(
            (as_operations - forward - saved).abs() < 1e-12,
            "{as_operations}"
        );
        // A full-iteration graph launches none of them.
        let graphed = Launches {
            library_kernels: 128.0,
            ..launches(70.0, "full_iteration")
        };
        assert_eq!(moe_stalls(graphed, gpu), (0.0, 0.0));
    }

    #[test]
    fn the_block_never_takes_away_the_layers_own_host_excess() {
        // A layer slower on the host than on the GPU (86 x 37 us = 3.182 ms against 1 ms)
        // stalls 2.182 ms forward whatever its block does; the backward, 6.364 - 1.5 =
        // 4.864 ms.
        let gpu = GpuTimes {
            layer_forward_s: 1e-3,
            layer_backward_s: 1.5e-3,
            block_forward_s: Some(0.9e-3),
            second_sync: None,
        };
        for block in [0.0, 10.0, 70.0] {
            let (forward, backward) = moe_stalls(launches(block, "none"), gpu);
            assert!(forward >= 86.0 * 37e-6 - 1e-3 - 1e-12, "{block}: {forward}");
            assert!((backward - (2.0 * 86.0 * 37e-6 - 1.5e-3)).abs() < 1e-12);
        }
        // The attention graph takes 6 launches off the layer: 80 x 37 us - 1 ms = 1.96 ms.
        let (forward, _) = moe_stalls(launches(0.0, "attn"), gpu);
        assert!((forward - (80.0 * 37e-6 - 1e-3)).abs() < 1e-12, "{forward}");
    }

    /// A 2.5 ms block of 70 launches whose last 40 follow a second sync and run 0.5 ms on the
    /// GPU.
    fn block_with_a_second_sync(recomputed: Option<Segment>) -> GpuTimes {
        GpuTimes {
            block_forward_s: Some(2.5e-3),
            second_sync: Some(SecondSync {
                forward: Segment {
                    operations: 40.0,
                    library_kernels: 0.0,
                    gpu_s: 0.5e-3,
                },
                recomputed,
            }),
            ..gpu_bound_layer_with_a_short_block()
        }
    }

    #[test]
    fn a_second_sync_makes_each_stretch_wait_for_its_own_launches() {
        // One stretch: 70 x 37 us = 2.590 ms of host time against 2.5 ms of GPU time, 0.090 ms
        // of waiting. Split at the second sync: before it 30 x 37 us = 1.110 ms against
        // 2.0 ms, no wait; after it 40 x 37 us = 1.480 ms against 0.5 ms, 0.980 ms.
        let merged = GpuTimes {
            block_forward_s: Some(2.5e-3),
            ..gpu_bound_layer_with_a_short_block()
        };
        let (merged_forward, _) = moe_stalls(launches(70.0, "none"), merged);
        assert!((merged_forward - (70.0 * 37e-6 - 2.5e-3)).abs() < 1e-12);
        let (forward, backward) =
            moe_stalls(launches(70.0, "none"), block_with_a_second_sync(None));
        assert!(
            (forward - (40.0 * 37e-6 - 0.5e-3)).abs() < 1e-12,
            "{forward}"
        );
        assert_eq!(backward, 0.0);
        // A full-iteration graph has no sync to wait at.
        assert_eq!(
            moe_stalls(
                launches(70.0, "full_iteration"),
                block_with_a_second_sync(None)
            ),
            (0.0, 0.0)
        );
    }

    #[test]
    fn a_recomputed_activation_syncs_the_backward_too() {
        // The backward after the recompute's sync: 150 operations (5.550 ms) against 4 ms of
        // GPU work: 1.550 ms, more than the layer's own backward host excess (2 x 3.182 ms
        // against 20 ms: none).
        let recomputed = Segment {
            operations: 150.0,
            library_kernels: 0.0,
            gpu_s: 4e-3,
        };
        let (_, backward) = moe_stalls(
            launches(70.0, "none"),
            block_with_a_second_sync(Some(recomputed)),
        );
        assert!(
            (backward - (150.0 * 37e-6 - 4e-3)).abs() < 1e-12,
            "{backward}"
        );
        // Library kernels count at the driver's cost: 100 of them add 0.330 ms.
        let with_library = Segment {
            library_kernels: 100.0,
            ..recomputed
        };
        let (_, more) = moe_stalls(
            launches(70.0, "none"),
            block_with_a_second_sync(Some(with_library)),
        );
        assert!((more - backward - 100.0 * HOST_S_PER_KERNEL_LAUNCH).abs() < 1e-12);
    }

    proptest::proptest! {
        /// The GPU drains at a second sync, so it can only add waiting: splitting a block never
        /// lowers the stall, forward or backward.
        #[test]
        fn a_second_sync_never_shortens_a_stall(
            block_kernels in 0.0f64..200.0,
            after_share in 0.0f64..=1.0,
            block_ms in 0.0f64..10.0,
            after_gpu_share in 0.0f64..=1.0,
            layer_forward_ms in 0.0f64..20.0,
        ) {
            let merged = GpuTimes {
                layer_forward_s: layer_forward_ms * 1e-3,
                layer_backward_s: 2.0 * layer_forward_ms * 1e-3,
                block_forward_s: Some(block_ms * 1e-3),
                second_sync: None,
            };
            let split = GpuTimes {
                second_sync: Some(SecondSync {
                    forward: Segment {
                        operations: after_share * block_kernels,
                        library_kernels: 0.0,
                        gpu_s: after_gpu_share * block_ms * 1e-3,
                    },
                    recomputed: None,
                }),
                ..merged
            };
            let l = launches(block_kernels, "none");
            let (merged_forward, merged_backward) = moe_stalls(l, merged);
            let (split_forward, split_backward) = moe_stalls(l, split);
            proptest::prop_assert!(split_forward >= merged_forward - 1e-12);
            proptest::prop_assert!(split_backward >= merged_backward - 1e-12);
        }
    }
}
