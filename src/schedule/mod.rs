//! Schedules: when a job fires, written the way people write it, and its firings in a
//! timezone under the daylight-saving rules of DESIGN.md.

pub mod jobs;

pub use crate::config::{PromptRoute, SchedulerSettings};
pub use crate::domain::schedule_spec as spec;
pub use crate::domain::schedule_spec::*;
pub use jobs::{ChartLinks, Scheduler, TickReport};
