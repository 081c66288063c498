//! The HTTP server and `drumbeat run` under clients and networks that misbehave: unsigned
//! or stale Slack requests refused before their body is read, connections that never finish
//! their headers or body cut off, a connection limit, replayed Slack requests refused, and
//! the real binary stopping within its deadline after SIGTERM while Discord is unreachable
//! or a client holds a half-sent request open.

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drumbeat::clock::Clock;
use drumbeat::config::{Settings, DEFAULTS};
use drumbeat::http::{self, HttpApp, Limits};
use drumbeat::platform::slack::{self, SlackApp};
use drumbeat::store;
use drumbeat::telemetry::metrics;
use figment::providers::{Format, Toml};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{start_run, TestDb};

const SECRET: &str = "hardening-signing-secret";

fn settings() -> Settings {
    let mut s: Settings = figment::Figment::from(Toml::string(DEFAULTS))
        .extract()
        .expect("defaults");
    s.slack.signing_secret = Some(SECRET.to_owned().into());
    s
}

fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(400),
        body_timeout: Duration::from_millis(400),
        max_connections: 64,
    }
}

/// The whole router (health, feeds, Slack) on 127.0.0.1:0 with `limits`; its address.
async fn serve(db: &TestDb, limits: Limits) -> (String, tokio::sync::watch::Sender<bool>) {
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let mut s = settings();
    s.http.body_timeout_ms = limits.body_timeout.as_millis() as u64;
    let slack = SlackApp::from_settings(&s, db.store.clone(), clock.clone())
        .expect("the app builds")
        .expect("a signing secret is set");
    let app = HttpApp::new(
        db.store.clone(),
        clock,
        metrics::recorder().handle(),
        None,
        Duration::from_secs(600),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(http::serve_with(
        listener,
        http::router(app, Some(slack)),
        stopped,
        limits,
    ));
    (addr, stop)
}

/// Reads what the server sends until it closes the connection, or `within` passes (then
/// `None`: the connection is still open).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A POST to `path` whose head promises `length` bytes of body, of which only `sent` come.
fn half_sent_post(path: &str, extra_headers: &str, length: usize, sent: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: drumbeat\r\nContent-Type: application/x-www-form-urlencoded\r\n{extra_headers}Content-Length: {length}\r\n\r\n{sent}"
    )
}

fn signed_command(db: &TestDb, text: &str, trigger: &str) -> (String, String, String) {
    let body = serde_urlencoded::to_string([
        ("team_id", "T0TEAM"),
        ("user_id", "UADMIN"),
        ("user_name", "admin"),
        ("channel_id", "C0PROGRAM"),
        ("command", "/drumbeat"),
        ("text", text),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0TEAM/1/x",
        ),
        ("trigger_id", trigger),
    ])
    .unwrap();
    let ts = db.clock.now().timestamp().to_string();
    let sig = slack::sign(SECRET, &ts, body.as_bytes());
    (body, ts, sig)
}

