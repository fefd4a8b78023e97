//! Collectives at scale: how long a reduce-scatter, all-gather or all-reduce takes for a group
//! laid out over scale-up domains (NVLink) joined by a scale-out network.
//!
//! A group wholly inside one domain runs a ring on the scale-up links. A group spread over
//! several domains runs the way NCCL does on rail-optimised clusters: the ranks that share a
//! domain reduce-scatter over the scale-up links first, each then exchanges only its 1/g share
//! across the network through its own NIC (all of a node's NICs carry traffic at once), and
//! the domain all-gathers at the end. When a group has one rank per domain (data parallelism
//! outside TP x CP x PP groups that fill a node), that is the flat ring at NIC speed.
//!
//! Latency: an all-reduce runs as a tree at scale (NCCL's tree algorithm), so its fixed cost
//! grows with the logarithm of the number of domains crossed; at 16,384 GPUs this is 2 x 11
//! network hops per collective. A reduce-scatter or all-gather runs as a ring (NCCL 2.9, the
//! release of 2021, has no other algorithm for them; later releases add PAT for one rank per
//! node and NVLS inside NVLink domains, and still cost a ring's steps elsewhere): its fixed
//! cost is one step per rank, `ranks - domains` steps on the scale-up links and `domains - 1`
//! across the network (NCCL's own tuning model, `src/graph/tuning.cc`, NVIDIA/nccl@a46ea105,
//! 2.9.6-1, 2021-04-12: `latencies = baseLat + (nsteps - nInterSteps) * intraLat +
//! nInterSteps * interLat` with `nsteps = nRanks - 1`, `nInterSteps = nNodes - 1`). At large
//! data-parallel groups that is why frameworks cut traffic into few, large collectives
//! ([`Granularity`]): Megatron-Core's default bucket grows with the group, "larger DP sizes
//! need larger buckets to ensure collectives do not become latency-bound".

use serde::Serialize;

/// The links a collective runs on, one direction per accelerator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Links {
    /// Accelerators in one scale-up domain.
    pub domain: f64,
    /// Achieved scale-up bandwidth per accelerator, bytes/s.
    pub scale_up_bytes_per_s: f64,
    /// Achieved scale-out bandwidth per accelerator (its NIC), bytes/s.
    pub scale_out_bytes_per_s: f64,
    /// Fixed cost per scale-up collective step, s.
    pub scale_up_latency_s: f64,
    /// Fixed cost per scale-out hop, s.
    pub scale_out_latency_s: f64,
    /// The scale-up switches' in-network all-reduce rate (NVLink SHARP), algorithm bandwidth
    /// per rank, bytes/s; `None` where the switch has none.
    pub nvls_all_reduce_bytes_per_s: Option<f64>,
}

/// How a framework cuts its data-parallel (and sharded-parameter) traffic into collectives: a
/// fact of the framework version (`catalog/frameworks.toml`, `dp_collectives`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Buckets of contiguous parameters (Megatron-Core: `max(40M, 1M x DP)` parameters each;
    /// PyTorch DDP and DeepSpeed's reduce buckets alike): few, large collectives.
    #[default]
    Bucket,
    /// One collective per wrapped layer (PyTorch FSDP units: one flat parameter per block).
    Layer,
    /// One collective per parameter tensor (DeepSpeed ZeRO-3 of 2021 gathered and
    /// reduce-scattered each parameter on its own).
    Parameter,
}

impl Granularity {
    /// Parses the catalog's word (`bucket`, `layer`, `parameter`).
    pub fn parse(word: &str) -> Option<Granularity> {
        match word {
            "bucket" => Some(Granularity::Bucket),
            "layer" => Some(Granularity::Layer),
            "parameter" => Some(Granularity::Parameter),
            _ => None,
        }
    }

