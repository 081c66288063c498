//! A fake Discord REST API on 127.0.0.1:0, for the outbox's Discord sender: DM channels
//! and channel messages. It is strict: a route it does not serve, or a message Discord would
//! refuse (any limit of `reply::discord::violations`, `allowed_mentions` that could ping
//! roles or everyone), is recorded as unexpected and answered 400/404 as Discord would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use drumbeat::reply::discord;
use serde_json::{json, Value};

#[derive(Default)]
struct Inner {
    /// Channel id → (status, code, message) to answer with instead of success.
    refuse: Mutex<HashMap<String, (u16, u32, String)>>,
    /// (channel id, body) of every message accepted.
    messages: Mutex<Vec<(String, Value)>>,
    /// Recipient ids of DM channels opened.
    dms: Mutex<Vec<String>>,
    unexpected: Mutex<Vec<String>>,
}

pub struct FakeDiscord {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

/// The DM channel the fake opens with a user: the user's id with a leading 9.
pub fn dm_channel_of(user: &str) -> String {
    format!("9{}", &user[1..])
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/api/v10/users/@me/channels", post(open_dm))
            .route("/api/v10/channels/{id}/messages", post(message))
            .fallback(unexpected)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Discord");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Discord");
        });
        Self {
            addr,
            inner,
            server,
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

    pub fn messages(&self) -> Vec<(String, Value)> {
        self.inner.messages.lock().unwrap().clone()
    }

    pub fn dms(&self) -> Vec<String> {
        self.inner.dms.lock().unwrap().clone()
    }

    pub fn assert_nothing_unexpected(&self) {
        let u = self.inner.unexpected.lock().unwrap();
        assert!(u.is_empty(), "unexpected requests: {u:#?}");
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn open_dm(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    let Some(user) = body.get("recipient_id").and_then(Value::as_str) else {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("DM without recipient_id: {body}"));
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Invalid Form Body", "code": 50035})),
        )
            .into_response();
    };
    inner.dms.lock().unwrap().push(user.to_owned());
    Json(json!({ "id": dm_channel_of(user), "type": 1, "recipients": [{ "id": user }] }))
        .into_response()
}

async fn message(
    State(inner): State<Arc<Inner>>,
    Path(channel): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let parsed: Result<discord::Message, _> = serde_json::from_value(body.clone());
    let problems = match &parsed {
        Ok(m) => discord::violations(m),
        Err(e) => vec![format!("not a Discord message: {e}")],
    };
    let nonce_ok = body
        .get("nonce")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty() && n.chars().count() <= 25)
        && body.get("enforce_nonce") == Some(&Value::Bool(true));
    if !problems.is_empty() || !nonce_ok {
        inner.unexpected.lock().unwrap().push(format!(
            "message to {channel} refused: {problems:?}, nonce ok: {nonce_ok}: {body}"
        ));
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Invalid Form Body", "code": 50035})),
        )
            .into_response();
    }
    if let Some((status, code, msg)) = inner.refuse.lock().unwrap().get(&channel).cloned() {
        return (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({ "message": msg, "code": code })),
        )
            .into_response();
    }
    inner.messages.lock().unwrap().push((channel.clone(), body));
    Json(json!({ "id": "1", "channel_id": channel })).into_response()
}

async fn unexpected(State(inner): State<Arc<Inner>>, uri: Uri) -> impl IntoResponse {
    inner
        .unexpected
        .lock()
        .unwrap()
        .push(format!("no such route: {uri}"));
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "404: Not Found", "code": 0})),
    )
}
