//! A fresh database per test, a fake clock, and the real binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use drumbeat::clock::{Clock, FakeClock};
use drumbeat::command::{self, Actor, CommandError, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::reply::{text, Reply};
use drumbeat::store::{Options, Store};

/// Friday 27 November 2026, 09:00 UTC: the fixed "now" of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
}

pub struct TestDb {
    _dir: tempfile::TempDir,
    /// The SQLite file (on PostgreSQL: where it would be, a folder for the test's files).
    pub path: PathBuf,
    /// The PostgreSQL URL of this test's own schema, when the suite runs on PostgreSQL.
    pub url: Option<String>,
    pub store: Store,
    pub clock: FakeClock,
    /// Where webhook URLs given in commands may point: production's rules unless a test
    /// lets loopback http through for its fake receivers.
    pub webhooks: std::sync::Arc<drumbeat::outbox::WebhookPolicy>,
    schema: Option<(String, String)>,
}

/// The PostgreSQL server the suite runs on, when `DRUMBEAT_TEST_POSTGRES_URL` is set.
pub fn postgres_url() -> Option<String> {
    std::env::var("DRUMBEAT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `base` with `schema` first on the search path.
pub fn in_schema(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options[search_path]={schema}&application_name={schema}")
}

/// A new empty schema on the test server, named for one test.
pub async fn new_schema(base: &str) -> String {
    use sqlx::Connection as _;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("DRUMBEAT_TEST_POSTGRES_URL is set but PostgreSQL cannot be reached");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    conn.close().await.ok();
    schema
}

/// Drops a test's schema, from a thread of its own so it works from `Drop`.
pub fn drop_schema(base: String, schema: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection as _;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                // The test's own sessions may still hold a transaction whose rollback waits
                // on the runtime this drop blocks: end them first.
                let _ = sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&schema)
                .execute(&mut conn)
                .await;
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        });
    })
    .join();
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.schema.take() {
            drop_schema(base, schema);
        }
    }
}

impl TestDb {
    /// A fresh database: a SQLite file, or a schema of its own on the PostgreSQL server of
    /// `DRUMBEAT_TEST_POSTGRES_URL` when that is set.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("drumbeat.db");
        let (options, url, schema) = match postgres_url() {
            Some(base) => {
                let schema = new_schema(&base).await;
                let url = in_schema(&base, &schema);
                let options = Options::at(drumbeat::store::Location::Postgres(url.clone().into()));
                (options, Some(url), Some((base, schema)))
            }
            None => (Options::new(&path), None, None),
        };
        let store = Store::open(&options).await.expect("open store");
        Self {
            _dir: dir,
            path,
            url,
            store,
            clock: FakeClock::at(now()),
            webhooks: Default::default(),
            schema,
        }
    }

    /// Where this test's database is.
    pub fn location(&self) -> drumbeat::store::Location {
        match &self.url {
            Some(url) => drumbeat::store::Location::Postgres(url.clone().into()),
            None => drumbeat::store::Location::Sqlite(self.path.clone()),
        }
    }

    /// The `[database]` section of a configuration file for this database.
    pub fn database_toml(&self) -> String {
        match &self.url {
            Some(url) => format!("[database]\nurl = {url:?}\n"),
            None => format!("[database]\npath = {:?}\n", self.path.display().to_string()),
        }
    }

    /// The real binary, pointed at this database and the default configuration.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"));
        match &self.url {
            Some(url) => {
                cmd.env("DRUMBEAT_DATABASE__URL", url);
            }
            None => {
                cmd.arg("--db").arg(&self.path);
                cmd.env_remove("DRUMBEAT_DATABASE__URL");
            }
        }
        cmd.env_remove("RUST_LOG").env(
            "DRUMBEAT_CONFIG",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        );
        cmd
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
        self.command().args(args).output().expect("run drumbeat")
    }
}

/// Every row of every table, for "changed nothing" checks (Slack's replay record left
/// out: it notes that a request arrived, not anything the request changed).
pub async fn dump(store: &Store) -> Vec<String> {
    let mut conn = store.conn().await.expect("conn");
    drumbeat::store::tables::dump(&mut conn)
        .await
        .expect("dump")
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
        r#"dep add atlas --needs frontend --from api --what "Auth endpoints" --by 2026-12-01 --owner @dana --accepted"#,
        r#"dep add atlas --needs fe-launch --external "Vendor security review" --what "Signed DPA" --by 2027-01-05"#,
        r#"risk add atlas "Vendor SDK late" --likelihood 4 --impact 5 --owner @li --mitigation "fallback to REST""#,
        r#"decision add atlas "Ship without SSO" --context "SSO vendor slipped" --outcome "SSO in v2""#,
    ] {
        db.ok("tpm", line).await;
    }
}

/// `drumbeat run` on 127.0.0.1:0 with these settings; the child and its HTTP address.
pub async fn start_run(db: &TestDb, envs: &[(&str, String)]) -> (std::process::Child, String) {
    let mut cmd = db.command();
    cmd.arg("run")
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("SLACK_SIGNING_SECRET")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .env("DRUMBEAT_LOG__FILTER", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start drumbeat run");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let addr = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead as _, Read as _};
        let mut line = String::new();
        loop {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
            if let Some(rest) = line.strip_prefix("HTTP on http://") {
                let addr = rest.split(':').take(2).collect::<Vec<_>>().join(":");
                std::thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = err.read_to_end(&mut sink);
                });
                return addr;
            }
        }
    })
    .await
    .unwrap();
    (child, addr)
}

/// The program's document as `drumbeat export` prints it, and the document of the same
/// program after importing that one into an empty database: what a round trip keeps.
pub async fn export_and_reimport(
    db: &TestDb,
    program: &str,
) -> (serde_json::Value, serde_json::Value) {
    let out = db.bin(&["export", "--program", program]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let other = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{program}.json"));
    std::fs::write(&file, stdout(&out)).unwrap();
    let imported = other.bin(&["import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let again = other.bin(&["export", "--program", program]);
    let doc2: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    (doc, doc2)
}
