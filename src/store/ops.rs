//! What operations need from the database: a liveness query, how late delivery is, an
//! online backup, and a look at a database file without changing it (`drumbeat doctor`).

use super::db;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::{migrator, Conn, Dialect, Location, Options, Store};
use crate::domain::{Platform, Tenant};

impl Store {
    /// One query, for readiness: the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn().await?;
        db::query("SELECT 1")
            .execute(&mut conn)
            .await
            .context("querying the database")?;
        Ok(())
    }

    /// Copies the database into `out` with `VACUUM INTO`, while it stays open for readers
    /// and writers: the copy is one consistent read of it. The file is written beside `out`
    /// and renamed into place, so `out` is never half written. Returns its size in bytes.
    pub async fn backup_into(&self, out: &Path, replace: bool) -> anyhow::Result<u64> {
        anyhow::ensure!(
            self.dialect() == Dialect::Sqlite,
            "a PostgreSQL database is backed up with PostgreSQL's own tools: pg_dump for a copy, \
             or continuous archiving for point-in-time recovery (see README, \"When you outgrow \
             one machine\")"
        );
        if out.exists() && !replace {
            anyhow::bail!("{} exists", out.display());
        }
        let name = out
            .file_name()
            .with_context(|| format!("{} is not a file name", out.display()))?;
        let mut partial = name.to_owned();
        partial.push(".partial");
        let partial = out.with_file_name(partial);
        if partial.exists() {
            std::fs::remove_file(&partial)
                .with_context(|| format!("removing a stale {}", partial.display()))?;
        }
        let mut conn = self.conn().await?;
        db::query("VACUUM INTO $1")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&mut *conn)
            .await
            .with_context(|| format!("writing the backup to {}", partial.display()))?;
        drop(conn);
        std::fs::rename(&partial, out)
            .with_context(|| format!("moving the backup to {}", out.display()))?;
        Ok(std::fs::metadata(out)
            .with_context(|| format!("reading {}", out.display()))?
            .len())
    }
}

/// When the oldest message that is due now was due: if that is long ago, nobody is
/// delivering.
pub async fn oldest_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let (oldest,): (Option<DateTime<Utc>>,) = db::query_as(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .context("finding the oldest due message")?;
    Ok(oldest)
}

/// What a look at a database file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Migrations this binary has that the file has not had (versions).
    pub pending: Vec<i64>,
    /// Migrations the file has had that this binary does not know: a newer binary wrote it.
    pub unknown: Vec<i64>,
    /// Migrations that started and did not finish, or whose text changed since they ran.
    pub broken: Vec<i64>,
    /// `PRAGMA integrity_check`'s answer: `ok`, or the first problems it found.
    pub integrity: Vec<String>,
    /// Every stored timezone, as stored: (whose, value). Read when the schema is current.
    pub timezones: Vec<(String, String)>,
    /// Every stored destination of schedules and routes, as stored JSON: (whose, value).
    pub destinations: Vec<(String, String)>,
    /// The newest instant stored (events, outbox): a clock behind it has gone back.
    pub newest: Option<DateTime<Utc>>,
    /// Live programs of Slack workspaces without a program route (`key (tenant)`): their
    /// people are reached through the Web API, which needs the bot token.
    pub slack_unrouted: Vec<String>,
    /// The server's version (PostgreSQL).
    pub server: Option<String>,
    /// Who holds the scheduler's lead (PostgreSQL): its application name and address.
    pub leader: Option<String>,
}

/// Opens the database without changing it (a SQLite file read-only; it must exist) and
/// compares its migrations with this binary's, then checks its integrity (SQLite's `PRAGMA
/// integrity_check`; PostgreSQL checks its own pages). Nothing is written.
pub async fn inspect(location: &Location, busy_timeout: Duration) -> anyhow::Result<Inspection> {
    match location {
        Location::Sqlite(path) => {
            anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
            let mut conn = SqliteConnectOptions::from_str("sqlite:")?
                .filename(path)
                .read_only(true)
                .busy_timeout(busy_timeout)
                .connect()
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            let report = inspect_conn(&mut conn, &path.display().to_string()).await;
            conn.close().await.ok();
            report
        }
        Location::Postgres(url) => {
            let mut options = Options::at(location.clone());
            options.busy_timeout = busy_timeout;
            let mut conn = super::postgres_options(url, &options)?
                .connect()
                .await
                .with_context(|| format!("connecting to {}", location.describe()))?;
            let report = inspect_conn(&mut conn, &location.describe()).await;
            conn.close().await.ok();
            report
        }
    }
}

