//! Slack channels and direct messages through the Web API: `chat.postMessage` with the bot
//! token, for the people and channels of a Slack workspace that no route sends to an
//! incoming webhook. A direct message goes to the user's id, which Slack delivers in the
//! app's Messages tab. A channel is confirmed to be the row's workspace's before anything
//! is posted to it: one stored before that was checked, or since moved, is dead-lettered.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::channels::{team_of, SlackChannels, Verdict};
use crate::config::Settings;
use crate::outbox::{
    senders::{
        describe, outbound_client, read_bounded, retry_after, send_parts, short, Pacer, Part,
    },
    Destination, OutboxRow, SendFuture, SendOutcome, Sender,
};
use crate::reply::slack;

pub struct SlackApiSender {
    client: reqwest::Client,
    api_url: String,
    token: SecretString,
    pacer: Pacer,
    channels: SlackChannels,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

impl SlackApiSender {
    /// The sender the settings describe, or `None` without a bot token.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let (Some(token), Some(channels)) = (
            settings.slack.bot_token(),
            SlackChannels::from_settings(settings)?,
        ) else {
            return Ok(None);
        };
        Ok(Some(Self {
            client: outbound_client(&settings.delivery)?,
            api_url: settings.slack.api_base(),
            token,
            pacer: Pacer::new(Duration::from_millis(
                settings.delivery.webhook_min_interval_ms,
            )),
            channels,
        }))
    }

    async fn deliver(&self, msg: &OutboxRow) -> SendOutcome {
        let channel = match &msg.destination {
            Destination::SlackChannel { channel_id: id }
            | Destination::SlackUser { user_id: id } => id.as_str(),
            other => {
                return SendOutcome::Permanent {
                    error: format!("not a Slack channel or user: {}", other.kind()),
                }
            }
        };
        if let Destination::SlackChannel { channel_id } = &msg.destination {
            if let Some(refused) = self.confirm(msg, channel_id).await {
                return refused;
            }
        }
        let parts = slack::render(&crate::outbox::senders::with_reason(
            &msg.reply,
            &msg.reason,
        ));
        send_parts(&parts, msg.parts_sent, |part| {
            self.pacer.paced(channel, self.post(channel, part))
        })
        .await
    }

    /// `None` when the channel is the row's workspace's; else the outcome instead of sending.
    async fn confirm(&self, msg: &OutboxRow, channel: &str) -> Option<SendOutcome> {
        let Some(team) = team_of(&msg.tenant) else {
            return Some(SendOutcome::Permanent {
                error: format!(
                    "a Slack channel for {}, which is not a Slack workspace; never sent",
                    msg.tenant
                ),
            });
        };
        match self.channels.verdict(team, channel).await {
            Verdict::Belongs => None,
            Verdict::Foreign(why) => Some(SendOutcome::Permanent {
                error: format!(
                    "{why}; never sent: route the program to one of its own channels (`program route`, `digest subscribe --channel`)"
                ),
            }),
            Verdict::Unchecked { why, passing: true } => Some(SendOutcome::Retry {
                after: None,
                error: format!("the channel could not be checked: {why}"),
                parts_sent: msg.parts_sent,
            }),
            Verdict::Unchecked { why, passing: false } => Some(SendOutcome::Permanent {
                error: format!("the channel could not be checked: {why}; never sent"),
            }),
        }
    }

    async fn post(&self, channel: &str, part: &slack::Message) -> Part {
        let body = serde_json::json!({
            "channel": channel,
            "text": part.text,
            "blocks": part.blocks,
            // Only the typed `<@U…>` mentions in the text ping; links are not unfurled.
            "unfurl_links": false,
            "unfurl_media": false,
        });
        let sent = self
            .client
            .post(format!("{}/chat.postMessage", self.api_url))
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Part::Retry {
                    after: None,
                    error: describe(e),
                }
            }
        };
        let status = response.status();
        let retry_after = retry_after(&response);
        let text = read_bounded(&mut response).await.unwrap_or_default();
        classify(status, retry_after, &text)
    }
}

/// The Web API's answer as an outcome. It answers HTTP 200 with `{"ok": false, "error":
/// "…"}` for most failures: passing ones (`ratelimited`, `internal_error`, …) are retried;
/// the rest (`channel_not_found`, `not_in_channel`, `invalid_auth`, `missing_scope`,
/// `invalid_blocks`, …) need a person to change something first.
fn classify(status: reqwest::StatusCode, retry_after: Option<Duration>, body: &str) -> Part {
    let code = status.as_u16();
    if code == 429 || status.is_server_error() {
        return Part::Retry {
            after: retry_after,
            error: format!("chat.postMessage answered {code}"),
        };
    }
    let answer = serde_json::from_str::<Answer>(body).ok();
    match answer {
        Some(Answer { ok: true, .. }) if status.is_success() => Part::Accepted,
        Some(Answer { error, .. }) => {
            let error = error.unwrap_or_else(|| "not ok".into());
            let words = format!("chat.postMessage answered {}", short(&error));
            match error.as_str() {
                "ratelimited" | "internal_error" | "fatal_error" | "service_unavailable"
                | "request_timeout" => Part::Retry {
                    after: retry_after,
                    error: words,
                },
                "not_in_channel" | "channel_not_found" => Part::Refused {
                    error: format!("{words}: invite the Drumbeat app to the channel, or route the program to a webhook"),
                },
                "missing_scope" => Part::Refused {
                    error: format!("{words}: the app needs the chat:write scope"),
                },
                _ => Part::Refused { error: words },
            }
        }
        None => Part::Refused {
            error: format!(
                "chat.postMessage answered {code} without Slack's JSON: {}",
                short(body)
            ),
        },
    }
}

impl Sender for SlackApiSender {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}
