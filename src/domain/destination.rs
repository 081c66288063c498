//! Where a message goes ([`Destination`]), and the webhook URLs it may go to
//! ([`WebhookUrl`], checked by a [`WebhookPolicy`]).
//!
//! A webhook URL is a secret (for Slack incoming webhooks its path is the credential), so
//! nothing here prints one whole: `Debug`, `Display` and every refusal mask it.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Invalid, Platform, Tenant};

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
        url: WebhookUrl,
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

/// The kinds of [`Destination`], as its stored JSON tags them: senders are registered by
/// kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationKind {
    Console,
    DiscordChannel,
    DiscordUser,
    SlackWebhook,
    SlackChannel,
    SlackUser,
}

impl DestinationKind {
    pub const ALL: [DestinationKind; 6] = [
        Self::Console,
        Self::DiscordChannel,
        Self::DiscordUser,
        Self::SlackWebhook,
        Self::SlackChannel,
        Self::SlackUser,
    ];

    /// The stored tag (`slack_webhook`), also the name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::DiscordChannel => "discord_channel",
            Self::DiscordUser => "discord_user",
            Self::SlackWebhook => "slack_webhook",
            Self::SlackChannel => "slack_channel",
            Self::SlackUser => "slack_user",
        }
    }

    pub fn platform(self) -> Platform {
        match self {
            Self::Console => Platform::Console,
            Self::DiscordChannel | Self::DiscordUser => Platform::Discord,
            Self::SlackWebhook | Self::SlackChannel | Self::SlackUser => Platform::Slack,
        }
    }
}

