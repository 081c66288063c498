//! Slack's outbox senders, sharing one way of sending a reply's parts in order, paced, and
//! of reading Slack's answers.
//!
//! - [`SlackApiSender`]: channels and direct messages through the Web API,
//!   `chat.postMessage` with the bot token, for the people and channels of a Slack workspace
//!   that no route sends to an incoming webhook. A direct message goes to the user's id,
//!   which Slack delivers in the app's Messages tab. A channel is confirmed to be the row's
//!   workspace's before anything is posted to it: one stored before that was checked, or
//!   since moved, is dead-lettered.
//! - [`WebhookSender`]: incoming webhooks. A webhook URL is a secret (its path is the
//!   credential), so no error or log line here contains one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::channels::{team_of, SlackChannels, Verdict};
use crate::config::{DeliverySettings, Settings};
use crate::outbox::senders::{describe, outbound_client, short, with_reason};
use crate::outbox::{
    Destination, DestinationKind, OutboxRow, SendFuture, SendOutcome, Sender, WebhookPolicy,
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
    /// The destinations it sends to.
    pub const KINDS: &[DestinationKind] =
        &[DestinationKind::SlackChannel, DestinationKind::SlackUser];

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
        let parts = slack::render(&with_reason(&msg.reply, &msg.reason));
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
        match answer(sent).await {
            Ok((status, retry_after, text)) => classify(status, retry_after, &text),
            Err(unsent) => unsent,
        }
    }
}

/// What Slack answered: the status, its `Retry-After`, and the body (bounded; a body that
/// fails to arrive reads as empty, since the status alone says whether a part was taken).
/// A request that got no answer is to be retried.
async fn answer(
    sent: reqwest::Result<reqwest::Response>,
) -> Result<(StatusCode, Option<Duration>, String), Part> {
    let mut response = sent.map_err(|e| Part::Retry {
        after: None,
        error: describe(e),
    })?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = read_bounded(&mut response).await.unwrap_or_default();
    Ok((status, retry_after, body))
}

/// The Web API's answer as an outcome. It answers HTTP 200 with `{"ok": false, "error":
/// "…"}` for most failures: passing ones (`ratelimited`, `internal_error`, …) are retried;
/// the rest (`channel_not_found`, `not_in_channel`, `invalid_auth`, `missing_scope`,
/// `invalid_blocks`, …) need a person to change something first.
fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Part {
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

/// Posts to Slack incoming webhooks: each part of the rendered reply is one request,
/// in order, with at least `webhook_min_interval_ms` between requests to one URL.
pub struct WebhookSender {
    client: reqwest::Client,
    policy: WebhookPolicy,
    pacer: Pacer,
}

impl WebhookSender {
    /// The destinations it sends to.
    pub const KINDS: &[DestinationKind] = &[DestinationKind::SlackWebhook];

    pub fn new(settings: &DeliverySettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: outbound_client(settings)?,
            policy: WebhookPolicy::from_settings(settings),
            pacer: Pacer::new(Duration::from_millis(settings.webhook_min_interval_ms)),
        })
    }

    async fn deliver(&self, msg: &OutboxRow) -> SendOutcome {
        let Destination::SlackWebhook { url: hook } = &msg.destination else {
            return SendOutcome::Permanent {
                error: format!("the webhook sender cannot send to {}", msg.destination),
            };
        };
        // Stored rows were checked when they were queued; the policy may have changed since.
        let url = match self.policy.url(hook.as_str()) {
            Ok(url) => url,
            Err(refused) => return SendOutcome::Permanent { error: refused.0 },
        };
        let parts = slack::render(&with_reason(&msg.reply, &msg.reason));
        send_parts(&parts, msg.parts_sent, |part| {
            self.pacer
                .paced(hook.as_str(), self.post(url.clone(), part))
        })
        .await
    }

    async fn post(&self, url: Url, part: &slack::Message) -> Part {
        match answer(self.client.post(url).json(part).send().await).await {
            Ok((status, retry_after, body)) => classify_webhook(status, retry_after, &body),
            Err(unsent) => unsent,
        }
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}

