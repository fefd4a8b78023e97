//! Monte Carlo over a portfolio of compute deals: capacity distributions over time (being written).
