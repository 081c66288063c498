//! Every table, its columns and what each column holds, in an order where a row's
//! references come before it. `drumbeat migrate-db` copies and checksums the database
//! through this list, and tests dump it to see that a refused command changed nothing; a
//! test compares it with both backends' schemas, so a new table or column cannot be
//! forgotten here.

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sha2::{Digest as _, Sha256};

use super::db::{self, Arg, Conn, Dialect};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    Date,
    Instant,
    Json,
    Bytes,
}

/// A table and its columns, in their order.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Its `id` column numbers new rows (a PostgreSQL identity).
    pub identity: bool,
    /// Columns that point into the table itself, written after every row is in.
    pub self_refs: &'static [&'static str],
}

impl Table {
    /// The key rows are ordered by, so two copies list them alike.
    pub fn order(&self) -> String {
        if self.identity {
            "id".into()
        } else {
            self.columns
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

use Kind::*;

const fn t(name: &'static str, columns: &'static [(&'static str, Kind)], identity: bool) -> Table {
    Table {
        name,
        columns,
        identity,
        self_refs: &[],
    }
}

/// Every table of Drumbeat's schema, referenced tables first.
pub const TABLES: &[Table] = &[
    Table {
        name: "people",
        columns: &[
            ("id", Int),
            ("tenant", Text),
            ("handle", Text),
            ("display_name", Text),
            ("timezone", Text),
            ("away_until", Date),
            ("delegate_id", Int),
            ("email", Text),
        ],
        identity: true,
        self_refs: &["delegate_id"],
    },
    t(
        "programs",
        &[
            ("id", Int),
            ("tenant", Text),
            ("key", Text),
            ("name", Text),
            ("owner_id", Int),
            ("timezone", Text),
            ("work_days", Text),
            ("holidays", Json),
            ("staleness_days", Int),
            ("archived", Bool),
            ("created_at", Instant),
            ("goal", Text),
            ("scope_in", Text),
            ("scope_out", Text),
            ("success_metrics", Text),
            ("stakeholders", Text),
            ("end_key", Text),
        ],
        true,
    ),
    t(
        "program_roles",
        &[("program_id", Int), ("person_id", Int), ("role", Text)],
        false,
    ),
    t(
        "channel_bindings",
        &[("tenant", Text), ("channel", Text), ("program_id", Int)],
        false,
    ),
    t(
        "projects",
        &[
            ("id", Int),
            ("program_id", Int),
            ("key", Text),
            ("name", Text),
            ("owner_id", Int),
            ("removed", Bool),
            ("holidays", Json),
            ("external_id", Text),
        ],
        true,
    ),
    t(
        "milestones",
        &[
            ("id", Int),
            ("program_id", Int),
            ("project_id", Int),
            ("key", Text),
            ("title", Text),
            ("owner_id", Int),
            ("baseline", Date),
            ("target", Date),
            ("duration_days", Int),
            ("state", Text),
            ("completed_on", Date),
            ("key_milestone", Bool),
            ("duration_unit", Text),
            ("external_id", Text),
        ],
        true,
    ),
    t(
        "milestone_edges",
        &[("predecessor_id", Int), ("successor_id", Int)],
        false,
    ),
    t(
        "slips",
        &[
            ("id", Int),
            ("milestone_id", Int),
            ("from_date", Date),
            ("to_date", Date),
            ("reason", Text),
            ("actor_id", Int),
            ("at", Instant),
        ],
        true,
    ),
    t(
        "dependencies",
        &[
            ("id", Int),
            ("program_id", Int),
            ("number", Int),
            ("needs_project_id", Int),
            ("needs_milestone_id", Int),
            ("from_project_id", Int),
            ("from_milestone_id", Int),
            ("from_external", Text),
            ("what", Text),
            ("need_by", Date),
            ("owner_id", Int),
            ("state", Text),
            ("blocked_since", Instant),
            ("blocked_reason", Text),
            ("delivered_on", Date),
            ("agreement", Text),
            ("committed_on", Date),
            ("proposed_on", Date),
            ("agreement_note", Text),
            ("requested_at", Instant),
            ("cancel_reason", Text),
            ("external_id", Text),
        ],
        true,
    ),
    t(
        "risks",
        &[
            ("id", Int),
            ("program_id", Int),
            ("number", Int),
            ("project_id", Int),
            ("title", Text),
            ("likelihood", Int),
            ("impact", Int),
            ("owner_id", Int),
            ("mitigation", Text),
            ("customer_impact", Text),
            ("review_by", Date),
            ("state", Text),
            ("accepted_reason", Text),
            ("external_id", Text),
        ],
        true,
    ),
    t(
        "decisions",
        &[
            ("id", Int),
            ("program_id", Int),
            ("number", Int),
            ("title", Text),
            ("context", Text),
            ("options", Text),
            ("outcome", Text),
            ("decided_by_id", Int),
            ("decided_on", Date),
            ("decider_id", Int),
            ("decide_by", Date),
        ],
        true,
    ),
    t(
        "raid_items",
        &[
            ("id", Int),
            ("program_id", Int),
            ("kind", Text),
            ("number", Int),
            ("project_id", Int),
            ("title", Text),
            ("owner_id", Int),
            ("due", Date),
            ("state", Text),
            ("severity", Text),
            ("note", Text),
            ("link_kind", Text),
            ("link_number", Int),
            ("created_at", Instant),
            ("closed_on", Date),
            ("external_id", Text),
        ],
        true,
    ),
    t(
        "change_requests",
        &[
            ("id", Int),
            ("program_id", Int),
            ("number", Int),
            ("title", Text),
            ("why", Text),
            ("moves", Json),
            ("scope_out", Text),
            ("state", Text),
            ("decider_id", Int),
            ("proposed_by_id", Int),
            ("rebaseline", Bool),
            ("reason", Text),
            ("decision_number", Int),
            ("created_at", Instant),
            ("decided_at", Instant),
        ],
        true,
    ),
    t(
        "readiness_items",
        &[
            ("id", Int),
            ("program_id", Int),
            ("number", Int),
            ("milestone_id", Int),
            ("title", Text),
            ("owner_id", Int),
            ("due", Date),
            ("checked_on", Date),
            ("checked_by_id", Int),
            ("created_at", Instant),
        ],
        true,
    ),
    t(
        "digest_notes",
        &[
            ("id", Int),
            ("program_id", Int),
            ("audience", Text),
            ("body", Text),
            ("author_id", Int),
            ("written_at", Instant),
        ],
        true,
    ),
    t(
        "health_marks",
        &[("program_id", Int), ("day", Date), ("rag", Text)],
        false,
    ),
    t(
        "status_updates",
        &[
            ("id", Int),
            ("program_id", Int),
            ("project_id", Int),
            ("rag", Text),
            ("summary", Text),
            ("blockers", Text),
            ("next_steps", Text),
            ("author_id", Int),
            ("posted_at", Instant),
        ],
        true,
    ),
    t(
        "events",
        &[
            ("id", Int),
            ("tenant", Text),
            ("program_id", Int),
            ("actor_id", Int),
            ("at", Instant),
            ("kind", Text),
            ("subject", Text),
            ("before", Json),
            ("after", Json),
        ],
        true,
    ),
    t(
        "outbox",
        &[
            ("id", Int),
            ("tenant", Text),
            ("program_id", Int),
            ("destination", Json),
            ("reply", Json),
            ("reason", Text),
            ("dedup_key", Text),
            ("nonce", Text),
            ("state", Text),
            ("attempts", Int),
            ("parts_sent", Int),
            ("next_attempt_at", Instant),
            ("claimed_at", Instant),
            ("last_error", Text),
            ("created_at", Instant),
            ("sent_at", Instant),
        ],
        true,
    ),
    t(
        "outbox_pacing",
        &[("destination", Text), ("next_at", Instant)],
        false,
    ),
    t(
        "schedules",
        &[
            ("id", Int),
            ("program_id", Int),
            ("kind", Text),
            ("spec", Text),
            ("audience", Text),
            ("destination", Json),
            ("created_at", Instant),
            ("created_by", Int),
        ],
        true,
    ),
    t(
        "portfolios",
        &[
            ("id", Int),
            ("tenant", Text),
            ("key", Text),
            ("name", Text),
            ("owner_id", Int),
            ("timezone", Text),
            ("created_at", Instant),
        ],
        true,
    ),
    t(
        "portfolio_programs",
        &[
            ("portfolio_id", Int),
            ("program_id", Int),
            ("position", Int),
        ],
        false,
    ),
    t(
        "portfolio_schedules",
        &[
            ("id", Int),
            ("portfolio_id", Int),
            ("spec", Text),
            ("audience", Text),
            ("destination", Json),
            ("created_at", Instant),
            ("created_by", Int),
        ],
        true,
    ),
    t(
        "job_runs",
        &[
            ("id", Int),
            ("job", Text),
            ("schedule_id", Int),
            ("scheduled_at", Instant),
            ("state", Text),
            ("claimed_at", Instant),
            ("finished_at", Instant),
            ("outcome", Text),
            ("claimant", Text),
            ("lease_expires", Int),
        ],
        true,
    ),
    t(
        "snoozes",
        &[
            ("program_id", Int),
            ("subject", Text),
            ("until", Date),
            ("by_id", Int),
            ("reason", Text),
        ],
        false,
    ),
    t(
        "routes",
        &[
            ("id", Int),
            ("program_id", Int),
            ("project_id", Int),
            ("destination", Json),
            ("set_at", Instant),
            ("set_by", Int),
        ],
        true,
    ),
    t(
        "ical_feeds",
        &[
            ("program_id", Int),
            ("token", Text),
            ("created_at", Instant),
            ("created_by", Int),
        ],
        false,
    ),
    t(
        "server_keys",
        &[("name", Text), ("key", Bytes), ("created_at", Instant)],
        false,
    ),
    t(
        "slack_replays",
        &[("signature", Text), ("signed_at", Int)],
        false,
    ),
    t(
        "record_counters",
        &[("program_id", Int), ("kind", Text), ("last", Int)],
        false,
    ),
    t(
        "share_links",
        &[
            ("id", Int),
            ("tenant", Text),
            ("subject_kind", Text),
            ("subject_id", Int),
            ("created_by", Int),
            ("created_at", Instant),
            ("expires_at", Instant),
            ("revoked_at", Instant),
            ("last_opened_at", Instant),
        ],
        true,
    ),
    t(
        "tenant_purges",
        &[
            ("id", Int),
            ("tenant", Text),
            ("purged_at", Instant),
            ("removed", Json),
        ],
        true,
    ),
];

/// The table called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Every row of `table`, each column read as its kind, in key order.
pub async fn rows(conn: &mut Conn, table: &Table) -> anyhow::Result<Vec<Vec<Arg>>> {
    let columns = table
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM {} ORDER BY {}",
        table.name,
        table.order()
    );
    let kinds: Vec<Kind> = table.columns.iter().map(|(_, k)| *k).collect();
    db::fetch_values(conn, &sql, &kinds)
        .await
        .with_context(|| format!("reading {}", table.name))
}

/// A row in words that read the same from either backend: instants to the microsecond
/// (PostgreSQL's precision), JSON re-serialized with sorted keys, flags as true/false.
pub fn canonical(row: &[Arg]) -> String {
    let mut out = String::new();
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(&canonical_value(v));
    }
    out
}

fn canonical_value(v: &Arg) -> String {
    fn or_null<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
        v.as_ref().map(f).unwrap_or_else(|| "NULL".into())
    }
    match v {
        Arg::Int(v) => or_null(v, i64::to_string),
        Arg::Real(v) => or_null(v, f64::to_string),
        Arg::Bool(v) => or_null(v, bool::to_string),
        Arg::Text(v) => or_null(v, |s| serde_json::Value::from(s.as_str()).to_string()),
        Arg::Date(v) => or_null(v, NaiveDate::to_string),
        Arg::Instant(v) => or_null(v, |t: &DateTime<Utc>| {
            let micros = t.timestamp_micros();
            DateTime::from_timestamp_micros(micros)
                .unwrap_or(*t)
                .to_rfc3339_opts(SecondsFormat::Micros, true)
        }),
        Arg::Json(v) => or_null(v, |s| {
            serde_json::from_str::<serde_json::Value>(s)
                .map(|j| j.to_string())
                .unwrap_or_else(|_| format!("not json: {s:?}"))
        }),
        Arg::Bytes(v) => or_null(v, |b| hex::encode(b)),
    }
}

/// A table's row count and the SHA-256 of its canonical rows, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub table: &'static str,
    pub rows: u64,
    pub checksum: String,
}

/// Counts and checksums every table.
pub async fn summaries(conn: &mut Conn) -> anyhow::Result<Vec<Summary>> {
    let mut out = Vec::new();
    for table in TABLES {
        let rows = rows(conn, table).await?;
        let mut hash = Sha256::new();
        for row in &rows {
            hash.update(canonical(row).as_bytes());
            hash.update(b"\n");
        }
        out.push(Summary {
            table: table.name,
            rows: rows.len() as u64,
            checksum: hex::encode(hash.finalize()),
        });
    }
    Ok(out)
}

/// Every row of every table but Slack's replay record (which notes that a request arrived,
/// not anything it changed), as `table: row` lines: equal dumps mean equal content.
pub async fn dump(conn: &mut Conn) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for table in TABLES.iter().filter(|t| t.name != "slack_replays") {
        for row in rows(conn, table).await? {
            out.push(format!("{}: {}", table.name, canonical(&row)));
        }
    }
    Ok(out)
}

