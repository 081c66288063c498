//! A fake Discord on 127.0.0.1: the REST API (DM channels, channels and their messages,
//! command registration, interaction callbacks and follow-ups, guild roles) and the gateway (HELLO,
//! IDENTIFY, HEARTBEAT/ACK, READY, then the INTERACTION_CREATE events a test sends). It also
//! delivers interactions over HTTP, signed with its application's key
//! ([`FakeDiscord::post_interaction`]); the response's body is then the callback, held to
//! the same rules, and follow-ups are taken once that response has been read.
//!
//! It is strict: a route it does not serve, a message Discord would refuse (any limit of
//! `reply::discord::violations`, `allowed_mentions` that could ping roles or everyone), a
//! command registration outside Discord's limits, a modal outside its limits, or a callback
//! after the 3 s an interaction token lives, is recorded as unexpected and answered as
//! Discord would (400, or 404 "Unknown interaction"). `GET /channels/{id}` answers only for
//! channels a test declared ([`FakeDiscord::set_channel`], [`FakeDiscord::delete_channel`])
//! and the DM channels the bot opened. Messages with files come as
//! multipart form data: `payload_json` plus `files[n]`, each named in the payload's
//! `attachments` by id; a PNG must be one.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use drumbeat::reply::discord;
use futures_util::{SinkExt, StreamExt};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as Ws;

pub const APP: &str = "900000000000000001";
pub const BOT: &str = "900000000000000002";
/// Discord's `MANAGE_GUILD` permission bit.
pub const MANAGE_GUILD: u64 = 1 << 5;

/// How long an interaction token accepts its first response.
const CALLBACK_DEADLINE: Duration = Duration::from_secs(3);

/// The seed of the application's key pair, which signs interactions sent over HTTP.
const SIGNING_SEED: [u8; 32] = [42; 32];

/// The application's key pair.
fn signing_pair() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&SIGNING_SEED).expect("a valid seed")
}

/// A file uploaded with a message.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What the bot sent for one interaction.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The callback body (`{type, data}`).
    pub callback: Value,
    /// From dispatching the event to the callback's arrival.
    pub latency: Duration,
    /// The interaction's token, which its follow-ups are filed under.
    #[allow(dead_code)] // read by benches/discord.rs, which waits for charts' follow-ups
    pub token: String,
}

/// A channel as the fake knows it.
#[derive(Debug, Clone)]
enum Channel {
    /// A text channel of a guild.
    InGuild(String),
    /// A DM channel with a user.
    Dm(String),
    /// Deleted, or never there: 404 Unknown Channel.
    Gone,
}

#[derive(Default)]
struct Inner {
    /// Channel id → (status, code, message) to answer with instead of success.
    refuse: Mutex<HashMap<String, (u16, u32, String)>>,
    /// (channel id, body) of every message accepted.
    messages: Mutex<Vec<(String, Value)>>,
    /// Recipient ids of DM channels opened.
    dms: Mutex<Vec<String>>,
    unexpected: Mutex<Vec<String>>,
    /// (guild id or None for global, commands) of every registration.
    registrations: Mutex<Vec<(Option<String>, Value)>>,
    /// Interaction token → when it was dispatched.
    dispatched: Mutex<HashMap<String, Instant>>,
    /// Interaction token → its exchange.
    callbacks: Mutex<HashMap<String, Exchange>>,
    /// Tokens of interactions sent over HTTP whose response has not been read yet.
    http_pending: Mutex<HashSet<String>>,
    /// Interaction token → (method, body) of follow-ups and edits of the original.
    webhooks: Mutex<HashMap<String, Vec<(String, Value)>>>,
    /// (channel id or interaction token, file) of every upload accepted.
    uploads: Mutex<Vec<(String, Upload)>>,
    /// Channel id → what `GET /channels/{id}` says of it.
    channels: Mutex<HashMap<String, Channel>>,
    /// Channel ids looked up with `GET /channels/{id}`, in order.
    channel_lookups: Mutex<Vec<String>>,
    /// Guild id → its roles (`[{id, name}]`).
    roles: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// IDENTIFY payloads received.
    identified: Mutex<Vec<Value>>,
    /// The current gateway session's event sender.
    gateway: Mutex<Option<mpsc::UnboundedSender<Value>>>,
    changed: Notify,
    ws_url: Mutex<String>,
}

impl Inner {
    fn unexpected(&self, what: String) {
        self.unexpected.lock().unwrap().push(what);
    }
}

pub struct FakeDiscord {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
    gateway: tokio::task::JoinHandle<()>,
    next_id: std::sync::atomic::AtomicU64,
}

/// The DM channel the fake opens with a user: the user's id with a leading 9.
pub fn dm_channel_of(user: &str) -> String {
    format!("9{}", &user[1..])
}

