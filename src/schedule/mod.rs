//! The scheduler and its jobs. When a job fires is a [`ScheduleSpec`] (a domain value,
//! re-exported here); [`Scheduler`] finds each job's due slots and runs them once; each
//! kind of job ([`job::Job`]) says what it sends, in words kept in [`wording`].

mod digest;
mod job;
pub mod lead;
mod nudge;
mod portfolio;
mod scheduler;
mod status;
pub mod wording;

pub use crate::config::{PromptRoute, SchedulerSettings};
pub use crate::domain::schedule_spec as spec;
pub use crate::domain::schedule_spec::*;
pub use job::{Hold, Job, Run};
pub use lead::Lead;
pub use scheduler::{ChartLinks, Scheduler, TickReport};
