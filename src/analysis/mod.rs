//! Pure analysis over program state: no I/O, so it can be tested and benchmarked alone.
//! Everything reads a [`Snapshot`] and is linear in nodes + edges.

pub mod changes;
pub mod forecast;
pub mod graph;
pub mod health;
pub mod schedule;
pub mod scorecard;
pub mod trend;

pub use crate::domain::{Parts, Snapshot};
pub use forecast::{Conflict, Forecasts, Node, Shift};
pub use health::{Health, ProgramHealth, Reason, Rule};

/// A program analysed once: its snapshot with the forecasts and health computed from it.
/// Digests, reports, charts and jobs all read this one view.
pub struct Analysed<'a> {
    pub snap: &'a Snapshot,
    pub forecasts: Forecasts,
    pub health: ProgramHealth,
}

impl<'a> Analysed<'a> {
    pub fn of(snap: &'a Snapshot) -> Self {
        let forecasts = Forecasts::of(snap);
        let health = health::assess(snap, &forecasts);
        Self {
            snap,
            forecasts,
            health,
        }
    }
}
