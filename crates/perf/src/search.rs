//! Strategy search (being written).

/// Search options.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions;

/// Search result.
#[derive(Debug, Clone, Default)]
pub struct SearchResult;

/// Search.
pub fn search() {}