fn invalid_form(inner: &Inner, what: String) -> Response {
    inner.unexpected(what);
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": "Invalid Form Body", "code": 50035})),
    )
        .into_response()
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake gateway");
        *inner.ws_url.lock().unwrap() = format!("ws://{}", ws.local_addr().unwrap());
        let app = Router::new()
            .route("/api/v10/gateway", get(gateway_url))
            .route("/api/v10/gateway/bot", get(gateway_url))
            .route("/api/v10/oauth2/applications/@me", get(application))
            .route("/api/v10/users/@me/channels", post(open_dm))
            .route("/api/v10/channels/{id}", get(channel))
            .route("/api/v10/channels/{id}/messages", post(message))
            .route("/api/v10/applications/{app}/commands", put(register_global))
            .route(
                "/api/v10/applications/{app}/guilds/{guild}/commands",
                put(register_guild),
            )
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(callback),
            )
            .route("/api/v10/webhooks/{app}/{token}", post(followup))
            .route(
                "/api/v10/webhooks/{app}/{token}/messages/@original",
                axum::routing::patch(original).delete(original),
            )
            .route("/api/v10/guilds/{id}/roles", get(roles))
            .fallback(unexpected)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Discord");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Discord");
        });
        let gateway = {
            let inner = inner.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = ws.accept().await {
                    let inner = inner.clone();
                    tokio::spawn(async move { session(inner, stream).await });
                }
            })
        };
        Self {
            addr,
            inner,
            server,
            gateway,
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// The base URL to give the bot as `discord.proxy_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn refuse(&self, channel: &str, status: u16, code: u32, message: &str) {
        self.inner
            .refuse
            .lock()
            .unwrap()
            .insert(channel.to_owned(), (status, code, message.to_owned()));
    }

    /// Declares a text channel of a guild, as `GET /channels/{id}` shows it.
    pub fn set_channel(&self, channel: &str, guild: &str) {
        self.inner
            .channels
            .lock()
            .unwrap()
            .insert(channel.to_owned(), Channel::InGuild(guild.to_owned()));
    }

    /// A channel Discord does not know (any more): 404 Unknown Channel.
    pub fn delete_channel(&self, channel: &str) {
        self.inner
            .channels
            .lock()
            .unwrap()
            .insert(channel.to_owned(), Channel::Gone);
    }

    /// Channel ids looked up with `GET /channels/{id}`, in order.
    pub fn channel_lookups(&self) -> Vec<String> {
        self.inner.channel_lookups.lock().unwrap().clone()
    }

    pub fn set_roles(&self, guild: &str, roles: &[(&str, &str)]) {
        self.inner.roles.lock().unwrap().insert(
            guild.to_owned(),
            roles
                .iter()
                .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
                .collect(),
        );
    }

    pub fn messages(&self) -> Vec<(String, Value)> {
        self.inner.messages.lock().unwrap().clone()
    }

    /// Files uploaded: (channel id for channel messages, interaction token for answers).
    pub fn uploads(&self) -> Vec<(String, Upload)> {
        self.inner.uploads.lock().unwrap().clone()
    }

    pub fn dms(&self) -> Vec<String> {
        self.inner.dms.lock().unwrap().clone()
    }

    pub fn registrations(&self) -> Vec<(Option<String>, Value)> {
        self.inner.registrations.lock().unwrap().clone()
    }

    pub fn identified(&self) -> Vec<Value> {
        self.inner.identified.lock().unwrap().clone()
    }

    /// Follow-ups and edits of the original response for an interaction token.
    pub fn webhooks(&self, token: &str) -> Vec<(String, Value)> {
        self.inner
            .webhooks
            .lock()
            .unwrap()
            .get(token)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether no gateway session is open.
    pub fn gateway_closed(&self) -> bool {
        self.inner.gateway.lock().unwrap().is_none()
    }

    pub fn unexpected(&self) -> Vec<String> {
        self.inner.unexpected.lock().unwrap().clone()
    }

    pub fn assert_nothing_unexpected(&self) {
        let u = self.inner.unexpected.lock().unwrap();
        assert!(u.is_empty(), "unexpected requests: {u:#?}");
    }

    /// Waits for something to happen: a registration, a gateway session, a callback.
    pub async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.inner.changed.notified();
            if let Some(t) = check(self) {
                return t;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                if let Some(t) = check(self) {
                    return t;
                }
                panic!(
                    "waited 30 s for {what}; unexpected: {:#?}",
                    self.unexpected()
                );
            }
        }
    }

    /// Waits until the bot has identified and registered its commands; returns them.
    pub async fn wait_ready(&self, registrations: usize) -> Value {
        self.wait_for("the bot to register its commands", |f| {
            let r = f.registrations();
            let live = f.inner.gateway.lock().unwrap().is_some();
            (r.len() >= registrations && live).then(|| r.last().unwrap().1.clone())
        })
        .await
    }

    fn next(&self) -> u64 {
        self.next_id
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// An interaction as Discord sends it: with its id, token and application, dispatched
    /// now. Returns it and its token.
    pub fn dispatch(&self, mut d: Value) -> (Value, String) {
        let n = self.next();
        let id = format!("{}", 800_000_000_000_000_000u64 + n);
        let token = format!("token-{n}");
        d["id"] = id.into();
        d["token"] = token.clone().into();
        d["application_id"] = APP.into();
        d["version"] = 1.into();
        d["locale"] = "en-GB".into();
        d["entitlements"] = json!([]);
        d["attachment_size_limit"] = 10_485_760.into();
        self.inner
            .dispatched
            .lock()
            .unwrap()
            .insert(token.clone(), Instant::now());
        (d, token)
    }

    /// The application's public key, as `discord.public_key` takes it.
    pub fn public_key(&self) -> String {
        hex::encode(signing_pair().public_key().as_ref())
    }

    /// The `X-Signature-Ed25519` Discord sends: the application's signature of the
    /// timestamp followed by the body, in hex.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(signing_pair().sign(&message).as_ref())
    }

    /// Sends an interaction to `endpoint` over HTTP, signed as of `now`, and reads the
    /// response's body as its callback (held to the callback's rules and deadline). Panics
    /// unless the endpoint answers 200 with JSON.
    pub async fn post_interaction(
        &self,
        endpoint: &str,
        d: Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Exchange {
        let (d, token) = self.dispatch(d);
        self.inner
            .http_pending
            .lock()
            .unwrap()
            .insert(token.clone());
        let body = d.to_string();
        let timestamp = now.timestamp().to_string();
        let signature = self.sign(&timestamp, body.as_bytes());
        let started = Instant::now();
        let response = reqwest::Client::new()
            .post(endpoint)
            .header("content-type", "application/json")
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await
            .expect("the interactions endpoint answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.expect("the response's body");
        let latency = started.elapsed();
        assert_eq!(status, 200, "the endpoint refused the interaction: {text}");
        assert!(
            content_type.starts_with("application/json"),
            "the callback came as `{content_type}`: {text}"
        );
        let callback: Value = serde_json::from_str(&text).expect("the callback is JSON");
        if latency > CALLBACK_DEADLINE {
            self.inner
                .unexpected(format!("HTTP callback after {latency:?}: {callback}"));
        }
        let problems = callback_problems(&callback);
        if !problems.is_empty() {
            self.inner
                .unexpected(format!("HTTP callback refused: {problems:?}: {callback}"));
        }
        let exchange = Exchange {
            callback,
            latency,
            token: token.clone(),
        };
        self.inner
            .callbacks
            .lock()
            .unwrap()
            .insert(token.clone(), exchange.clone());
        self.inner.http_pending.lock().unwrap().remove(&token);
        self.inner.changed.notify_waiters();
        exchange
    }

    /// Sends an INTERACTION_CREATE and waits for the bot's callback.
    pub async fn interact(&self, d: Value) -> Exchange {
        let (d, token) = self.dispatch(d);
        let sender = self
            .inner
            .gateway
            .lock()
            .unwrap()
            .clone()
            .expect("no gateway session: the bot is not connected");
        sender
            .send(json!({ "op": 0, "t": "INTERACTION_CREATE", "d": d }))
            .expect("the gateway session ended");
        self.wait_for("the interaction's callback", |f| {
            f.inner.callbacks.lock().unwrap().get(&token).cloned()
        })
        .await
    }

    /// The token of the latest interaction sent.
    pub fn last_token(&self) -> String {
        format!(
            "token-{}",
            self.next_id.load(std::sync::atomic::Ordering::SeqCst) - 1
        )
    }

    /// Waits until an interaction has `n` follow-ups or edits.
    pub async fn wait_webhooks(&self, token: &str, n: usize) -> Vec<(String, Value)> {
        self.wait_for("follow-ups", |f| {
            let w = f.webhooks(token);
            (w.len() >= n).then_some(w)
        })
        .await
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        self.gateway.abort();
    }
}

pub fn user(id: &str, name: &str) -> Value {
    json!({ "id": id, "username": name, "discriminator": "0", "global_name": name, "avatar": null })
}

pub fn member(id: &str, name: &str, permissions: u64, roles: &[&str]) -> Value {
    json!({
        "user": user(id, name), "roles": roles, "permissions": permissions.to_string(),
        "joined_at": "2026-01-05T09:00:00.000000+00:00", "deaf": false, "mute": false,
        "flags": 0, "pending": false, "nick": null,
    })
}

/// A slash command `/area verb options…` typed in a guild channel.
pub fn slash(guild: &str, channel: &str, member: Value, path: &[&str], options: Value) -> Value {
    let mut resolved_users = serde_json::Map::new();
    let mut resolved_channels = serde_json::Map::new();
    if let Some(opts) = options.as_array() {
        for o in opts {
            if o["type"] == 7 {
                let id = o["value"].as_str().unwrap().to_owned();
                resolved_channels.insert(
                    id.clone(),
                    json!({ "id": id, "name": "general", "type": 0, "permissions": "0" }),
                );
            }
            if o["type"] == 6 {
                let id = o["value"].as_str().unwrap().to_owned();
                resolved_users.insert(
                    id.clone(),
                    user(&id, &format!("user{}", &id[id.len() - 3..])),
                );
            }
        }
    }
    let data = match path {
        [area] => json!({ "id": "700", "name": area, "type": 1, "options": options }),
        [area, verb] => json!({
            "id": "700", "name": area, "type": 1,
            "options": [{ "name": verb, "type": 1, "options": options }],
        }),
        _ => panic!("a path is an area or an area and a verb"),
    };
    let mut data = data;
    if !resolved_users.is_empty() {
        data["resolved"]["users"] = resolved_users.into();
    }
    if !resolved_channels.is_empty() {
        data["resolved"]["channels"] = resolved_channels.into();
    }
    json!({
        "type": 2, "guild_id": guild, "channel_id": channel, "member": member, "data": data,
        "app_permissions": "0", "guild_locale": "en-GB",
    })
}

/// The same command being typed, with `focused` the option whose value is being completed.
pub fn autocomplete(
    guild: &str,
    channel: &str,
    member: Value,
    path: &[&str],
    options: Value,
    focused: &str,
) -> Value {
    let mut d = slash(guild, channel, member, path, options);
    d["type"] = 4.into();
    let leaf = if path.len() == 2 {
        &mut d["data"]["options"][0]["options"]
    } else {
        &mut d["data"]["options"]
    };
    for o in leaf.as_array_mut().unwrap() {
        if o["name"] == focused {
            o["focused"] = true.into();
        }
    }
    d
}

/// Options of a slash command: `("name", value)`; strings are type 3, integers 4,
/// booleans 5; `"user:ID"` is a user (6), `"channel:ID"` a channel (7).
pub fn options(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(name, value)| {
                let kind = match value {
                    Value::Bool(_) => 5,
                    Value::Number(_) => 4,
                    _ => 3,
                };
                if let Some(id) = value.as_str().and_then(|v| v.strip_prefix("user:")) {
                    json!({ "name": name, "type": 6, "value": id })
                } else if let Some(id) = value.as_str().and_then(|v| v.strip_prefix("channel:")) {
                    json!({ "name": name, "type": 7, "value": id })
                } else {
                    json!({ "name": name, "type": kind, "value": value })
                }
            })
            .collect(),
    )
}

