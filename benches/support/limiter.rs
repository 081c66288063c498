//! A loopback webhook receiver that allows `limit` requests a second and answers 429 with
//! `Retry-After: 1` beyond; it counts how often each message (`message N` in the body)
//! was accepted. Shared by the `schedule` and `scale` benches.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;

#[derive(Clone)]
pub struct Limiter {
    /// Request instants in the last second.
    recent: Arc<Mutex<Vec<Instant>>>,
    /// Accepted requests by message number.
    got: Arc<Mutex<HashMap<String, usize>>>,
    /// The first and the last accepted request.
    span: Arc<Mutex<Option<(Instant, Instant)>>>,
    limit: usize,
}

impl Limiter {
    /// Serves `/hook/{n}` on 127.0.0.1; returns the receiver and its address.
    pub async fn start(limit: usize) -> (Self, SocketAddr) {
        let l = Self {
            recent: Arc::new(Mutex::new(Vec::new())),
            got: Arc::new(Mutex::new(HashMap::new())),
            span: Arc::new(Mutex::new(None)),
            limit,
        };
        let app = axum::Router::new()
            .route("/hook/{n}", post(receive))
            .with_state(l.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (l, addr)
    }

    /// Distinct messages accepted.
    pub fn delivered(&self) -> usize {
        self.got.lock().expect("lock").len()
    }

    /// The rate at which requests were accepted, from the first acceptance to the last (the
    /// senders' start-up left out): acceptances after the first, over that time.
    #[allow(
        dead_code,
        reason = "each bench binary compiles this module; one counts only deliveries"
    )]
    pub fn sustained_per_second(&self) -> f64 {
        let n: usize = self.got.lock().expect("lock").values().sum();
        match *self.span.lock().expect("lock") {
            Some((first, last)) if last > first => {
                (n.saturating_sub(1)) as f64 / last.duration_since(first).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// Acceptances beyond the first of each message.
    #[allow(
        dead_code,
        reason = "each bench binary compiles this module; one counts only deliveries"
    )]
    pub fn duplicates(&self) -> usize {
        self.got.lock().expect("lock").values().map(|n| n - 1).sum()
    }
}

async fn receive(State(l): State<Limiter>, body: String) -> impl IntoResponse {
    let now = Instant::now();
    let mut recent = l.recent.lock().expect("lock");
    recent.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
    if recent.len() >= l.limit {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "rate_limited",
        )
            .into_response();
    }
    recent.push(now);
    {
        let mut span = l.span.lock().expect("lock");
        let first = span.map_or(now, |(first, _)| first);
        *span = Some((first, now));
    }
    let id = body
        .split("message ")
        .nth(1)
        .map(|r| {
            r.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .unwrap_or_default();
    *l.got.lock().expect("lock").entry(id).or_default() += 1;
    (StatusCode::OK, "ok").into_response()
}
