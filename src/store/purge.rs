//! A tenant leaving: every row of the tenant, its event log included, removed in one
//! transaction, and the removal recorded in `tenant_purges` (the tenant, when, and how many
//! rows of each table; nothing of what they held).

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::db::{self, Conn};
use crate::domain::Tenant;

/// The tenant's programs, for the statements below.
const PROGRAMS: &str = "(SELECT id FROM programs WHERE tenant = $1)";

/// What goes, table by table, children first so no reference is left dangling. Each
/// statement selects the tenant's rows through its programs or its own `tenant` column.
fn statements() -> Vec<(&'static str, String)> {
    let milestones = format!("(SELECT id FROM milestones WHERE program_id IN {PROGRAMS})");
    let by_program = |table: &'static str| {
        (
            table,
            format!("DELETE FROM {table} WHERE program_id IN {PROGRAMS}"),
        )
    };
    vec![
        ("events", "DELETE FROM events WHERE tenant = $1".into()),
        (
            "share_links",
            "DELETE FROM share_links WHERE tenant = $1".into(),
        ),
        ("outbox", "DELETE FROM outbox WHERE tenant = $1".into()),
        (
            "job_runs",
            format!(
                "DELETE FROM job_runs WHERE schedule_id IN
                   (SELECT id FROM schedules WHERE program_id IN {PROGRAMS})"
            ),
        ),
        (
            "job_runs",
            "DELETE FROM job_runs WHERE schedule_id IS NULL AND job IN
               (SELECT 'portfolio-digest:' || s.id FROM portfolio_schedules s
                JOIN portfolios f ON f.id = s.portfolio_id WHERE f.tenant = $1)"
                .into(),
        ),
        (
            "portfolio_schedules",
            "DELETE FROM portfolio_schedules WHERE portfolio_id IN
               (SELECT id FROM portfolios WHERE tenant = $1)"
                .into(),
        ),
        (
            "portfolio_programs",
            "DELETE FROM portfolio_programs WHERE portfolio_id IN
               (SELECT id FROM portfolios WHERE tenant = $1)"
                .into(),
        ),
        (
            "portfolios",
            "DELETE FROM portfolios WHERE tenant = $1".into(),
        ),
        by_program("schedules"),
        by_program("snoozes"),
        by_program("routes"),
        by_program("ical_feeds"),
        by_program("record_counters"),
        by_program("status_updates"),
        by_program("raid_items"),
        by_program("readiness_items"),
        by_program("digest_notes"),
        by_program("health_marks"),
        by_program("change_requests"),
        by_program("decisions"),
        by_program("risks"),
        by_program("dependencies"),
        (
            "slips",
            format!("DELETE FROM slips WHERE milestone_id IN {milestones}"),
        ),
        (
            "milestone_edges",
            format!(
                "DELETE FROM milestone_edges
                 WHERE predecessor_id IN {milestones} OR successor_id IN {milestones}"
            ),
        ),
        by_program("milestones"),
        by_program("projects"),
        by_program("program_roles"),
        (
            "channel_bindings",
            "DELETE FROM channel_bindings WHERE tenant = $1".into(),
        ),
        ("programs", "DELETE FROM programs WHERE tenant = $1".into()),
        ("people", "DELETE FROM people WHERE tenant = $1".into()),
    ]
}

/// Rows removed from each table (tables with none left out), in the order removed.
pub type Removed = Vec<(&'static str, u64)>;

/// Removes everything of `tenant` and records that it did. Call it in a write transaction:
/// all of it, or nothing. On PostgreSQL, with other processes running, the tenant's
/// programs and people are locked first (`FOR UPDATE`), so nothing that points at them can
/// be added meanwhile; and the purge checks at the end that nothing of the tenant is left,
/// failing (nothing removed) if something was added while it ran.
pub async fn purge_tenant(
    conn: &mut Conn,
    tenant: &Tenant,
    at: DateTime<Utc>,
) -> anyhow::Result<Removed> {
    let lock = conn.dialect().for_update();
    if !lock.is_empty() {
        for table in ["programs", "people"] {
            db::query(format!(
                "SELECT id FROM {table} WHERE tenant = $1 ORDER BY id{lock}"
            ))
            .bind(tenant.to_string())
            .execute(&mut *conn)
            .await
            .with_context(|| format!("locking the tenant's {table}"))?;
        }
    }
    let mut removed = Removed::new();
    for (table, sql) in statements() {
        let done = db::query(sql.as_str())
            .bind(tenant.to_string())
            .execute(&mut *conn)
            .await
            .with_context(|| format!("removing the tenant's rows of {table}"))?;
        if done.rows_affected() > 0 {
            removed.push((table, done.rows_affected()));
        }
    }
    for table in ["events", "outbox", "channel_bindings", "programs", "people"] {
        let (left,): (i64,) =
            db::query_as(format!("SELECT count(*) FROM {table} WHERE tenant = $1"))
                .bind(tenant.to_string())
                .fetch_one(&mut *conn)
                .await
                .with_context(|| format!("checking {table}"))?;
        anyhow::ensure!(
            left == 0,
            "{left} rows of {table} were added for the tenant while it was being purged; nothing was removed. Stop its traffic and purge again"
        );
    }
    let counts: serde_json::Map<String, serde_json::Value> = removed
        .iter()
        .map(|(t, n)| ((*t).to_owned(), (*n).into()))
        .collect();
    db::query("INSERT INTO tenant_purges (tenant, purged_at, removed) VALUES ($1, $2, $3)")
        .bind(tenant.to_string())
        .bind(at)
        .bind(db::Json(serde_json::Value::Object(counts).to_string()))
        .execute(&mut *conn)
        .await
        .context("recording the purge")?;
    Ok(removed)
}

/// The purges recorded, oldest first: (tenant, when, rows removed by table as JSON).
pub async fn tenant_purges(
    conn: &mut Conn,
) -> anyhow::Result<Vec<(String, DateTime<Utc>, String)>> {
    let rows: Vec<(String, DateTime<Utc>, db::Json)> =
        db::query_as("SELECT tenant, purged_at, removed FROM tenant_purges ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .context("reading the purges")?;
    Ok(rows
        .into_iter()
        .map(|(t, at, j)| (t, at, j.into_string()))
        .collect())
}
