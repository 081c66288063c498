//! `cargo bench --bench digest`: builds and renders the digests of a large generated
//! program (200 projects, 2,000 milestones, 5,000 dependencies, 1,000 risks, a year of
//! weekly updates, 20,000 events) for all three audiences in every format, on a warm file
//! database; then the same at one tenth of the size, to show the cost grows linearly.
//!
//! Then `path show --json` on the full-size program, as a person would run it: the command
//! read from its words, run in its transaction, and its data printed as JSON.
//!
//! Targets: ≤ 100 ms in total at full size, time(10×) ≤ 12 × time(1×), and `path show
//! --json` ≤ 50 ms at full size. The last line is one JSON object of the figures.
//! `DRUMBEAT_BENCH_RUNS=N` changes the runs per size.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use drumbeat::analysis::Analysed;
use drumbeat::analysis::Snapshot;
use drumbeat::digest;
use drumbeat::domain::{Audience, Key, Tenant};
use drumbeat::fixture::{self, Size};
use drumbeat::reply::{discord, markdown, slack, text};
use drumbeat::store::{self, Options, Store};

#[derive(Default, Clone, Copy)]
struct Split {
    load: Duration,
    analyse: Duration,
    render: Duration,
    bytes: usize,
}

impl Split {
    fn total(&self) -> Duration {
        self.load + self.analyse + self.render
    }
}

async fn load(store: &Store, tenant: &Tenant, key: &str, now: chrono::DateTime<Utc>) -> Snapshot {
    let mut tx = store.read().await.expect("read");
    let key = Key::parse(key).expect("key");
    let (scope, program) = store::find_program(&mut tx, tenant, &key)
        .await
        .expect("lookup")
        .expect("generated program");
    let since = digest::period_start(now, None);
    store::load_snapshot(&mut tx, &scope, program, now, Some(since))
        .await
        .expect("snapshot")
}

/// One full run: load, analyse once, and build + render every audience in every format.
async fn run(store: &Store, tenant: &Tenant, key: &str, now: chrono::DateTime<Utc>) -> Split {
    let t0 = Instant::now();
    let snap = load(store, tenant, key, now).await;
    let t1 = Instant::now();
    let a = Analysed::of(&snap);
    let since = digest::period_start(now, None);
    let digests: Vec<_> = [
        Audience::Engineering,
        Audience::Executive,
        Audience::Product,
    ]
    .into_iter()
    .map(|aud| digest::build(&a, aud, since))
    .collect();
    let t2 = Instant::now();
    let mut bytes = 0;
    for d in &digests {
        let reply = digest::to_reply(d);
        bytes += text::render(&reply).len();
        bytes += markdown::render(&reply).len();
        bytes += serde_json::to_string(&discord::render(&reply))
            .expect("json")
            .len();
        bytes += serde_json::to_string(&slack::render(&reply))
            .expect("json")
            .len();
        bytes += serde_json::to_string(d).expect("json").len();
    }
    let t3 = Instant::now();
    Split {
        load: t1 - t0,
        analyse: t2 - t1,
        render: t3 - t2,
        bytes,
    }
}

/// `path show KEY --json` as `drumbeat exec --json` runs it; the bytes printed.
async fn path_json(store: &Store, tenant: &Tenant, key: &str, now: chrono::DateTime<Utc>) -> usize {
    let ctx = drumbeat::command::Ctx {
        tenant: tenant.clone(),
        platform: drumbeat::domain::Platform::Console,
        actor: drumbeat::command::Actor {
            handle: "bench".into(),
            display_name: "bench".into(),
            is_admin: true,
        },
        channel: None,
        now,
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
    };
    let drumbeat::command::Parsed::Run(cmd) =
        drumbeat::command::parse(&format!("path show {key}")).expect("a command")
    else {
        panic!("path show is a command");
    };
    let reply = drumbeat::command::run(store, &ctx, cmd)
        .await
        .expect("path show");
    let data = reply.data.expect("path show has data");
    serde_json::to_string_pretty(&data).expect("json").len()
}

fn median(mut v: Vec<Split>) -> Split {
    v.sort_by_key(|s| s.total());
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn main() {
    let runs: usize = std::env::var("DRUMBEAT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Options::new(dir.path().join("bench.db"));
        let store = Store::open(&settings).await.expect("open");
        let tenant = Tenant::discord(1);
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        let g = Instant::now();
        fixture::generate(&store, &tenant, "large", Size::FULL, now).await.expect("generate");
        fixture::generate(&store, &tenant, "small", Size::TENTH, now).await.expect("generate");
        println!("generated both programs in {:.1} s", g.elapsed().as_secs_f64());

        let mut results = Vec::new();
        for (key, label) in [("small", "1/10 size"), ("large", "full size")] {
            // Warm the page cache and the allocator.
            run(&store, &tenant, key, now).await;
            let mut splits = Vec::new();
            for _ in 0..runs {
                splits.push(run(&store, &tenant, key, now).await);
            }
            let m = median(splits);
            println!(
                "{label:>10}: {:>7.2} ms total (load {:.2}, analyse + build {:.2}, render {:.2}); {} KB rendered",
                ms(m.total()),
                ms(m.load),
                ms(m.analyse),
                ms(m.render),
                m.bytes / 1024
            );
            results.push(m);
        }
        path_json(&store, &tenant, "large", now).await;
        let mut path_times = Vec::new();
        let mut path_bytes = 0;
        for _ in 0..runs {
            let t = Instant::now();
            path_bytes = path_json(&store, &tenant, "large", now).await;
            path_times.push(t.elapsed());
        }
        path_times.sort();
        let path_ms = ms(path_times[path_times.len() / 2]);
        println!(
            "path show --json, full size: {path_ms:.2} ms ({} KB) against a target of 50 ms: {}",
            path_bytes / 1024,
            if path_ms <= 50.0 { "met" } else { "NOT met" }
        );
        let (small, large) = (results[0], results[1]);
        let ratio = large.total().as_secs_f64() / small.total().as_secs_f64();
        println!(
            "full size {} ms against a target of 100 ms: {}",
            ms(large.total()),
            if ms(large.total()) <= 100.0 { "met" } else { "NOT met" }
        );
        println!(
            "10x the size costs {ratio:.2}x the time against a limit of 12x: {}",
            if ratio <= 12.0 { "met" } else { "NOT met" }
        );
        let json = serde_json::json!({
            "runs": runs,
            "full_ms": ms(large.total()),
            "full_load_ms": ms(large.load),
            "full_analyse_ms": ms(large.analyse),
            "full_render_ms": ms(large.render),
            "tenth_ms": ms(small.total()),
            "growth_ratio": (ratio * 100.0).round() / 100.0,
            "target_ms": 100,
            "path_json_ms": path_ms,
            "path_json_target_ms": 50,
            "target_ratio": 12,
        });
        println!("{json}");
        store.close().await;
    });
}
