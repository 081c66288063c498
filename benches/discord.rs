//! `cargo bench --bench discord`: the Discord adapter through the fake Discord on loopback.
//!
//! 1. CRUD slash commands (project, milestone, dependency, risk, status): the time from the
//!    fake sending INTERACTION_CREATE to the bot's callback arriving, p50/p99 (target p99
//!    ≤ 50 ms), against the same commands run straight through the core in the same run.
//! 2. The idle resident memory of the real binary (`drumbeat run`) connected to the fake's
//!    gateway (target ≤ 40 MB), against `drumbeat run` with no token.
//!
//! 3. The same CRUD commands while 20 `chart show` of the 200-project fixture program
//!    (`fixture::Size::FULL`) are being drawn at all times, p50/p99 (target p99 ≤ 50 ms):
//!    charts are drawn on blocking threads and must not stall the gateway or the commands.
//!
//! `DRUMBEAT_BENCH_INTERACTIONS=N` changes the number of commands (default 1,000).

#[allow(dead_code)]
#[path = "../tests/it/fake_discord.rs"]
mod fake_discord;

use std::sync::Arc;
use std::time::{Duration, Instant};

use drumbeat::clock::{Clock, SystemClock};
use drumbeat::command::{self, Actor, Ctx};
use drumbeat::config::DiscordSettings;
use drumbeat::domain::{Platform, Tenant};
use drumbeat::platform::discord::{slash, Bot};
use drumbeat::store::{Options, Store};
use fake_discord::{member, options, slash as slash_event, FakeDiscord, MANAGE_GUILD};
use secrecy::SecretString;
use serde_json::{json, Value};

const GUILD: &str = "100000000000000001";
const CHANNEL: &str = "300000000000000001";
const TPM: &str = "111111111111111111";

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&Options::new(dir.path().join(name)))
        .await
        .expect("open")
}

/// The i-th command of the mix, as (path, options).
fn command(i: usize) -> (Vec<&'static str>, Vec<(&'static str, Value)>) {
    let s = |v: String| Value::String(v);
    let p = || ("program", s("atlas".into()));
    match i % 5 {
        0 => (
            vec!["project", "add"],
            vec![
                p(),
                ("key", s(format!("p{i}"))),
                ("name", s(format!("Project {i}"))),
            ],
        ),
        1 => (
            vec!["milestone", "add"],
            vec![
                p(),
                ("key", s(format!("m{i}"))),
                ("target", s("2027-03-01".into())),
                ("project", s(format!("p{}", i - 1))),
            ],
        ),
        2 => (
            vec!["dep", "add"],
            vec![
                p(),
                ("needs", s(format!("p{}", i - 2))),
                ("from", s("core".into())),
                ("what", s(format!("Thing {i}"))),
                ("by", s("2027-02-01".into())),
            ],
        ),
        3 => (
            vec!["risk", "add"],
            vec![
                p(),
                ("title", s(format!("Risk {i}"))),
                ("likelihood", json!(3)),
                ("impact", json!(4)),
            ],
        ),
        _ => (
            vec!["status", "post"],
            vec![
                p(),
                ("project", s(format!("p{}", i - 4))),
                ("rag", json!(0)),
                ("summary", s(format!("Update {i}"))),
            ],
        ),
    }
}

/// The same command as words for the core.
fn words(path: &[&str], opts: &[(&str, Value)]) -> Vec<String> {
    let given: Vec<(String, slash::Given)> = opts
        .iter()
        .map(|(n, v)| {
            let g = match v {
                Value::Number(n) => slash::Given::Integer(n.as_i64().unwrap()),
                Value::Bool(b) => slash::Given::Flag(*b),
                other => slash::Given::Text(other.as_str().unwrap().to_owned()),
            };
            ((*n).to_owned(), g)
        })
        .collect();
    slash::argv(&slash::commands(), path, &given).unwrap()
}

