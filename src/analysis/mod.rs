//! Pure analysis over program state: no I/O, so it can be tested and benchmarked alone.
//! Everything reads a [`Snapshot`] and is linear in nodes + edges.

pub mod changes;
pub mod forecast;
pub mod graph;
pub mod health;
pub mod schedule;
pub mod trend;

pub use crate::domain::{Parts, Snapshot};
pub use forecast::{Forecasts, Node, Shift};
pub use health::{Health, ProgramHealth, Reason, Rule};