/// The columns each table has in the connected database, by table, for comparing with
/// [`TABLES`].
pub async fn live_columns(conn: &mut Conn) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let tables: Vec<(String,)> = db::query_as(match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name <> '_sqlx_migrations' ORDER BY name"
        }
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND table_name <> '_sqlx_migrations' ORDER BY table_name"
        }
    })
    .fetch_all(&mut *conn)
    .await
    .context("listing tables")?;
    let mut out = Vec::new();
    for (name,) in tables {
        let columns: Vec<(String,)> = db::query_as(match conn.dialect() {
            Dialect::Sqlite => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            Dialect::Postgres => {
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
            }
        })
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("listing the columns of {name}"))?;
        out.push((name, columns.into_iter().map(|(c,)| c).collect()));
    }
    Ok(out)
}

/// Inserts `rows` of `table` as they are (ids included), self-references after every
/// row is in. On PostgreSQL the table's identity then continues after the highest id.
pub async fn insert_rows(conn: &mut Conn, table: &Table, rows: &[Vec<Arg>]) -> anyhow::Result<()> {
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let later: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| table.self_refs.contains(n))
        .map(|(i, _)| i)
        .collect();
    let columns = names
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // Many rows a statement (at most about a thousand values), so a large table copies in
    // hundreds of round trips rather than one per row.
    let per_statement = (1000 / names.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let values = (0..chunk.len())
            .map(|r| {
                let params = (1..=names.len())
                    .map(|c| format!("${}", r * names.len() + c))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({params})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!("INSERT INTO {} ({columns}) VALUES {values}", table.name);
        let mut q = db::query(insert.as_str());
        for row in chunk {
            for (i, v) in row.iter().enumerate() {
                q = q.bind(if later.contains(&i) {
                    Arg::Int(None)
                } else {
                    v.clone()
                });
            }
        }
        q.execute(&mut *conn)
            .await
            .with_context(|| format!("copying rows of {}", table.name))?;
    }
    for &i in &later {
        let update = format!(
            "UPDATE {} SET \"{}\" = $1 WHERE id = $2",
            table.name, names[i]
        );
        for row in rows.iter().filter(|r| r[i] != Arg::Int(None)) {
            db::query(update.as_str())
                .bind(row[i].clone())
                .bind(row[0].clone())
                .execute(&mut *conn)
                .await
                .with_context(|| format!("copying {} of {}", names[i], table.name))?;
        }
    }
    if table.identity && conn.dialect() == Dialect::Postgres {
        db::query(format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), coalesce((SELECT max(id) FROM {0}), 0) + 1, false)",
            table.name
        ))
        .execute(&mut *conn)
        .await
        .with_context(|| format!("moving {}'s numbering on", table.name))?;
    }
    Ok(())
}