/// A message as the gateway shows it on a component interaction.
fn message_of(channel: &str, components: &Value) -> Value {
    json!({
        "id": "600", "channel_id": channel, "author": user(BOT, "drumbeat"), "content": "",
        "timestamp": "2026-11-30T09:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0, "components": components,
    })
}

/// A click on a button of a message the bot sent: in a DM (`guild` None, with the user) or
/// in a guild channel (with the member).
pub fn click(
    guild: Option<&str>,
    channel: &str,
    who: (&str, &str),
    message: &Value,
    custom_id: &str,
) -> Value {
    let mut d = json!({
        "type": 3, "channel_id": channel,
        "data": { "custom_id": custom_id, "component_type": 2 },
        "message": message_of(channel, &message["components"]),
    });
    place(&mut d, guild, who);
    d
}

/// A submitted modal.
pub fn submit(
    guild: Option<&str>,
    channel: &str,
    who: (&str, &str),
    custom_id: &str,
    fields: &[(&str, &str)],
) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(id, value)| {
            json!({ "type": 1, "components": [{ "type": 4, "custom_id": id, "value": value }] })
        })
        .collect();
    let mut d = json!({
        "type": 5, "channel_id": channel,
        "data": { "custom_id": custom_id, "components": rows },
    });
    place(&mut d, guild, who);
    d
}

