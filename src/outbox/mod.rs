//! The durable outbox: every outbound message is a row written in the same transaction as the
//! change that caused it, and a [`worker::Worker`] delivers it through [`senders`] with
//! retries, so a crash or an outage loses nothing and a rolled-back change sends nothing.
//!
//! The SQL is in `store::outbox`; this module holds the values it stores.

pub mod senders;
pub mod worker;

use chrono::{DateTime, Utc};

use crate::config::DeliverySettings;
use crate::domain::Tenant;
use crate::reply::Reply;

pub use senders::{
    ConsoleSender, ConsoleSink, SendFuture, SendOutcome, Sender, Senders, WebhookSender,
};
pub use worker::{DrainReport, RetryPolicy, Worker};

pub use crate::domain::{Destination, DestinationKind, WebhookPolicy, WebhookUrl};
pub use crate::store::{OutboxRow, OutboxState};

/// Dedup keys of the notices that tell a program owner a message died. A notice that dies
/// itself is not reported again, so a broken destination cannot start a loop.
pub const DEAD_NOTICE_PREFIX: &str = "dead:";

/// A message to queue with [`crate::store::enqueue`].
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub tenant: Tenant,
    /// The program it is about: it is deleted with the program, and its owner is told if it
    /// cannot be delivered. Must belong to `tenant`.
    pub program_id: Option<i64>,
    pub destination: Destination,
    pub reply: Reply,
    /// Why the reader gets it and how to stop it, shown with the message.
    pub reason: String,
    /// Queues the message once per tenant and key, however often the job that sends it
    /// runs. Keys starting with [`DEAD_NOTICE_PREFIX`] are reserved for the worker.
    pub dedup_key: Option<String>,
    /// Not sent before this instant.
    pub not_before: DateTime<Utc>,
}

/// The policies `[delivery]` describes; the policy itself is a domain value.
impl WebhookPolicy {
    /// Webhooks: https on `delivery.webhook_hosts`, loopback as `[delivery]` says.
    pub fn from_settings(settings: &DeliverySettings) -> Self {
        Self::for_hosts(&settings.webhook_hosts, settings)
    }

    /// https on these hosts (compared case-insensitively), with the loopback setting of
    /// `[delivery]`.
    pub fn for_hosts(hosts: &[String], settings: &DeliverySettings) -> Self {
        Self::new(hosts, settings.allow_loopback_http)
    }
}

impl Default for WebhookPolicy {
    /// The `[delivery]` defaults: https on hooks.slack.com.
    fn default() -> Self {
        Self::from_settings(&DeliverySettings::default())
    }
}
