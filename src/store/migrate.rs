//! Moving a database: `drumbeat migrate-db` copies every table of one database into another,
//! empty one (SQLite into PostgreSQL when an installation outgrows one machine) in one
//! transaction, and checks that each table arrived whole: the same rows, the same checksum.
//! The same comparison, on its own, tells whether two databases hold the same.

use anyhow::Context as _;

use super::tables::{self, Summary, Table, TABLES};
use super::{Conn, Store};

/// Tables that hold the running system's working state, not the programs' content: which
/// Slack requests were seen, when each webhook may next be posted to. They change by
/// themselves once a database is in use, so `--check` reports them without comparing.
pub const WORKING_STATE: &[&str] = &["slack_replays", "outbox_pacing"];

/// How one table compares in two databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableComparison {
    pub table: &'static str,
    /// False for [`WORKING_STATE`] tables, which are counted but not compared.
    pub compared: bool,
    pub rows: (u64, u64),
    pub same: bool,
    /// Rows only in the first and only in the second, named by id (tables numbered by
    /// id) or by position in key order; at most a few of each. Never their content, which
    /// can hold secrets (webhook URLs, keys).
    pub only_first: Vec<String>,
    pub only_second: Vec<String>,
}

/// The first table of `conn` that has rows, with how many: a copy goes only into an
/// empty database.
pub async fn first_filled(conn: &mut Conn) -> anyhow::Result<Option<(&'static str, u64)>> {
    for table in TABLES {
        let (n,): (i64,) = super::db::query_as(format!("SELECT count(*) FROM {}", table.name))
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("counting {}", table.name))?;
        if n > 0 {
            return Ok(Some((table.name, n as u64)));
        }
    }
    Ok(None)
}

/// Copies every row of `source` into `target`, which must be empty, in one transaction on
/// the target, read from one snapshot of the source; then compares every table and commits
/// only if each is the same, and on PostgreSQL analyses the tables for the planner. Returns
/// the source's summaries.
pub async fn copy_database(source: &Store, target: &Store) -> anyhow::Result<Vec<Summary>> {
    let mut from = source.snapshot().await?;
    let mut to = target.write().await?;
    if let Some((table, n)) = first_filled(&mut to).await? {
        anyhow::bail!("the target database is not empty ({table} has {n} rows): copy only into a new, empty database");
    }
    for table in TABLES {
        let rows = tables::rows(&mut from, table).await?;
        tables::insert_rows(&mut to, table, &rows).await?;
    }
    let expected = tables::summaries(&mut from).await?;
    let copied = tables::summaries(&mut to).await?;
    let wrong: Vec<&str> = expected
        .iter()
        .zip(&copied)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.table)
        .collect();
    if !wrong.is_empty() {
        to.rollback().await?;
        anyhow::bail!(
            "the copy of {} does not match the source; nothing was written",
            wrong.join(", ")
        );
    }
    to.commit().await?;
    from.commit().await?;
    if target.dialect() == super::Dialect::Postgres {
        // Rows copied in bulk have no planner statistics until autovacuum's next round: the
        // first scheduler tick after the move would be planned as if every table were
        // empty (a digest scanning every program's milestones). The copy stands either way.
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        let analysed = async {
            let mut conn = target.conn().await?;
            super::db::query(format!("ANALYZE {}", names.join(", ")))
                .execute(&mut conn)
                .await?;
            anyhow::Ok(())
        };
        if let Err(e) = analysed.await {
            tracing::warn!(error = ?e, "the copy stands, but its tables were not analysed: run ANALYZE on the new database");
        }
    }
    Ok(expected)
}

/// Compares two databases table by table.
pub async fn compare_databases(a: &Store, b: &Store) -> anyhow::Result<Vec<TableComparison>> {
    let mut first = a.snapshot().await?;
    let mut second = b.snapshot().await?;
    let mut out = Vec::new();
    for table in TABLES {
        out.push(compare_table(&mut first, &mut second, table).await?);
    }
    first.commit().await?;
    second.commit().await?;
    Ok(out)
}

async fn compare_table(
    a: &mut Conn,
    b: &mut Conn,
    table: &'static Table,
) -> anyhow::Result<TableComparison> {
    const SHOWN: usize = 5;
    let canon = |rows: Vec<Vec<super::db::Arg>>| -> Vec<(String, String)> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let name = if table.identity {
                    format!("id {}", tables::canonical(&r[..1]))
                } else {
                    format!("row {}", i + 1)
                };
                (name, tables::canonical(r))
            })
            .collect()
    };
    let first = canon(tables::rows(a, table).await?);
    let second = canon(tables::rows(b, table).await?);
    let rows = (first.len() as u64, second.len() as u64);
    let in_second: std::collections::HashSet<&String> = second.iter().map(|(_, r)| r).collect();
    let in_first: std::collections::HashSet<&String> = first.iter().map(|(_, r)| r).collect();
    let only_first: Vec<String> = first
        .iter()
        .filter(|(_, r)| !in_second.contains(r))
        .map(|(n, _)| n.clone())
        .collect();
    let only_second: Vec<String> = second
        .iter()
        .filter(|(_, r)| !in_first.contains(r))
        .map(|(n, _)| n.clone())
        .collect();
    if WORKING_STATE.contains(&table.name) {
        return Ok(TableComparison {
            table: table.name,
            compared: false,
            rows,
            same: true,
            only_first: Vec::new(),
            only_second: Vec::new(),
        });
    }
    Ok(TableComparison {
        table: table.name,
        compared: true,
        rows,
        same: only_first.is_empty() && only_second.is_empty() && rows.0 == rows.1,
        only_first: only_first.into_iter().take(SHOWN).collect(),
        only_second: only_second.into_iter().take(SHOWN).collect(),
    })
}