fn place(d: &mut Value, guild: Option<&str>, (id, name): (&str, &str)) {
    match guild {
        Some(g) => {
            d["guild_id"] = g.into();
            d["member"] = member(id, name, 0, &[]);
        }
        None => d["user"] = user(id, name),
    }
}

async fn session(inner: Arc<Inner>, stream: tokio::net::TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let hello = json!({ "op": 10, "d": { "heartbeat_interval": 41250 }, "s": null, "t": null });
    if ws.send(Ws::text(hello.to_string())).await.is_err() {
        return;
    }
    // IDENTIFY (op 2) comes first; anything else is a protocol error.
    let identify = loop {
        match ws.next().await {
            Some(Ok(Ws::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                match v["op"].as_u64() {
                    Some(2) => break v,
                    Some(1) => {
                        let _ = ws.send(Ws::text(json!({"op": 11}).to_string())).await;
                    }
                    _ => inner.unexpected(format!("before IDENTIFY: {t}")),
                }
            }
            Some(Ok(_)) => {}
            _ => return,
        }
    };
    inner.identified.lock().unwrap().push(identify["d"].clone());
    let ws_url = inner.ws_url.lock().unwrap().clone();
    let mut seq = 1u64;
    let ready = json!({ "op": 0, "t": "READY", "s": seq, "d": {
        "v": 10, "user": { "id": BOT, "username": "drumbeat", "discriminator": "0", "global_name": null, "avatar": null, "bot": true },
        "guilds": [], "session_id": "fake-session", "resume_gateway_url": ws_url,
        "application": { "id": APP, "flags": 0 }, "shard": [0, 1],
    }});
    if ws.send(Ws::text(ready.to_string())).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    *inner.gateway.lock().unwrap() = Some(tx);
    inner.changed.notify_waiters();
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(mut event) = event else { break };
                seq += 1;
                event["s"] = seq.into();
                if ws.send(Ws::text(event.to_string())).await.is_err() {
                    break;
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Ws::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap_or_default();
                    match v["op"].as_u64() {
                        Some(1) => {
                            let _ = ws.send(Ws::text(json!({"op": 11}).to_string())).await;
                        }
                        // Presence updates are allowed; nothing else is expected.
                        Some(3) => {}
                        _ => inner.unexpected(format!("gateway: {t}")),
                    }
                }
                Some(Ok(Ws::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    *inner.gateway.lock().unwrap() = None;
    inner.changed.notify_waiters();
}

async fn gateway_url(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let url = inner.ws_url.lock().unwrap().clone();
    Json(json!({ "url": url, "shards": 1, "session_start_limit": {
        "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1 } }))
}

async fn application() -> Json<Value> {
    Json(json!({
        "id": APP, "name": "Drumbeat", "icon": null, "description": "", "bot_public": false,
        "bot_require_code_grant": false, "verify_key": "0", "flags": 0,
        "owner": user("900000000000000003", "owner"), "team": null,
    }))
}

async fn open_dm(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    let Some(user) = body.get("recipient_id").and_then(Value::as_str) else {
        return invalid_form(&inner, format!("DM without recipient_id: {body}"));
    };
    inner.dms.lock().unwrap().push(user.to_owned());
    inner
        .channels
        .lock()
        .unwrap()
        .insert(dm_channel_of(user), Channel::Dm(user.to_owned()));
    Json(json!({ "id": dm_channel_of(user), "type": 1, "recipients": [{ "id": user }] }))
        .into_response()
}

/// What is wrong with an uploaded file: a `.png` must be an image/png part that decodes as
/// one, with a size.
fn upload_problems(u: &Upload) -> Vec<String> {
    if !u.filename.ends_with(".png") {
        return vec![];
    }
    let mut p = Vec::new();
    if u.content_type != "image/png" {
        p.push(format!("{} sent as {}", u.filename, u.content_type));
    }
    match png::Decoder::new(std::io::Cursor::new(&u.bytes)).read_info() {
        Ok(reader) => {
            let info = reader.info();
            if info.width == 0 || info.height == 0 {
                p.push(format!("{} is {}x{}", u.filename, info.width, info.height));
            }
        }
        Err(e) => p.push(format!("{} is not a PNG: {e}", u.filename)),
    }
    p
}

/// A request's message as Discord reads it: JSON, or multipart form data with the message
/// as `payload_json` and files as `files[n]`, each file named by its id in the message's
/// `attachments` (in an interaction callback, `data.attachments`), and nothing else.
async fn read_message(
    inner: &Inner,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Value, Vec<Upload>), Response> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        return serde_json::from_slice(&body)
            .map(|v| (v, vec![]))
            .map_err(|e| invalid_form(inner, format!("JSON body: {e}")));
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(invalid_form(
            inner,
            format!("content type `{content_type}`"),
        ));
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| invalid_form(inner, format!("multipart without a boundary: {e}")))?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut payload: Option<Value> = None;
    let mut files: Vec<(u64, Upload)> = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(invalid_form(inner, format!("not valid multipart: {e}"))),
        };
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let part_type = field
            .content_type()
            .map(|m| m.essence_str().to_owned())
            .unwrap_or_default();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| invalid_form(inner, format!("multipart part `{name}`: {e}")))?;
        if name == "payload_json" {
            if payload.is_some() {
                return Err(invalid_form(inner, "payload_json twice".into()));
            }
            payload = Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| invalid_form(inner, format!("payload_json: {e}")))?,
            );
        } else if let Some(id) = name
            .strip_prefix("files[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            let Some(filename) = filename else {
                return Err(invalid_form(inner, format!("{name} without a file name")));
            };
            files.push((
                id,
                Upload {
                    filename,
                    content_type: part_type,
                    bytes: bytes.to_vec(),
                },
            ));
        } else {
            return Err(invalid_form(
                inner,
                format!("unexpected form part `{name}`"),
            ));
        }
    }
    let Some(payload) = payload else {
        return Err(invalid_form(inner, "multipart without payload_json".into()));
    };
    let message = if payload.get("type").is_some() {
        &payload["data"]
    } else {
        &payload
    };
    let named: Vec<(u64, String)> = message["attachments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| Some((x["id"].as_u64()?, x["filename"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let mut problems = Vec::new();
    if files.is_empty() {
        problems.push("multipart without files".to_owned());
    }
    for (id, u) in &files {
        match named.iter().find(|(n, _)| n == id) {
            Some((_, name)) if *name == u.filename => {}
            Some((_, name)) => {
                problems.push(format!("files[{id}] is {} but named {name}", u.filename))
            }
            None => problems.push(format!("files[{id}] is not in attachments")),
        }
        problems.extend(upload_problems(u));
    }
    for (id, _) in &named {
        if !files.iter().any(|(f, _)| f == id) {
            problems.push(format!("attachment {id} has no file"));
        }
    }
    if !problems.is_empty() {
        return Err(invalid_form(inner, format!("upload refused: {problems:?}")));
    }
    Ok((payload, files.into_iter().map(|(_, u)| u).collect()))
}

