//! `cargo bench --bench schedule`: the scheduler and delivery under load.
//!
//! 1. 1,000 programs with a digest due at the same instant: the time until every digest is
//!    in the outbox (target ≤ 2 s).
//! 2. The delivery worker against a loopback receiver that allows 50 requests/s (more get
//!    429 with Retry-After): the rate it sustains (target ≥ 90% of 50/s).
//! 3. The demo's two simulated weeks (target < 15 s).
//!
//! Ends with one JSON line. `DRUMBEAT_BENCH_PROGRAMS=N` and `DRUMBEAT_BENCH_DELIVERIES=N`
//! change the sizes.

#[path = "support/limiter.rs"]
mod limiter;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use drumbeat::clock::{Clock, FakeClock, SystemClock};
use drumbeat::command::{self, Actor, Ctx};
use drumbeat::config::Settings;
use drumbeat::domain::{Platform, Tenant};
use drumbeat::outbox::{ConsoleSink, Destination, NewMessage, Senders, Worker};
use drumbeat::reply::Reply;
use drumbeat::schedule::{Scheduler, SchedulerSettings};
use drumbeat::store::{self, Options, Store};
use limiter::Limiter;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&Options::new(dir.path().join(name)))
        .await
        .expect("open")
}

async fn exec(store: &Store, now: chrono::DateTime<Utc>, line: &str) {
    let ctx = Ctx {
        tenant: Tenant::local(),
        platform: Platform::Console,
        actor: Actor {
            handle: "tpm".into(),
            display_name: "tpm".into(),
            is_admin: true,
        },
        channel: Some("console".into()),
        now,
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
    };
    if let Err(e) = command::execute(store, &ctx, line).await {
        panic!("`{line}`: {e:?}");
    }
}

/// 1,000 programs, each with a few projects and milestones and a digest due at one instant.
async fn digests(programs: usize) -> (f64, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, "digests.db").await;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(); // a Friday
    for i in 0..programs {
        let k = format!("p{i:04}");
        for line in [
            format!(r#"program create {k} --name "Program {i}" --tz Europe/Berlin"#),
            format!(r#"project add {k} api --name "API" --owner @dana"#),
            format!(r#"project add {k} web --name "Web" --owner @li"#),
            format!(r#"milestone add {k} beta --target 2026-12-15 --project api"#),
            format!(
                r#"milestone add {k} ga --target 2027-01-15 --project web --after beta --duration 10"#
            ),
            format!(r#"status post {k} api --rag amber --summary "ok" --next "more""#),
            format!(r#"schedule set {k} digest "weekly fri 16:00" --audience executive"#),
        ] {
            exec(&store, t0, &line).await;
        }
    }
    let due = Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap(); // 16:00 in Berlin
    let clock = Arc::new(FakeClock::at(due));
    let scheduler = Scheduler::new(store.clone(), clock, SchedulerSettings::default());
    let start = Instant::now();
    let report = scheduler.tick().await.expect("tick");
    let secs = start.elapsed().as_secs_f64();
    store.close().await;
    (secs, report.queued)
}

/// Messages to 100 webhook URLs on a receiver that allows `limit` requests a second.
async fn delivery(messages: usize, limit: usize) -> (f64, f64) {
    let (l, addr) = Limiter::start(limit).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, "delivery.db").await;
    {
        let mut tx = store.write().await.expect("tx");
        for n in 0..messages {
            store::enqueue(
                &mut tx,
                &NewMessage {
                    tenant: Tenant::local(),
                    program_id: None,
                    destination: Destination::SlackWebhook {
                        url: drumbeat::domain::WebhookUrl::stored(format!(
                            "http://{addr}/hook/{}",
                            n % 100
                        )),
                    },
                    reply: Reply::new(format!("message {n}")).paragraph("bench"),
                    reason: "bench".into(),
                    dedup_key: None,
                    not_before: Utc::now() - chrono::Duration::seconds(1),
                },
            )
            .await
            .expect("enqueue");
        }
        tx.commit().await.expect("commit");
    }
    let mut settings = Settings::load(None).expect("settings");
    settings.delivery.allow_loopback_http = true;
    settings.delivery.poll_interval_ms = 10;
    settings.delivery.batch = 50;
    settings.delivery.retry_base_ms = 200;
    let (sink, _) = ConsoleSink::memory();
    let senders = Senders::console(sink).with(
        drumbeat::platform::slack::WebhookSender::KINDS,
        drumbeat::platform::slack::WebhookSender::new(&settings.delivery).expect("webhook sender"),
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let worker = Worker::new(store.clone(), senders, clock, &settings.delivery);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = {
        let w = worker.clone();
        tokio::spawn(async move { w.run(stopped).await })
    };
    let start = Instant::now();
    loop {
        if l.delivered() >= messages || start.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = runner.await;
    store.close().await;
    let delivered = l.delivered();
    (delivered as f64 / secs, secs)
}

async fn demo_weeks() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir, "demo.db").await;
    let settings = Settings::load(None).expect("settings");
    let start = drumbeat::demo::next_monday(Utc::now());
    let clock = Arc::new(FakeClock::at(start));
    let mut sink = std::io::sink();
    let t = Instant::now();
    drumbeat::demo::run(&store, clock.as_ref(), "console", &mut sink)
        .await
        .expect("demo");
    drumbeat::demo::two_weeks(
        &store,
        &settings,
        clock,
        "console",
        &dir.path().join("reports"),
        &mut sink,
    )
    .await
    .expect("two weeks");
    let secs = t.elapsed().as_secs_f64();
    store.close().await;
    secs
}

fn main() {
    let programs = env_usize("DRUMBEAT_BENCH_PROGRAMS", 1000);
    let messages = env_usize("DRUMBEAT_BENCH_DELIVERIES", 1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (digest_s, queued) = digests(programs).await;
        println!(
            "{programs} digests due at once: {queued} queued in {digest_s:.2} s (target ≤ 2 s: {})",
            if digest_s <= 2.0 && queued == programs { "met" } else { "NOT met" }
        );
        let limit = 50;
        let (rate, secs) = delivery(messages, limit).await;
        let ratio = rate / limit as f64;
        println!(
            "delivery: {messages} messages in {secs:.1} s = {rate:.1}/s against a receiver allowing {limit}/s: {:.0}% (target ≥ 90%: {})",
            ratio * 100.0,
            if ratio >= 0.9 { "met" } else { "NOT met" }
        );
        let demo_s = demo_weeks().await;
        println!(
            "demo: two simulated weeks in {demo_s:.1} s (target < 15 s: {})",
            if demo_s < 15.0 { "met" } else { "NOT met" }
        );
        println!(
            "{}",
            serde_json::json!({
                "digest_programs": programs,
                "digest_queued": queued,
                "digest_secs": (digest_s * 1000.0).round() / 1000.0,
                "delivery_messages": messages,
                "delivery_rate_per_s": (rate * 10.0).round() / 10.0,
                "delivery_ratio": (ratio * 1000.0).round() / 1000.0,
                "demo_secs": (demo_s * 100.0).round() / 100.0,
            })
        );
    });
}
