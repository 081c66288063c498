//! Whether a Slack channel belongs to a workspace, asked of Slack with the bot token: the
//! token's own workspace from `auth.test`, then the channel's workspaces from
//! `conversations.info`. Commands ask before they store a channel; the Web API sender asks
//! again before it posts, so a channel stored before the check existed is never sent to.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::command::{ChannelCheck, ChannelVerdict};
use crate::config::Settings;
use crate::domain::Tenant;
use crate::outbox::senders::{describe, outbound_client, short};

/// How long a channel confirmed as the workspace's is believed without asking again.
/// A refusal is never remembered: the app may be invited, or the answer was a blip.
pub const CONFIRMED_FOR: Duration = Duration::from_secs(300);

/// Confirmed channels kept at most; expired ones are dropped first when it is reached.
const CONFIRMED_MAX: usize = 10_000;

/// What Slack said of a channel, with enough to decide at send time whether to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The channel is in the workspace (or shared with it).
    Belongs,
    /// Another workspace's channel, or none this token can see: why, for people.
    Foreign(String),
    /// Slack could not say. `passing` when asking again later may answer (network, 5xx,
    /// `ratelimited`); otherwise a person must change something first (token, scopes).
    Unchecked { why: String, passing: bool },
}

impl From<Verdict> for ChannelVerdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Belongs => ChannelVerdict::Belongs,
            Verdict::Foreign(_) => ChannelVerdict::Foreign,
            Verdict::Unchecked { why, .. } => ChannelVerdict::Unchecked(why),
        }
    }
}

/// The bot token's workspace, as `auth.test` gives it.
#[derive(Debug, Clone)]
struct TokenTeam {
    team: String,
    /// An org-wide install on Enterprise Grid reaches every workspace of the org; then
    /// only the channel's own workspaces decide.
    enterprise_install: bool,
}

/// Asks Slack whose a channel is. One per process part (the app, the sender), each with
/// its own short memory of confirmed channels.
pub struct SlackChannels {
    http: reqwest::Client,
    api_url: String,
    token: SecretString,
    token_team: Mutex<Option<TokenTeam>>,
    confirmed: Mutex<HashMap<(String, String), Instant>>,
}

impl std::fmt::Debug for SlackChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackChannels")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct AuthTest {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    is_enterprise_install: bool,
}

#[derive(Deserialize)]
struct Info {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    channel: Option<InfoChannel>,
}

#[derive(Deserialize)]
struct InfoChannel {
    #[serde(default)]
    context_team_id: Option<String>,
    #[serde(default)]
    shared_team_ids: Vec<String>,
    #[serde(default)]
    internal_team_ids: Vec<String>,
}

impl InfoChannel {
    /// Whether `team` may use the channel: one of the teams it is shared with, or, for a
    /// channel shared with none, the one it lives in. `None` when Slack named no team.
    fn belongs_to(&self, team: &str) -> Option<bool> {
        let shared: Vec<&String> = self
            .shared_team_ids
            .iter()
            .chain(&self.internal_team_ids)
            .collect();
        if !shared.is_empty() {
            return Some(shared.iter().any(|t| t.as_str() == team));
        }
        self.context_team_id.as_deref().map(|t| t == team)
    }
}

/// Errors of the Web API that pass: asking again later may work.
fn passing(error: &str) -> bool {
    matches!(
        error,
        "ratelimited"
            | "internal_error"
            | "fatal_error"
            | "service_unavailable"
            | "request_timeout"
    )
}

/// What a person should do about an error the Web API answered.
fn advice(method: &str, error: &str) -> String {
    let error = short(error);
    match error.as_str() {
        "missing_scope" => format!(
            "Slack answered {method} with missing_scope: the app needs the channels:read, groups:read, im:read and mpim:read scopes"
        ),
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => {
            format!("Slack refused the bot token ({error}): set a valid SLACK_BOT_TOKEN")
        }
        _ => format!("Slack answered {method} with {error}"),
    }
}

