//! A fake Slack incoming webhook on 127.0.0.1:0. Each hook (`/hook/{name}`) answers from
//! its script, then `ok`. Every request is recorded with its arrival instant and the answer
//! it got. It is strict: a request to a hook nobody scripted, or a payload Slack would
//! refuse, is recorded as unexpected, and tests assert there were none.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use drumbeat::reply::slack;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200 `ok`.
    Ok,
    /// 500.
    ServerError,
    /// 429 with `Retry-After: {0}`.
    TooMany(u64),
    /// Waits this long, then 200 `ok`: longer than the client's timeout, it never arrives.
    Stall(Duration),
    /// A 4xx with Slack's plain-text error, e.g. 400 `invalid_blocks`.
    Refuse(u16, &'static str),
    /// 302 to this URL, which a webhook sender must not follow.
    Redirect(String),
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub hook: String,
    pub at: Instant,
    pub message: slack::Message,
    pub answer: Answer,
}

#[derive(Default)]
struct Inner {
    scripts: Mutex<HashMap<String, VecDeque<Answer>>>,
    hits: Mutex<Vec<Hit>>,
    unexpected: Mutex<Vec<String>>,
}

pub struct FakeWebhook {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeWebhook {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/hook/{name}", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake webhook");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake webhook");
        });
        Self {
            addr,
            inner,
            server,
        }
    }

    /// The URL of hook `name`, which answers `script` and then `ok`.
    pub fn hook(&self, name: &str, script: Vec<Answer>) -> String {
        self.inner
            .scripts
            .lock()
            .unwrap()
            .insert(name.to_owned(), script.into());
        format!("http://{}/hook/{name}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().clone()
    }

    pub fn hits_of(&self, hook: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.hook == hook).collect()
    }

    pub fn assert_nothing_unexpected(&self) {
        let unexpected = self.inner.unexpected.lock().unwrap();
        assert!(
            unexpected.is_empty(),
            "unexpected requests: {unexpected:#?}"
        );
    }
}

impl Drop for FakeWebhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    Path(hook): Path<String>,
    body: String,
) -> Response {
    let at = Instant::now();
    let message = match serde_json::from_str::<slack::Message>(&body) {
        Ok(m) => m,
        Err(e) => {
            inner
                .unexpected
                .lock()
                .unwrap()
                .push(format!("{hook}: not a Slack message ({e}): {body}"));
            return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
        }
    };
    let problems = slack::violations(&message);
    if !problems.is_empty() {
        inner
            .unexpected
            .lock()
            .unwrap()
            .push(format!("{hook}: Slack would refuse it: {problems:?}"));
    }
    let answer = {
        let mut scripts = inner.scripts.lock().unwrap();
        match scripts.get_mut(&hook) {
            Some(script) => script.pop_front().unwrap_or(Answer::Ok),
            None => {
                inner
                    .unexpected
                    .lock()
                    .unwrap()
                    .push(format!("{hook}: no such hook"));
                return (StatusCode::NOT_FOUND, "no_service").into_response();
            }
        }
    };
    inner.hits.lock().unwrap().push(Hit {
        hook,
        at,
        message,
        answer: answer.clone(),
    });
    match answer {
        Answer::Ok => (StatusCode::OK, "ok").into_response(),
        Answer::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        Answer::TooMany(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            "rate_limited",
        )
            .into_response(),
        Answer::Stall(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "ok").into_response()
        }
        Answer::Refuse(status, code) => {
            (StatusCode::from_u16(status).unwrap(), code).into_response()
        }
        Answer::Redirect(to) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
    }
}