/// Slack's answer to a webhook post, as an outcome. Slack's errors are plain-text codes
/// (`invalid_blocks`, `channel_not_found`, …) with a 4xx status: the message or the hook is
/// wrong, and sending it again cannot help. A 429 or 5xx is passing.
fn classify_webhook(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Part {
    let said = short(body);
    let code = status.as_u16();
    let error = if said.is_empty() {
        format!("Slack answered {code}")
    } else {
        format!("Slack answered {code} {said}")
    };
    if status.is_success() {
        Part::Accepted
    } else if code == 429 || code == 408 || status.is_server_error() {
        Part::Retry {
            after: retry_after,
            error,
        }
    } else if status.is_redirection() {
        Part::Refused {
            error: format!("{error}: webhooks are not redirected"),
        }
    } else {
        // 403/404 and Slack's `invalid_payload`, `invalid_blocks`, `channel_not_found`,
        // `channel_is_archived`, `action_prohibited`, `no_service`, `invalid_token`, and any
        // other 4xx: the hook or the message must change first.
        Part::Refused { error }
    }
}

/// How much of a response is read: Slack answers `ok` or a short error code.
const RESPONSE_BODY_MAX: usize = 16 * 1024;
/// A `Retry-After` beyond this is treated as this.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// Sends a message's Slack `parts` in order, from `first` (the parts an earlier attempt
/// delivered are skipped), each through `post`: a passing failure is retried from the part
/// that failed, a refusal dead-letters the rest.
async fn send_parts<'a, Fut>(
    parts: &'a [slack::Message],
    first: u32,
    mut post: impl FnMut(&'a slack::Message) -> Fut,
) -> SendOutcome
where
    Fut: Future<Output = Part>,
{
    let total = parts.len();
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    for (i, part) in parts.iter().enumerate().skip(first) {
        let of = if total > 1 {
            format!(" (part {} of {total})", i + 1)
        } else {
            String::new()
        };
        match post(part).await {
            Part::Accepted => {}
            Part::Retry { after, error } => {
                return SendOutcome::Retry {
                    after,
                    error: format!("{error}{of}"),
                    parts_sent: i as u32,
                }
            }
            Part::Refused { error } => {
                let delivered = if i > 0 {
                    format!("; {i} earlier part(s) were delivered")
                } else {
                    String::new()
                };
                return SendOutcome::Permanent {
                    error: format!("{error}{of}{delivered}"),
                };
            }
        }
    }
    SendOutcome::Sent
}

/// A response's `Retry-After` in seconds, capped at [`RETRY_AFTER_MAX`].
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(RETRY_AFTER_MAX))
}

/// How one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Accepted,
    Retry {
        after: Option<Duration>,
        error: String,
    },
    Refused {
        error: String,
    },
}

/// Reads a response body up to [`RESPONSE_BODY_MAX`] bytes.
async fn read_bounded(response: &mut reqwest::Response) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = RESPONSE_BODY_MAX - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= RESPONSE_BODY_MAX {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// At most one request per key (a webhook URL) per interval, counted from the end of one
/// request to the start of the next, so the receiver never sees two closer than that.
/// Requests to other keys do not wait.
struct Pacer {
    interval: Duration,
    lanes: Mutex<HashMap<String, Lane>>,
}

type Lane = Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>;

impl Pacer {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    async fn paced<T>(&self, key: &str, request: impl Future<Output = T>) -> T {
        if self.interval.is_zero() {
            return request.await;
        }
        let lane = {
            let mut lanes = self.lanes.lock().expect("pacer lock");
            if lanes.len() > 1024 {
                // Forget lanes nobody waits on and whose pause is over.
                let now = tokio::time::Instant::now();
                let interval = self.interval;
                lanes.retain(|_, lane| {
                    Arc::strong_count(lane) > 1
                        || lane
                            .try_lock()
                            .map(|last| last.is_some_and(|t| t + interval > now))
                            .unwrap_or(true)
                });
            }
            lanes.entry(key.to_owned()).or_default().clone()
        };
        let mut last = lane.lock().await;
        if let Some(t) = *last {
            tokio::time::sleep_until(t + self.interval).await;
        }
        let out = request.await;
        *last = Some(tokio::time::Instant::now());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_answers_are_classified() {
        let ok = classify_webhook(StatusCode::OK, None, "ok");
        assert_eq!(ok, Part::Accepted);
        let later = classify_webhook(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(1)),
            "",
        );
        assert!(matches!(later, Part::Retry { after: Some(d), .. } if d == Duration::from_secs(1)));
        assert!(matches!(
            classify_webhook(StatusCode::BAD_GATEWAY, None, "<html>"),
            Part::Retry { after: None, .. }
        ));
        for (status, body) in [
            (400, "invalid_blocks"),
            (400, "invalid_payload"),
            (404, "channel_not_found"),
            (410, "channel_is_archived"),
            (403, "action_prohibited"),
            (404, "no_service"),
            (403, "invalid_token"),
            (422, "whatever"),
            (301, ""),
        ] {
            let got = classify_webhook(StatusCode::from_u16(status).unwrap(), None, body);
            match got {
                Part::Refused { error } => assert!(error.contains(body), "{error}"),
                other => panic!("{status} {body}: {other:?}"),
            }
        }
    }
}
