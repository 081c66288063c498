//! Record numbers: one counter per program and kind of record.

use super::db;
use anyhow::Context as _;

use super::Conn;

/// The kinds of numbered records.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Numbered {
    Dependency,
    Risk,
    Decision,
    Assumption,
    Issue,
    Action,
    Change,
    Readiness,
}

impl Numbered {
    fn as_str(self) -> &'static str {
        match self {
            Self::Dependency => "dependency",
            Self::Risk => "risk",
            Self::Decision => "decision",
            Self::Assumption => "assumption",
            Self::Issue => "issue",
            Self::Action => "action",
            Self::Change => "change",
            Self::Readiness => "readiness",
        }
    }
}

/// The number a new record of `kind` takes in the program: one more than the last one
/// taken, or `wanted` when it is given (an import keeps its numbers), which the counter then
/// never falls below. Read and raised in one statement, so no two writers take one number.
pub(crate) async fn take_number(
    conn: &mut Conn,
    program_id: i64,
    kind: Numbered,
    wanted: i64,
) -> anyhow::Result<i64> {
    let (last,): (i64,) = db::query_as(
        "INSERT INTO record_counters (program_id, kind, last)
         VALUES ($1, $2, CASE WHEN $3 > 0 THEN $3 ELSE 1 END)
         ON CONFLICT (program_id, kind) DO UPDATE SET last = CASE
             WHEN $3 > 0 THEN CASE WHEN record_counters.last > $3 THEN record_counters.last ELSE $3 END
             ELSE record_counters.last + 1 END
         RETURNING last",
    )
    .bind(program_id)
    .bind(kind.as_str())
    .bind(wanted)
    .fetch_one(&mut *conn)
    .await
    .context("taking a record number")?;
    Ok(if wanted > 0 { wanted } else { last })
}
