//! The durable outbox: every outbound message is a row written in the same transaction as the
//! change that caused it, and a [`worker::Worker`] delivers it through the [`Senders`]
//! registered for its destination's kind, with retries, so a crash or an outage loses
//! nothing and a rolled-back change sends nothing.
//!
//! The SQL is in `store::outbox`; this module holds what it stores (a [`Reply`] per
//! message) and delivers it. Each platform's senders live with the platform.

pub mod agreements;
pub mod senders;
pub mod shifts;
pub mod worker;

use crate::config::DeliverySettings;
use crate::reply::Reply;

pub use senders::{ConsoleSender, ConsoleSink, SendFuture, SendOutcome, Sender, Senders};
pub use worker::{DrainReport, RetryPolicy, Worker};

pub use crate::domain::{Destination, DestinationKind, WebhookPolicy, WebhookUrl};
pub use crate::store::OutboxState;

/// Dedup keys of the notices that tell a program owner a message died. A notice that dies
/// itself is not reported again, so a broken destination cannot start a loop.
pub const DEAD_NOTICE_PREFIX: &str = "dead:";

/// A message to queue with [`crate::store::enqueue`]: a [`Reply`], stored as JSON.
pub type NewMessage = crate::store::NewMessage<Reply>;

/// A queued message as the store reads it back, its [`Reply`] included.
pub type OutboxRow = crate::store::OutboxRow<Reply>;

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
