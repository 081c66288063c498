//! `cargo bench --bench web`: the read-only pages as the server renders them, over HTTP on
//! 127.0.0.1, on a warm file database.
//!
//! - The program page of the 200-project fixture (`src/fixture.rs`: 2,000 milestones,
//!   5,000 dependencies, 1,000 risks, 20,000 events) at its share link: target ≤ 150 ms.
//! - The portfolio page of 50 programs, each a tenth of the fixture (20 projects, 200
//!   milestones, 500 dependencies, 100 risks), at its share link: target ≤ 300 ms.
//! - `import-csv` of 2,000 milestones and 5,000 dependencies (`benches/support/import.rs`,
//!   as `cargo bench --bench import` measures it): target ≤ 2 s.
//!
//! One function per measurement, each returning a [`Figure`]; the last line is one JSON
//! object of every figure. `DRUMBEAT_BENCH_RUNS=N` changes the runs per measurement
//! (median reported).

#[path = "support/import.rs"]
mod import;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use drumbeat::clock::{Clock, FakeClock};
use drumbeat::domain::{Key, Tenant};
use drumbeat::fixture::{self, Size};
use drumbeat::http::{self, HttpApp};
use drumbeat::links::LinkKey;
use drumbeat::store::{self, Options, Store};
use drumbeat::telemetry::metrics;

/// Everything the measurements share: the database with its generated programs, and the
/// server on loopback.
struct Bench {
    store: Store,
    tenant: Tenant,
    now: DateTime<Utc>,
    key: LinkKey,
    base: String,
    http: reqwest::Client,
    runs: usize,
}

/// One measured figure against its target.
struct Figure {
    name: &'static str,
    median: Duration,
    target: Duration,
    bytes: usize,
}

impl Figure {
    fn print(&self) {
        let ms = self.median.as_secs_f64() * 1000.0;
        let target = self.target.as_secs_f64() * 1000.0;
        println!(
            "{}: {ms:.1} ms (target ≤ {target:.0} ms: {}), {} KB",
            self.name,
            if self.median <= self.target {
                "met"
            } else {
                "missed"
            },
            self.bytes / 1024
        );
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "median_ms": self.median.as_secs_f64() * 1000.0,
            "target_ms": self.target.as_secs_f64() * 1000.0,
            "met": self.median <= self.target,
            "bytes": self.bytes,
        })
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

impl Bench {
    /// The share link's address of `program`, made as `program share` makes one.
    async fn share(&self, program: &str) -> String {
        let mut tx = self.store.write().await.expect("write");
        let key = Key::parse(program).expect("key");
        let (scope, _) = store::find_program(&mut tx, &self.tenant, &key)
            .await
            .expect("lookup")
            .expect("generated program");
        let expires = self.now + chrono::Duration::days(14);
        let link = store::insert_share_link(&mut tx, &scope, None, self.now, expires)
            .await
            .expect("share link");
        tx.commit().await.expect("commit");
        self.key
            .share_address(Some(&self.base), link.id, link.expires_at)
    }

    /// Fetches `url` `runs` times (after one warm-up); the median and the page's size.
    async fn time_get(&self, url: &str) -> (Duration, usize) {
        let get = || async {
            let r = self.http.get(url).send().await.expect("GET");
            assert_eq!(r.status(), 200, "{url}");
            r.text().await.expect("body").len()
        };
        let bytes = get().await;
        let mut times = Vec::new();
        for _ in 0..self.runs {
            let t = Instant::now();
            get().await;
            times.push(t.elapsed());
        }
        (median(times), bytes)
    }
}

/// The program page of the full-size fixture at its share link.
async fn program_page(b: &Bench) -> Figure {
    let url = b.share("large").await;
    let (median, bytes) = b.time_get(&url).await;
    Figure {
        name: "program page, 200 projects",
        median,
        target: Duration::from_millis(150),
        bytes,
    }
}

