//! The durable outbox: every outbound message is a row written in the same transaction as the
//! change that caused it, and a [`worker::Worker`] delivers it through [`senders`] with
//! retries, so a crash or an outage loses nothing and a rolled-back change sends nothing.
//!
//! The SQL is in `store::outbox`; this module holds the values it stores.

pub mod senders;
pub mod shifts;
pub mod worker;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Platform, Tenant};
use crate::reply::Reply;

pub use senders::{
    ConsoleSender, ConsoleSink, SendFuture, SendOutcome, Sender, Senders, WebhookPolicy,
    WebhookSender,
};
pub use worker::{DrainReport, RetryPolicy, Worker};

pub use crate::store::{OutboxRow, OutboxState};

/// Dedup keys of the notices that tell a program owner a message died. A notice that dies
/// itself is not reported again, so a broken destination cannot start a loop.
pub const DEAD_NOTICE_PREFIX: &str = "dead:";

/// Where a message goes. Stored as tagged JSON (`{"kind":"slack_webhook","url":…}`).
///
/// `Debug` and [`Destination::masked`] never show a webhook URL's path: for Slack incoming
/// webhooks the path is the secret.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    /// The local console; `channel` is a channel name or `@handle`.
    Console {
        channel: String,
    },
    DiscordChannel {
        channel_id: String,
    },
    /// A direct message to a Discord user.
    DiscordUser {
        user_id: String,
    },
    SlackWebhook {
        url: String,
    },
    /// A Slack channel by id, through the Web API (`chat.postMessage`, bot token).
    SlackChannel {
        channel_id: String,
    },
    /// A direct message to a Slack user (the app's Messages tab), through the Web API.
    SlackUser {
        user_id: String,
    },
}

impl Destination {
    /// A direct message to a person of the tenant, by their handle (a console name, or the
    /// platform's user id).
    pub fn for_person(tenant: &Tenant, handle: &str) -> Destination {
        match tenant.platform() {
            Platform::Discord => Destination::DiscordUser {
                user_id: handle.to_owned(),
            },
            // Through the Web API with the bot token; a program's route can send them to an
            // incoming webhook instead.
            Platform::Slack => Destination::SlackUser {
                user_id: handle.to_owned(),
            },
            Platform::Console => Destination::Console {
                channel: format!("@{handle}"),
            },
        }
    }

    /// A channel of the tenant, by the id the platform gives it (a name on the console).
    pub fn for_channel(tenant: &Tenant, channel: &str) -> Destination {
        match tenant.platform() {
            Platform::Discord => Destination::DiscordChannel {
                channel_id: channel.to_owned(),
            },
            Platform::Slack => Destination::SlackChannel {
                channel_id: channel.to_owned(),
            },
            Platform::Console => Destination::Console {
                channel: channel.to_owned(),
            },
        }
    }

    /// A short name for logs and metrics, never with an address in it.
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Console { .. } => "console",
            Destination::DiscordChannel { .. } => "discord_channel",
            Destination::DiscordUser { .. } => "discord_user",
            Destination::SlackWebhook { .. } => "slack_webhook",
            Destination::SlackChannel { .. } => "slack_channel",
            Destination::SlackUser { .. } => "slack_user",
        }
    }

    /// The platform it is on, for metrics: `console`, `discord` or `slack`.
    pub fn platform(&self) -> &'static str {
        match self {
            Destination::Console { .. } => "console",
            Destination::DiscordChannel { .. } | Destination::DiscordUser { .. } => "discord",
            Destination::SlackWebhook { .. }
            | Destination::SlackChannel { .. }
            | Destination::SlackUser { .. } => "slack",
        }
    }

    /// The destination in words, safe to show and log: a webhook URL keeps its host and the
    /// first letter of its first id (`https://hooks.slack.com/services/T…/…`).
    pub fn masked(&self) -> String {
        match self {
            Destination::Console { channel } if channel.starts_with('@') => {
                format!("console {channel}")
            }
            Destination::Console { channel } => format!("console #{channel}"),
            Destination::DiscordChannel { channel_id } => format!("Discord channel {channel_id}"),
            Destination::DiscordUser { user_id } => format!("Discord user {user_id}"),
            Destination::SlackWebhook { url } => mask_url(url),
            Destination::SlackChannel { channel_id } => format!("Slack channel {channel_id}"),
            Destination::SlackUser { user_id } => format!("Slack user {user_id}"),
        }
    }

    /// Requests to the same key share a pace (Slack: about one message per second per
    /// webhook, and per channel through the Web API).
    pub fn pacing_key(&self) -> Option<&str> {
        match self {
            Destination::SlackWebhook { url } => Some(url),
            Destination::SlackChannel { channel_id: id }
            | Destination::SlackUser { user_id: id } => Some(id),
            // Discord's rate-limit buckets belong to its sender; the console has none.
            _ => None,
        }
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Destination({})", self.masked())
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

fn mask_url(raw: &str) -> String {
    let Ok(url) = reqwest::Url::parse(raw) else {
        return "a webhook (unreadable URL)".to_owned();
    };
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let mut segments = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter();
    if let Some(first) = segments.next() {
        out.push('/');
        // A fixed word such as `services` is no secret; an id or token is.
        if first.chars().all(|c| c.is_ascii_lowercase()) && first.len() <= 16 {
            out.push_str(first);
            if let Some(id) = segments.next() {
                out.push('/');
                out.extend(id.chars().next());
                out.push('…');
            }
        } else {
            out.push('…');
        }
        if segments.next().is_some() {
            out.push_str("/…");
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_masked() {
        let d = Destination::SlackWebhook {
            url: "https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX".into(),
        };
        assert_eq!(d.masked(), "https://hooks.slack.com/services/T…/…");
        assert!(!format!("{d:?}").contains("secret"));
        assert!(!format!("{d}").contains("B0002"));
        let odd = Destination::SlackWebhook {
            url: "https://example.com/Secret123/abc".into(),
        };
        assert_eq!(odd.masked(), "https://example.com/…/…");
        let local = Destination::SlackWebhook {
            url: "http://127.0.0.1:4000/hook/7".into(),
        };
        assert_eq!(local.masked(), "http://127.0.0.1:4000/hook/7…");
    }

    #[test]
    fn people_are_reached_on_their_platform() {
        assert_eq!(
            Destination::for_person(&Tenant::local(), "dana"),
            Destination::Console {
                channel: "@dana".into()
            }
        );
        assert_eq!(
            Destination::for_person(&Tenant::discord(42), "1234"),
            Destination::DiscordUser {
                user_id: "1234".into()
            }
        );
        assert_eq!(
            Destination::for_person(&Tenant::slack("T1"), "U1"),
            Destination::SlackUser {
                user_id: "U1".into()
            }
        );
        assert_eq!(
            Destination::for_channel(&Tenant::slack("T1"), "C1"),
            Destination::SlackChannel {
                channel_id: "C1".into()
            }
        );
    }

    #[test]
    fn destinations_are_tagged_json() {
        let d = Destination::DiscordChannel {
            channel_id: "99".into(),
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"kind":"discord_channel","channel_id":"99"}"#);
        assert_eq!(serde_json::from_str::<Destination>(&json).unwrap(), d);
    }
}
