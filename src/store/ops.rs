//! What operations need from the database: a liveness query, how late delivery is, an
//! online backup, and a look at a database file without changing it (`drumbeat doctor`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::{Conn, Store, MIGRATOR};
use crate::domain::{Platform, Tenant};

impl Store {
    /// One query, for readiness: the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1")
            .execute(self.pool())
            .await
            .context("querying the database")?;
        Ok(())
    }

    /// Copies the database into `out` with `VACUUM INTO`, while it stays open for readers
    /// and writers: the copy is one consistent read of it. The file is written beside `out`
    /// and renamed into place, so `out` is never half written. Returns its size in bytes.
    pub async fn backup_into(&self, out: &Path, replace: bool) -> anyhow::Result<u64> {
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
        let mut conn = self.pool().acquire().await.context("a connection")?;
        sqlx::query("VACUUM INTO $1")
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
    let (oldest,): (Option<DateTime<Utc>>,) = sqlx::query_as(
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
}

/// Opens the file read-only (it must exist) and compares its migrations with this binary's,
/// then runs `PRAGMA integrity_check`. Nothing is written.
pub async fn inspect(path: &Path, busy_timeout: Duration) -> anyhow::Result<Inspection> {
    anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
    let mut conn = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .read_only(true)
        .busy_timeout(busy_timeout)
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let has_table: (bool,) = sqlx::query_as(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(&mut conn)
    .await
    .with_context(|| format!("reading {}", path.display()))?;
    let applied: Vec<(i64, bool, Vec<u8>)> = if has_table.0 {
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
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
    };
    for m in MIGRATOR.iter() {
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
        if !MIGRATOR.iter().any(|m| m.version == *v) {
            report.unknown.push(*v);
        }
    }
    report.integrity = integrity_check(&mut conn).await?;
    if report.pending.is_empty() && report.broken.is_empty() {
        report.timezones = sqlx::query_as(
            "SELECT 'program ' || key || ' (' || tenant || ')', timezone FROM programs
             UNION ALL
             SELECT 'person ' || handle || ' (' || tenant || ')', timezone FROM people
             WHERE timezone IS NOT NULL",
        )
        .fetch_all(&mut conn)
        .await
        .context("reading stored timezones")?;
        report.destinations = sqlx::query_as(
            "SELECT 'schedule ' || s.id || ' of ' || p.key || ' (' || p.tenant || ')', s.destination
             FROM schedules s JOIN programs p ON p.id = s.program_id
             WHERE s.destination IS NOT NULL
             UNION ALL
             SELECT 'route of ' || p.key || coalesce(' project ' || pr.key, '') || ' (' || p.tenant || ')',
                    r.destination
             FROM routes r JOIN programs p ON p.id = r.program_id
             LEFT JOIN projects pr ON pr.id = r.project_id",
        )
        .fetch_all(&mut conn)
        .await
        .context("reading stored destinations")?;
        let (newest,): (Option<DateTime<Utc>>,) = sqlx::query_as(
            "SELECT max(t) FROM (SELECT max(at) AS t FROM events UNION ALL SELECT max(created_at) FROM outbox)",
        )
        .fetch_one(&mut conn)
        .await
        .context("reading the newest stored instant")?;
        report.newest = newest;
        let unrouted: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.key, p.tenant FROM programs p
             WHERE p.archived = 0
               AND NOT EXISTS (SELECT 1 FROM routes r
                               WHERE r.program_id = p.id AND r.project_id IS NULL)
             ORDER BY p.tenant, p.key",
        )
        .fetch_all(&mut conn)
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
    conn.close().await.ok();
    Ok(report)
}

/// `PRAGMA integrity_check` through the store's pool: `ok`, or the problems.
pub async fn integrity_check(conn: &mut Conn) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_as::<_, (String,)>("PRAGMA integrity_check(20)")
        .fetch_all(&mut *conn)
        .await
        .context("checking integrity")?
        .into_iter()
        .map(|r| r.0)
        .collect())
}
