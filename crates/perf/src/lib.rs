//! Training step-time model with parallelism search, and the inference serving model (being written).