fn record_uploads(inner: &Inner, at: &str, files: Vec<Upload>) {
    inner
        .uploads
        .lock()
        .unwrap()
        .extend(files.into_iter().map(|f| (at.to_owned(), f)));
}

/// Discord's limits on a message body, as `violations` knows them.
async fn channel(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    inner.channel_lookups.lock().unwrap().push(id.clone());
    if let Some((status, code, msg)) = inner.refuse.lock().unwrap().get(&id).cloned() {
        return (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({ "message": msg, "code": code })),
        )
            .into_response();
    }
    let known = inner.channels.lock().unwrap().get(&id).cloned();
    match known {
        Some(Channel::InGuild(guild)) => Json(json!({
            "id": id, "type": 0, "guild_id": guild, "name": "general", "position": 0,
            "permission_overwrites": [], "nsfw": false, "topic": null, "last_message_id": null,
            "parent_id": null, "rate_limit_per_user": 0, "flags": 0,
        }))
        .into_response(),
        Some(Channel::Dm(recipient)) => Json(json!({
            "id": id, "type": 1, "last_message_id": null, "flags": 0,
            "recipients": [user(&recipient, "someone")],
        }))
        .into_response(),
        Some(Channel::Gone) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Unknown Channel", "code": 10003 })),
        )
            .into_response(),
        None => {
            inner.unexpected(format!(
                "GET /channels/{id}: a channel the test did not declare"
            ));
            (
                StatusCode::NOT_FOUND,
                Json(json!({ "message": "Unknown Channel", "code": 10003 })),
            )
                .into_response()
        }
    }
}