/// Issue #13 item 3: 200 unsigned POSTs that send their head and a few bytes of a 100 kB
/// body are each answered 401 while their body is still missing, and their connections
/// are closed, so nothing of them stays in memory. A signed request after them is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_half_sent_posts_are_refused_unread_and_closed() {
    let db = TestDb::new().await;
    // Timeouts far longer than the test waits: only refusing unread can answer in time.
    let (addr, _stop) = serve(
        &db,
        Limits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
        },
    )
    .await;
    let stale = (db.clock.now().timestamp() - 301).to_string();
    let cases = [
        String::new(),
        format!(
            "X-Slack-Request-Timestamp: {}\r\n",
            db.clock.now().timestamp()
        ),
        "X-Slack-Signature: v0=00\r\n".to_owned(),
        format!(
            "X-Slack-Request-Timestamp: {stale}\r\nX-Slack-Signature: v0={}\r\n",
            "0".repeat(64)
        ),
    ];
    let mut held = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let request = half_sent_post("/slack/commands", &cases[i % cases.len()], 100_000, "text=");
        stream.write_all(request.as_bytes()).await.unwrap();
        held.push(stream);
    }
    for (i, stream) in held.iter_mut().enumerate() {
        let answer = read_until_closed(stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("request {i}: the connection is still open"));
        assert!(answer.starts_with("HTTP/1.1 401"), "request {i}: {answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        let why = [
            "the X-Slack-Request-Timestamp header is missing",
            "the X-Slack-Signature header is missing",
            "the X-Slack-Request-Timestamp header is missing",
            "requests older or newer than 300 s are refused",
        ][i % cases.len()];
        assert!(answer.contains(why), "request {i}: {answer}");
    }
    // Nothing was parsed, so nothing was recorded either.
    let mut tx = db.store.read().await.unwrap();
    assert_eq!(store::slack_signatures_kept(&mut tx).await.unwrap(), 0);
    tx.commit().await.unwrap();

    let (body, ts, sig) = signed_command(&db, "help", "1");
    let got = reqwest::Client::new()
        .post(format!("http://{addr}/slack/commands"))
        .header(slack::TIMESTAMP_HEADER, ts)
        .header(slack::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
}

/// A signed request whose body stops arriving is answered 408 within the body timeout,
/// and its connection closed.
#[tokio::test]
async fn a_body_that_stops_arriving_is_refused_in_time() {
    let db = TestDb::new().await;
    let (addr, _stop) = serve(&db, limits()).await;
    let (body, ts, sig) = signed_command(&db, "help", "1");
    let head = format!("X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sig}\r\n");
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    let request = half_sent_post("/slack/commands", &head, body.len(), &body[..10]);
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 400 ms"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A connection that never finishes its request head is closed after the header timeout,
/// on any path.
#[tokio::test]
async fn a_head_that_never_ends_is_cut_off() {
    let db = TestDb::new().await;
    let (addr, _stop) = serve(&db, limits()).await;
    for start in [
        "GET /healthz HTTP/1.1\r\nHost: drum",
        "POST /slack/comm",
        "",
    ] {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(start.as_bytes()).await.unwrap();
        let started = Instant::now();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.is_some(), "{start:?}: still open after 5 s");
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{start:?}: closed before the timeout"
        );
    }
}

