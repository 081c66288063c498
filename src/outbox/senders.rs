//! Platform senders: each turns one outbox row into requests to one kind of destination and
//! says how it went — sent, worth retrying (and when), or refused for good. They never touch
//! the database; the worker records the outcome.
//!
//! A webhook URL is a secret (its path is the credential), so no error or log line here
//! contains one.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};

use super::OutboxRow;
use super::{Destination, WebhookPolicy};
use crate::config::DeliverySettings;
use crate::reply::{slack, text, Block, Reply, Text};

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Every part was accepted.
    Sent,
    /// A passing failure. `after` is the earliest the destination will take it again (a
    /// 429's `Retry-After`); `parts_sent` counts the parts delivered so far, which the next
    /// attempt skips.
    Retry {
        after: Option<Duration>,
        error: String,
        parts_sent: u32,
    },
    /// The destination refused it and will keep refusing it: dead-letter it.
    Permanent { error: String },
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = SendOutcome> + Send + 'a>>;

/// Delivers rows to one kind of destination.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a>;
}

/// The reply as the reader gets it: with why it came and how to stop it, at the end.
pub fn with_reason(reply: &Reply, reason: &str) -> Reply {
    let mut reply = reply.clone();
    if !reason.trim().is_empty() {
        let mut why = Text::plain("Why you got this: ");
        why.0.extend(Text::marked(reason).0);
        reply.blocks.push(Block::Paragraph { text: why });
    }
    reply
}

/// The senders the worker routes to, by destination kind. Discord plugs in when its
/// adapter exists; until then Discord destinations are dead-lettered with a clear error.
pub struct Senders {
    pub console: Box<dyn Sender>,
    pub webhook: Box<dyn Sender>,
    pub discord: Option<Box<dyn Sender>>,
    /// Slack channels and direct messages through the Web API, when a bot token is set.
    pub slack_api: Option<Box<dyn Sender>>,
}

impl Senders {
    pub fn new(console: impl Sender + 'static, webhook: impl Sender + 'static) -> Self {
        Self {
            console: Box::new(console),
            webhook: Box::new(webhook),
            discord: None,
            slack_api: None,
        }
    }

    /// The console sender writing to `sink`, and the webhook sender the settings describe.
    pub fn from_settings(settings: &DeliverySettings, sink: ConsoleSink) -> anyhow::Result<Self> {
        Ok(Self::new(
            ConsoleSender::new(sink),
            WebhookSender::new(settings)?,
        ))
    }

    pub fn with_discord(mut self, discord: impl Sender + 'static) -> Self {
        self.discord = Some(Box::new(discord));
        self
    }

    pub fn with_slack_api(mut self, slack: impl Sender + 'static) -> Self {
        self.slack_api = Some(Box::new(slack));
        self
    }
}

impl Sender for Senders {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        match &msg.destination {
            Destination::Console { .. } => self.console.send(msg),
            Destination::SlackWebhook { .. } => self.webhook.send(msg),
            Destination::DiscordChannel { .. } | Destination::DiscordUser { .. } => {
                match &self.discord {
                    Some(discord) => discord.send(msg),
                    None => Box::pin(std::future::ready(SendOutcome::Permanent {
                        error: "Discord is not configured".into(),
                    })),
                }
            }
            Destination::SlackChannel { .. } | Destination::SlackUser { .. } => {
                match &self.slack_api {
                    Some(slack) => slack.send(msg),
                    None => Box::pin(std::future::ready(SendOutcome::Permanent {
                        error: "Slack direct messages and channel posts need the bot token \
                                (SLACK_BOT_TOKEN, scope chat:write); or route the program to an \
                                incoming webhook with `program route PROGRAM --slack-webhook URL`"
                            .into(),
                    })),
                }
            }
        }
    }
}

/// Where console messages go: stdout, or a list a test can read.
#[derive(Debug, Clone)]
pub enum ConsoleSink {
    Stdout,
    Memory(Arc<Mutex<Vec<String>>>),
}

impl ConsoleSink {
    pub fn memory() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Self::Memory(lines.clone()), lines)
    }
}

/// Shows messages on the console as plain text, under a line that says who they are for
/// and why.
#[derive(Debug, Clone)]
pub struct ConsoleSender {
    sink: ConsoleSink,
}

impl ConsoleSender {
    pub fn new(sink: ConsoleSink) -> Self {
        Self { sink }
    }

