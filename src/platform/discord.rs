//! Discord delivery: the outbox sender for channels and DMs, over serenity's HTTP client
//! (which keeps Discord's rate-limit buckets and waits out 429s). A setting `proxy_url`
//! sends every REST call to another base URL, as deployments behind an HTTP proxy do, and
//! as the tests' fake Discord does; the proxy then keeps the rate limits.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serenity::http::{Http, HttpBuilder, HttpError, LightMethod, Request, Route};
use serenity::model::id::{ChannelId, UserId};

use crate::outbox::senders::with_reason;
use crate::outbox::{Destination, OutboxRow, SendFuture, SendOutcome, Sender};
use crate::reply::{discord, Reply};

pub struct DiscordSender {
    http: Arc<Http>,
}

impl DiscordSender {
    pub fn new(token: &SecretString, proxy_url: Option<&str>) -> Self {
        let mut builder = HttpBuilder::new(token.expose_secret());
        if let Some(p) = proxy_url.filter(|p| !p.is_empty()) {
            // serenity's own rate limiter always calls discord.com; behind a proxy the proxy
            // keeps the buckets (that is what such proxies are for), and a 429 that still
            // comes back is retried by the outbox.
            builder = builder
                .proxy(p.trim_end_matches('/'))
                .ratelimiter_disabled(true);
        }
        Self {
            http: Arc::new(builder.build()),
        }
    }

    /// The DM channel with a user (Discord returns the existing one if there is one).
    async fn dm_channel(&self, user: UserId) -> Result<ChannelId, SendOutcome> {
        let body = serde_json::json!({ "recipient_id": user.to_string() });
        let request = Request::new(Route::UserMeDmChannels, LightMethod::Post)
            .body(Some(body.to_string().into_bytes()));
        let response = self.http.request(request).await.map_err(outcome)?;
        let value: serde_json::Value = response.json().await.map_err(|e| SendOutcome::Retry {
            after: None,
            error: format!("reading Discord's DM channel: {e}"),
            parts_sent: 0,
        })?;
        value
            .get("id")
            .and_then(|v| v.as_str())
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|id| *id != 0)
            .map(ChannelId::new)
            .ok_or_else(|| SendOutcome::Retry {
                after: None,
                error: "Discord's DM channel had no id".into(),
                parts_sent: 0,
            })
    }

    async fn deliver(&self, row: &OutboxRow) -> SendOutcome {
        let channel = match &row.destination {
            Destination::DiscordChannel { channel_id } => match snowflake(channel_id) {
                Some(id) => ChannelId::new(id),
                None => return permanent(format!("`{channel_id}` is not a Discord channel id")),
            },
            Destination::DiscordUser { user_id } => match snowflake(user_id) {
                Some(id) => match self.dm_channel(UserId::new(id)).await {
                    Ok(c) => c,
                    Err(o) => return o,
                },
                None => return permanent(format!("`{user_id}` is not a Discord user id")),
            },
            other => return permanent(format!("not a Discord destination: {}", other.kind())),
        };
        let messages = payloads(&with_reason(&row.reply, &row.reason), &row.nonce);
        let mut sent = row.parts_sent;
        for (i, body) in messages.iter().enumerate().skip(row.parts_sent as usize) {
            let request = Request::new(
                Route::ChannelMessages {
                    channel_id: channel,
                },
                LightMethod::Post,
            )
            .body(Some(body.to_string().into_bytes()));
            match self.http.request(request).await {
                Ok(_) => sent = i as u32 + 1,
                Err(e) => {
                    return match outcome(e) {
                        SendOutcome::Retry { after, error, .. } => SendOutcome::Retry {
                            after,
                            error,
                            parts_sent: sent,
                        },
                        other => other,
                    }
                }
            }
        }
        SendOutcome::Sent
    }
}

impl Sender for DiscordSender {
    fn send<'a>(&'a self, msg: &'a OutboxRow) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}

fn snowflake(raw: &str) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|id| *id != 0)
}

fn permanent(error: String) -> SendOutcome {
    SendOutcome::Permanent { error }
}

/// The JSON bodies of `POST /channels/{id}/messages` for a reply. Embeds never notify
/// anyone, so the people a reply names (its typed mentions, already the only ones in
/// `allowed_mentions`) are also written in the first message's content: that is the ping.
/// Each part carries a nonce with `enforce_nonce`, so Discord drops a resend of a part it
/// already has.
pub fn payloads(reply: &Reply, nonce: &str) -> Vec<serde_json::Value> {
    let messages = discord::render(reply);
    let pings: Vec<String> = reply
        .mentions()
        .iter()
        .filter(|m| snowflake(&m.handle).is_some())
        .map(|m| format!("<@{}>", m.handle))
        .collect();
    messages
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            if i == 0 && !pings.is_empty() {
                let mut content = pings.join(" ");
                if !m.content.is_empty() {
                    content = format!("{content}\n{}", m.content);
                }
                if content.chars().count() <= discord::CONTENT_MAX {
                    m.content = content;
                }
            }
            let mut v = serde_json::to_value(&m).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                // Nonces are at most 25 characters; each part gets its own.
                let base: String = nonce.chars().take(22).collect();
                obj.insert("nonce".into(), format!("{base}-{i:02}").into());
                obj.insert("enforce_nonce".into(), true.into());
            }
            v
        })
        .collect()
}

/// What a failed request means for the row: 403 (no access) and 404 (no such channel or
/// user) and other client errors are permanent; the rest is worth another try.
fn outcome(e: serenity::Error) -> SendOutcome {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let error = format!(
                "Discord answered {status}: {} (code {})",
                r.error.message, r.error.code
            );
            if status == 429 || status >= 500 {
                SendOutcome::Retry {
                    after: None,
                    error,
                    parts_sent: 0,
                }
            } else {
                SendOutcome::Permanent { error }
            }
        }
        other => SendOutcome::Retry {
            after: None,
            error: format!("reaching Discord: {other}"),
            parts_sent: 0,
        },
    }
}
