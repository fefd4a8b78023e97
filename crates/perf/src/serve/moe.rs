//! Mixture-of-experts prefill across many accelerators: the expert all-to-all on the link its
//! EP group spans, the busiest rank's load, and the KV cache a prefill pool sends on.
//!
//! A prefill pool runs attention data-parallel over `ep` ranks (each `tp` accelerators) and
//! the routed experts split over the `ep` ranks, as DeepSeek's (EP32) and SGLang's (EP32 over
//! four nodes) prefill do. Per prompt token and MoE layer the token's hidden state goes out to
//! its experts (dispatch, FP8: one byte per element) and comes back weighted (combine, BF16:
//! two bytes). Within one scale-up domain every copy crosses the scale-up link; beyond it,
//! DeepEP's normal (prefill) kernels send one copy per remote domain over the scale-out network
//! and forward it inside that domain over NVLink, so the scale-out bytes per token are the
//! expected number of distinct remote domains the `top_k` experts fall in (uniform routing).
//! With two-batch overlap the all-to-all runs beside the other microbatch's compute, and the
//! pool goes at the longer of the two plus the part of the shorter that the overlap does not
//! hide (SGLang's measured prefill gain from the overlap, below).

use serde::Serialize;

use super::unit::{kv_bytes_per_token, Unit};
use super::ServingLayout;

/// The share of an accelerator's SMs the prefill all-to-all kernels hold while they overlap
/// with compute: DeepSeek-V3's report (arXiv 2412.19437, sec. 3.2.2) needs "only 20 SMs" of an
/// H800's 132 to saturate IB and NVLink, DeepEP's normal kernels take a fixed SM count likewise.
pub const COMM_SM_SHARE: f64 = 20.0 / 132.0;

/// What two-batch overlap gains a prefill pool whose compute and expert all-to-all are equal:
/// the SGLang team measured 27-35% more prefill throughput with TBO than without on H100 EP32
/// (LMSYS, 2025-05-05, "Two-batch Overlap"); 1.31 is the middle. Prefill overlaps far less
/// than the perfect `max(compute, all-to-all)`: its microbatches' phases do not pair up evenly
/// (dispatch beside attention, combine beside experts), and every layer starts and ends with a
/// phase nothing hides.
pub const PREFILL_TBO_SPEEDUP_AT_PARITY: f64 = 1.31;

/// The share of the shorter of compute and all-to-all that two-batch overlap hides in prefill:
/// with both equal to `x`, `2x / (2x - f x)` is the speedup above, so `f = 2 (1 - 1 / S)`
/// (0.47).
pub fn prefill_overlap_hidden_share() -> f64 {
    2.0 * (1.0 - 1.0 / PREFILL_TBO_SPEEDUP_AT_PARITY)
}

/// What one prompt costs a prefill pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PrefillCost {
    /// Prompt tokens per second per accelerator of the pool, cache hits counted as served
    /// (DeepSeek's published prefill figure counts them).
    pub input_tokens_per_s_per_gpu: f64,
    /// Of which computed (not served from the prefix cache).
    pub computed_tokens_per_s_per_gpu: f64,
    /// Accelerator-seconds of the pool per request.
    pub gpu_s_per_request: f64,
    /// Matmul and attention time per request on its attention rank, s (the busiest expert
    /// rank's load included).
    pub compute_s: f64,
    /// Expert all-to-all time per request on its attention rank, s.
    pub all_to_all_s: f64,
    /// Sending the request's KV cache to the decode pool on the scale-out network, s (0 when
    /// prefill and decode share the accelerators).
    pub kv_send_s: f64,
    /// KV-cache bytes sent per request.
    pub kv_bytes_per_request: f64,
    /// Weight bytes per accelerator that do not fit in HBM beside the forward pass's KV cache
    /// and live in host memory (0 when everything fits).
    pub host_weight_bytes: f64,
    /// Streaming those weights in over the coherent host link, per forward pass, s (0 when
    /// everything fits, or when there is no such link).
    pub host_transfer_s: f64,
}

