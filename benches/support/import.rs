//! The import figure: `import-csv` of 2,000 milestones and then 5,000 dependencies into a
//! fresh SQLite database holding one program of 200 projects, through the same reading,
//! matching and command plan as the binary. Kept apart so another bench can include it
//! (`#[path = "support/import.rs"] mod import;`) and print the same figure.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use drumbeat::command::{self, Actor, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::import::{self, CsvOptions, Kind};
use drumbeat::store::{Options, Store};

/// One measured figure against its target.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: &'static str,
    pub measured: Duration,
    pub target: Duration,
    /// How the time divides, for finding where it goes.
    pub detail: String,
}

impl Figure {
    pub fn met(&self) -> bool {
        self.measured <= self.target
    }

    pub fn line(&self) -> String {
        format!(
            "{}: {:.0} ms (target ≤ {:.0} ms) {}",
            self.name,
            self.measured.as_secs_f64() * 1000.0,
            self.target.as_secs_f64() * 1000.0,
            if self.met() { "met" } else { "NOT MET" }
        )
    }
}

const PROJECTS: usize = 200;

fn ctx(now: chrono::DateTime<Utc>) -> Ctx {
    Ctx {
        tenant: Tenant::local(),
        platform: Platform::Console,
        actor: Actor {
            handle: "tpm".into(),
            display_name: "tpm".into(),
            is_admin: true,
        },
        channel: None,
        now,
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(command::NoPlatform),
    }
}

/// The two sheets: milestones in chains of ten per project, each after the one before,
/// and dependencies from an earlier milestone of another project to a later one.
pub fn sheets(milestones: usize, deps: usize) -> (String, String) {
    let start = NaiveDate::from_ymd_opt(2027, 1, 4).expect("a date");
    let mut m = String::from("key,title,project,due,after\n");
    for i in 0..milestones {
        let due = start + chrono::Days::new((i / PROJECTS) as u64 * 7);
        let after = if i >= PROJECTS {
            format!("m-{}", i - PROJECTS)
        } else {
            String::new()
        };
        let _ = writeln!(m, "m-{i},Milestone {i},p-{},{due},{after}", i % PROJECTS);
    }
    let mut d = String::from("what,from,needs,need by\n");
    for n in 0..deps {
        // A later milestone needs an earlier one's work: the graph stays acyclic.
        let needs = PROJECTS + (n * 7919) % (milestones - PROJECTS);
        let from = (needs * 31 + n) % (needs - needs % PROJECTS).max(1);
        let due = start + chrono::Days::new((needs / PROJECTS) as u64 * 7);
        let _ = writeln!(d, "Deliverable {n},m-{from},m-{needs},{due}");
    }
    (m, d)
}

/// Imports the sheets into a fresh database and times the two imports together.
pub async fn measure_import_at(milestones: usize, deps: usize) -> Figure {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&Options::new(dir.path().join("import.db")))
        .await
        .expect("open store");
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
    let ctx = ctx(now);
    let mut setup = vec![command::PlanLine {
        number: 1,
        text: r#"program create big --name "Big program""#.into(),
    }];
    for p in 0..PROJECTS {
        setup.push(command::PlanLine {
            number: p + 2,
            text: format!("project add big p-{p} --owner @lead{}", p % 40),
        });
    }
    command::run_plan(&store, &ctx, &setup)
        .await
        .expect("setup");
    let (m, d) = sheets(milestones, deps);
    let mut detail = String::new();
    let started = Instant::now();
    for (kind, label, text) in [
        (Kind::Milestones, "milestones.csv", m),
        (Kind::Dependencies, "dependencies.csv", d),
    ] {
        let t0 = Instant::now();
        let sheet = import::read_csv(kind, label, &text, &CsvOptions::default()).expect("read");
        let read = t0.elapsed();
        let report = import::apply(&store, &ctx, "big", &[sheet], label, false)
            .await
            .expect("import");
        assert_eq!(
            report.added(),
            if kind == Kind::Milestones {
                milestones
            } else {
                deps
            },
            "{label}"
        );
        let _ = write!(
            detail,
            "{label}: read {:.0} ms, import {:.0} ms; ",
            read.as_secs_f64() * 1000.0,
            (t0.elapsed() - read).as_secs_f64() * 1000.0
        );
    }
    let measured = started.elapsed();
    store.close().await;
    Figure {
        name: "import-csv of 2,000 milestones and 5,000 dependencies",
        measured,
        target: Duration::from_secs(2),
        detail: detail.trim_end_matches("; ").to_owned(),
    }
}

/// The figure at full size: 2,000 milestones and 5,000 dependencies.
pub fn measure_import() -> Figure {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(measure_import_at(2_000, 5_000))
}
