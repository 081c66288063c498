//! Pure analysis over program state: no I/O, so it can be tested and benchmarked alone.

pub mod graph;
