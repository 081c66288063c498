//! A fake Slack on 127.0.0.1:0, and a client that signs requests exactly as Slack does.
//!
//! The fake takes `POST /api/views.open` and `POST /api/chat.postMessage` (with the bot
//! token; `chat.postMessage` answers `ok`, or the errors a test scripts), `POST
//! /api/auth.test` (the token is the workspace [`TOKEN_TEAM`]'s) and `GET
//! /api/conversations.info?channel=…` (the channels of [`CHANNELS`], each in its workspace;
//! any other is `channel_not_found`), and answers to `response_url`s (`POST
//! /respond/{name}`). Every call is recorded; it is strict: a call
//! it does not know, a wrong token, or a message Slack would refuse is recorded as
//! unexpected, and tests assert there were none.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use drumbeat::clock::Clock;
use drumbeat::platform::slack::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use drumbeat::reply::slack;

pub const BOT_TOKEN: &str = "xoxb-test-token";

/// The workspace the bot token belongs to.
pub const TOKEN_TEAM: &str = "T0TEAM";

/// The channels Slack knows: (id, the workspace it lives in, the workspaces it is shared
/// with as Slack lists them).
pub const CHANNELS: &[(&str, &str, &[&str])] = &[
    ("C0PROGRAM", "T0TEAM", &["T0TEAM"]),
    ("C123ABC", "T0TEAM", &["T0TEAM"]),
    // Another workspace's, as Slack shows it to an org-wide token that can see it.
    ("C0FOREIGN", "T0OTHER", &["T0OTHER"]),
];

/// An answer posted to a `response_url`.
#[derive(Debug, Clone)]
pub struct Answered {
    pub name: String,
    pub response_type: String,
    pub message: slack::Message,
    /// The raw JSON, to look for text that must not be there.
    pub raw: String,
}

/// A message posted with `chat.postMessage`.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: String,
    pub message: slack::Message,
}

#[derive(Default)]
struct Inner {
    views: Mutex<Vec<serde_json::Value>>,
    posted: Mutex<Vec<Posted>>,
    /// Errors `chat.postMessage` answers next, in order, before it answers `ok` again.
    post_errors: Mutex<std::collections::VecDeque<&'static str>>,
    answers: Mutex<Vec<Answered>>,
    /// The channels `conversations.info` was asked about, in order.
    infos: Mutex<Vec<String>>,
    /// Errors `conversations.info` answers next, in order: a Slack error in its JSON, or
    /// `"503"` for an HTTP 503.
    info_errors: Mutex<std::collections::VecDeque<&'static str>>,
    unexpected: Mutex<Vec<String>>,
}

pub struct FakeSlack {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeSlack {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/api/views.open", post(views_open))
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/auth.test", post(auth_test))
            .route("/api/conversations.info", get(conversations_info))
            .route("/respond/{name}", post(respond))
            .fallback(unknown)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack");
        });
        Self {
            addr,
            inner,
            server,
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn response_url(&self, name: &str) -> String {
        format!("http://{}/respond/{name}", self.addr)
    }

    /// The messages `chat.postMessage` took, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.inner.posted.lock().unwrap().clone()
    }

    /// `chat.postMessage` answers `{"ok": false, "error": error}` to its next call.
    pub fn fail_next_post(&self, error: &'static str) {
        self.inner.post_errors.lock().unwrap().push_back(error);
    }

    /// The channels `conversations.info` was asked about, in order.
    pub fn infos(&self) -> Vec<String> {
        self.inner.infos.lock().unwrap().clone()
    }

    /// `conversations.info` answers `error` to its next call (`"503"`: an HTTP 503).
    pub fn fail_next_info(&self, error: &'static str) {
        self.inner.info_errors.lock().unwrap().push_back(error);
    }

    /// The `views.open` calls: `{trigger_id, view}`.
    pub fn views(&self) -> Vec<serde_json::Value> {
        self.inner.views.lock().unwrap().clone()
    }

    pub fn answers_to(&self, name: &str) -> Vec<Answered> {
        let answers = self.inner.answers.lock().unwrap();
        answers.iter().filter(|a| a.name == name).cloned().collect()
    }

    /// Waits (up to 5 s) until `name` has `n` answers, and returns them.
    pub async fn wait_for_answers(&self, name: &str, n: usize) -> Vec<Answered> {
        for _ in 0..500 {
            let got = self.answers_to(name);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name} got {:?}, not {n} answers", self.answers_to(name));
    }

    pub async fn wait_for_views(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..500 {
            let got = self.views();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "views.open was called {} times, not {n}",
            self.views().len()
        );
    }

    pub fn assert_nothing_unexpected(&self) {
        let unexpected = self.inner.unexpected.lock().unwrap();
        assert!(unexpected.is_empty(), "unexpected calls: {unexpected:#?}");
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn views_open(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {BOT_TOKEN}") {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("views.open without the bot token: {auth:?}"));
        return Json(serde_json::json!({"ok": false, "error": "not_authed"})).into_response();
    }
    if body["trigger_id"].as_str().is_none_or(str::is_empty) || body["view"]["type"] != "modal" {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("views.open without a trigger or a modal: {body}"));
        return Json(serde_json::json!({"ok": false, "error": "invalid_arguments"}))
            .into_response();
    }
    inner.views.lock().unwrap().push(body);
    Json(serde_json::json!({"ok": true})).into_response()
}