async fn through_core(store: &Store, n: usize) -> Vec<Duration> {
    let ctx = || Ctx {
        tenant: Tenant::discord(GUILD.parse().unwrap()),
        platform: Platform::Discord,
        actor: Actor {
            handle: TPM.into(),
            display_name: "tpm".into(),
            is_admin: true,
        },
        channel: Some(CHANNEL.into()),
        now: SystemClock.now(),
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
    };
    for line in [
        vec!["program", "create", "atlas", "--tz=UTC"],
        vec!["project", "add", "atlas", "core"],
    ] {
        let w: Vec<String> = line.iter().map(|s| (*s).to_owned()).collect();
        command::execute_argv(store, &ctx(), &w).await.unwrap();
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (path, opts) = command(i);
        let w = words(&path, &opts);
        let started = Instant::now();
        command::execute_argv(store, &ctx(), &w).await.unwrap();
        out.push(started.elapsed());
    }
    out
}

async fn through_discord(fake: &FakeDiscord, n: usize) -> Vec<Duration> {
    let tpm = || member(TPM, "tpm", MANAGE_GUILD, &[]);
    let s = |v: &str| Value::String(v.to_owned());
    for (path, opts) in [
        (
            vec!["program", "create"],
            vec![("key", s("atlas")), ("tz", s("UTC"))],
        ),
        (
            vec!["project", "add"],
            vec![("program", s("atlas")), ("key", s("core"))],
        ),
    ] {
        fake.interact(slash_event(GUILD, CHANNEL, tpm(), &path, options(&opts)))
            .await;
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (path, opts) = command(i);
        let e = fake
            .interact(slash_event(GUILD, CHANNEL, tpm(), &path, options(&opts)))
            .await;
        assert!(
            e.callback["data"]["flags"].is_null(),
            "command {i} was refused: {}",
            e.callback
        );
        out.push(e.latency);
    }
    out
}

/// VmRSS and VmHWM of a process, in MB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn spawn_run(dir: &tempfile::TempDir, name: &str, proxy: Option<&str>) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"));
    cmd.arg("--db")
        .arg(dir.path().join(name))
        .arg("run")
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env("DRUMBEAT_LOG__FILTER", "error")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(p) = proxy {
        cmd.env("DISCORD_TOKEN", "bench-token")
            .env("DRUMBEAT_DISCORD__PROXY_URL", p);
    }
    cmd.spawn().expect("start drumbeat run")
}

/// Charts kept in flight while the CRUD commands run.
const CHARTS: usize = 20;