/// The expected number of distinct domains, other than the sender's, that `top_k` experts
/// picked uniformly over `domains` domains fall in.
pub fn remote_domains(domains: f64, top_k: f64) -> f64 {
    if domains <= 1.0 {
        return 0.0;
    }
    domains * (1.0 - (1.0 - 1.0 / domains).powf(top_k)) * (domains - 1.0) / domains
}

/// KV-cache bytes of one token for the whole model (what a prefill rank hands to decode).
pub fn kv_bytes_per_token_whole(arch: &crate::arch::Arch, kv_bytes: f64) -> f64 {
    let whole = ServingLayout {
        tp: 1,
        pp: 1,
        ep: 1,
        precision: crate::step::Precision::Bf16,
        kv_bytes,
        overlap_ep: false,
    };
    kv_bytes_per_token(arch, &whole)
}

impl Unit<'_> {
    /// The expert all-to-all of one prompt token through every MoE layer, s, on the busiest
    /// rank (prefill kernels: one copy per remote domain over scale-out, NVLink inside).
    pub(super) fn prefill_all_to_all_s_per_token(&self) -> f64 {
        let a = self.arch;
        if self.layout.ep <= 1 || !a.is_moe() {
            return 0.0;
        }
        let (tp, ep) = (f64::from(self.layout.tp), f64::from(self.layout.ep));
        // Dispatch in FP8 (1 byte per element) and combine in BF16 (2 bytes).
        let bytes_per_copy = 3.0 * a.hidden;
        let group = tp * ep;
        let domain = self.hw.scale_up_domain.max(1.0);
        let (up_bw, _) = self.link(1.0);
        let copies_in_group = a.top_k * (ep - 1.0) / ep;
        let per_layer = if group <= domain {
            copies_in_group * bytes_per_copy / up_bw
        } else {
            let (out_bw, _) = self.link(group);
            let remote = remote_domains(group / domain, a.top_k);
            // Scale-out and the NVLink forwarding run at once; the slower sets the pace.
            (remote * bytes_per_copy / out_bw).max(copies_in_group * bytes_per_copy / up_bw)
        };
        // A token's hidden state is split over the attention rank's TP accelerators.
        self.imbalance() * a.moe_layers() * per_layer / tp
    }

    /// One prompt of `input` tokens, of which `hit_rate` is served from the prefix cache, in a
    /// prefill pool of this layout; `kv_send`: the KV cache leaves for a decode pool.
    pub(super) fn prefill_cost(&self, input: f64, hit_rate: f64, kv_send: bool) -> PrefillCost {
        let a = self.arch;
        let tp = f64::from(self.layout.tp);
        let cached = hit_rate * input;
        let computed = input - cached;
        // The uncached suffix still attends to the cached prefix: the FLOPs of the whole
        // prompt less those of the prefix alone.
        let flops = (self.prefill_flops(input) - self.prefill_flops(cached)).max(0.0);
        let expert_flops = if a.is_moe() {
            2.0 * computed * a.moe_layers() * a.top_k * a.expert_params()
        } else {
            0.0
        };
        // Attention scores and values run in BF16 at the fused-attention fraction of its
        // ceiling (as decode's attention does; DeepSeek runs "core MLA" in BF16 even with FP8
        // matmuls), not at the weight GEMMs' ceiling.
        let attention_flops_of =
            |n: f64| n * a.layers * a.attention_core_flops_per_token(a.attended_context(n / 2.0));
        let attention_flops = (attention_flops_of(input) - attention_flops_of(cached)).max(0.0);
        let attention_s = attention_flops
            / (tp
                * self.hw.peak_bf16_flops
                * self.hw.matmul_efficiency
                * self.c.attention_fraction);
        let shape = crate::step::shape_factor(self.c, computed.max(1.0), a.hidden / tp, a.hidden);
        let compute_s = (flops - attention_flops - expert_flops + self.imbalance() * expert_flops)
            .max(0.0)
            / (tp * self.prefill_ceiling() * shape)
            + attention_s;
        let all_to_all_s = computed * self.prefill_all_to_all_s_per_token();
        let busy_s = if self.layout.overlap_ep && all_to_all_s > 0.0 {
            // Prefill's all-to-all kernels run on SMs of their own while the other microbatch
            // computes on the rest; of the shorter of the two only the measured share hides.
            let partly_hidden = compute_s + all_to_all_s
                - prefill_overlap_hidden_share() * compute_s.min(all_to_all_s);
            (compute_s / (1.0 - COMM_SM_SHARE))
                .max(all_to_all_s)
                .max(partly_hidden)
        } else {
            compute_s + all_to_all_s
        };
        let kv_bytes_per_request = input * kv_bytes_per_token_whole(a, self.layout.kv_bytes);
        let kv_send_s = if kv_send {
            let (bw, lat) = (
                self.hw.scale_out_bytes_per_s * self.c.link_efficiency,
                self.c.scale_out_latency_s,
            );
            if bw > 0.0 {
                kv_bytes_per_request / (tp * bw) + lat
            } else {
                // No scale-out network: the pools share a scale-up domain.
                let (up, lat) = self.link(1.0);
                kv_bytes_per_request / (tp * up) + lat
            }
        } else {
            0.0
        };
        // Weights that do not fit in HBM beside this forward pass's KV cache live in host
        // memory and are prefetched layer by layer over the coherent host link while the
        // layers before them compute ("offload weights to the host memory with prefetching",
        // LMSYS GB200 part II): the pass takes the longer of its compute and the stream.
        // The forward pass is the one prompt this cost is per (the model's prefill batch).
        let host_weight_bytes = self.host_weight_bytes(computed);
        let host_transfer_s = self.host_transfer_s(host_weight_bytes);
        let busy_s = busy_s.max(host_transfer_s);
        // The transfer runs in the background while the next prompt computes (SGLang's and
        // DeepSeek's non-blocking RDMA): the rank is held by the longer of the two.
        let held_s = busy_s.max(kv_send_s);
        let gpu_s_per_request = tp * held_s;
        PrefillCost {
            input_tokens_per_s_per_gpu: input / gpu_s_per_request,
            computed_tokens_per_s_per_gpu: computed / gpu_s_per_request,
            gpu_s_per_request,
            compute_s,
            all_to_all_s,
            kv_send_s,
            kv_bytes_per_request,
            host_weight_bytes,
            host_transfer_s,
        }
    }

    /// Weight bytes per accelerator that do not fit in HBM once a forward pass of `tokens`
    /// holds its KV cache (the engine's memory share and the reserved memory taken first).
    pub(super) fn host_weight_bytes(&self, tokens: f64) -> f64 {
        let kv = tokens * self.kv_bytes_per_token_per_gpu();
        (kv - self.free_bytes()).clamp(0.0, self.weight_bytes_per_gpu())
    }

    /// Streaming `bytes` of weights from host memory over the coherent host link, s (at the
    /// links' fitted efficiency, as every other link). 0 where the system has no such link:
    /// a layout whose weights do not fit is then judged by the serving paths' own memory
    /// checks (the KV cache left), not streamed over PCIe here.
    pub(super) fn host_transfer_s(&self, bytes: f64) -> f64 {
        if bytes <= 0.0 || self.hw.host_link_bytes_per_s <= 0.0 {
            0.0
        } else {
            bytes / (self.hw.host_link_bytes_per_s * self.c.link_efficiency)
        }
    }
}

