//! `cargo bench --bench slack`: 1,000 signed slash commands (half reads, half status
//! posts) at concurrency 20 against the real Slack router on 127.0.0.1, with a file
//! database, after a warm-up of 40 reads that opens the client's connections. Prints p50/p99 latency (target p99 ≤ 20 ms) and fails on any failed command.
//!
//! Then the memory of the real binary (`drumbeat run` with a signing secret) before and
//! after 400 unsigned POSTs to `/slack/commands` that send their head and a few bytes of a
//! 100 kB body and hold the connection open (VmRSS from /proc), and how many of them the
//! server answered and closed without waiting for the body.
//!
//! `DRUMBEAT_BENCH_SLACK=N` changes the count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use drumbeat::clock::{Clock, SystemClock};
use drumbeat::config::{Settings, DEFAULTS};
use drumbeat::platform::slack::{self, SlackApp};
use drumbeat::store::{Options, Store};
use figment::providers::{Format, Toml};
use futures_util::stream::{self, StreamExt};

const SECRET: &str = "bench-signing-secret";
const TEAM: &str = "T0BENCH";
const ADMIN: &str = "UADMIN";
const CONCURRENCY: usize = 20;

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Bench {
    http: reqwest::Client,
    base: String,
    response_url: String,
    triggers: AtomicUsize,
}

impl Bench {
    /// Slack gives every command its own trigger id: alike commands are not replays.
    fn trigger(&self) -> String {
        format!("{}.1.1", self.triggers.fetch_add(1, Ordering::Relaxed))
    }