async fn inspect_conn(conn: &mut Conn, shown: &str) -> anyhow::Result<Inspection> {
    let dialect = conn.dialect();
    let has_table: (bool,) = db::query_as(match dialect {
        Dialect::Sqlite => {
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')"
        }
        Dialect::Postgres => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
    })
    .fetch_one(&mut *conn)
    .await
    .with_context(|| format!("reading {shown}"))?;
    let applied: Vec<(i64, bool, Vec<u8>)> = if has_table.0 {
        db::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .context("reading the applied migrations")?
    } else {
        Vec::new()
    };
    let mut report = Inspection {
        pending: Vec::new(),
        unknown: Vec::new(),
        broken: Vec::new(),
        integrity: Vec::new(),
        timezones: Vec::new(),
        destinations: Vec::new(),
        newest: None,
        slack_unrouted: Vec::new(),
        server: None,
        leader: None,
    };
    if dialect == Dialect::Postgres {
        let (version,): (String,) =
            db::query_as("SELECT 'PostgreSQL ' || current_setting('server_version')")
                .fetch_one(&mut *conn)
                .await
                .context("reading the server's version")?;
        report.server = Some(version);
        report.leader = super::leader(&mut *conn).await?;
    }
    let migrator = migrator(dialect);
    for m in migrator.iter() {
        match applied.iter().find(|(v, ..)| *v == m.version) {
            None => report.pending.push(m.version),
            Some((_, success, checksum)) => {
                if !success || checksum.as_slice() != &*m.checksum {
                    report.broken.push(m.version);
                }
            }
        }
    }
    for (v, ..) in &applied {
        if !migrator.iter().any(|m| m.version == *v) {
            report.unknown.push(*v);
        }
    }
    report.integrity = integrity_check(&mut *conn).await?;
    if report.pending.is_empty() && report.broken.is_empty() {
        report.timezones = db::query_as(
            "SELECT 'program ' || key || ' (' || tenant || ')', timezone FROM programs
             UNION ALL
             SELECT 'person ' || handle || ' (' || tenant || ')', timezone FROM people
             WHERE timezone IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await
        .context("reading stored timezones")?;
        let destinations: Vec<(String, db::Json)> = db::query_as(
            "SELECT 'schedule ' || s.id || ' of ' || p.key || ' (' || p.tenant || ')', s.destination
             FROM schedules s JOIN programs p ON p.id = s.program_id
             WHERE s.destination IS NOT NULL
             UNION ALL
             SELECT 'route of ' || p.key || coalesce(' project ' || pr.key, '') || ' (' || p.tenant || ')',
                    r.destination
             FROM routes r JOIN programs p ON p.id = r.program_id
             LEFT JOIN projects pr ON pr.id = r.project_id",
        )
        .fetch_all(&mut *conn)
        .await
        .context("reading stored destinations")?;
        report.destinations = destinations
            .into_iter()
            .map(|(whose, json)| (whose, json.into_string()))
            .collect();
        let (newest,): (Option<DateTime<Utc>>,) = db::query_as(
            "SELECT max(t) FROM (SELECT max(at) AS t FROM events UNION ALL SELECT max(created_at) FROM outbox) AS newest",
        )
        .fetch_one(&mut *conn)
        .await
        .context("reading the newest stored instant")?;
        report.newest = newest;
        let unrouted: Vec<(String, String)> = db::query_as(
            "SELECT p.key, p.tenant FROM programs p
             WHERE NOT p.archived
               AND NOT EXISTS (SELECT 1 FROM routes r
                               WHERE r.program_id = p.id AND r.project_id IS NULL)
             ORDER BY p.tenant, p.key",
        )
        .fetch_all(&mut *conn)
        .await
        .context("reading programs without a route")?;
        // A tenant that does not parse is no Slack workspace, whatever its text says.
        report.slack_unrouted = unrouted
            .into_iter()
            .filter(|(_, tenant)| {
                Tenant::parse(tenant).is_ok_and(|t| t.platform() == Platform::Slack)
            })
            .map(|(key, tenant)| format!("{key} ({tenant})"))
            .collect();
    }
    Ok(report)
}

/// `PRAGMA integrity_check` through the store's pool: `ok`, or the problems. PostgreSQL
/// checks its own pages as it reads them (and `amcheck` is for its administrators): `ok`.
pub async fn integrity_check(conn: &mut Conn) -> anyhow::Result<Vec<String>> {
    if conn.dialect() == Dialect::Postgres {
        return Ok(vec!["ok".into()]);
    }
    Ok(db::query_as::<(String,)>("PRAGMA integrity_check(20)")
        .fetch_all(&mut *conn)
        .await
        .context("checking integrity")?
        .into_iter()
        .map(|r| r.0)
        .collect())
}