fn message_problems(body: &Value) -> Vec<String> {
    let parsed: Result<discord::Message, _> = serde_json::from_value(body.clone());
    match &parsed {
        Ok(m) => discord::violations(m),
        Err(e) => vec![format!("not a Discord message: {e}")],
    }
}

async fn message(
    State(inner): State<Arc<Inner>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, files) = match read_message(&inner, &headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let problems = message_problems(&body);
    let nonce_ok = body
        .get("nonce")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty() && n.chars().count() <= 25)
        && body.get("enforce_nonce") == Some(&Value::Bool(true));
    if !problems.is_empty() || !nonce_ok {
        return invalid_form(
            &inner,
            format!("message to {channel} refused: {problems:?}, nonce ok: {nonce_ok}: {body}"),
        );
    }
    if let Some((status, code, msg)) = inner.refuse.lock().unwrap().get(&channel).cloned() {
        return (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({ "message": msg, "code": code })),
        )
            .into_response();
    }
    record_uploads(&inner, &channel, files);
    inner.messages.lock().unwrap().push((channel.clone(), body));
    inner.changed.notify_waiters();
    Json(json!({ "id": "1", "channel_id": channel })).into_response()
}

/// Discord's rules for a command list: names, descriptions, option counts and order,
/// choices, and 8,000 characters of names, descriptions and choices per command.
fn registration_problems(commands: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(list) = commands.as_array() else {
        return vec!["the body is not a list".into()];
    };
    if list.len() > 100 {
        p.push(format!("{} commands (at most 100)", list.len()));
    }
    fn name_ok(n: &str) -> bool {
        !n.is_empty()
            && n.chars().count() <= 32
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    }
    fn walk(o: &Value, path: &str, total: &mut usize, p: &mut Vec<String>) {
        let name = o["name"].as_str().unwrap_or("");
        let description = o["description"].as_str().unwrap_or("");
        *total += name.chars().count() + description.chars().count();
        if !name_ok(name) {
            p.push(format!("{path}: bad name `{name}`"));
        }
        let d = description.chars().count();
        if !(1..=100).contains(&d) {
            p.push(format!("{path} {name}: description of {d} characters"));
        }
        if let Some(choices) = o["choices"].as_array() {
            if choices.len() > 25 {
                p.push(format!("{path} {name}: {} choices", choices.len()));
            }
            for c in choices {
                *total += c["name"].as_str().unwrap_or("").chars().count()
                    + c["value"].to_string().chars().count();
            }
        }
        let options = o["options"].as_array().cloned().unwrap_or_default();
        if options.len() > 25 {
            p.push(format!("{path} {name}: {} options", options.len()));
        }
        let mut optional_seen = false;
        let mut names = std::collections::HashSet::new();
        for opt in &options {
            let kind = opt["type"].as_u64().unwrap_or(0);
            if !names.insert(opt["name"].as_str().unwrap_or("").to_owned()) {
                p.push(format!("{path} {name}: option `{}` twice", opt["name"]));
            }
            if kind > 2 {
                let required = opt["required"].as_bool().unwrap_or(false);
                if required && optional_seen {
                    p.push(format!(
                        "{path} {name}: required option `{}` after an optional one",
                        opt["name"]
                    ));
                }
                optional_seen |= !required;
            }
            walk(opt, &format!("{path} {name}"), total, p);
        }
    }
    for c in list {
        let mut total = 0;
        walk(c, "", &mut total, &mut p);
        if total > 8000 {
            p.push(format!(
                "{}: {total} characters in all (at most 8000)",
                c["name"]
            ));
        }
    }
    p
}