    /// Collectives needed to move `params` parameters held on `layers` layers, over a
    /// data-parallel group of `dp` ranks.
    pub fn calls(self, params: f64, layers: f64, dp: f64) -> f64 {
        if params <= 0.0 {
            return 0.0;
        }
        match self {
            Granularity::Bucket => (params / bucket_params(dp)).ceil().max(1.0),
            Granularity::Layer => layers.max(1.0),
            Granularity::Parameter => (PARAMETER_TENSORS_PER_LAYER * layers).max(1.0),
        }
    }
}

/// Parameter tensors per transformer layer: weight and bias of the two norms, the QKV and
/// output projections and the two MLP linears (GPT as Megatron builds it).
pub const PARAMETER_TENSORS_PER_LAYER: f64 = 12.0;

/// Megatron-Core's default gradient bucket, parameters: `max(40M, 1M x DP)`
/// (`DistributedDataParallelConfig.bucket_size`: "larger DP sizes need larger buckets to
/// ensure collectives do not become latency-bound").
pub fn bucket_params(dp: f64) -> f64 {
    40e6_f64.max(1e6 * dp)
}

/// The bandwidth part of an all-reduce of `bytes` per rank over `ranks` ranks that all share
/// one scale-up domain: a ring on the links (each rank sends and receives 2 (n - 1) / n of
/// the buffer at `ring_bytes_per_s`), or, where the switch reduces in the network (NVLink
/// SHARP: each rank sends its buffer once and receives the sum once), the measured in-switch
/// rate `nvls_bytes_per_s`, whichever is faster, as NCCL's tuner picks. On DGX H100 the
/// switch's 275 GB/s against the ring's 8 / 14 x 370 = 211 GB/s is the 30% the NCCL team
/// quotes for all-reduce (NVIDIA/nccl#1442, nccl-tests#212); at two ranks the ring's 370 GB/s
/// wins. Reduce-scatters and all-gathers move (n - 1) / n of the buffer either way and gain
/// nothing ("except for the Allreduce operation").
pub fn in_domain_all_reduce_transfer_s(
    bytes: f64,
    ranks: f64,
    ring_bytes_per_s: f64,
    nvls_bytes_per_s: Option<f64>,
) -> f64 {
    if ranks <= 1.0 || bytes <= 0.0 {
        return 0.0;
    }
    let ring = 2.0 * (ranks - 1.0) / ranks * bytes / ring_bytes_per_s;
    match nvls_bytes_per_s.filter(|rate| *rate > 0.0) {
        Some(rate) => ring.min(bytes / rate),
        None => ring,
    }
}

/// The bandwidth part of an all-reduce of `bytes` per rank over `ranks` ranks, `per_domain`
/// of which share a scale-up domain (the rest spread over `ranks / per_domain` domains). Only
/// an all-reduce wholly inside one domain takes the in-switch rate: NCCL users measure no
/// NVLink SHARP gain once a hierarchical all-reduce spans more than two nodes (NVIDIA/nccl#1221,
/// #1031), so across domains the in-domain phases stay rings.
fn all_reduce_transfer_s(bytes: f64, ranks: f64, per_domain: f64, links: &Links) -> f64 {
    let local = per_domain.clamp(1.0, ranks);
    let domains = (ranks / local).max(1.0);
    if domains <= 1.0 {
        return in_domain_all_reduce_transfer_s(
            bytes,
            local,
            links.scale_up_bytes_per_s,
            links.nvls_all_reduce_bytes_per_s,
        );
    }
    let intra = if local > 1.0 {
        2.0 * (local - 1.0) / local * bytes / links.scale_up_bytes_per_s
    } else {
        0.0
    };
    let inter = if domains > 1.0 {
        2.0 * (domains - 1.0) / domains * (bytes / local) / links.scale_out_bytes_per_s
    } else {
        0.0
    };
    intra + inter
}

/// All-reduce of `bytes` per rank over `ranks` ranks, `per_domain` of which share a scale-up
/// domain (the rest spread over `ranks / per_domain` domains), as one collective (a tree's
/// log-depth latency across domains).
pub fn all_reduce_s(bytes: f64, ranks: f64, per_domain: f64, links: &Links) -> f64 {
    all_reduce_calls_s(bytes, ranks, per_domain, links, 1.0)
}

