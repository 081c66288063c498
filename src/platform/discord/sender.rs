//! Discord delivery: the outbox sender for channels and DMs, over serenity's HTTP client
//! (which keeps Discord's rate-limit buckets and waits out 429s).

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;
use serenity::builder::CreateAttachment;
use serenity::http::{Http, HttpError, LightMethod, Multipart, MultipartUpload, Request, Route};
use serenity::model::id::{ChannelId, UserId};

use super::channels::{DiscordChannels, Lookup};
use crate::outbox::senders::with_reason;
use crate::outbox::{Destination, DestinationKind, OutboxRow, SendFuture, SendOutcome, Sender};
use crate::reply::{discord, Attachment, Reply};

pub struct DiscordSender {
    http: Arc<Http>,
    /// A channel's guild, checked before each message to a channel.
    channels: DiscordChannels,
}

impl DiscordSender {
    /// The destinations it sends to.
    pub const KINDS: &[DestinationKind] = &[
        DestinationKind::DiscordChannel,
        DestinationKind::DiscordUser,
    ];

    pub fn new(token: &SecretString, proxy_url: Option<&str>) -> Self {
        let http = Arc::new(super::http_client(token, proxy_url));
        Self {
            channels: DiscordChannels::with_http(http.clone()),
            http,
        }
    }

    /// Sends to a channel only if it is in the tenant's guild: a route or subscription stored
    /// before channels were checked (or one whose channel was moved out of reach) must not
    /// post one server's program into another server.
    async fn check_guild(&self, row: &OutboxRow, channel: ChannelId) -> Result<(), SendOutcome> {
        let tenant = &row.tenant;
        let Some(guild) = guild_of(tenant) else {
            return Err(permanent(format!(
                "not sent: {tenant} is not a Discord server, so it has no Discord channels"
            )));
        };
        match self.channels.lookup(channel.get()).await {
            Lookup::Guild(Some(g)) if g == guild => Ok(()),
            Lookup::Guild(Some(other)) => Err(permanent(format!(
                "not sent: channel {channel} belongs to another Discord server ({other}), not to this program's server ({guild})"
            ))),
            Lookup::Guild(None) => Err(permanent(format!(
                "not sent: channel {channel} is a direct-message channel, not a channel of this program's server ({guild})"
            ))),
            Lookup::Missing => Err(permanent(format!(
                "not sent: Discord has no channel {channel} (it was deleted, or never existed)"
            ))),
            Lookup::NoAccess(said) => Err(permanent(format!(
                "not sent: Drumbeat may not see channel {channel}: {said}"
            ))),
            Lookup::Failed(error) => Err(SendOutcome::Retry {
                after: None,
                error: format!("checking channel {channel}'s server: {error}"),
                parts_sent: row.parts_sent,
            }),
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
                Some(id) => {
                    let channel = ChannelId::new(id);
                    if let Err(refused) = self.check_guild(row, channel).await {
                        return refused;
                    }
                    channel
                }
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
        let guild = guild_of(&row.tenant);
        let reply = with_reason(&row.reply, &row.reason);
        let messages = payloads(&reply, &row.nonce, guild);
        let mut sent = row.parts_sent;
        for (i, (body, file)) in messages.iter().enumerate().skip(row.parts_sent as usize) {
            let route = Route::ChannelMessages {
                channel_id: channel,
            };
            let request = request(route, LightMethod::Post, Some(body), *file);
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

/// The guild of a Discord tenant.
pub(super) fn guild_of(tenant: &crate::domain::Tenant) -> Option<u64> {
    tenant.discord_guild()
}

/// The messages of a reply as Discord JSON. Embeds never notify anyone, so the people a
/// reply names (its typed mentions, already the only ones in `allowed_mentions`) are also
/// written in the first message's content: that is the ping. Buttons carry the guild in
/// their custom id (`{guild}:{action}`), so a click in a DM finds its program's guild, and
/// still works after a restart.
pub fn messages(reply: &Reply, guild: Option<u64>) -> Vec<serde_json::Value> {
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
            if let Some(g) = guild {
                for button in m
                    .components
                    .iter_mut()
                    .flat_map(|r| r.components.iter_mut())
                {
                    let id = format!("{g}:{}", button.custom_id);
                    if id.chars().count() <= discord::CUSTOM_ID_MAX {
                        button.custom_id = id;
                    }
                }
            }
            serde_json::to_value(&m).unwrap_or_default()
        })
        .collect()
}

/// The files of a reply a platform uploads: every attachment the console is not writing
/// with `--out` (a chart, a digest in another format).
pub fn uploads(reply: &Reply) -> Vec<&Attachment> {
    reply
        .attachments
        .iter()
        .filter(|a| a.save_to.is_none())
        .collect()
}

/// Messages with the file each carries: one file per message, from the first; files beyond
/// the last message go in messages of their own that name them.
pub fn with_files(mut messages: Vec<Value>, reply: &Reply) -> Vec<(Value, Option<&Attachment>)> {
    let files = uploads(reply);
    for f in files.iter().skip(messages.len()) {
        let named = discord::Message {
            content: format!("`{}`", f.filename.replace('`', "'")),
            ..Default::default()
        };
        messages.push(serde_json::to_value(named).unwrap_or_default());
    }
    messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| (m, files.get(i).copied()))
        .collect()
}

/// A request with a message body, and its file as Discord takes uploads: multipart form data
/// with the message as `payload_json`, naming the file in `attachments` by id, and the file's
/// bytes as `files[0]`. In an interaction callback (`{type, data}`) the message is `data`.
pub(super) fn request<'a>(
    route: Route<'a>,
    method: LightMethod,
    body: Option<&Value>,
    file: Option<&Attachment>,
) -> Request<'a> {
    let request = Request::new(route, method);
    match (body, file) {
        (Some(body), Some(f)) => {
            let mut payload = body.clone();
            let named = serde_json::json!([{ "id": 0, "filename": f.filename }]);
            match payload.get_mut("data").filter(|d| d.is_object()) {
                Some(data) => data["attachments"] = named,
                None => payload["attachments"] = named,
            }
            request.multipart(Some(Multipart {
                // serenity numbers a lone attachment 0: the id `attachments` names.
                upload: MultipartUpload::Attachments(vec![CreateAttachment::bytes(
                    f.body.as_bytes().to_vec(),
                    f.filename.clone(),
                )]),
                fields: vec![],
                payload_json: Some(payload.to_string()),
            }))
        }
        (Some(body), None) => request.body(Some(body.to_string().into_bytes())),
        (None, _) => request,
    }
}

/// The bodies of `POST /channels/{id}/messages` for a reply, with their files: [`messages`],
/// each part with a nonce and `enforce_nonce`, so Discord drops a resend of a part it
/// already has.
pub fn payloads<'r>(
    reply: &'r Reply,
    nonce: &str,
    guild: Option<u64>,
) -> Vec<(Value, Option<&'r Attachment>)> {
    with_files(messages(reply, guild), reply)
        .into_iter()
        .enumerate()
        .map(|(i, (mut v, file))| {
            if let Some(obj) = v.as_object_mut() {
                // Nonces are at most 25 characters; each part gets its own.
                let base: String = nonce.chars().take(22).collect();
                obj.insert("nonce".into(), format!("{base}-{i:02}").into());
                obj.insert("enforce_nonce".into(), true.into());
            }
            (v, file)
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