/// The bearer token, or the call is recorded as unexpected.
fn authorized(inner: &Inner, headers: &HeaderMap, method: &str) -> bool {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ok = auth == format!("Bearer {BOT_TOKEN}");
    if !ok {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("{method} without the bot token: {auth:?}"));
    }
    ok
}

async fn auth_test(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !authorized(&inner, &headers, "auth.test") {
        return Json(serde_json::json!({"ok": false, "error": "not_authed"})).into_response();
    }
    Json(serde_json::json!({
        "ok": true,
        "url": "https://example.slack.com/",
        "team": "Example",
        "user": "drumbeat",
        "team_id": TOKEN_TEAM,
        "user_id": "U0BOT",
        "bot_id": "B0BOT",
        "is_enterprise_install": false,
    }))
    .into_response()
}

async fn conversations_info(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if !authorized(&inner, &headers, "conversations.info") {
        return Json(serde_json::json!({"ok": false, "error": "not_authed"})).into_response();
    }
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let channel = match params.as_slice() {
        [(name, id)] if name == "channel" && !id.is_empty() => id.clone(),
        _ => {
            inner.unexpected.lock().unwrap().push(format!(
                "conversations.info without exactly a channel: {query:?}"
            ));
            return Json(serde_json::json!({"ok": false, "error": "invalid_arguments"}))
                .into_response();
        }
    };
    inner.infos.lock().unwrap().push(channel.clone());
    if let Some(error) = inner.info_errors.lock().unwrap().pop_front() {
        if error == "503" {
            return (StatusCode::SERVICE_UNAVAILABLE, "upstream down").into_response();
        }
        return Json(serde_json::json!({"ok": false, "error": error})).into_response();
    }
    match CHANNELS.iter().find(|(id, ..)| *id == channel) {
        Some((id, team, shared)) => Json(serde_json::json!({
            "ok": true,
            "channel": {
                "id": id,
                "name": id.to_ascii_lowercase(),
                "is_channel": true,
                "is_private": false,
                "is_archived": false,
                "is_shared": shared.len() > 1,
                "is_ext_shared": shared.len() > 1,
                "context_team_id": team,
                "shared_team_ids": shared,
                "internal_team_ids": [],
                "conversation_host_id": team,
            },
        }))
        .into_response(),
        None => {
            Json(serde_json::json!({"ok": false, "error": "channel_not_found"})).into_response()
        }
    }
}

async fn post_message(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {BOT_TOKEN}") {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("chat.postMessage without the bot token: {auth:?}"));
        return Json(serde_json::json!({"ok": false, "error": "not_authed"})).into_response();
    }
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    let message = serde_json::from_value::<slack::Message>(body.clone());
    let Ok(message) = message.map_err(|e| e.to_string()).and_then(|m| {
        if channel.is_empty() {
            Err("no channel".to_owned())
        } else {
            Ok(m)
        }
    }) else {
        inner.unexpected.lock().unwrap().push(format!(
            "chat.postMessage without a channel or a message: {body}"
        ));
        return Json(serde_json::json!({"ok": false, "error": "invalid_arguments"}))
            .into_response();
    };
    let problems = slack::violations(&message);
    if !problems.is_empty() {
        inner.unexpected.lock().unwrap().push(format!(
            "chat.postMessage: Slack would refuse it: {problems:?}"
        ));
        return Json(serde_json::json!({"ok": false, "error": "invalid_blocks"})).into_response();
    }
    if let Some(error) = inner.post_errors.lock().unwrap().pop_front() {
        return Json(serde_json::json!({"ok": false, "error": error})).into_response();
    }
    inner
        .posted
        .lock()
        .unwrap()
        .push(Posted { channel, message });
    Json(serde_json::json!({"ok": true, "channel": "D0DM", "ts": "1700000000.000100"}))
        .into_response()
}

