//! The program vocabulary (docs/ARCHITECTURE.md's bottom layer) as validated types: a value here can only be
//! built through a `parse` that returns `Result`, so an invalid one cannot exist.

mod action;
mod calendar;
mod channels;
mod date;
mod destination;
mod entity;
mod people;
pub mod schedule_spec;
mod snapshot;
mod values;

pub use action::{ActionId, ACTION_ID_MAX};
pub use calendar::WorkCalendar;
pub use channels::{ChannelCheck, ChannelVerdict, NoPlatform};
pub use date::{check_year, n_days, signed_days, DateSpec, Days, WorkDays, YEARS};
pub use destination::{Destination, DestinationKind, WebhookPolicy, WebhookUrl};
pub use entity::*;
pub use people::{channel_id, PersonRef, Platform, Tenant};
pub use schedule_spec::ScheduleSpec;
pub use snapshot::{Parts, Snapshot};
pub use values::*;

/// A validation failure, written for the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