/// CRUD latency (p50, p99) through the bot while `CHARTS` timelines of the 200-project
/// fixture program are being drawn; how many charts were drawn, and in what time.
async fn under_chart_load(dir: &tempfile::TempDir, n: usize) -> (f64, f64, usize, Duration) {
    let store = open(dir, "charts.db").await;
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    drumbeat::fixture::generate(
        &store,
        &tenant,
        "big",
        drumbeat::fixture::Size::FULL,
        SystemClock.now(),
    )
    .await
    .expect("the 200-project program");
    let fake = Arc::new(FakeDiscord::start().await);
    let settings = DiscordSettings {
        proxy_url: Some(fake.url()),
        ..DiscordSettings::default()
    };
    let bot = Bot::spawn(
        settings,
        SecretString::from("bench-token".to_owned()),
        Arc::default(),
        store,
        Arc::new(SystemClock),
    );
    fake.wait_ready(1).await;
    let timeline = drumbeat::domain::ChartKind::ALL
        .iter()
        .position(|k| k.as_str() == "timeline")
        .unwrap();
    let drawing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let drawn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let drawers: Vec<_> = (0..CHARTS)
        .map(|_| {
            let (fake, drawing, drawn) = (fake.clone(), drawing.clone(), drawn.clone());
            tokio::spawn(async move {
                let tpm = member(TPM, "tpm", MANAGE_GUILD, &[]);
                while drawing.load(std::sync::atomic::Ordering::Relaxed) {
                    let e = fake
                        .interact(slash_event(
                            GUILD,
                            CHANNEL,
                            tpm.clone(),
                            &["chart", "show"],
                            options(&[
                                ("program", Value::String("big".into())),
                                ("kind", json!(timeline)),
                            ]),
                        ))
                        .await;
                    fake.wait_webhooks(&e.token, 1).await;
                    drawn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Let the charts get going first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut latencies = through_discord(&fake, n).await;
    drawing.store(false, std::sync::atomic::Ordering::Relaxed);
    for d in drawers {
        d.await.expect("a chart drawer");
    }
    let wall = started.elapsed();
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
    latencies.sort();
    (
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
        drawn.load(std::sync::atomic::Ordering::Relaxed),
        wall,
    )
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("DRUMBEAT_BENCH_INTERACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();

    // 1. Latency.
    let core_store = open(&dir, "core.db").await;
    let mut core = through_core(&core_store, n).await;
    let fake = FakeDiscord::start().await;
    let store = open(&dir, "discord.db").await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = DiscordSettings {
        proxy_url: Some(fake.url()),
        ..DiscordSettings::default()
    };
    let bot = Bot::spawn(
        settings,
        SecretString::from("bench-token".to_owned()),
        Arc::default(),
        store,
        clock,
    );
    fake.wait_ready(1).await;
    let mut discord = through_discord(&fake, n).await;
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
    core.sort();
    discord.sort();
    let (c50, c99) = (percentile_ms(&core, 0.5), percentile_ms(&core, 0.99));
    let (d50, d99) = (percentile_ms(&discord, 0.5), percentile_ms(&discord, 0.99));
    println!("{n} CRUD slash commands (project/milestone/dep/risk/status), one at a time:");
    println!("  core alone:                     p50 {c50:6.2} ms   p99 {c99:6.2} ms");
    println!(
        "  INTERACTION_CREATE → callback:  p50 {d50:6.2} ms   p99 {d99:6.2} ms   (target p99 ≤ 50 ms: {})",
        if d99 <= 50.0 { "met" } else { "NOT met" }
    );
    println!(
        "  adapter overhead at p50: {:.2} ms ({:.1}× the core alone)",
        d50 - c50,
        d50 / c50
    );

    // 3. CRUD while charts of a large program are drawn.
    let (l50, l99, charts_drawn, wall) = under_chart_load(&dir, n).await;
    println!(
        "{n} CRUD slash commands while {CHARTS} timelines of a 200-project program are drawn at all times:"
    );
    println!(
        "  INTERACTION_CREATE → callback:  p50 {l50:6.2} ms   p99 {l99:6.2} ms   (target p99 ≤ 50 ms: {})",
        if l99 <= 50.0 { "met" } else { "NOT met" }
    );
    println!(
        "  {charts_drawn} charts drawn and uploaded in {:.1} s",
        wall.as_secs_f64()
    );

    // 2. Idle memory of the real binary.
    let plain = spawn_run(&dir, "plain.db", None);
    let fake2 = FakeDiscord::start().await;
    let connected = spawn_run(&dir, "connected.db", Some(&fake2.url()));
    fake2.wait_ready(1).await;
    let s = |v: &str| Value::String(v.to_owned());
    let tpm = member(TPM, "tpm", MANAGE_GUILD, &[]);
    for (path, opts) in [
        (vec!["program", "create"], vec![("key", s("atlas"))]),
        (vec!["program", "list"], vec![]),
        (vec!["digest", "show"], vec![("program", s("atlas"))]),
    ] {
        fake2
            .interact(slash_event(
                GUILD,
                CHANNEL,
                tpm.clone(),
                &path,
                options(&opts),
            ))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle, peak) = memory_mb(connected.id());
    let (base, base_peak) = memory_mb(plain.id());
    for mut child in [plain, connected] {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
    }
    println!("Resident memory of `drumbeat run`, idle after a few commands:");
    println!("  no token (console only):        {base:6.1} MB (peak {base_peak:.1} MB)");
    println!(
        "  connected to Discord:           {idle:6.1} MB (peak {peak:.1} MB)   (target ≤ 40 MB: {})",
        if idle <= 40.0 { "met" } else { "NOT met" }
    );
    println!(
        "{}",
        json!({
            "interactions": n,
            "core_p50_ms": c50, "core_p99_ms": c99,
            "discord_p50_ms": d50, "discord_p99_ms": d99,
            "idle_rss_mb": idle, "idle_rss_no_token_mb": base,
            "under_charts_p50_ms": l50, "under_charts_p99_ms": l99,
            "charts_drawn": charts_drawn,
        })
    );
}