/// Past `max_connections`, a new connection waits unserved until one closes.
#[tokio::test]
async fn connections_past_the_limit_wait_their_turn() {
    let db = TestDb::new().await;
    let (addr, _stop) = serve(
        &db,
        Limits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 2,
        },
    )
    .await;
    let mut first = TcpStream::connect(&addr).await.unwrap();
    let _second = TcpStream::connect(&addr).await.unwrap();
    let mut third = TcpStream::connect(&addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: drumbeat\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_until_closed(&mut third, Duration::from_millis(500)).await,
        None,
        "served past the limit"
    );
    first.shutdown().await.unwrap();
    drop(first);
    let answer = read_until_closed(&mut third, Duration::from_secs(5))
        .await
        .expect("served once a connection closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Issue #13 item 7: a signed request sent again inside the window is refused, also by a
/// second server on the same database (another process); old signatures are pruned.
#[tokio::test]
async fn a_replayed_slack_request_is_refused() {
    let db = TestDb::new().await;
    let (one, _stop_one) = serve(&db, limits()).await;
    let (two, _stop_two) = serve(&db, limits()).await;
    let client = reqwest::Client::new();
    let send = |addr: &str, (body, ts, sig): &(String, String, String)| {
        client
            .post(format!("http://{addr}/slack/commands"))
            .header(slack::TIMESTAMP_HEADER, ts)
            .header(slack::SIGNATURE_HEADER, sig)
            .body(body.clone())
            .send()
    };
    let request = signed_command(&db, "help", "7.7.7");
    let first = send(&one, &request).await.unwrap();
    assert_eq!(first.status(), 200);
    for addr in [&one, &two] {
        let again = send(addr, &request).await.unwrap();
        assert_eq!(again.status(), 401);
        assert_eq!(
            again.text().await.unwrap(),
            "this signed request was received before; a request is accepted once"
        );
    }
    // Another request (another trigger) in the same second is not a replay.
    let other = send(&two, &signed_command(&db, "help", "7.7.8"))
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    let kept = || async {
        let mut tx = db.store.read().await.unwrap();
        let n = store::slack_signatures_kept(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        n
    };
    assert_eq!(kept().await, 2);
    // Seven minutes on, those two have left the window: the next request prunes them.
    db.clock.advance(chrono::Duration::minutes(7));
    let later = send(&one, &signed_command(&db, "help", "7.7.9"))
        .await
        .unwrap();
    assert_eq!(later.status(), 200);
    assert_eq!(kept().await, 1);
}

// ── The real binary, stopped with SIGTERM ───────────────────────────────────────────────

/// Sends SIGTERM; how long the process took to exit, and how it did.
async fn terminate(child: &mut Child, limit: Duration) -> (Duration, std::process::ExitStatus) {
    let sent = Instant::now();
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (sent.elapsed(), status);
        }
        if sent.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {limit:?} after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A Discord whose REST API answers but whose gateway cannot be reached: the URL it gives
/// for the gateway is a loopback port nobody listens on.
async fn unreachable_gateway() -> String {
    use axum::routing::get;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws = format!("ws://{}", closed.local_addr().unwrap());
    drop(closed);
    let gateway = move || {
        let ws = ws.clone();
        async move {
            axum::Json(
                serde_json::json!({ "url": ws, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1 } }),
            )
        }
    };
    let app = axum::Router::new()
        .route("/api/v10/gateway", get(gateway.clone()))
        .route("/api/v10/gateway/bot", get(gateway));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Issue #13 item 2: with Discord's gateway unreachable (the shard retrying), `drumbeat
/// run` still stops promptly after SIGTERM, well inside `http.shutdown_secs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_after_sigterm_while_the_gateway_is_unreachable() {
    let db = TestDb::new().await;
    let discord = unreachable_gateway().await;
    let (mut child, addr) = start_run(
        &db,
        &[
            ("DISCORD_TOKEN", "MTAw.fake.token".to_owned()),
            ("DRUMBEAT_DISCORD__PROXY_URL", discord),
            ("DRUMBEAT_HTTP__SHUTDOWN_SECS", "2".to_owned()),
        ],
    )
    .await;
    // Let the shard try (and fail) to connect a few times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let health: serde_json::Value = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health["discord"], "not connected",
        "the gateway cannot be connected: {health}"
    );
    let (took, status) = terminate(&mut child, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(status.success(), "{status:?}");
}

/// Issue #13 item 2: clients holding half-sent requests open (a head never finished, a
/// signed Slack command whose body never comes) do not hold the stop: the process exits at
/// `http.shutdown_secs` (2 s here, far shorter than the header and body timeouts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_within_the_deadline_while_requests_are_half_sent() {
    let db = TestDb::new().await;
    let (mut child, addr) = start_run(
        &db,
        &[
            ("SLACK_SIGNING_SECRET", SECRET.to_owned()),
            ("DRUMBEAT_HTTP__SHUTDOWN_SECS", "2".to_owned()),
            ("DRUMBEAT_HTTP__HEADER_TIMEOUT_MS", "60000".to_owned()),
            ("DRUMBEAT_HTTP__BODY_TIMEOUT_MS", "60000".to_owned()),
        ],
    )
    .await;
    let mut head = TcpStream::connect(&addr).await.unwrap();
    head.write_all(b"GET /healthz HTTP/1.1\r\nHost: drum")
        .await
        .unwrap();
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = slack::sign(SECRET, &ts, b"text=help");
    let signed = format!("X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sig}\r\n");
    let mut body = TcpStream::connect(&addr).await.unwrap();
    body.write_all(half_sent_post("/slack/commands", &signed, 9, "text=").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (took, status) = terminate(&mut child, Duration::from_secs(10)).await;
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(3500),
        "took {took:?}"
    );
    assert!(status.success(), "{status:?}");
    drop((head, body));
}