/// Programs in the portfolio page's portfolio.
const PORTFOLIO_PROGRAMS: usize = 50;

/// The portfolio page of [`PORTFOLIO_PROGRAMS`] programs at its share link.
async fn portfolio_page(b: &Bench) -> Figure {
    let url = {
        let mut tx = b.store.write().await.expect("write");
        let mut ids = Vec::new();
        for i in 0..PORTFOLIO_PROGRAMS {
            let key = Key::parse(&format!("p{i:02}")).expect("key");
            let (scope, _) = store::find_program(&mut tx, &b.tenant, &key)
                .await
                .expect("lookup")
                .expect("generated program");
            ids.push(scope.program_id());
        }
        let owner = store::people(&mut tx, &b.tenant)
            .await
            .expect("people")
            .into_keys()
            .min()
            .expect("a person");
        let key = Key::parse("everything").expect("key");
        let name = drumbeat::domain::Title::parse("Every program").expect("title");
        let tz = drumbeat::domain::Timezone::default();
        let id = store::insert_portfolio(
            &mut tx,
            &b.tenant,
            store::NewPortfolio {
                key: &key,
                name: &name,
                owner,
                timezone: &tz,
                created_at: b.now,
            },
        )
        .await
        .expect("portfolio")
        .expect("a new portfolio");
        store::set_portfolio_programs(&mut tx, id, &ids)
            .await
            .expect("its programs");
        let link = store::insert_link(
            &mut tx,
            &b.tenant,
            store::ShareSubject::Portfolio(id),
            None,
            b.now,
            b.now + chrono::Duration::days(14),
        )
        .await
        .expect("share link");
        tx.commit().await.expect("commit");
        b.key.share_address(Some(&b.base), link.id, link.expires_at)
    };
    let (median, bytes) = b.time_get(&url).await;
    Figure {
        name: "portfolio page, 50 programs",
        median,
        target: Duration::from_millis(300),
        bytes,
    }
}

fn main() {
    let runs = std::env::var("DRUMBEAT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut figures = rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&Options::new(dir.path().join("bench.db")))
            .await
            .expect("open");
        let tenant = Tenant::discord(1);
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        let g = Instant::now();
        fixture::generate(&store, &tenant, "large", Size::FULL, now)
            .await
            .expect("generate");
        for i in 0..PORTFOLIO_PROGRAMS {
            fixture::generate(&store, &tenant, &format!("p{i:02}"), Size::TENTH, now)
                .await
                .expect("generate");
        }
        println!(
            "generated the 200-project program and {PORTFOLIO_PROGRAMS} programs of 20 in {:.1} s",
            g.elapsed().as_secs_f64()
        );
        let clock: Arc<dyn Clock> = Arc::new(FakeClock::at(now));
        let key = {
            let mut tx = store.write().await.expect("write");
            let key = LinkKey::load_or_create(&mut tx, now).await.expect("key");
            tx.commit().await.expect("commit");
            key
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = HttpApp::new(
            store.clone(),
            clock,
            metrics::recorder().handle(),
            None,
            Duration::from_secs(600),
            Some(key.clone()),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(http::serve(listener, http::router(app, None), stopped));
        let bench = Bench {
            store,
            tenant,
            now,
            key,
            base,
            http: reqwest::Client::new(),
            runs,
        };

        let figures = vec![program_page(&bench).await, portfolio_page(&bench).await];
        for f in &figures {
            f.print();
        }
        let _ = stop.send(true);
        let _ = server.await;
        figures
    });
    // The import makes its own database and runtime.
    let imported = import::measure_import();
    println!("{} ({})", imported.line(), imported.detail);
    figures.push(Figure {
        name: imported.name,
        median: imported.measured,
        target: imported.target,
        bytes: 0,
    });
    println!(
        "{}",
        serde_json::json!({
            "bench": "web",
            "runs": runs,
            "figures": figures.iter().map(Figure::json).collect::<Vec<_>>(),
        })
    );
}