    /// One signed slash command; its latency, or why it failed.
    async fn command(&self, text: &str) -> Result<Duration, String> {
        let body = serde_urlencoded::to_string([
            ("team_id", TEAM),
            ("user_id", ADMIN),
            ("user_name", "admin"),
            ("channel_id", "C0BENCH"),
            ("command", "/drumbeat"),
            ("text", text),
            ("response_url", &self.response_url),
            ("trigger_id", &self.trigger()),
        ])
        .unwrap();
        let started = Instant::now();
        let ts = SystemClock.now().timestamp().to_string();
        let sig = slack::sign(SECRET, &ts, body.as_bytes());
        let r = self
            .http
            .post(format!("{}/slack/commands", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(slack::TIMESTAMP_HEADER, ts)
            .header(slack::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{text}: {e}"))?;
        let status = r.status();
        let answer = r.text().await.map_err(|e| format!("{text}: {e}"))?;
        let took = started.elapsed();
        if !status.is_success() || answer.contains("Not done") || answer.contains("Working on it") {
            return Err(format!("{text}: {status} {answer}"));
        }
        Ok(took)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let count: usize = std::env::var("DRUMBEAT_BENCH_SLACK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&Options::new(dir.path().join("drumbeat.db")))
        .await
        .expect("store");

    // Anything answered late would go here; the count says whether any was.
    let follow_ups = Arc::new(AtomicUsize::new(0));
    let counter = follow_ups.clone();
    let receiver = axum::Router::new().route(
        "/respond",
        post(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    let responses = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let response_url = format!("http://{}/respond", responses.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(responses, receiver).await });

    let mut settings: Settings = figment::Figment::from(Toml::string(DEFAULTS))
        .extract()
        .expect("defaults");
    settings.slack.signing_secret = Some(SECRET.to_owned().into());
    settings.slack.admins =
        vec![drumbeat::config::SlackAdmin::parse(&format!("{TEAM}:{ADMIN}")).unwrap()];
    settings.delivery.allow_loopback_http = true;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = SlackApp::from_settings(&settings, store, clock)
        .expect("app")
        .expect("secret set");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(slack::serve(listener, app, stopped));

    let bench = Arc::new(Bench {
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(CONCURRENCY)
            .build()
            .unwrap(),
        base,
        response_url,
        triggers: AtomicUsize::new(1),
    });
    for line in [
        r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
        r#"project add atlas api --name "Public API""#,
        r#"project add atlas web --name "Web console""#,
        r#"milestone add atlas api-beta --title "API beta" --target 2026-12-15 --project api"#,
        r#"milestone add atlas web-beta --title "Web beta" --target 2027-01-15 --project web --after api-beta"#,
        r#"risk add atlas "Vendor SDK late" --likelihood 4 --impact 5"#,
    ] {
        bench.command(line).await.expect("seed");
    }

    // Open the client's connections and warm the database's pages before timing.
    let warm_up: Vec<_> = (0..CONCURRENCY * 2)
        .map(|_| {
            let bench = bench.clone();
            async move { bench.command("milestone list atlas").await }
        })
        .collect();
    for r in futures_util::future::join_all(warm_up).await {
        r.expect("warm-up");
    }

    let commands: Vec<String> = (0..count)
        .map(|i| match i % 4 {
            0 => "milestone list atlas".to_owned(),
            1 => format!(r#"status post atlas api --rag green --summary "On track, check {i}""#),
            2 => "risk list atlas".to_owned(),
            _ => format!(
                r#"status post atlas web --rag amber --summary "Waiting, check {i}" --blockers "API beta""#
            ),
        })
        .collect();
    let started = Instant::now();
    let results: Vec<Result<Duration, String>> = stream::iter(commands)
        .map(|text| {
            let bench = bench.clone();
            async move { bench.command(&text).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let wall = started.elapsed();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let mut latencies: Vec<Duration> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .copied()
        .collect();
    latencies.sort();
    let (p50, p99) = (
        percentile_ms(&latencies, 0.50),
        percentile_ms(&latencies, 0.99),
    );
    let late = follow_ups.load(Ordering::Relaxed);
    println!(
        "slack: {count} signed slash commands at concurrency {CONCURRENCY} in {:.2} s ({:.0}/s)",
        wall.as_secs_f64(),
        count as f64 / wall.as_secs_f64()
    );
    println!(
        "  p50 {p50:.2} ms · p99 {p99:.2} ms (target p99 ≤ 20 ms) · max {:.2} ms",
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    println!(
        "  failures {} · answered late at response_url {late}",
        failures.len()
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "slack", "commands": count, "concurrency": CONCURRENCY,
            "p50_ms": p50, "p99_ms": p99, "failures": failures.len(), "late": late,
            "per_second": count as f64 / wall.as_secs_f64(),
        })
    );
    assert!(failures.is_empty(), "failed commands: {failures:#?}");
    held_posts(dir.path()).await;
}

/// VmRSS of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

const HELD: usize = 400;

/// 400 unsigned half-sent POSTs against the real binary: its memory before and after, and
/// how many were answered and closed while their body was still missing.
async fn held_posts(dir: &std::path::Path) {
    use std::io::BufRead as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .arg("--db")
        .arg(dir.join("held.db"))
        .arg("run")
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env("DRUMBEAT_LOG__FILTER", "error")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .env("DRUMBEAT_HTTP__MAX_CONNECTIONS", "1024")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start drumbeat run");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let addr = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
            if let Some(rest) = line.strip_prefix("HTTP on http://") {
                let addr = rest.split(':').take(2).collect::<Vec<_>>().join(":");
                std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
                return addr;
            }
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_mb(child.id());
    let head = "POST /slack/commands HTTP/1.1\r\nHost: drumbeat\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ntext=";
    let mut held = Vec::with_capacity(HELD);
    for _ in 0..HELD {
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        stream.write_all(head.as_bytes()).await.expect("send");
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = rss_mb(child.id());
    let mut closed = 0;
    for stream in &mut held {
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_millis(500), stream.read_to_end(&mut answer));
        if let Ok(Ok(_)) = read.await {
            if answer.starts_with(b"HTTP/1.1 401") {
                closed += 1;
            }
        }
    }
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    println!(
        "slack: {HELD} unsigned half-sent POSTs held open against `drumbeat run`: VmRSS {before:.1} MB before, {during:.1} MB with them sent (+{:.1} MB); {closed} of {HELD} answered 401 and closed unread",
        during - before
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "slack-held-posts", "posts": HELD, "rss_before_mb": before,
            "rss_with_posts_mb": during, "answered_and_closed": closed,
        })
    );
}
