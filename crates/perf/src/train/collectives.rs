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
//! Latency: NCCL switches to trees (or PAT) at scale, so the fixed cost grows with the
//! logarithm of the number of domains crossed, not linearly as a ring's would; at 16,384 GPUs
//! this is 2 x 11 network hops per collective.

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
}

/// All-reduce of `bytes` per rank over `ranks` ranks, `per_domain` of which share a scale-up
/// domain (the rest spread over `ranks / per_domain` domains). Reduce-scatter and all-gather
/// are half of it.
pub fn all_reduce_s(bytes: f64, ranks: f64, per_domain: f64, links: &Links) -> f64 {
    if ranks <= 1.0 || bytes <= 0.0 {
        return 0.0;
    }
    let local = per_domain.clamp(1.0, ranks);
    let domains = (ranks / local).max(1.0);
    let intra = if local > 1.0 {
        2.0 * (local - 1.0) / local * bytes / links.scale_up_bytes_per_s + links.scale_up_latency_s
    } else {
        0.0
    };
    let inter = if domains > 1.0 {
        2.0 * (domains - 1.0) / domains * (bytes / local) / links.scale_out_bytes_per_s
            + 2.0 * domains.log2().ceil().max(1.0) * links.scale_out_latency_s
    } else {
        0.0
    };
    intra + inter
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