impl fmt::Display for DestinationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

    /// What kind of destination it is; its name is safe for logs and metrics.
    pub fn kind(&self) -> DestinationKind {
        match self {
            Destination::Console { .. } => DestinationKind::Console,
            Destination::DiscordChannel { .. } => DestinationKind::DiscordChannel,
            Destination::DiscordUser { .. } => DestinationKind::DiscordUser,
            Destination::SlackWebhook { .. } => DestinationKind::SlackWebhook,
            Destination::SlackChannel { .. } => DestinationKind::SlackChannel,
            Destination::SlackUser { .. } => DestinationKind::SlackUser,
        }
    }

    /// The platform it is on.
    pub fn platform(&self) -> Platform {
        self.kind().platform()
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
            Destination::SlackWebhook { url } => url.masked(),
            Destination::SlackChannel { channel_id } => format!("Slack channel {channel_id}"),
            Destination::SlackUser { user_id } => format!("Slack user {user_id}"),
        }
    }

    /// Requests to the same key share a pace (Slack: about one message per second per
    /// webhook, and per channel through the Web API).
    pub fn pacing_key(&self) -> Option<&str> {
        match self {
            Destination::SlackWebhook { url } => Some(url.as_str()),
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

/// A webhook URL, kept as it was given. Made by [`WebhookPolicy::check`], or by
/// [`WebhookUrl::stored`] for one read back from the database (checked when it was stored,
/// under the policy of that day): whoever calls it checks it again with
/// [`WebhookPolicy::url`].
///
/// Stored as a plain JSON string. `Debug` and `Display` show it masked.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// A URL read back from storage, as stored: not checked here.
    pub fn stored(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The whole URL, secret path included: for the request and the pacing key only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host and the first letter of the first id (`https://hooks.slack.com/services/T…/…`).
    pub fn masked(&self) -> String {
        mask_url(&self.0)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.masked())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

fn mask_url(raw: &str) -> String {
    let Ok(url) = Url::parse(raw) else {
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

/// Which webhook URLs may be called: https on an allowed host (default port), or http to
/// this machine when loopback is allowed (for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Lower case, trimmed.
    hosts: Vec<String>,
    allow_loopback_http: bool,
}

impl WebhookPolicy {
    /// https on these hosts (compared case-insensitively); http to loopback too when
    /// `allow_loopback_http`.
    pub fn new<S: AsRef<str>>(
        hosts: impl IntoIterator<Item = S>,
        allow_loopback_http: bool,
    ) -> Self {
        Self {
            hosts: hosts
                .into_iter()
                .map(|h| h.as_ref().trim().to_ascii_lowercase())
                .collect(),
            allow_loopback_http,
        }
    }

    /// The allowed hosts, in lower case.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    pub fn allows_loopback_http(&self) -> bool {
        self.allow_loopback_http
    }

    /// The URL as a [`WebhookUrl`] if it may be called, else why not, in words that do not
    /// repeat the URL.
    pub fn check(&self, raw: &str) -> Result<WebhookUrl, Invalid> {
        self.url(raw).map(|_| WebhookUrl(raw.to_owned()))
    }

    /// The parsed URL, to call, if it may be called; else why not, without the URL. A
    /// sender asks this of every [`WebhookUrl`] before calling it, stored ones included.
    pub fn url(&self, raw: &str) -> Result<Url, Invalid> {
        let url =
            Url::parse(raw).map_err(|e| Invalid(format!("the webhook URL is not a URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::new(
                "the webhook URL carries credentials; it is refused",
            ));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        match url.scheme() {
            "https" => {
                let default_port = url.port().is_none_or(|p| p == 443);
                if default_port && self.hosts.contains(&host) {
                    Ok(url)
                } else {
                    Err(Invalid(format!(
                        "webhooks may only go to {} (https, port 443); not to {host}",
                        self.hosts.join(", ")
                    )))
                }
            }
            "http" if self.allow_loopback_http => {
                if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
                    Ok(url)
                } else {
                    Err(Invalid(format!(
                        "plain http is allowed only to this machine; not to {host}"
                    )))
                }
            }
            other => Err(Invalid(format!("webhook URLs must be https, not {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(raw: &str) -> Destination {
        Destination::SlackWebhook {
            url: WebhookUrl::stored(raw),
        }
    }

    #[test]
    fn webhook_urls_are_masked() {
        let d = hook("https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX");
        assert_eq!(d.masked(), "https://hooks.slack.com/services/T…/…");
        assert!(!format!("{d:?}").contains("secret"));
        assert!(!format!("{d}").contains("B0002"));
        let odd = hook("https://example.com/Secret123/abc");
        assert_eq!(odd.masked(), "https://example.com/…/…");
        let local = hook("http://127.0.0.1:4000/hook/7");
        assert_eq!(local.masked(), "http://127.0.0.1:4000/hook/7…");
        let Destination::SlackWebhook { url } = d else {
            unreachable!()
        };
        assert!(!format!("{url:?} {url}").contains("secret"));
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
        // A webhook keeps the URL as given, as a plain string.
        let raw = "https://HOOKS.slack.com/services/T1/B2/x";
        let json = serde_json::to_string(&hook(raw)).unwrap();
        assert_eq!(json, format!(r#"{{"kind":"slack_webhook","url":"{raw}"}}"#));
        assert_eq!(
            serde_json::from_str::<Destination>(&json).unwrap(),
            hook(raw)
        );
    }

    #[test]
    fn every_kind_is_its_stored_tag_on_its_platform() {
        let examples = [
            Destination::Console {
                channel: "ops".into(),
            },
            Destination::DiscordChannel {
                channel_id: "1".into(),
            },
            Destination::DiscordUser {
                user_id: "2".into(),
            },
            hook("https://hooks.slack.com/services/T1/B2/x"),
            Destination::SlackChannel {
                channel_id: "C1".into(),
            },
            Destination::SlackUser {
                user_id: "U1".into(),
            },
        ];
        for (d, kind) in examples.iter().zip(DestinationKind::ALL) {
            assert_eq!(d.kind(), kind);
            let json: serde_json::Value = serde_json::to_value(d).unwrap();
            assert_eq!(json["kind"], kind.as_str());
            assert_eq!(
                d.platform().as_str(),
                kind.as_str().split('_').next().unwrap()
            );
        }
    }

    fn policy(loopback: bool) -> WebhookPolicy {
        WebhookPolicy::new([" Hooks.Slack.com "], loopback)
    }

    #[test]
    fn only_allowed_https_hosts_are_called() {
        let p = policy(false);
        assert_eq!(p.hosts(), ["hooks.slack.com"]);
        let ok = p.check("https://hooks.slack.com/services/T1/B2/x").unwrap();
        assert_eq!(ok.as_str(), "https://hooks.slack.com/services/T1/B2/x");
        assert!(p.check("https://HOOKS.slack.com/services/T1/B2/x").is_ok());
        for bad in [
            "http://hooks.slack.com/services/T1/B2/x",
            "https://hooks.slack.com:8443/services/T1/B2/x",
            "https://evil.example/services/T1/B2/x",
            "https://hooks.slack.com.evil.example/x",
            "https://user:pw@hooks.slack.com/services/T1/B2/x",
            "http://127.0.0.1:9/hook",
            "ftp://hooks.slack.com/x",
            "not a url",
        ] {
            let refusal = p.check(bad).expect_err(bad);
            assert!(!refusal.0.contains("T1/B2"), "{refusal}");
        }
        let tests = policy(true);
        assert!(tests.check("http://127.0.0.1:9/hook").is_ok());
        assert!(tests.check("http://localhost:9/hook").is_ok());
        assert!(tests.check("http://10.0.0.1/hook").is_err());
    }

    #[test]
    fn a_stored_url_is_checked_again_before_it_is_called() {
        let stored = WebhookUrl::stored("https://evil.example/services/T1/B2/x");
        assert!(policy(false).url(stored.as_str()).is_err());
        let fine = WebhookUrl::stored("https://hooks.slack.com/services/T1/B2/x");
        assert_eq!(
            policy(false).url(fine.as_str()).unwrap().host_str(),
            Some("hooks.slack.com")
        );
    }
}