async fn respond(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    raw: String,
) -> Response {
    let parsed = serde_json::from_str::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| {
            let message = serde_json::from_value::<slack::Message>(v.clone()).ok()?;
            Some((v["response_type"].as_str()?.to_owned(), message))
        });
    let Some((response_type, message)) = parsed else {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("{name}: not a response_url message: {raw}"));
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let problems = slack::violations(&message);
    if !problems.is_empty() {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("{name}: Slack would refuse it: {problems:?}"));
    }
    inner.answers.lock().unwrap().push(Answered {
        name,
        response_type,
        message,
        raw,
    });
    (StatusCode::OK, "ok").into_response()
}

async fn unknown(State(inner): State<Arc<Inner>>, uri: axum::http::Uri) -> Response {
    inner
        .unexpected
        .lock()
        .unwrap()
        .push(format!("unknown call: {uri}"));
    StatusCode::NOT_FOUND.into_response()
}

/// A trigger id of its own for each command, as Slack gives: two commands alike are still
/// two requests, not one replayed.
fn next_trigger() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "{}.2.3",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Sends requests to Drumbeat's Slack endpoints signed as Slack signs them, with the
/// timestamp taken from `clock` (the one the server checks against).
pub struct SlackClient {
    pub base: String,
    pub secret: String,
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
}

/// What came back.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The answer as a Slack message, checked against Slack's limits.
    pub fn message(&self) -> slack::Message {
        let m: slack::Message = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not a Slack message ({e}): {}", self.body));
        let problems = slack::violations(&m);
        assert!(problems.is_empty(), "Slack would refuse it: {problems:?}");
        m
    }
}

impl SlackClient {
    pub fn new(addr: SocketAddr, secret: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            base: format!("http://{addr}"),
            secret: secret.to_owned(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            clock,
        }
    }

    /// The form body of `/drumbeat {text}` from `user` in `team`.
    pub fn command_body(team: &str, user: &str, text: &str, response_url: &str) -> String {
        serde_urlencoded::to_string([
            ("token", "legacy-verification-token"),
            ("team_id", team),
            ("team_domain", "example"),
            ("channel_id", "C0PROGRAM"),
            ("channel_name", "atlas"),
            ("user_id", user),
            ("user_name", &user.to_ascii_lowercase()),
            ("command", "/drumbeat"),
            ("text", text),
            ("response_url", response_url),
            ("trigger_id", &next_trigger()),
        ])
        .unwrap()
    }

    /// Signs and posts a slash command.
    pub async fn command(&self, team: &str, user: &str, text: &str, response_url: &str) -> Got {
        self.signed(
            "/slack/commands",
            Self::command_body(team, user, text, response_url),
        )
        .await
    }

    /// Signs and posts an interaction payload.
    pub async fn interaction(&self, payload: &serde_json::Value) -> Got {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        self.signed("/slack/interactions", body).await
    }

    pub fn timestamp(&self) -> String {
        self.clock.now().timestamp().to_string()
    }

    pub async fn signed(&self, path: &str, body: String) -> Got {
        let ts = self.timestamp();
        let sig = sign(&self.secret, &ts, body.as_bytes());
        self.raw(path, body.into_bytes(), Some(&ts), Some(&sig))
            .await
    }

    /// Posts exactly these bytes and headers (`None` leaves a header out).
    pub async fn raw(
        &self,
        path: &str,
        body: Vec<u8>,
        timestamp: Option<&str>,
        signature: Option<&str>,
    ) -> Got {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(ts) = timestamp {
            req = req.header(TIMESTAMP_HEADER, ts);
        }
        if let Some(sig) = signature {
            req = req.header(SIGNATURE_HEADER, sig);
        }
        let r = req.send().await.expect("the Slack endpoint answers");
        Got {
            status: r.status().as_u16(),
            body: r.text().await.unwrap_or_default(),
        }
    }
}
