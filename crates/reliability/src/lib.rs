//! Discrete-event simulation of failures, checkpoints and restarts: goodput at scale (being written).