/// [`all_reduce_s`] cut into `calls` collectives: the same bytes, `calls` fixed costs.
pub fn all_reduce_calls_s(
    bytes: f64,
    ranks: f64,
    per_domain: f64,
    links: &Links,
    calls: f64,
) -> f64 {
    if ranks <= 1.0 || bytes <= 0.0 {
        return 0.0;
    }
    let local = per_domain.clamp(1.0, ranks);
    let domains = (ranks / local).max(1.0);
    let mut latency = 0.0;
    if local > 1.0 {
        latency += links.scale_up_latency_s;
    }
    if domains > 1.0 {
        latency += 2.0 * domains.log2().ceil().max(1.0) * links.scale_out_latency_s;
    }
    all_reduce_transfer_s(bytes, ranks, per_domain, links) + calls.max(1.0) * latency
}

/// Fixed cost of one ring reduce-scatter or all-gather over `ranks` ranks, `per_domain` per
/// scale-up domain: a step per rank, those that cross domains at the network's latency.
pub fn ring_latency_s(ranks: f64, per_domain: f64, links: &Links) -> f64 {
    if ranks <= 1.0 {
        return 0.0;
    }
    let local = per_domain.clamp(1.0, ranks);
    let domains = (ranks / local).max(1.0);
    (ranks - domains) * links.scale_up_latency_s + (domains - 1.0) * links.scale_out_latency_s
}

