//! Senders: each turns one outbox row into requests to its kinds of destination and says
//! how it went — sent, worth retrying (and when), or refused for good. They never touch the
//! database; the worker records the outcome.
//!
//! Here are the [`Sender`] trait, the [`Senders`] registry the worker routes through, the
//! console sender, and helpers for senders that call out over HTTP. Each platform's senders
//! live with the platform and are registered by destination kind.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{DestinationKind, OutboxRow};
use crate::config::DeliverySettings;
use crate::reply::{text, Block, Reply, Text};

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

/// The senders the worker routes to, registered by destination kind. A destination whose
/// kind has no sender is dead-lettered at once, with what to configure.
#[derive(Clone, Default)]
pub struct Senders {
    by_kind: HashMap<DestinationKind, Arc<dyn Sender>>,
}

impl Senders {
    /// No senders: every message is dead-lettered until one is registered for its kind.
    pub fn new() -> Self {
        Self::default()
    }

    /// Console destinations shown on `sink`, and nothing else yet.
    pub fn console(sink: ConsoleSink) -> Self {
        Self::new().with(ConsoleSender::KINDS, ConsoleSender::new(sink))
    }

    /// Sends destinations of `kind` through `sender`, instead of any sender registered for
    /// that kind before.
    pub fn register(&mut self, kind: DestinationKind, sender: Arc<dyn Sender>) -> &mut Self {
        self.by_kind.insert(kind, sender);
        self
    }

    /// The same, by value, for each of `kinds` with one shared sender.
    pub fn with(mut self, kinds: &[DestinationKind], sender: impl Sender + 'static) -> Self {
        let sender: Arc<dyn Sender> = Arc::new(sender);
        for &kind in kinds {
            self.register(kind, sender.clone());
        }
        self
    }

    /// Whether a sender is registered for `kind`.
    pub fn serves(&self, kind: DestinationKind) -> bool {
        self.by_kind.contains_key(&kind)
    }
}

/// Why a destination of `kind` cannot be sent to when no sender is registered for it, and
/// what to set up.
fn unregistered(kind: DestinationKind) -> String {
    match kind {
        DestinationKind::DiscordChannel | DestinationKind::DiscordUser => {
            "Discord is not configured".into()
        }
        DestinationKind::SlackChannel | DestinationKind::SlackUser => {
            "Slack direct messages and channel posts need the bot token \
             (SLACK_BOT_TOKEN, scope chat:write); or route the program to an \
             incoming webhook with `program route PROGRAM --slack-webhook URL`"
                .into()
        }
        DestinationKind::Console | DestinationKind::SlackWebhook => {
            format!("nothing here sends to {kind} destinations")
        }
    }
}

impl Sender for Senders {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        let kind = msg.destination.kind();
        match self.by_kind.get(&kind) {
            Some(sender) => sender.send(msg),
            None => Box::pin(std::future::ready(SendOutcome::Permanent {
                error: unregistered(kind),
            })),
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
    /// The destinations it sends to.
    pub const KINDS: &[DestinationKind] = &[DestinationKind::Console];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Destination, Tenant};

    fn row(destination: Destination) -> OutboxRow {
        let at = chrono::DateTime::UNIX_EPOCH;
        OutboxRow {
            id: 1,
            tenant: Tenant::local(),
            program_id: None,
            destination,
            reply: Reply::new("Hi"),
            reason: String::new(),
            dedup_key: None,
            nonce: "n".into(),
            state: super::super::OutboxState::Sending,
            attempts: 1,
            parts_sent: 0,
            next_attempt_at: at,
            claimed_at: Some(at),
            last_error: None,
            created_at: at,
            sent_at: None,
        }
    }

    /// Answers with a refusal that names it, so a test sees which sender was asked.
    struct Named(&'static str);

    impl Sender for Named {
        fn send<'a>(&'a self, _msg: &'a OutboxRow) -> SendFuture<'a> {
            Box::pin(std::future::ready(SendOutcome::Permanent {
                error: self.0.to_owned(),
            }))
        }
    }

    fn refusal(outcome: SendOutcome) -> String {
        match outcome {
            SendOutcome::Permanent { error } => error,
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[tokio::test]
    async fn rows_go_to_the_sender_registered_for_their_kind() {
        let (sink, lines) = ConsoleSink::memory();
        let senders = Senders::console(sink).with(
            &[
                DestinationKind::DiscordChannel,
                DestinationKind::DiscordUser,
            ],
            Named("discord"),
        );
        let console = row(Destination::Console {
            channel: "ops".into(),
        });
        assert_eq!(senders.send(&console).await, SendOutcome::Sent);
        assert_eq!(lines.lock().unwrap().len(), 1);
        for d in [
            Destination::DiscordChannel {
                channel_id: "1".into(),
            },
            Destination::DiscordUser {
                user_id: "2".into(),
            },
        ] {
            assert_eq!(refusal(senders.send(&row(d)).await), "discord");
        }
        assert!(senders.serves(DestinationKind::Console));
        assert!(!senders.serves(DestinationKind::SlackWebhook));
    }

    #[tokio::test]
    async fn a_kind_nobody_registered_is_dead_lettered_with_what_to_set_up() {
        let senders = Senders::new();
        let slack = row(Destination::SlackUser {
            user_id: "U1".into(),
        });
        assert!(refusal(senders.send(&slack).await).contains("SLACK_BOT_TOKEN"));
        let discord = row(Destination::DiscordUser {
            user_id: "2".into(),
        });
        assert_eq!(
            refusal(senders.send(&discord).await),
            "Discord is not configured"
        );
        let hook = row(Destination::SlackWebhook {
            url: crate::domain::WebhookUrl::stored("https://hooks.slack.com/services/T1/B2/x"),
        });
        let said = refusal(senders.send(&hook).await);
        assert!(
            said.contains("slack_webhook") && !said.contains("B2"),
            "{said}"
        );
    }

    #[tokio::test]
    async fn registering_a_kind_again_replaces_its_sender() {
        let mut senders = Senders::new().with(&[DestinationKind::SlackUser], Named("first"));
        senders.register(DestinationKind::SlackUser, Arc::new(Named("second")));
        let to = row(Destination::SlackUser {
            user_id: "U1".into(),
        });
        assert_eq!(refusal(senders.send(&to).await), "second");
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