impl SlackChannels {
    /// The checker the settings describe, or `None` without a bot token.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let Some(token) = settings.slack.bot_token() else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: outbound_client(&settings.delivery)?,
            api_url: settings.slack.api_base(),
            token,
            token_team: Mutex::new(None),
            confirmed: Mutex::new(HashMap::new()),
        }))
    }

    /// Whether `channel` (an id) is usable by the workspace `team`.
    #[tracing::instrument(skip(self))]
    pub async fn verdict(&self, team: &str, channel: &str) -> Verdict {
        let key = (team.to_owned(), channel.to_owned());
        if self
            .confirmed
            .lock()
            .expect("the confirmed channels")
            .get(&key)
            .is_some_and(|until| *until > Instant::now())
        {
            return Verdict::Belongs;
        }
        let token_team = match self.token_team().await {
            Ok(t) => t,
            Err(unchecked) => return unchecked,
        };
        if !token_team.enterprise_install && token_team.team != team {
            return Verdict::Unchecked {
                why: format!(
                    "the bot token is for the Slack workspace {}, not {team}",
                    token_team.team
                ),
                passing: false,
            };
        }
        let verdict = self
            .conversation(team, channel, token_team.enterprise_install)
            .await;
        if verdict == Verdict::Belongs {
            let mut confirmed = self.confirmed.lock().expect("the confirmed channels");
            if confirmed.len() >= CONFIRMED_MAX {
                let now = Instant::now();
                confirmed.retain(|_, until| *until > now);
                if confirmed.len() >= CONFIRMED_MAX {
                    confirmed.clear();
                }
            }
            confirmed.insert(key, Instant::now() + CONFIRMED_FOR);
        }
        verdict
    }

    /// The token's workspace, asked once and then remembered (a token never changes
    /// workspace).
    async fn token_team(&self) -> Result<TokenTeam, Verdict> {
        if let Some(t) = self.token_team.lock().expect("the token's team").clone() {
            return Ok(t);
        }
        let sent = self
            .http
            .post(format!("{}/auth.test", self.api_url))
            .bearer_auth(self.token.expose_secret())
            .send()
            .await;
        let answer: AuthTest = read("auth.test", sent).await?;
        if !answer.ok {
            let error = answer.error.unwrap_or_else(|| "not ok".into());
            return Err(Verdict::Unchecked {
                passing: passing(&error),
                why: advice("auth.test", &error),
            });
        }
        let Some(team) = answer.team_id.filter(|t| !t.is_empty()) else {
            return Err(Verdict::Unchecked {
                why: "Slack answered auth.test without the token's workspace".into(),
                passing: false,
            });
        };
        let t = TokenTeam {
            team,
            enterprise_install: answer.is_enterprise_install,
        };
        *self.token_team.lock().expect("the token's team") = Some(t.clone());
        Ok(t)
    }

    async fn conversation(&self, team: &str, channel: &str, enterprise_install: bool) -> Verdict {
        let sent = self
            .http
            .get(format!("{}/conversations.info", self.api_url))
            .bearer_auth(self.token.expose_secret())
            .query(&[("channel", channel)])
            .send()
            .await;
        let answer: Info = match read("conversations.info", sent).await {
            Ok(a) => a,
            Err(unchecked) => return unchecked,
        };
        if !answer.ok {
            let error = answer.error.unwrap_or_else(|| "not ok".into());
            return match error.as_str() {
                // Slack says the same of a channel of another workspace and of none at all.
                "channel_not_found" => Verdict::Foreign(format!(
                    "Slack knows no channel {channel} in the workspace {team}"
                )),
                _ => Verdict::Unchecked {
                    passing: passing(&error),
                    why: advice("conversations.info", &error),
                },
            };
        }
        match answer.channel.as_ref().and_then(|c| c.belongs_to(team)) {
            Some(true) => Verdict::Belongs,
            Some(false) => Verdict::Foreign(format!(
                "the channel {channel} is another Slack workspace's, not {team}'s"
            )),
            // A workspace's own token sees only its channels and those shared with it (which
            // Slack lists); an org-wide one could be looking at any workspace's.
            None if !enterprise_install => Verdict::Belongs,
            None => Verdict::Unchecked {
                why: format!("Slack did not say which workspace the channel {channel} is in"),
                passing: false,
            },
        }
    }
}