async fn register(inner: &Inner, app: &str, guild: Option<String>, body: Value) -> Response {
    if app != APP {
        return invalid_form(inner, format!("commands registered for application {app}"));
    }
    let problems = registration_problems(&body);
    if !problems.is_empty() {
        return invalid_form(
            inner,
            format!("command registration refused: {problems:#?}"),
        );
    }
    inner.registrations.lock().unwrap().push((guild, body));
    inner.changed.notify_waiters();
    Json(json!([])).into_response()
}

async fn register_global(
    State(inner): State<Arc<Inner>>,
    Path(app): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    register(&inner, &app, None, body).await
}

async fn register_guild(
    State(inner): State<Arc<Inner>>,
    Path((app, guild)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    register(&inner, &app, Some(guild), body).await
}

/// Discord's limits on a modal.
fn modal_problems(data: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let title = data["title"].as_str().unwrap_or("");
    if title.is_empty() || title.chars().count() > 45 {
        p.push(format!(
            "modal title of {} characters",
            title.chars().count()
        ));
    }
    let id = data["custom_id"].as_str().unwrap_or("");
    if id.is_empty() || id.chars().count() > 100 {
        p.push(format!(
            "modal custom_id of {} characters",
            id.chars().count()
        ));
    }
    let rows = data["components"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() || rows.len() > 5 {
        p.push(format!("{} rows in a modal", rows.len()));
    }
    for row in rows {
        for input in row["components"].as_array().cloned().unwrap_or_default() {
            let label = input["label"].as_str().unwrap_or("");
            if input["type"] != 4 || label.is_empty() || label.chars().count() > 45 {
                p.push(format!("bad text input {input}"));
            }
            if input["max_length"].as_u64().unwrap_or(4000) > 4000 {
                p.push(format!("text input longer than 4000: {input}"));
            }
        }
    }
    p
}

/// Discord's limits on autocomplete choices.
fn autocomplete_problems(data: &Value) -> Vec<String> {
    let Some(choices) = data["choices"].as_array() else {
        return vec!["autocomplete without choices".into()];
    };
    let mut p = Vec::new();
    if choices.len() > 25 {
        p.push(format!("{} choices", choices.len()));
    }
    for c in choices {
        let name = c["name"].as_str().unwrap_or("").chars().count();
        let value = c["value"].as_str().map(|v| v.chars().count());
        if !(1..=100).contains(&name) || !matches!(value, Some(1..=100)) {
            p.push(format!("bad choice {c}"));
        }
    }
    p
}

fn flags_problems(body: &Value) -> Vec<String> {
    match body.get("flags") {
        None => vec![],
        Some(f) if f.as_u64().is_some_and(|f| f & !(1 << 6) == 0) => vec![],
        Some(f) => vec![format!("flags {f}")],
    }
}

async fn callback(
    State(inner): State<Arc<Inner>>,
    Path((_id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, files) = match read_message(&inner, &headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let Some(sent) = inner.dispatched.lock().unwrap().get(&token).copied() else {
        return invalid_form(&inner, format!("callback for an unknown token {token}"));
    };
    let latency = sent.elapsed();
    if latency > CALLBACK_DEADLINE {
        inner.unexpected(format!("callback after {latency:?}: {body}"));
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Unknown interaction", "code": 10062})),
        )
            .into_response();
    }
    if inner.callbacks.lock().unwrap().contains_key(&token) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Interaction has already been acknowledged.", "code": 40060})),
        )
            .into_response();
    }
    let problems = callback_problems(&body);
    if !problems.is_empty() {
        return invalid_form(&inner, format!("callback refused: {problems:?}: {body}"));
    }
    record_uploads(&inner, &token, files);
    inner.callbacks.lock().unwrap().insert(
        token.clone(),
        Exchange {
            callback: body,
            latency,
            token,
        },
    );
    inner.changed.notify_waiters();
    StatusCode::NO_CONTENT.into_response()
}

/// What Discord would refuse in an interaction's response.
fn callback_problems(body: &Value) -> Vec<String> {
    match body["type"].as_u64() {
        Some(4) => {
            let mut p = message_problems(&body["data"]);
            p.extend(flags_problems(&body["data"]));
            p
        }
        Some(5) => flags_problems(body.get("data").unwrap_or(&json!({}))),
        Some(9) => modal_problems(&body["data"]),
        Some(8) => autocomplete_problems(&body["data"]),
        other => vec![format!("callback type {other:?}")],
    }
}

/// Whether the interaction was answered. One sent over HTTP is answered once its response
/// has been read: a follow-up that comes while it is being read waits for it, briefly.
async fn acknowledged(inner: &Inner, token: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let notified = inner.changed.notified();
        if inner.callbacks.lock().unwrap().contains_key(token) {
            return true;
        }
        if !inner.http_pending.lock().unwrap().contains(token)
            || tokio::time::timeout_at(deadline, notified).await.is_err()
        {
            return inner.callbacks.lock().unwrap().contains_key(token);
        }
    }
}