/// What a prefill pool of `layout` does with prompts of `input` tokens at a prefix-cache hit
/// rate, with the KV cache sent on to a decode pool (`kv_send`) or not.
#[allow(clippy::too_many_arguments)]
pub fn prefill_pool(
    arch: &crate::arch::Arch,
    hw: &crate::step::Hardware,
    layout: &ServingLayout,
    input: f64,
    hit_rate: f64,
    kv_send: bool,
    c: &crate::step::ModelConstants,
) -> Option<PrefillCost> {
    let unit = Unit::new(arch, hw, layout, c, input, None)?;
    Some(unit.prefill_cost(input, hit_rate, kv_send))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{deepseek_v3, h100_sxm, llama3_70b};
    use crate::serve::unit::GIB;
    use crate::step::{ModelConstants, Precision};

    fn layout(tp: u32, ep: u32) -> ServingLayout {
        ServingLayout {
            tp,
            pp: 1,
            ep,
            precision: Precision::Fp8,
            kv_bytes: 2.0,
            overlap_ep: true,
        }
    }

    #[test]
    fn remote_domains_counts_distinct_nodes() {
        // Two domains, two picks: the other domain is hit with probability 1 - (1/2)^2 = 3/4.
        assert!((remote_domains(2.0, 2.0) - 0.75).abs() < 1e-12);
        assert_eq!(remote_domains(1.0, 8.0), 0.0);
    }

    #[test]
    fn crossing_nodes_costs_the_all_to_all_more() {
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let within = prefill_pool(&arch, &hw, &layout(1, 8), 4096.0, 0.0, false, &c).unwrap();
        let across = prefill_pool(&arch, &hw, &layout(1, 32), 4096.0, 0.0, false, &c).unwrap();
        assert!(across.all_to_all_s > within.all_to_all_s);
        // A dense model has no all-to-all.
        let dense =
            prefill_pool(&llama3_70b(), &hw, &layout(8, 1), 4096.0, 0.0, false, &c).unwrap();
        assert_eq!(dense.all_to_all_s, 0.0);
    }

    #[test]
    fn imbalance_and_kv_transfer_only_slow_things_down() {
        let (arch, hw) = (deepseek_v3(), h100_sxm());
        let balanced = ModelConstants {
            expert_imbalance: 1.0,
            ..ModelConstants::serving()
        };
        let skewed = ModelConstants {
            expert_imbalance: 1.5,
            ..balanced
        };
        let l = layout(1, 32);
        let fast = prefill_pool(&arch, &hw, &l, 2000.0, 0.0, false, &balanced).unwrap();
        let slow = prefill_pool(&arch, &hw, &l, 2000.0, 0.0, false, &skewed).unwrap();
        let sent = prefill_pool(&arch, &hw, &l, 2000.0, 0.0, true, &balanced).unwrap();
        assert!(slow.input_tokens_per_s_per_gpu < fast.input_tokens_per_s_per_gpu);
        assert!(sent.input_tokens_per_s_per_gpu <= fast.input_tokens_per_s_per_gpu);
        assert!(sent.kv_send_s > 0.0);
        // MLA's KV: 61 layers x (512 + 64) x 2 bytes = 70,272 bytes per token.
        assert_eq!(sent.kv_bytes_per_request, 2000.0 * 70_272.0);
    }

    #[test]
    fn cache_hits_save_prefill_work() {
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let l = layout(1, 32);
        let cold = prefill_pool(&arch, &hw, &l, 4000.0, 0.0, false, &c).unwrap();
        let warm = prefill_pool(&arch, &hw, &l, 4000.0, 0.5, false, &c).unwrap();
        // The matmuls of half the prompt are skipped; the suffix still attends to the prefix.
        assert!(warm.gpu_s_per_request < 0.8 * cold.gpu_s_per_request);
        assert!(warm.compute_s > 0.5 * cold.compute_s);
        assert!(warm.input_tokens_per_s_per_gpu > cold.input_tokens_per_s_per_gpu);
    }

    #[test]
    fn weights_past_hbm_stream_from_the_host_overlapped_with_compute() {
        let (arch, c) = (deepseek_v3(), ModelConstants::serving());
        // DeepSeek V3 FP8 at EP4 holds 17.1e9 dense + 653.9e9 / 4 routed parameters, one byte
        // each: ~180.6e9 bytes per GPU. On a 160 GiB (171.8e9 bytes) part with 3 GiB reserved
        // and 2,000 prompt tokens of BF16 MLA KV (2,000 x 70,272 bytes) in the pass, the
        // spill is weights + reserved + KV - HBM.
        let hw = crate::step::Hardware {
            hbm_bytes: 160.0 * GIB,
            host_link_bytes_per_s: 225e9,
            ..h100_sxm()
        };
        let l = layout(1, 4);
        let unit = Unit::new(&arch, &hw, &l, &c, 2000.0, None).unwrap();
        let spill = unit.weight_bytes_per_gpu() + 3.0 * GIB + 2000.0 * 70_272.0 - 160.0 * GIB;
        assert!(spill > 10e9 && spill < 15e9, "{spill}");
        let cost = unit.prefill_cost(2000.0, 0.0, false);
        assert!((cost.host_weight_bytes - spill).abs() < 1.0);
        // At 225 GB/s one way and the links' efficiency (0.8): spill / 180e9 s per pass.
        let stream = spill / (225e9 * c.link_efficiency);
        assert!((cost.host_transfer_s - stream).abs() < 1e-12);
        // Overlapped: the pass takes the longer of its work and the stream, never the sum.
        let roomy = crate::step::Hardware {
            hbm_bytes: 1000.0 * GIB,
            ..hw.clone()
        };
        let fits = Unit::new(&arch, &roomy, &l, &c, 2000.0, None)
            .unwrap()
            .prefill_cost(2000.0, 0.0, false);
        assert_eq!(fits.host_transfer_s, 0.0);
        let expected = (fits.gpu_s_per_request).max(stream);
        assert!((cost.gpu_s_per_request - expected).abs() < 1e-12);
        // A slower host link can only slow the pool down.
        let slow = crate::step::Hardware {
            host_link_bytes_per_s: 25e9,
            ..hw.clone()
        };
        let slow = Unit::new(&arch, &slow, &l, &c, 2000.0, None)
            .unwrap()
            .prefill_cost(2000.0, 0.0, false);
        assert!(slow.gpu_s_per_request > cost.gpu_s_per_request);
        assert!((slow.gpu_s_per_request - spill / (25e9 * c.link_efficiency)).abs() < 1e-9);
        // Without a coherent host link nothing is streamed (the memory checks judge it).
        let pcie = crate::step::Hardware {
            host_link_bytes_per_s: 0.0,
            ..hw.clone()
        };
        let pcie = Unit::new(&arch, &pcie, &l, &c, 2000.0, None)
            .unwrap()
            .prefill_cost(2000.0, 0.0, false);
        assert_eq!(pcie.host_transfer_s, 0.0);
        assert_eq!(pcie.gpu_s_per_request, fits.gpu_s_per_request);
    }

    #[test]
    fn two_batch_overlap_gains_the_measured_share_not_the_ideal() {
        // Equal compute and all-to-all x: 2x in sequence, 2x - f x overlapped, f = 2 (1 - 1/1.31)
        // = 0.4733, so the overlap gains 2 / (2 - 0.4733) = 1.31 (SGLang's 27-35%).
        let f = prefill_overlap_hidden_share();
        assert!((f - 0.473_282).abs() < 1e-5);
        assert!((2.0 / (2.0 - f) - PREFILL_TBO_SPEEDUP_AT_PARITY).abs() < 1e-12);
        // DeepSeek V3 on 4 H100 nodes (EP32): the overlapped pool is faster than in sequence,
        // slower than the ideal max(compute, all-to-all), and the gain stays within 1.31x.
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let on = prefill_pool(&arch, &hw, &layout(1, 32), 2000.0, 0.0, false, &c).unwrap();
        let off = ServingLayout {
            overlap_ep: false,
            ..layout(1, 32)
        };
        let off = prefill_pool(&arch, &hw, &off, 2000.0, 0.0, false, &c).unwrap();
        let ideal = on.compute_s.max(on.all_to_all_s);
        assert!(on.gpu_s_per_request > ideal);
        assert!(on.gpu_s_per_request < off.gpu_s_per_request);
        let gain = off.gpu_s_per_request / on.gpu_s_per_request;
        assert!(
            gain > 1.0 && gain <= PREFILL_TBO_SPEEDUP_AT_PARITY + 1e-9,
            "{gain}"
        );
    }
}
