//! `cargo bench --bench commands`: 20,000 mixed commands (70% writes) through the command
//! layer against a file database, at `synchronous=NORMAL` and `FULL`, beside a raw sqlx
//! baseline of 20,000 single-row insert transactions with the same pragmas.
//!
//! `DRUMBEAT_BENCH_COMMANDS=N` changes the count (for a quick look).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use drumbeat::command::{self, Actor, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::store::{Durability, Options, Store};

struct Figures {
    ops: usize,
    total: Duration,
    latencies: Vec<Duration>,
    /// Latencies by command kind (`status post`, …), to tell where the tail comes from.
    by_kind: BTreeMap<String, Vec<Duration>>,
    refused: usize,
}

impl Figures {
    fn throughput(&self) -> f64 {
        self.ops as f64 / self.total.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

fn percentile_ms(latencies: &[Duration], p: f64) -> f64 {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn ctx(who: &str, n: usize) -> Ctx {
    Ctx {
        tenant: Tenant::local(),
        platform: Platform::Console,
        actor: Actor {
            handle: who.into(),
            display_name: who.into(),
            is_admin: who == "tpm",
        },
        channel: Some("console".into()),
        // Time moves a second per command, as it would.
        now: Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
            + chrono::Duration::seconds(n as i64),
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
    }
}

const PROJECTS: usize = 20;
const MILESTONES_PER_PROJECT: usize = 3;

async fn seed(store: &Store) {
    let mut lines =
        vec![r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#.to_owned()];
    for p in 0..PROJECTS {
        lines.push(format!(
            "project add atlas p{p} --name \"Project {p}\" --owner @lead{p}"
        ));
        for m in 0..MILESTONES_PER_PROJECT {
            let after = if m > 0 {
                format!(" --after p{p}-m{}", m - 1)
            } else {
                String::new()
            };
            lines.push(format!("milestone add atlas p{p}-m{m} --target 2027-0{}-15 --project p{p} --duration 5{after}", m + 1));
        }
    }
    for p in 1..PROJECTS {
        lines.push(format!(
            "dep add atlas --needs p{p} --from p{} --what \"Deliverable {p}\" --by 2027-01-10",
            p - 1
        ));
    }
    lines.push(r#"risk add atlas "Seed risk" --likelihood 3 --impact 3"#.to_owned());
    for (i, line) in lines.iter().enumerate() {
        command::execute(store, &ctx("tpm", i), line)
            .await
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

/// The i-th command of the mix: 70% writes, 30% reads, as a week of use looks.
fn command_for(i: usize) -> (String, String) {
    let p = i % PROJECTS;
    let lead = format!("lead{p}");
    let tpm = "tpm".to_owned();
    match i % 20 {
        0..=5 => (
            lead,
            format!(
                "status post atlas p{p} --rag amber --summary \"Update {i}\" --blockers \"none\""
            ),
        ),
        6 | 7 => (
            tpm,
            format!(
                "risk add atlas \"Risk {i}\" --likelihood {} --impact {}",
                i % 5 + 1,
                (i / 5) % 5 + 1
            ),
        ),
        8 | 9 => (
            lead,
            format!(
                "milestone move atlas p{p}-m2 --target 2027-03-{:02} --reason \"replan {i}\"",
                10 + i % 18
            ),
        ),
        10 => (
            tpm,
            format!("dep block atlas {} --reason \"waiting {i}\"", p.max(1)),
        ),
        11 => (tpm, format!("dep set atlas {} --state at-risk", p.max(1))),
        12 => (
            tpm,
            format!("decision add atlas \"Decision {i}\" --outcome \"ok\""),
        ),
        13 => (tpm, format!("risk set atlas 1 --likelihood {}", i % 5 + 1)),
        14 => (tpm, format!("milestone show atlas p{p}-m1")),
        15 => (tpm, format!("dep show atlas {}", p.max(1))),
        16 => (tpm, "project list atlas".to_owned()),
        17 => (tpm, "risk show atlas 1".to_owned()),
        18 => (tpm, format!("status list atlas p{p} --limit 5")),
        _ => (tpm, format!("project show atlas p{p}")),
    }
}

async fn open(path: &std::path::Path, sync: Durability) -> Store {
    let _ = std::fs::remove_file(path);
    let settings = Options {
        durability: sync,
        ..Options::new(path)
    };
    Store::open(&settings).await.expect("open")
}

async fn run_commands(dir: &std::path::Path, sync: Durability, n: usize) -> Figures {
    let store = open(&dir.join(format!("commands-{sync:?}.db")), sync).await;
    seed(&store).await;
    let mut latencies = Vec::with_capacity(n);
    let mut by_kind: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut refused = 0;
    let start = Instant::now();
    for i in 0..n {
        let (who, line) = command_for(i);
        let t = Instant::now();
        let outcome = command::execute(&store, &ctx(&who, 1000 + i), &line).await;
        let took = t.elapsed();
        latencies.push(took);
        let kind: Vec<&str> = line.split(' ').take(2).collect();
        by_kind.entry(kind.join(" ")).or_default().push(took);
        // `dep block` on an already-blocked dependency and the like may be refused; that is
        // still a full round through the command layer. Internal errors are not allowed.
        match outcome {
            Ok(_) => {}
            Err(command::CommandError::User(_)) => refused += 1,
            Err(command::CommandError::Internal(e)) => panic!("{line}: {e:#}"),
        }
    }
    let total = start.elapsed();
    store.close().await;
    Figures {
        ops: n,
        total,
        latencies,
        by_kind,
        refused,
    }
}

async fn run_raw(dir: &std::path::Path, sync: Durability, n: usize) -> Figures {
    let store = open(&dir.join(format!("raw-{sync:?}.db")), sync).await;
    sqlx::query("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(store.sqlite().expect("a SQLite store"))
        .await
        .expect("create");
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let mut tx = store
            .sqlite()
            .expect("a SQLite store")
            .begin()
            .await
            .expect("begin");
        sqlx::query("INSERT INTO bench_raw (payload) VALUES (?)")
            .bind(format!("row {i}"))
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    store.close().await;
    Figures {
        ops: n,
        total,
        latencies,
        by_kind: BTreeMap::new(),
        refused: 0,
    }
}

fn main() {
    let n: usize = std::env::var("DRUMBEAT_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir =
        tempfile::tempdir_in(std::env::var("DRUMBEAT_BENCH_DIR").unwrap_or_else(|_| ".".into()))
            .expect("temp dir");
    let mut json = serde_json::Map::new();
    json.insert("commands".into(), n.into());
    for sync in [Durability::Normal, Durability::Full] {
        let raw = runtime.block_on(run_raw(dir.path(), sync, n));
        let cmd = runtime.block_on(run_commands(dir.path(), sync, n));
        let ratio = cmd.throughput() / raw.throughput();
        let name = format!("{sync:?}").to_lowercase();
        println!("synchronous={}", name.to_uppercase());
        println!(
            "  raw sqlx inserts : {:>9.0} ops/s   p50 {:.3} ms   p99 {:.3} ms",
            raw.throughput(),
            raw.percentile(0.50),
            raw.percentile(0.99)
        );
        println!(
            "  commands         : {:>9.0} ops/s   p50 {:.3} ms   p99 {:.3} ms",
            cmd.throughput(),
            cmd.percentile(0.50),
            cmd.percentile(0.99)
        );
        println!("  ratio commands/raw: {ratio:.2} (target ≥ 0.5)");
        println!("  refused (counted, still a full round): {}", cmd.refused);
        for (kind, l) in &cmd.by_kind {
            println!(
                "    {kind:<16} n={:<6} p50 {:.3} ms   p99 {:.3} ms",
                l.len(),
                percentile_ms(l, 0.50),
                percentile_ms(l, 0.99)
            );
        }
        json.insert(
            name,
            serde_json::json!({
                "raw_ops_per_s": raw.throughput().round(),
                "raw_p50_ms": raw.percentile(0.50),
                "raw_p99_ms": raw.percentile(0.99),
                "commands_ops_per_s": cmd.throughput().round(),
                "commands_p50_ms": cmd.percentile(0.50),
                "commands_p99_ms": cmd.percentile(0.99),
                "ratio": (ratio * 1000.0).round() / 1000.0,
            }),
        );
    }
    println!("{}", serde_json::Value::Object(json));
}