/// A follow-up or an edit of the original response: a message, and at most `EPHEMERAL`.
fn webhook_message_problems(body: &Value) -> Vec<String> {
    let mut problems = message_problems(body);
    problems.extend(flags_problems(body));
    problems
}

fn record_webhook(inner: &Inner, token: String, method: &str, body: Value) {
    inner
        .webhooks
        .lock()
        .unwrap()
        .entry(token)
        .or_default()
        .push((method.to_owned(), body));
    inner.changed.notify_waiters();
}

async fn followup(
    State(inner): State<Arc<Inner>>,
    Path((app, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if app != APP || !acknowledged(&inner, &token).await {
        return invalid_form(&inner, format!("follow-up before a response: {token}"));
    }
    let (body, files) = match read_message(&inner, &headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let problems = webhook_message_problems(&body);
    if !problems.is_empty() {
        return invalid_form(&inner, format!("follow-up refused: {problems:?}: {body}"));
    }
    record_uploads(&inner, &token, files);
    record_webhook(&inner, token, "POST", body);
    Json(json!({ "id": "2" })).into_response()
}

async fn original(
    State(inner): State<Arc<Inner>>,
    method: Method,
    Path((app, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if app != APP || !acknowledged(&inner, &token).await {
        return invalid_form(
            &inner,
            format!("{method} of an original never sent: {token}"),
        );
    }
    let (body, files) = if method == Method::DELETE {
        (Value::Null, vec![])
    } else {
        match read_message(&inner, &headers, body).await {
            Ok(read) => read,
            Err(refused) => return refused,
        }
    };
    if method == Method::PATCH {
        let problems = webhook_message_problems(&body);
        if !problems.is_empty() {
            return invalid_form(&inner, format!("edit refused: {problems:?}: {body}"));
        }
    }
    record_uploads(&inner, &token, files);
    record_webhook(&inner, token, method.as_str(), body);
    if method == Method::DELETE {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "id": "3" })).into_response()
    }
}

async fn roles(State(inner): State<Arc<Inner>>, Path(guild): Path<String>) -> Response {
    let roles = inner.roles.lock().unwrap().get(&guild).cloned();
    match roles {
        Some(list) => Json(
            list.iter()
                .enumerate()
                .map(|(i, (id, name))| {
                    json!({ "id": id, "name": name, "color": 0, "hoist": false, "position": i,
                            "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
                            "permissions": "0", "managed": false, "mentionable": false,
                            "flags": 0, "icon": null, "unicode_emoji": null })
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => invalid_form(&inner, format!("roles of an unknown guild {guild}")),
    }
}

async fn unexpected(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
) -> impl IntoResponse {
    inner.unexpected(format!("no such route: {method} {uri}"));
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "404: Not Found", "code": 0})),
    )
}