    fn deliver(&self, msg: &OutboxRow) -> SendOutcome {
        let out = format!(
            "── to {} · {}\n{}",
            msg.destination.masked(),
            msg.reason,
            text::render(&msg.reply)
        );
        match &self.sink {
            ConsoleSink::Stdout => {
                let mut stdout = std::io::stdout().lock();
                match writeln!(stdout, "{out}").and_then(|()| stdout.flush()) {
                    Ok(()) => SendOutcome::Sent,
                    Err(e) => SendOutcome::Retry {
                        after: None,
                        error: format!("writing to the console: {e}"),
                        parts_sent: 0,
                    },
                }
            }
            ConsoleSink::Memory(lines) => {
                lines.lock().expect("console sink lock").push(out);
                SendOutcome::Sent
            }
        }
    }
}

impl Sender for ConsoleSender {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        Box::pin(std::future::ready(self.deliver(msg)))
    }
}

/// How much of a response is read: Slack answers `ok` or a short error code.
const RESPONSE_BODY_MAX: usize = 16 * 1024;
/// A `Retry-After` beyond this is treated as this.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);
/// How much of an error is kept with the row.
const ERROR_MAX: usize = 300;

/// The HTTP client for calls out to platforms (webhooks, `response_url`, Web API): the
/// `[delivery]` timeouts, no redirects, https only (loopback http when tests allow it).
pub fn outbound_client(settings: &DeliverySettings) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .timeout(Duration::from_millis(settings.request_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("drumbeat/", env!("CARGO_PKG_VERSION")));
    if settings.allow_loopback_http {
        // Loopback is for tests; a proxy could not reach it anyway.
        builder.no_proxy().build()
    } else {
        builder.https_only(true).build()
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
        let mut response = match self.client.post(url).json(part).send().await {
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
        // The part was accepted once the status says so; a body that fails to arrive after
        // a 2xx does not make it undelivered.
        let body = read_bounded(&mut response).await.unwrap_or_default();
        classify(status, retry_after, &body)
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}

/// Sends a message's Slack `parts` in order, from `first` (the parts an earlier attempt
/// delivered are skipped), each through `post`: a passing failure is retried from the part
/// that failed, a refusal dead-letters the rest.
pub(crate) async fn send_parts<'a, Fut>(
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
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(RETRY_AFTER_MAX))
}

/// How one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
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
pub(crate) async fn read_bounded(
    response: &mut reqwest::Response,
) -> Result<String, reqwest::Error> {
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

/// Slack's answer to a webhook post, as an outcome. Slack's errors are plain-text codes
/// (`invalid_blocks`, `channel_not_found`, …) with a 4xx status: the message or the hook is
/// wrong, and sending it again cannot help. A 429 or 5xx is passing.
fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Part {
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

/// A response body fit for an error message: one line, printable, short.
pub(crate) fn short(body: &str) -> String {
    let line: String = body
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_MAX)
        .collect();
    line.trim().to_owned()
}

/// A transport error in words, without the URL reqwest would put in it.
pub(crate) fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut words = format!("{what}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        words.push_str(&format!(": {s}"));
        source = s.source();
    }
    words.chars().take(ERROR_MAX).collect()
}

/// At most one request per key (a webhook URL) per interval, counted from the end of one
/// request to the start of the next, so the receiver never sees two closer than that.
/// Requests to other keys do not wait.
pub(crate) struct Pacer {
    interval: Duration,
    lanes: Mutex<HashMap<String, Lane>>,
}

type Lane = Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>;

impl Pacer {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) async fn paced<T>(&self, key: &str, request: impl Future<Output = T>) -> T {
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
        let ok = classify(StatusCode::OK, None, "ok");
        assert_eq!(ok, Part::Accepted);
        let later = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(1)),
            "",
        );
        assert!(matches!(later, Part::Retry { after: Some(d), .. } if d == Duration::from_secs(1)));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None, "<html>"),
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
            let got = classify(StatusCode::from_u16(status).unwrap(), None, body);
            match got {
                Part::Refused { error } => assert!(error.contains(body), "{error}"),
                other => panic!("{status} {body}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_reason_goes_with_the_message() {
        let r = with_reason(&Reply::new("Hi"), "You own `api`.");
        let Some(Block::Paragraph { text }) = r.blocks.last() else {
            panic!("no reason paragraph");
        };
        assert_eq!(text::render_text(text), "Why you got this: You own `api`.");
    }
}
