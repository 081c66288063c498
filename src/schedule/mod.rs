//! Schedules: when a job fires, written the way people write it, and its firings in a
//! timezone under the daylight-saving rules of DESIGN.md.

pub mod jobs;
pub mod spec;

pub use jobs::{ChartLinks, PromptRoute, Scheduler, SchedulerSettings, TickReport};
pub use spec::*;