/// Reduce-scatter (or all-gather) of a buffer of `bytes` per rank over `ranks` ranks cut into
/// `calls` ring collectives: half a ring all-reduce's transfer (the in-switch reduction does
/// not shorten it) and `calls` ring latencies.
pub fn reduce_scatter_s(bytes: f64, ranks: f64, per_domain: f64, links: &Links, calls: f64) -> f64 {
    if ranks <= 1.0 || bytes <= 0.0 {
        return 0.0;
    }
    let ring_links = Links {
        nvls_all_reduce_bytes_per_s: None,
        ..*links
    };
    0.5 * all_reduce_transfer_s(bytes, ranks, per_domain, &ring_links)
        + calls.max(1.0) * ring_latency_s(ranks, per_domain, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links {
            domain: 8.0,
            scale_up_bytes_per_s: 360e9,
            scale_out_bytes_per_s: 40e9,
            scale_up_latency_s: 0.0,
            scale_out_latency_s: 0.0,
            nvls_all_reduce_bytes_per_s: None,
        }
    }

    #[test]
    fn nvlink_sharp_speeds_an_all_reduce_inside_one_domain_only() {
        let nvls = Links {
            nvls_all_reduce_bytes_per_s: Some(275e9),
            ..links()
        };
        // 8 ranks, 1 GB: the ring 2 x 7/8 x 1e9 / 360e9 = 4.861 ms, the switch 1e9 / 275e9 =
        // 3.636 ms, 1.34x faster (DGX H100: 30% by NCCL's own figures).
        let t = all_reduce_s(1e9, 8.0, 8.0, &nvls);
        assert!((t - 1e9 / 275e9).abs() < 1e-12, "{t}");
        // 2 ranks: the ring sends the buffer once, 1e9 / 360e9 = 2.778 ms, and wins.
        let two = all_reduce_s(1e9, 2.0, 2.0, &nvls);
        assert!((two - 1e9 / 360e9).abs() < 1e-12, "{two}");
        // A reduce-scatter moves 7/8 of the buffer either way: 0.5 x 4.861 = 2.431 ms.
        let rs = reduce_scatter_s(1e9, 8.0, 8.0, &nvls, 1.0);
        assert!((rs - 7.0 / 8.0 * 1e9 / 360e9).abs() < 1e-12, "{rs}");
        // Across domains the in-domain phases stay rings: the same as without the switch.
        let across = all_reduce_s(1e9, 64.0, 8.0, &nvls);
        assert_eq!(across, all_reduce_s(1e9, 64.0, 8.0, &links()));
        // Never slower than the ring.
        for ranks in [2.0, 3.0, 4.0, 8.0] {
            assert!(
                all_reduce_s(1e9, ranks, ranks, &nvls) <= all_reduce_s(1e9, ranks, ranks, &links())
            );
        }
    }

    #[test]
    fn inside_a_domain_it_is_a_ring_on_the_scale_up_links() {
        // 8 ranks, 1 GB: 2 x 7/8 x 1e9 / 360e9 = 4.861 ms.
        let t = all_reduce_s(1e9, 8.0, 8.0, &links());
        assert!((t - 2.0 * 7.0 / 8.0 * 1e9 / 360e9).abs() < 1e-12);
    }

    #[test]
    fn across_domains_each_nic_carries_only_its_share() {
        // 64 ranks, 8 per node, 1 GB: NVLink 2 x 7/8 x 1e9 / 360e9 = 4.861 ms, then the network
        // 2 x 7/8 x (1e9 / 8) / 40e9 = 5.469 ms: 10.33 ms, against 2 x 63/64 x 1e9 / 40e9 =
        // 49.2 ms for a flat ring on the NICs.
        let t = all_reduce_s(1e9, 64.0, 8.0, &links());
        let expected = 2.0 * 7.0 / 8.0 * 1e9 / 360e9 + 2.0 * 7.0 / 8.0 * 1.25e8 / 40e9;
        assert!((t - expected).abs() < 1e-12);
        // One rank per node: the flat ring at NIC speed.
        let flat = all_reduce_s(1e9, 64.0, 1.0, &links());
        assert!((flat - 2.0 * 63.0 / 64.0 * 1e9 / 40e9).abs() < 1e-12);
    }

    #[test]
    fn a_ring_gather_pays_a_step_per_rank() {
        let l = Links {
            scale_up_latency_s: 8e-6,
            scale_out_latency_s: 25e-6,
            ..links()
        };
        // 1,536 ranks, 8 per node (192 nodes): 1,344 NVLink steps of 8 us and 191 network
        // steps of 25 us = 10.752 + 4.775 = 15.527 ms per collective.
        let lat = ring_latency_s(1536.0, 8.0, &l);
        assert!((lat - (1344.0 * 8e-6 + 191.0 * 25e-6)).abs() < 1e-12);
        // Cut into 10 collectives, the bytes are the same and the latency ten times.
        let one = reduce_scatter_s(1e9, 1536.0, 8.0, &l, 1.0);
        let ten = reduce_scatter_s(1e9, 1536.0, 8.0, &l, 10.0);
        assert!((ten - one - 9.0 * lat).abs() < 1e-12);
        // Its transfer is half an all-reduce's.
        let transfer = one - lat;
        let ar = all_reduce_s(1e9, 1536.0, 8.0, &links());
        assert!((transfer - 0.5 * ar).abs() < 1e-12);
    }

    #[test]
    fn megatron_buckets_grow_with_the_group_and_deepspeed_gathers_each_tensor() {
        // 4B parameters on 24 layers: 100 buckets of 40M at DP 8; at DP 2,048 buckets are
        // 2,048M parameters: 2.
        assert_eq!(Granularity::Bucket.calls(4e9, 24.0, 8.0), 100.0);
        assert_eq!(Granularity::Bucket.calls(4e9, 24.0, 2048.0), 2.0);
        assert_eq!(Granularity::Layer.calls(4e9, 24.0, 8.0), 24.0);
        assert_eq!(Granularity::Parameter.calls(4e9, 24.0, 8.0), 288.0);
        assert_eq!(
            Granularity::parse("parameter"),
            Some(Granularity::Parameter)
        );
        assert_eq!(Granularity::parse("tensor"), None);
    }

    #[test]
    fn latency_grows_with_the_log_of_the_domains() {
        let l = Links {
            scale_out_latency_s: 10e-6,
            ..links()
        };
        // 16,384 ranks one per node: 2 x log2(16,384) = 28 hops of 10 us.
        let t = all_reduce_s(1.0, 16384.0, 1.0, &l);
        assert!((t - 28.0 * 10e-6).abs() < 1e-6);
    }
}
