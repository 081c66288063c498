//! A fresh database per test, a fake clock, and the real binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use drumbeat::clock::{Clock, FakeClock};
use drumbeat::command::{self, Actor, CommandError, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::reply::{text, Reply};
use drumbeat::store::{Options, Store};
use sqlx::Row;

/// Friday 27 November 2026, 09:00 UTC: the fixed "now" of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
}

pub struct TestDb {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
    pub clock: FakeClock,
    /// Where webhook URLs given in commands may point: production's rules unless a test
    /// lets loopback http through for its fake receivers.
    pub webhooks: std::sync::Arc<drumbeat::outbox::WebhookPolicy>,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("drumbeat.db");
        let settings = Options::new(&path);
        let store = Store::open(&settings).await.expect("open store");
        Self {
            _dir: dir,
            path,
            store,
            clock: FakeClock::at(now()),
            webhooks: Default::default(),
        }
    }

    /// Runs a command on the console tenant as `who` (`tpm` is the admin).
    pub async fn run(&self, who: &str, line: &str) -> Result<Reply, CommandError> {
        self.run_in(&Tenant::local(), who, line).await
    }

    pub async fn run_in(
        &self,
        tenant: &Tenant,
        who: &str,
        line: &str,
    ) -> Result<Reply, CommandError> {
        self.run_with(tenant, Platform::Console, who, line).await
    }

    /// Runs a command on the console tenant as if it came from `platform`.
    pub async fn run_on(
        &self,
        platform: Platform,
        who: &str,
        line: &str,
    ) -> Result<Reply, CommandError> {
        self.run_with(&Tenant::local(), platform, who, line).await
    }

    pub async fn run_with(
        &self,
        tenant: &Tenant,
        platform: Platform,
        who: &str,
        line: &str,
    ) -> Result<Reply, CommandError> {
        let ctx = Ctx {
            tenant: tenant.clone(),
            platform,
            actor: Actor {
                handle: who.into(),
                display_name: who.into(),
                is_admin: who == "tpm",
            },
            channel: Some("console".into()),
            now: self.clock.now(),
            webhooks: self.webhooks.clone(),
            public_url: None,
            channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
        };
        command::execute(&self.store, &ctx, line).await
    }

    /// Runs a command that must succeed; returns its plain-text rendering.
    pub async fn ok(&self, who: &str, line: &str) -> String {
        match self.run(who, line).await {
            Ok(reply) => text::render(&reply),
            Err(e) => panic!("`{line}` failed: {e:?}"),
        }
    }

    /// Runs a command that must be refused; returns the message.
    pub async fn refused(&self, who: &str, line: &str) -> String {
        match self.run(who, line).await {
            Err(CommandError::User(msg)) => msg,
            other => panic!("`{line}` should be refused, got {other:?}"),
        }
    }

    /// Every row of every table, quoted by SQLite itself: equal dumps mean equal content.
    pub async fn dump(&self) -> Vec<String> {
        dump(&self.store).await
    }

    /// Runs the real binary against this database.
    pub fn bin(&self, args: &[&str]) -> Output {
        bin(&self.path, args)
    }
}

/// Every row of every table, for "changed nothing" checks. Slack's replay record is left
/// out: it notes that a request arrived, not anything the request changed.
pub async fn dump(store: &Store) -> Vec<String> {
    let mut conn = store.pool().acquire().await.expect("conn");
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('_sqlx_migrations', 'slack_replays') ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let mut out = Vec::new();
    for t in tables {
        let cols: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(&t)
            .fetch_all(&mut *conn)
            .await
            .expect("columns")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let expr = cols
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = sqlx::query(&format!("SELECT {expr} FROM \"{t}\" ORDER BY rowid"))
            .fetch_all(&mut *conn)
            .await
            .expect("rows");
        for r in rows {
            out.push(format!("{t}: {}", r.get::<String, _>(0)));
        }
    }
    out
}

pub fn bin(db: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .output()
        .expect("run drumbeat")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The sample program most tests start from.
pub async fn seed_atlas(db: &TestDb) {
    for line in [
        r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas frontend --name "Web frontend" --owner @li"#,
        r#"project add atlas legal --name "Legal" --owner @sam"#,
        r#"milestone add atlas auth-ready --title "Auth ready" --target 2026-12-05 --project api"#,
        r#"milestone add atlas api-beta --title "API beta" --target 2026-12-15 --project api --after auth-ready --duration 10"#,
        r#"milestone add atlas fe-launch --title "Frontend launch" --target 2027-01-20 --project frontend --after api-beta"#,
        r#"dep add atlas --needs frontend --from api --what "Auth endpoints" --by 2026-12-01 --owner @dana"#,
        r#"dep add atlas --needs fe-launch --external "Vendor security review" --what "Signed DPA" --by 2027-01-05"#,
        r#"risk add atlas "Vendor SDK late" --likelihood 4 --impact 5 --owner @li --mitigation "fallback to REST""#,
        r#"decision add atlas "Ship without SSO" --context "SSO vendor slipped" --outcome "SSO in v2""#,
    ] {
        db.ok("tpm", line).await;
    }
}
