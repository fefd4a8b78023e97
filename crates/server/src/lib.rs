//! The web dashboard and JSON API (being written).