/// A Web API answer read as JSON, or why Slack could not be asked.
async fn read<T: serde::de::DeserializeOwned>(
    method: &str,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<T, Verdict> {
    let response = sent.map_err(|e| Verdict::Unchecked {
        why: format!("Slack could not be reached ({method} {})", describe(e)),
        passing: true,
    })?;
    let status = response.status();
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(Verdict::Unchecked {
            why: format!("Slack answered {method} with {status}; try again in a minute"),
            passing: true,
        });
    }
    let body = response.text().await.map_err(|e| Verdict::Unchecked {
        why: format!("Slack's answer to {method} was cut off ({})", describe(e)),
        passing: true,
    })?;
    serde_json::from_str(&body).map_err(|_| Verdict::Unchecked {
        why: format!(
            "Slack answered {method} with {status} without its JSON: {}",
            short(&body)
        ),
        passing: false,
    })
}

/// The team id of a Slack tenant (`slack:T…`).
pub fn team_of(tenant: &Tenant) -> Option<&str> {
    tenant.slack_team()
}

impl ChannelCheck for SlackChannels {
    fn check<'a>(&'a self, tenant: &'a Tenant, channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        Box::pin(async move {
            match team_of(tenant) {
                Some(team) => self.verdict(team, channel).await.into(),
                None => ChannelVerdict::Unchecked(format!(
                    "{tenant} is not a Slack workspace, and only Slack's channels can be checked here"
                )),
            }
        })
    }
}

/// Where no bot token is configured: a Slack channel cannot be confirmed, so it is refused
/// with what to set.
#[derive(Debug, Default)]
pub struct NoToken;

impl ChannelCheck for NoToken {
    fn check<'a>(&'a self, tenant: &'a Tenant, _channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        let why = match team_of(tenant) {
            Some(_) => "no Slack bot token is configured (SLACK_BOT_TOKEN), so Drumbeat cannot confirm the channel is this workspace's".to_owned(),
            None => format!("{tenant} is not a Slack workspace, and only Slack's channels can be checked here"),
        };
        Box::pin(std::future::ready(ChannelVerdict::Unchecked(why)))
    }
}

/// The Slack check the settings allow: with the bot token, Slack is asked; without, every
/// channel is refused saying so.
pub fn checker(settings: &Settings) -> anyhow::Result<std::sync::Arc<dyn ChannelCheck>> {
    Ok(match SlackChannels::from_settings(settings)? {
        Some(c) => std::sync::Arc::new(c),
        None => std::sync::Arc::new(NoToken),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(json: serde_json::Value) -> InfoChannel {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_channel_belongs_to_its_workspace_or_those_it_is_shared_with() {
        let own = channel(serde_json::json!({"context_team_id": "T1", "shared_team_ids": ["T1"]}));
        assert_eq!(own.belongs_to("T1"), Some(true));
        assert_eq!(own.belongs_to("T2"), Some(false));
        let connect =
            channel(serde_json::json!({"context_team_id": "T1", "shared_team_ids": ["T1", "T2"]}));
        assert_eq!(connect.belongs_to("T2"), Some(true));
        assert_eq!(connect.belongs_to("T3"), Some(false));
        let bare = channel(serde_json::json!({"context_team_id": "T1"}));
        assert_eq!(bare.belongs_to("T1"), Some(true));
        assert_eq!(bare.belongs_to("T2"), Some(false));
        assert_eq!(channel(serde_json::json!({})).belongs_to("T1"), None);
    }

    #[test]
    fn errors_that_pass_are_told_from_those_that_need_a_person() {
        assert!(passing("ratelimited"));
        assert!(!passing("missing_scope"));
        assert!(advice("conversations.info", "missing_scope").contains("channels:read"));
        assert!(advice("auth.test", "invalid_auth").contains("SLACK_BOT_TOKEN"));
    }
}
